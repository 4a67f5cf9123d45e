/**
 * A DAG file read for execution: every task instance's launch plan (params and matrix substituted),
 * its spec, its retry and cache settings, and the instance graph; and the selection of instances
 * a `--task` / `--from` asks for.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { DagFile, TaskSpec } from '../../../schemas/dag';
import { discoverDagFiles } from '../dag/discover';
import { planDag } from '../runs/launch';
import { workspacePath } from '../runs/layout';
import type { LaunchPlan } from '../runs/plan';
import { writeAtomically } from './cache';
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

/** What planning a DAG file yields, kept by content (see loadPipeline). */
interface PlannedFile {
  readonly generation: number;
  readonly dagFile: string;
  readonly dag: DagFile;
  readonly instances: readonly PipelineInstance[];
}

/** Bump when planning changes what it produces, so plans kept by an older mlw are made again. */
const PLAN_GENERATION = 1;

/**
 * Plans every instance of the file and builds the graph. Planning is a function of the file's text,
 * the param overrides and where the file is, so its result is kept under `.mlw/pipeline/plans/` by
 * the sha256 of those: a re-run of an unchanged 200-task file then reads one JSON document instead
 * of parsing YAML again.
 */
export async function loadPipeline(
  workspaceRoot: string,
  dagFile: string,
  params: Readonly<Record<string, string>> = {},
): Promise<PipelineDefinition> {
  const dagPath = resolve(workspaceRoot, dagFile);
  const text = await readFile(dagPath, 'utf8').catch(() => '');
  const key = createHash('sha256')
    .update(JSON.stringify([PLAN_GENERATION, workspaceRoot, dagPath, Object.entries(params).sort(), text]))
    .digest('hex');
  const keptAt = join(workspaceRoot, '.mlw', 'pipeline', 'plans', `${key}.json`);
  let planned = await readPlanned(keptAt);
  if (!planned) {
    planned = await planFile(workspaceRoot, dagPath, params);
    await writeAtomically(keptAt, JSON.stringify(planned));
  }
  const instances = new Map(planned.instances.map((instance) => [instance.name, instance]));
  const nodes: GraphNode[] = planned.instances.map(({ name, task, plan, spec }) => ({
    name,
    task,
    needs: spec.needs === undefined ? [] : typeof spec.needs === 'string' ? [spec.needs] : spec.needs,
    inputs: plan.inputs.map((path) => workspacePath(plan, path)),
    outputs: [...plan.outputs, ...plan.metricsFiles].map((path) => workspacePath(plan, path)),
  }));
  const graph = buildInstanceGraph(nodes, planned.dagFile);
  return { dagFile: planned.dagFile, dagPath, dag: planned.dag, instances, graph };
}

async function planFile(workspaceRoot: string, dagPath: string, params: Readonly<Record<string, string>>): Promise<PlannedFile> {
  const { loaded, plans } = await planDag({ workspaceRoot, dagFile: dagPath, params });
  const dag = loaded.dag;
  const instances = loaded.instances.map((instance, index): PipelineInstance => ({
    name: instance.name,
    task: instance.task,
    plan: plans[index]!,
    spec: instance.spec,
    retries: instance.spec.retries ?? dag.defaults?.retries ?? 0,
    cache: instance.spec.cache ?? dag.defaults?.cache ?? true,
  }));
  const dagFile = plans[0]?.dagFile ?? relative(workspaceRoot, dagPath).split('\\').join('/');
  return { generation: PLAN_GENERATION, dagFile, dag, instances };
}

async function readPlanned(path: string): Promise<PlannedFile | undefined> {
  try {
    const planned = JSON.parse(await readFile(path, 'utf8')) as PlannedFile;
    return planned.generation === PLAN_GENERATION ? planned : undefined;
  } catch {
    return undefined; // none kept, or damaged: plan again
  }
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
