/**
 * Turns what the user asked for — a task of a DAG file, or an ad-hoc command in a named
 * environment — into launch plans: params and matrix values substituted into the command and
 * paths, defaults applied, every path checked to stay inside the workspace.
 */
import { dirname, isAbsolute, posix, relative, resolve } from 'node:path';
import type { DagFile, TaskSpec } from '../../../schemas/dag';
import type { RunResources } from '../../../schemas/protocol/runs';
import {
  dagFilesIn,
  dagFilesUnder,
  environmentOf,
  loadDag,
  selectInstances,
  type FoundEnvironment,
  type LoadedDag,
  type TaskInstance,
} from './dag-source';
import { LaunchError } from './errors';
import { checkRelativePath } from './layout';
import type { EnvironmentRef, LaunchPlan, LaunchRequest } from './plan';

export interface TaskLaunchOptions {
  readonly workspaceRoot: string;
  /** Absolute, or relative to the workspace root. */
  readonly dagFile: string;
  readonly task: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly priority?: number;
  readonly dagRunId?: string | null;
}

export interface CommandLaunchOptions {
  readonly workspaceRoot: string;
  readonly command: string;
  /** An environment defined in a DAG file of the workspace; none runs on the host as it is. */
  readonly environment?: string | null;
  /** Where the command runs (absolute, or relative to the workspace root); the root by default. */
  readonly cwd?: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly priority?: number;
}

export async function planTask(options: TaskLaunchOptions): Promise<LaunchPlan[]> {
  const dagPath = resolve(options.workspaceRoot, options.dagFile);
  const dagFile = workspaceRelative(options.workspaceRoot, dagPath, 'the DAG file');
  const loaded = await loadDag(dagPath);
  const overrides = options.params ?? {};
  const params = effectiveParams(loaded.dag, overrides, dagFile);
  const workdir = posix.dirname(dagFile) === '.' ? '' : posix.dirname(dagFile);
  const request: LaunchRequest = {
    kind: 'task',
    dagFile,
    task: options.task,
    params: overrides,
    priority: options.priority ?? 0,
  };
  return selectInstances(loaded, options.task).map((instance) =>
    planInstance(instance, loaded.dag, { dagPath, dagFile, workdir, params, request, options }),
  );
}

/** Plans every task instance of a DAG file in file order, reading the file once (the pipeline runs them all). */
export async function planDag(options: Omit<TaskLaunchOptions, 'task'>): Promise<{ loaded: LoadedDag; plans: LaunchPlan[] }> {
  const dagPath = resolve(options.workspaceRoot, options.dagFile);
  const dagFile = workspaceRelative(options.workspaceRoot, dagPath, 'the DAG file');
  const loaded = await loadDag(dagPath);
  const overrides = options.params ?? {};
  const params = effectiveParams(loaded.dag, overrides, dagFile);
  const workdir = posix.dirname(dagFile) === '.' ? '' : posix.dirname(dagFile);
  const plans = loaded.instances.map((instance) => {
    const request: LaunchRequest = { kind: 'task', dagFile, task: instance.name, params: overrides, priority: options.priority ?? 0 };
    return planInstance(instance, loaded.dag, { dagPath, dagFile, workdir, params, request, options: { ...options, task: instance.name } });
  });
  return { loaded, plans };
}

function planInstance(
  instance: TaskInstance,
  dag: DagFile,
  context: {
    dagPath: string;
    dagFile: string;
    workdir: string;
    params: Record<string, string>;
    request: LaunchRequest;
    options: TaskLaunchOptions;
  },
): LaunchPlan {
  const where = `${context.dagFile}: task ${instance.name}`;
  const substitute = (text: string) => substituteReferences(text, context.params, instance.matrix, where);
  const spec: TaskSpec = instance.spec;
  const environmentName = spec.environment ?? dag.defaults?.environment ?? null;
  const environmentSpec = environmentName === null ? null : dag.environments?.[environmentName];
  if (environmentName !== null && !environmentSpec) {
    throw new LaunchError(`${where}: environment ${environmentName} is not defined under environments:`);
  }
  const paths = (list: readonly string[] | undefined, what: string) =>
    (list ?? []).map((path) => keepTrailingSlash(path, checkRelativePath(substitute(path), `${where}: ${what}`)));
  const metrics = spec.metrics === undefined ? [] : typeof spec.metrics === 'string' ? [spec.metrics] : spec.metrics;
  const timeout = spec.timeout ?? dag.defaults?.timeout;
  return {
    request: context.request,
    name: instance.name,
    task: instance.name,
    dagFile: context.dagFile,
    dagRunId: context.options.dagRunId ?? null,
    command: substitute(spec.run),
    workspaceRoot: context.options.workspaceRoot,
    workdir: context.workdir,
    environment: { name: environmentName, spec: environmentSpec ?? null, baseDir: dirname(context.dagPath) },
    params: { ...context.params, ...prefixKeys(instance.matrix, 'matrix.') },
    env: Object.fromEntries(Object.entries(spec.env ?? {}).map(([name, value]) => [name, substitute(String(value))])),
    inputs: paths(spec.inputs, 'input'),
    outputs: paths(spec.outputs, 'output'),
    metricsFiles: paths(metrics, 'metrics file'),
    resources: mergeResources(dag.defaults?.resources, spec.resources),
    priority: context.options.priority ?? spec.priority ?? 0,
    timeoutMs: timeout === undefined ? null : durationMs(timeout),
  };
}

export async function planCommand(options: CommandLaunchOptions): Promise<LaunchPlan> {
  const cwd = resolve(options.workspaceRoot, options.cwd ?? '.');
  const workdirRelative = workspaceRelative(options.workspaceRoot, cwd, 'the working folder');
  const workdir = workdirRelative === '.' ? '' : workdirRelative;
  const params = { ...(options.params ?? {}) };
  const environment = options.environment
    ? await findEnvironment(options.workspaceRoot, cwd, options.environment)
    : undefined;
  const ref: EnvironmentRef = environment
    ? { name: environment.name, spec: environment.spec, baseDir: dirname(environment.dagPath) }
    : { name: null, spec: null, baseDir: options.workspaceRoot };
  const request: LaunchRequest = {
    kind: 'command',
    command: options.command,
    environment: options.environment ?? null,
    workdir,
    params,
    priority: options.priority ?? 0,
  };
  return {
    request,
    name: commandName(options.command),
    task: null,
    dagFile: null,
    dagRunId: null,
    command: substituteReferences(options.command, params, {}, 'the command'),
    workspaceRoot: options.workspaceRoot,
    workdir,
    environment: ref,
    params,
    env: {},
    inputs: [],
    outputs: [],
    metricsFiles: [],
    resources: {},
    priority: options.priority ?? 0,
    timeoutMs: null,
  };
}

/** Plans the same thing again (a re-run) from what a run was asked for. */
export async function planRequest(workspaceRoot: string, request: LaunchRequest): Promise<LaunchPlan[]> {
  if (request.kind === 'task') {
    return planTask({ workspaceRoot, dagFile: request.dagFile, task: request.task, params: request.params, priority: request.priority });
  }
  return [
    await planCommand({
      workspaceRoot,
      command: request.command,
      environment: request.environment,
      cwd: request.workdir,
      params: request.params,
      priority: request.priority,
    }),
  ];
}

/**
 * Finds a named environment in the DAG files of the command's folder, else anywhere in the
 * workspace; two different definitions of the name are ambiguous.
 */
async function findEnvironment(workspaceRoot: string, cwd: string, name: string): Promise<FoundEnvironment> {
  for (const candidates of [await dagFilesIn(cwd), await dagFilesUnder(workspaceRoot)]) {
    const found: FoundEnvironment[] = [];
    for (const path of candidates) {
      const loaded = await loadDag(path).catch(() => undefined);
      const environment = loaded && environmentOf(loaded, name);
      if (environment) found.push(environment);
    }
    const distinct = new Set(found.map((environment) => JSON.stringify(environment.spec)));
    if (distinct.size > 1) {
      throw new LaunchError(
        `environment ${name} is defined differently in ${found.map((environment) => environment.dagPath).join(' and ')}: run the command from the folder of the one you mean`,
      );
    }
    if (found[0]) return found[0];
  }
  throw new LaunchError(`no DAG file in ${workspaceRoot} defines an environment ${name} (under environments:)`);
}

function effectiveParams(dag: DagFile, overrides: Readonly<Record<string, string>>, dagFile: string): Record<string, string> {
  const defined = dag.params ?? {};
  for (const name of Object.keys(overrides)) {
    if (!(name in defined)) {
      const known = Object.keys(defined).join(', ') || 'none';
      throw new LaunchError(`${dagFile} defines no param ${name} (its params: ${known})`);
    }
  }
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(defined)) {
    params[name] = overrides[name] ?? (Array.isArray(value) ? JSON.stringify(value) : String(value));
  }
  return params;
}

/** `${params.x}` and `${matrix.x}`; an undefined name is an error naming where it was used. */
export function substituteReferences(
  text: string,
  params: Readonly<Record<string, string>>,
  matrix: Readonly<Record<string, string>>,
  where: string,
): string {
  return text.replace(/\$\{\s*(params|matrix)\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}/g, (_match, scope: string, name: string) => {
    const value = scope === 'params' ? params[name] : matrix[name];
    if (value === undefined) throw new LaunchError(`${where}: \${${scope}.${name}} is not defined`);
    return value;
  });
}

/** `key=value` pairs from the command line (`-p seed=7`). */
export function parseParamAssignments(assignments: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw new LaunchError(`-p ${assignment}: write a param as NAME=VALUE`);
    params[assignment.slice(0, equals).trim()] = assignment.slice(equals + 1);
  }
  return params;
}

export function durationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (!match) throw new LaunchError(`${text} is not a duration such as 90s, 30m or 2h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(match[1]) * unit);
}

function mergeResources(defaults: RunResources | undefined, task: RunResources | undefined): RunResources {
  return Object.fromEntries(
    Object.entries({ ...defaults, ...task }).filter(([, value]) => value !== undefined),
  ) as RunResources;
}

function prefixKeys(record: Readonly<Record<string, string>>, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [`${prefix}${key}`, value]));
}

function keepTrailingSlash(original: string, normalized: string): string {
  return original.endsWith('/') && !normalized.endsWith('/') ? `${normalized}/` : normalized;
}

function workspaceRelative(workspaceRoot: string, path: string, what: string): string {
  const rel = relative(workspaceRoot, path);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new LaunchError(`${what} ${path} is outside the workspace ${workspaceRoot}`);
  return rel === '' ? '.' : rel.split('\\').join('/');
}

/** A short name for a command: its first few words. */
function commandName(command: string): string {
  const words = command.trim().split(/\s+/).slice(0, 4).join(' ');
  return words.length > 60 ? `${words.slice(0, 57)}…` : words;
}

