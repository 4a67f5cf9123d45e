/**
 * A DAG file read for execution: every task instance's launch plan (params and matrix substituted),
 * its spec, its retry and cache settings, and the instance graph; and the selection of instances
 * a `--task` / `--from` asks for.
 */
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { DagFile, TaskSpec } from '../../../schemas/dag';
import { discoverDagFiles } from '../dag/discover';
import { planDag } from '../runs/launch';
import { workspacePath } from '../runs/layout';
import type { LaunchPlan } from '../runs/plan';
import { PipelineError } from './errors';
import { buildInstanceGraph, selectByName, withDownstream, withUpstream, type GraphNode, type InstanceGraph } from './graph';

export interface PipelineInstance {
  readonly name: string;
  readonly task: string;
  readonly plan: LaunchPlan;
  readonly spec: TaskSpec;
  readonly retries: number;
  /** False when the file says `cache: false` (for the task or by default). */
  readonly cache: boolean;
}

export interface PipelineDefinition {
  /** Relative to the workspace root, forward slashes. */
  readonly dagFile: string;
  readonly dagPath: string;
  readonly dag: DagFile;
  readonly instances: ReadonlyMap<string, PipelineInstance>;
  readonly graph: InstanceGraph;
}

export interface Selection {
  /** Only this task (or instance) and what it depends on. */
  readonly task?: string | undefined;
  /** This task (or instance) and everything that depends on it. */
  readonly from?: string | undefined;
}

export async function loadPipeline(
  workspaceRoot: string,
  dagFile: string,
  params: Readonly<Record<string, string>> = {},
): Promise<PipelineDefinition> {
  const dagPath = resolve(workspaceRoot, dagFile);
  const { loaded, plans } = await planDag({ workspaceRoot, dagFile: dagPath, params });
  const dag = loaded.dag;
  const instances = new Map<string, PipelineInstance>();
  const nodes: GraphNode[] = [];
  loaded.instances.forEach((instance, index) => {
    const plan = plans[index]!;
    const spec = instance.spec;
    instances.set(instance.name, {
      name: instance.name,
      task: instance.task,
      plan,
      spec,
      retries: spec.retries ?? dag.defaults?.retries ?? 0,
      cache: spec.cache ?? dag.defaults?.cache ?? true,
    });
    const needs = spec.needs === undefined ? [] : typeof spec.needs === 'string' ? [spec.needs] : spec.needs;
    nodes.push({
      name: instance.name,
      task: instance.task,
      needs,
      inputs: plan.inputs.map((path) => workspacePath(plan, path)),
      outputs: [...plan.outputs, ...plan.metricsFiles].map((path) => workspacePath(plan, path)),
    });
  });
  const relativeFile = plans[0]?.dagFile ?? relative(workspaceRoot, dagPath).split('\\').join('/');
  const graph = buildInstanceGraph(nodes, relativeFile);
  return { dagFile: relativeFile, dagPath, dag, instances, graph };
}

/** The selected instances in dependency order: all of them, or what --task / --from pick. */
export function selectInstances(pipeline: PipelineDefinition, selection: Selection): string[] {
  let selected: Set<string> | undefined;
  if (selection.task !== undefined) {
    selected = withUpstream(pipeline.graph, selectByName(pipeline.graph, selection.task, pipeline.dagFile));
  }
  if (selection.from !== undefined) {
    const downstream = withDownstream(pipeline.graph, selectByName(pipeline.graph, selection.from, pipeline.dagFile));
    selected = selected ? new Set([...selected].filter((name) => downstream.has(name))) : downstream;
  }
  return pipeline.graph.order.filter((name) => !selected || selected.has(name));
}

/** The one DAG file under `folder` (what `mlw dag run` with no FILE runs); an error when none or several. */
export async function findDagFile(folder: string): Promise<string> {
  const found = await discoverDagFiles(folder);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    const here = await readdir(folder).catch(() => []);
    throw new PipelineError(`no DAG file (*.dag.yaml, dag.yaml) under ${folder}${here.length === 0 ? ' (the folder is empty)' : ''}: give one`);
  }
  const names = found.map((path) => relative(folder, path) || join('.', path)).join(', ');
  throw new PipelineError(`several DAG files under ${folder} (${names}): give the one to run`);
}
