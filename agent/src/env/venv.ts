/**
 * Python venvs built from a requirements file, one folder per digest under `.mlw/venvs/`
 * (`<name>-<digest>`): the digest covers the interpreter asked for and the requirements (with the
 * files they include by `-r`/`-c`), so a changed spec builds a new venv beside the old one, and the
 * old one shows the environment as stale until it is rebuilt. A venv counts only once its marker
 * file is written, last, so an interrupted build is never taken for a ready one.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { canonical } from './context';
import { EnvError } from './errors';
import { runTool } from './process';

export interface VenvSpec {
  /** Absolute path of the requirements file. */
  readonly requirements: string;
  /** The interpreter: a command on PATH or a path. */
  readonly python: string;
}

export interface VenvStatus {
  readonly state: 'ready' | 'stale' | 'missing';
  readonly digest: string;
  readonly path: string;
  /** Folders of earlier digests. */
  readonly superseded: readonly string[];
}

const MARKER = 'mlw-env.json';
const DIGEST_VERSION = 'mlw-env-venv-1';

export class VenvEnvironments {
  constructor(private readonly root: string) {}

  digest(spec: VenvSpec): string {
    const hash = createHash('sha256').update(`${DIGEST_VERSION}\0${canonical({ python: spec.python })}\n`);
    for (const [file, text] of requirementFiles(spec.requirements)) hash.update(`${file}\0${text}\n`);
    return hash.digest('hex').slice(0, 12);
  }

  status(name: string, spec: VenvSpec): VenvStatus {
    const digest = this.digest(spec);
    const path = this.folder(name, digest);
    const superseded = this.builtFolders(name).filter((folder) => folder !== path);
    const state = isBuilt(path) ? 'ready' : superseded.length > 0 ? 'stale' : 'missing';
    return { state, digest, path, superseded };
  }

  async build(
    name: string,
    spec: VenvSpec,
    options: { progress?: (line: string) => void; signal?: AbortSignal; force?: boolean } = {},
  ): Promise<{ path: string; digest: string; reused: boolean }> {
    const digest = this.digest(spec);
    const path = this.folder(name, digest);
    if (isBuilt(path) && !options.force) return { path, digest, reused: true };
    rmSync(path, { recursive: true, force: true });
    const progress = options.progress ?? (() => undefined);
    progress(`creating venv ${name} at ${path} with ${spec.python}`);
    try {
      await runTool(spec.python, ['-m', 'venv', path], `environment ${name}: creating the venv`, { progress, signal: options.signal });
      if (hasRequirements(spec.requirements)) {
        await runTool(
          join(binFolder(path), 'python'),
          ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-r', spec.requirements],
          `environment ${name}: installing ${spec.requirements}`,
          { cwd: dirname(spec.requirements), progress, signal: options.signal, env: { ...process.env, PIP_NO_INPUT: '1' } },
        );
      } else {
        progress(`${spec.requirements} lists no packages: nothing to install`);
      }
      writeFileSync(join(path, MARKER), `${JSON.stringify({ name, digest, requirements: spec.requirements, python: spec.python, builtAt: new Date().toISOString() })}\n`);
    } catch (error) {
      rmSync(path, { recursive: true, force: true });
      throw error;
    }
    return { path, digest, reused: false };
  }

  /** Removes the current digest's venv (`all`: every digest of this environment). */
  remove(name: string, spec: VenvSpec, all: boolean): string[] {
    const status = this.status(name, spec);
    const targets = [...(existsSync(status.path) ? [status.path] : []), ...(all ? status.superseded : [])];
    for (const target of targets) rmSync(target, { recursive: true, force: true });
    return targets;
  }

  prune(name: string, spec: VenvSpec): string[] {
    const { superseded } = this.status(name, spec);
    for (const folder of superseded) rmSync(folder, { recursive: true, force: true });
    return [...superseded];
  }

  private folder(name: string, digest: string): string {
    return join(this.root, `${name}-${digest}`);
  }

  private builtFolders(name: string): string[] {
    let entries: string[];
    try {
      entries = readdirSync(this.root);
    } catch {
      return [];
    }
    return entries
      .filter((entry) => /^(.+)-[0-9a-f]{12}$/.exec(entry)?.[1] === name)
      .map((entry) => join(this.root, entry))
      .filter(isBuilt)
      .sort();
  }
}

/** Variables that make a process run inside the venv. */
export function venvProcessEnv(path: string, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return { VIRTUAL_ENV: path, PATH: `${binFolder(path)}${delimiter}${base.PATH ?? ''}` };
}

export function binFolder(path: string): string {
  return process.platform === 'win32' ? join(path, 'Scripts') : join(path, 'bin');
}

function isBuilt(path: string): boolean {
  return existsSync(join(path, MARKER));
}

/** The requirements file and those it includes (`-r`, `-c`), as [path, text], in reading order. */
export function requirementFiles(file: string, seen = new Set<string>()): Array<[string, string]> {
  if (seen.has(file)) return [];
  seen.add(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new EnvError(`cannot read the requirements file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const found: Array<[string, string]> = [[file, text]];
  for (const line of text.split(/\r?\n/)) {
    const include = /^\s*(?:-r|--requirement|-c|--constraint)[\s=]+(\S+)/.exec(line);
    if (include) found.push(...requirementFiles(resolve(dirname(file), include[1]!), seen));
  }
  return found;
}

function hasRequirements(file: string): boolean {
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .some((line) => line.replace(/(^|\s)#.*$/, '').trim() !== '');
}
