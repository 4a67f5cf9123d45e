/**
 * conda environments through whichever of conda, mamba or micromamba is found (or the one the
 * MLW_CONDA setting names): list (their `env list --json`), create or update from an
 * environment.yml, export, remove. What each environment was built from is recorded in
 * `.mlw/conda-envs.json` (the file's digest), so a changed environment.yml shows it as stale.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { EnvError } from './errors';
import { runTool } from './process';

export type CondaFlavor = 'conda' | 'mamba' | 'micromamba';

export interface CondaTool {
  readonly path: string;
  readonly flavor: CondaFlavor;
}

export interface CondaSpec {
  /** Absolute path of the environment.yml. */
  readonly file: string;
  /** The conda environment's name. */
  readonly envName: string;
}

export interface CondaStatus {
  readonly state: 'ready' | 'stale' | 'missing';
  readonly digest: string;
  readonly prefix: string | null;
  readonly detail: string | null;
}

const SEARCH_ORDER: readonly CondaFlavor[] = ['mamba', 'conda', 'micromamba'];

/** The configured binary, else the first of mamba, conda, micromamba on PATH; undefined when none. */
export function findCondaTool(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): CondaTool | undefined {
  if (configured) {
    if (!isExecutable(configured)) throw new EnvError(`the conda binary set by MLW_CONDA (${configured}) is not an executable file`);
    return { path: configured, flavor: flavorOf(configured) };
  }
  for (const flavor of SEARCH_ORDER) {
    for (const folder of (env.PATH ?? '').split(delimiter)) {
      if (folder === '') continue;
      const candidate = join(folder, process.platform === 'win32' ? `${flavor}.exe` : flavor);
      if (isExecutable(candidate)) return { path: candidate, flavor };
    }
  }
  return undefined;
}

function flavorOf(path: string): CondaFlavor {
  const name = basename(path).replace(/\.(exe|bat)$/, '');
  return name.includes('micromamba') ? 'micromamba' : name.includes('mamba') ? 'mamba' : 'conda';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return isAbsolute(path);
  } catch {
    return false;
  }
}

/** The `name:` an environment.yml gives itself, if any. */
export function condaNameIn(file: string): string | undefined {
  try {
    const parsed = parseYaml(readFileSync(file, 'utf8')) as unknown;
    const name = (parsed as { name?: unknown } | null)?.name;
    return typeof name === 'string' && name.trim() !== '' ? name.trim() : undefined;
  } catch {
    return undefined;
  }
}

export function condaDigest(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
  } catch (error) {
    throw new EnvError(`cannot read the conda file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

const EnvList = z.object({ envs: z.array(z.string()) });
const StateFile = z.record(z.string(), z.object({ digest: z.string(), file: z.string(), builtAt: z.string() }));

export class CondaEnvironments {
  constructor(
    readonly tool: CondaTool,
    private readonly stateFile: string,
  ) {}

  /** Prefixes of every environment the tool knows. */
  async listPrefixes(): Promise<string[]> {
    const { stdout } = await runTool(this.tool.path, ['env', 'list', '--json'], `${this.tool.flavor} env list`, { captureStdout: true });
    const parsed = EnvList.safeParse(JSON.parse(stdout));
    if (!parsed.success) throw new EnvError(`${this.tool.path} env list --json: unexpected output (no "envs" list)`);
    return parsed.data.envs;
  }

  async status(spec: CondaSpec, prefixes?: readonly string[]): Promise<CondaStatus> {
    const digest = condaDigest(spec.file);
    const prefix = (prefixes ?? (await this.listPrefixes())).find((candidate) => basename(candidate) === spec.envName) ?? null;
    if (!prefix) return { state: 'missing', digest, prefix, detail: null };
    const recorded = this.readState()[spec.envName];
    if (recorded?.digest === digest) return { state: 'ready', digest, prefix, detail: null };
    const detail = recorded ? `${spec.file} changed since the environment was built` : 'not built by mlw: its spec is unknown';
    return { state: 'stale', digest, prefix, detail };
  }

  /** Creates the environment, or updates it in place when it exists. */
  async build(spec: CondaSpec, options: { progress?: (line: string) => void; signal?: AbortSignal; force?: boolean } = {}): Promise<{ prefix: string; digest: string; reused: boolean }> {
    const status = await this.status(spec);
    if (status.state === 'ready' && status.prefix && !options.force) return { prefix: status.prefix, digest: status.digest, reused: true };
    const args = this.buildArgs(spec, status.prefix !== null);
    await runTool(this.tool.path, args, `environment ${spec.envName}: ${this.tool.flavor} ${args.slice(0, 2).join(' ')}`, {
      cwd: dirname(spec.file),
      progress: options.progress,
      signal: options.signal,
    });
    this.record(spec.envName, { digest: status.digest, file: spec.file, builtAt: new Date().toISOString() });
    const prefix = (await this.listPrefixes()).find((candidate) => basename(candidate) === spec.envName);
    if (!prefix) throw new EnvError(`environment ${spec.envName}: ${this.tool.flavor} finished but does not list it`);
    return { prefix, digest: status.digest, reused: false };
  }

  buildArgs(spec: CondaSpec, exists: boolean): string[] {
    if (this.tool.flavor === 'micromamba') {
      return exists ? ['install', '-y', '-n', spec.envName, '-f', spec.file] : ['create', '-y', '-n', spec.envName, '-f', spec.file];
    }
    return exists ? ['env', 'update', '-n', spec.envName, '-f', spec.file, '--prune'] : ['env', 'create', '-n', spec.envName, '-f', spec.file];
  }

  async export(envName: string): Promise<string> {
    const { stdout } = await runTool(this.tool.path, ['env', 'export', '-n', envName], `${this.tool.flavor} env export`, { captureStdout: true });
    return stdout;
  }

  async remove(envName: string, progress?: (line: string) => void): Promise<void> {
    await runTool(this.tool.path, ['env', 'remove', '-y', '-n', envName], `environment ${envName}: ${this.tool.flavor} env remove`, { progress });
    const state = this.readState();
    delete state[envName];
    this.writeState(state);
  }

  private record(envName: string, entry: { digest: string; file: string; builtAt: string }): void {
    this.writeState({ ...this.readState(), [envName]: entry });
  }

  private readState(): z.output<typeof StateFile> {
    try {
      const parsed = StateFile.safeParse(JSON.parse(readFileSync(this.stateFile, 'utf8')));
      return parsed.success ? parsed.data : {};
    } catch {
      return {};
    }
  }

  private writeState(state: z.output<typeof StateFile>): void {
    mkdirSync(dirname(this.stateFile), { recursive: true });
    const temp = `${this.stateFile}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(temp, this.stateFile);
  }
}

/** Variables that make a process run inside the conda environment at `prefix`. */
export function condaProcessEnv(prefix: string, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const bin = process.platform === 'win32' ? join(prefix, 'Scripts') : join(prefix, 'bin');
  return { CONDA_PREFIX: prefix, CONDA_DEFAULT_ENV: basename(prefix), PATH: `${bin}${delimiter}${base.PATH ?? ''}` };
}
