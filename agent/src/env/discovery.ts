/**
 * Which environments a workspace has: those named under `environments:` in its DAG files (with the
 * line of each name), and the spec files lying in it — conda `environment.yml`/`conda.yaml`,
 * `requirements.txt`, `Dockerfile` and `*.Dockerfile` — that no DAG environment already uses.
 * The walk honours every `.gitignore` (as DAG discovery does) and never enters `.git`,
 * `node_modules`, `.mlw` or a venv.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { parse as parseYaml } from 'yaml';
import { Environment, type EnvironmentSpec } from '../../../schemas/dag';
import { discoverDagFiles } from '../dag/discover';
import { parseDagModel } from '../dag/model';
import { condaNameIn } from './conda';

export type EnvKind = 'docker' | 'conda' | 'venv' | 'local';

export interface EnvDefinition {
  readonly name: string;
  readonly kind: EnvKind;
  /** null when the DAG's definition is not valid (see `problem`). */
  readonly spec: EnvironmentSpec | null;
  /** The folder the spec's paths are relative to. */
  readonly baseDir: string;
  readonly origin: 'dag' | 'file';
  /** Absolute path of the DAG file defining it, or of the spec file found. */
  readonly file: string;
  /** 1-based line of the name in its DAG file; null for a spec file. */
  readonly line: number | null;
  readonly problem: string | null;
}

const NEVER_ENTERED = new Set(['.git', 'node_modules', '.mlw', '__pycache__', '.venv', 'venv', '.tox', '.dvc']);
const CONDA_FILES = new Set(['environment.yml', 'environment.yaml', 'conda.yaml', 'conda.yml']);

export async function discoverEnvironments(root: string): Promise<EnvDefinition[]> {
  const fromDags: EnvDefinition[] = [];
  for (const dagFile of await discoverDagFiles(root)) fromDags.push(...(await environmentsInDag(dagFile)));
  const used = new Set(fromDags.flatMap(specFilesOf));
  const taken = new Set(fromDags.map((definition) => definition.name));
  const fromFiles: EnvDefinition[] = [];
  for (const file of await discoverSpecFiles(root)) {
    if (used.has(file)) continue;
    const definition = definitionForFile(root, file);
    const name = uniqueName(definition.name, definition.kind, taken);
    taken.add(name);
    fromFiles.push({ ...definition, name });
  }
  return [...fromDags, ...fromFiles];
}

/** The environments of one DAG file; an invalid one is kept with its problem, so it can be shown. */
export async function environmentsInDag(dagFile: string): Promise<EnvDefinition[]> {
  let text: string;
  try {
    text = await readFile(dagFile, 'utf8');
  } catch {
    return [];
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch {
    return []; // a YAML error is the validator's to report
  }
  const environments = (raw as { environments?: unknown } | null)?.environments;
  if (environments === null || typeof environments !== 'object' || Array.isArray(environments)) return [];
  const model = parseDagModel(text);
  const found: EnvDefinition[] = [];
  for (const [name, value] of Object.entries(environments as Record<string, unknown>)) {
    const location = model.environments.get(name);
    const line = location ? location.key.range.start.line + 1 : null;
    const parsed = Environment.safeParse(value);
    const base = { name, baseDir: dirname(dagFile), origin: 'dag' as const, file: dagFile, line };
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = [name, ...issue.path].join('.');
      found.push({ ...base, kind: kindOf(value), spec: null, problem: `${dagFile}:${line ?? 1}: environments.${where}: ${issue.message}` });
      continue;
    }
    const kinds = (['docker', 'conda', 'venv', 'local'] as const).filter((kind) => parsed.data[kind] !== undefined);
    if (kinds.length !== 1) {
      found.push({ ...base, kind: kinds[0] ?? 'local', spec: null, problem: `${dagFile}:${line ?? 1}: environment ${name} must declare exactly one of docker, conda, venv or local (it declares ${kinds.length === 0 ? 'none' : kinds.join(', ')})` });
      continue;
    }
    found.push({ ...base, kind: kinds[0]!, spec: parsed.data, problem: null });
  }
  return found;
}

function kindOf(value: unknown): EnvKind {
  if (value && typeof value === 'object') for (const kind of ['docker', 'conda', 'venv'] as const) if (kind in value) return kind;
  return 'local';
}

/** The absolute paths of the spec files an environment is built from. */
export function specFilesOf(definition: EnvDefinition): string[] {
  const spec = definition.spec;
  if (!spec) return [];
  if (spec.docker && 'dockerfile' in spec.docker) return [resolve(definition.baseDir, spec.docker.dockerfile)];
  if (spec.conda) return [resolve(definition.baseDir, typeof spec.conda === 'string' ? spec.conda : spec.conda.file)];
  if (spec.venv) return [resolve(definition.baseDir, spec.venv.requirements)];
  return [];
}

export function isSpecFileName(name: string): boolean {
  return CONDA_FILES.has(name) || name === 'requirements.txt' || name === 'Dockerfile' || name.endsWith('.Dockerfile');
}

function definitionForFile(root: string, file: string): Omit<EnvDefinition, 'name'> & { name: string } {
  const name = basename(file);
  const folder = dirname(file);
  const folderName = sanitize(basename(folder === root ? root : folder)) || 'workspace';
  const base = { baseDir: folder, origin: 'file' as const, file, line: null, problem: null };
  if (CONDA_FILES.has(name)) {
    return { ...base, name: sanitize(condaNameIn(file) ?? '') || folderName, kind: 'conda', spec: { conda: name } };
  }
  if (name === 'requirements.txt') {
    return { ...base, name: folderName, kind: 'venv', spec: { venv: { requirements: name, python: 'python3' } } };
  }
  const stem = name === 'Dockerfile' ? folderName : sanitize(name.slice(0, -'.Dockerfile'.length)) || folderName;
  return { ...base, name: stem, kind: 'docker', spec: { docker: { dockerfile: name, context: '.' } } };
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
}

function uniqueName(name: string, kind: EnvKind, taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  if (!taken.has(`${name}-${kind}`)) return `${name}-${kind}`;
  let n = 2;
  while (taken.has(`${name}-${kind}-${n}`)) n++;
  return `${name}-${kind}-${n}`;
}

interface IgnoreRules {
  readonly base: string;
  readonly rules: Ignore;
}

/** Absolute paths of the spec files under `root`, sorted. */
export async function discoverSpecFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const pending: { folder: string; rules: readonly IgnoreRules[] }[] = [{ folder: root, rules: [] }];
  while (pending.length > 0) {
    const { folder, rules: inherited } = pending.pop()!;
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    if (folder !== root && entries.some((entry) => entry.name === 'pyvenv.cfg')) continue; // a venv
    let rules = inherited;
    if (entries.some((entry) => entry.name === '.gitignore' && entry.isFile())) {
      const text = await readFile(join(folder, '.gitignore'), 'utf8').catch(() => '');
      rules = [...inherited, { base: folder, rules: ignore().add(text) }];
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!NEVER_ENTERED.has(entry.name) && !isIgnored(rules, path, true)) pending.push({ folder: path, rules });
      } else if (entry.isFile() && isSpecFileName(entry.name) && !isIgnored(rules, path, false)) {
        found.push(path);
      }
    }
  }
  return found.sort();
}

function isIgnored(rules: readonly IgnoreRules[], path: string, directory: boolean): boolean {
  return rules.some(({ base, rules: patterns }) => {
    const relativePath = relative(base, path).split(sep).join('/');
    return patterns.ignores(directory ? `${relativePath}/` : relativePath);
  });
}
