/**
 * A task instance's fingerprint: what decides whether an earlier run's outputs can stand in for
 * running it again. It is the sha256 of its parts: the command after substitution (with the task's
 * own environment variables and declared outputs), the environment's digest, the md5 of each input
 * (files and folders, as DVC computes them) and the params the task uses. The parts are kept so
 * `mlw dag explain` can say which of them changed.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TaskSpec } from '../../../schemas/dag';
import { md5OfPath } from '../runs/content';
import { workspacePath } from '../runs/layout';
import type { EnvironmentRef, LaunchPlan } from '../runs/plan';

export interface FingerprintParts {
  readonly command: string;
  /** The task's own environment variables (`env:`), substituted. */
  readonly env: Readonly<Record<string, string>>;
  /** Workspace-relative output paths as declared (a trailing `/` marks a folder). */
  readonly outputs: readonly string[];
  readonly environment: string;
  /** Workspace-relative input path → md5 (`<md5>.dir` for a folder), or null when it does not exist. */
  readonly inputs: Readonly<Record<string, string | null>>;
  /** Only the params the task refers to (`${params.NAME}`), by name. */
  readonly params: Readonly<Record<string, string>>;
}

export interface Fingerprint {
  readonly digest: string;
  readonly parts: FingerprintParts;
}

/** Resolves an environment to a digest that changes when what it would run changes. */
export type EnvironmentDigester = (ref: EnvironmentRef) => Promise<string>;

/**
 * `known` gives the md5 some paths will have by the time the task runs (outputs an upstream task's
 * cached run will restore), for explaining before anything is restored.
 */
export async function fingerprintTask(
  plan: LaunchPlan,
  spec: TaskSpec,
  environmentDigest: string,
  known: ReadonlyMap<string, string> = new Map(),
): Promise<Fingerprint> {
  const inputs: Record<string, string | null> = {};
  for (const input of [...plan.inputs].sort()) {
    const path = workspacePath(plan, input);
    inputs[path] = known.get(path) ?? (await md5OfPath(join(plan.workspaceRoot, path))) ?? null;
  }
  const params: Record<string, string> = {};
  for (const name of paramsUsedBy(spec)) if (plan.params[name] !== undefined) params[name] = plan.params[name];
  const parts: FingerprintParts = {
    command: plan.command,
    env: sortedRecord(plan.env),
    outputs: [...plan.outputs, ...plan.metricsFiles].map((output) => workspacePath(plan, output) + (output.endsWith('/') ? '/' : '')).sort(),
    environment: environmentDigest,
    inputs,
    params,
  };
  return { digest: digestOf(parts), parts };
}

export function digestOf(parts: FingerprintParts): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

/** Names of the params a task refers to anywhere it can: command, paths, metrics, variables. */
export function paramsUsedBy(spec: TaskSpec): string[] {
  const texts = [
    spec.run,
    ...(spec.inputs ?? []),
    ...(spec.outputs ?? []),
    ...(typeof spec.metrics === 'string' ? [spec.metrics] : (spec.metrics ?? [])),
    ...Object.values(spec.env ?? {}).map(String),
  ];
  const names = new Set<string>();
  for (const text of texts) for (const match of text.matchAll(/\$\{\s*params\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}/g)) names.add(match[1]!);
  return [...names].sort();
}

/**
 * The digest of an environment's definition, known without building it: an image's id on the
 * engine; a Dockerfile's build context, file by file; a conda or venv environment's file; the host.
 */
export function environmentDigester(imageId: (image: string) => Promise<string | undefined>): EnvironmentDigester {
  const known = new Map<string, Promise<string>>();
  return (ref) => {
    const key = JSON.stringify([ref.name, ref.spec, ref.baseDir]);
    let digest = known.get(key);
    if (!digest) {
      digest = digestEnvironment(ref, imageId);
      known.set(key, digest);
    }
    return digest;
  };
}

async function digestEnvironment(ref: EnvironmentRef, imageId: (image: string) => Promise<string | undefined>): Promise<string> {
  const spec = ref.spec;
  if (!spec || spec.local) return 'host';
  if (spec.docker && 'image' in spec.docker) {
    const id = await imageId(spec.docker.image).catch(() => undefined);
    return `image ${spec.docker.image} ${id ?? 'not present'}`;
  }
  const hash = createHash('sha256').update(canonicalJson(spec));
  if (spec.docker) {
    const context = resolve(ref.baseDir, spec.docker.context);
    for (const file of await listFiles(context)) {
      const info = await stat(join(context, file));
      hash.update(`\0${file}\0${info.mode & 0o111 ? 'x' : '-'}\0`);
      hash.update(await readFile(join(context, file)));
    }
  } else {
    const file = spec.conda ? (typeof spec.conda === 'string' ? spec.conda : spec.conda.file) : spec.venv!.requirements;
    hash.update(await readFile(resolve(ref.baseDir, file)).catch(() => Buffer.from('missing')));
  }
  return `definition ${hash.digest('hex')}`;
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(root, prefix), { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(root, rel)));
    else if (entry.isFile()) files.push(rel);
  }
  return files.sort();
}

function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** JSON with object keys sorted at every level, so equal parts always hash alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What differs between an earlier fingerprint's parts and the current ones, in words. */
export function describeChanges(before: FingerprintParts, now: FingerprintParts): string[] {
  const changes: string[] = [];
  if (before.command !== now.command) changes.push('the command changed');
  for (const name of new Set([...Object.keys(before.env), ...Object.keys(now.env)])) {
    if (before.env[name] !== now.env[name]) changes.push(`variable ${name} changed`);
  }
  if (canonicalJson(before.outputs) !== canonicalJson(now.outputs)) changes.push('the declared outputs changed');
  if (before.environment !== now.environment) changes.push('the environment changed');
  for (const path of new Set([...Object.keys(before.inputs), ...Object.keys(now.inputs)])) {
    const was = before.inputs[path];
    const is = now.inputs[path];
    if (was === is) continue;
    if (was === undefined) changes.push(`input ${path} is new`);
    else if (is === undefined) changes.push(`input ${path} was removed`);
    else if (is === null) changes.push(`input ${path} is missing`);
    else changes.push(`input ${path} changed`);
  }
  for (const name of new Set([...Object.keys(before.params), ...Object.keys(now.params)])) {
    const was = before.params[name];
    const is = now.params[name];
    if (was === is) continue;
    changes.push(was === undefined ? `param ${name} is now used` : is === undefined ? `param ${name} is no longer used` : `param ${name} changed (${was} → ${is})`);
  }
  return changes;
}
