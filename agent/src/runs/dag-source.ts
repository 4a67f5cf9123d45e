/**
 * Reads DAG files for launching runs: the tasks with their matrix expanded, and the environments.
 *
 * SEAM: agent/src/dag/model.ts (the DAG service's `DagModel`) is the one reader of DAG files; when
 * it is in place this module becomes an adapter over it. Until then it parses with the same zod
 * schema (schemas/dag.ts), reporting problems briefly — `mlw validate` gives the full diagnostics.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Dag, type DagFile, type EnvironmentSpec, type TaskSpec } from '../../../schemas/dag';
import { LaunchError } from './errors';

export interface TaskInstance {
  /** `train` or, for a matrix task, `train@rf`. */
  readonly name: string;
  readonly task: string;
  readonly spec: TaskSpec;
  readonly matrix: Readonly<Record<string, string>>;
}

export interface LoadedDag {
  readonly path: string;
  readonly dag: DagFile;
  /** Every task instance, matrix expanded, in file order. */
  readonly instances: readonly TaskInstance[];
}

export async function loadDag(path: string): Promise<LoadedDag> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new LaunchError(`cannot read the DAG file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new LaunchError(`${path}: YAML syntax error: ${(error as Error).message}; run \`mlw validate ${path}\``);
  }
  const parsed = Dag.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LaunchError(`${path}: ${issue.path.join('.')}: ${issue.message}; run \`mlw validate ${path}\` for every problem`);
  }
  const dag = parsed.data;
  const instances = Object.entries(dag.tasks).flatMap(([task, spec]) => expandMatrix(task, spec));
  return { path, dag, instances };
}

function expandMatrix(task: string, spec: TaskSpec): TaskInstance[] {
  const axes = Object.entries(spec.matrix ?? {});
  if (axes.length === 0) return [{ name: task, task, spec, matrix: {} }];
  let combinations: Record<string, string>[] = [{}];
  for (const [axis, values] of axes) {
    combinations = combinations.flatMap((combination) => values.map((value) => ({ ...combination, [axis]: String(value) })));
  }
  return combinations.map((matrix) => ({ name: `${task}@${Object.values(matrix).join('-')}`, task, spec, matrix }));
}

/** The instances a name selects: `train` selects all of its matrix, `train@rf` one. */
export function selectInstances(loaded: LoadedDag, name: string): TaskInstance[] {
  const selected = loaded.instances.filter((instance) => instance.name === name || instance.task === name);
  if (selected.length === 0) {
    const names = [...new Set(loaded.instances.map((instance) => instance.task))].join(', ');
    throw new LaunchError(`${loaded.path} has no task ${name} (its tasks: ${names})`);
  }
  return selected;
}

/** The DAG files directly in a folder (`*.dag.yaml`, `dag.yaml`). */
export async function dagFilesIn(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile() && (entry.name.endsWith('.dag.yaml') || entry.name === 'dag.yaml'))
    .map((entry) => join(folder, entry.name))
    .sort();
}

/** DAG files anywhere under a folder, skipping what is never a project's own (.git, node_modules, .mlw). */
export async function dagFilesUnder(root: string, depth = 4): Promise<string[]> {
  const found = await dagFilesIn(root);
  if (depth === 0) return found;
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory() || SKIPPED_FOLDERS.has(entry.name) || entry.name.startsWith('.')) continue;
    found.push(...(await dagFilesUnder(join(root, entry.name), depth - 1)));
  }
  return found;
}

const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', 'build', 'out', '__pycache__']);

/** An environment defined under `environments:`, with the file that defines it. */
export interface FoundEnvironment {
  readonly name: string;
  readonly spec: EnvironmentSpec;
  readonly dagPath: string;
}

export function environmentOf(loaded: LoadedDag, name: string): FoundEnvironment | undefined {
  const spec = loaded.dag.environments?.[name];
  return spec ? { name, spec, dagPath: loaded.path } : undefined;
}

export function dagName(loaded: LoadedDag): string {
  return loaded.dag.name ?? basename(loaded.path).replace(/\.dag\.yaml$|\.yaml$/, '');
}
