/**
 * Where a run's files live and how its process sees them.
 *
 * On the host, each run has a private folder `.mlw/runs/<id>/`: `code/` (the snapshot), `outputs/`
 * (what a container writes to its declared outputs) and `mlw/` (`metrics.jsonl`, and `outputs/` for
 * `$MLW_OUTPUTS`). In a container the workspace folder is `/workspace`, read-only; each declared
 * output is a writable mount from `outputs/`; inputs and datasets that git does not hold are
 * mounted read-only from the workspace. A local process runs in a writable `code/` instead, with
 * those inputs linked in.
 */
import { mkdir, open, readFile, realpath, stat, symlink } from 'node:fs/promises';
import { dirname, join, posix, relative, isAbsolute } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { LaunchError } from './errors';
import type { Mount } from './executors/types';
import { insideRoot } from './snapshot';

export const CONTAINER_WORKSPACE = '/workspace';
export const CONTAINER_MLW_DIR = '/mlw';

export interface RunDirs {
  readonly root: string;
  readonly code: string;
  readonly outputs: string;
  readonly mlw: string;
  readonly metricsFile: string;
  readonly adhocOutputs: string;
}

export function runDirs(workspaceRoot: string, runId: string): RunDirs {
  const root = join(workspaceRoot, '.mlw', 'runs', runId);
  const mlw = join(root, 'mlw');
  return {
    root,
    code: join(root, 'code'),
    outputs: join(root, 'outputs'),
    mlw,
    metricsFile: join(mlw, 'metrics.jsonl'),
    adhocOutputs: join(mlw, 'outputs'),
  };
}

/** A path of the DAG file or the command line, checked to stay inside the working folder's tree. */
export function checkRelativePath(path: string, what: string): string {
  const normalized = posix.normalize(path.replace(/\\/g, '/'));
  if (isAbsolute(path) || posix.isAbsolute(normalized) || normalized === '..' || normalized.startsWith('../')) {
    throw new LaunchError(`${what} ${path} must be a path inside the workspace, relative to the task's folder`);
  }
  return normalized;
}

function isFolderPath(path: string): boolean {
  return path.endsWith('/');
}

function stripSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

export interface RunPaths {
  readonly workspaceRoot: string;
  /** Working folder relative to the workspace root ('' for the root), forward slashes. */
  readonly workdir: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly metricsFiles: readonly string[];
  /** The snapshot's DVC pointer files, workspace-relative. */
  readonly dvcPointers: readonly string[];
}

/** Workspace-relative path (forward slashes) of a path relative to the working folder. */
export function workspacePath(paths: Pick<RunPaths, 'workdir'>, path: string): string {
  return posix.join(paths.workdir === '' ? '.' : paths.workdir, stripSlash(path));
}

/** The declared outputs and metrics files (metrics files are outputs the run writes too). */
export function producedPaths(paths: RunPaths): string[] {
  return [...new Set([...paths.outputs, ...paths.metricsFiles])];
}

/** Inputs, and datasets (paths with a `.dvc` pointer in the snapshot), that git does not hold. */
async function mountedReadOnly(paths: RunPaths, codeDir: string): Promise<string[]> {
  const candidates = new Set(paths.inputs.map((input) => workspacePath(paths, input)));
  for (const dataset of await datasetsIn(codeDir, paths.dvcPointers)) candidates.add(dataset);
  const result: string[] = [];
  for (const path of candidates) {
    if (await exists(join(codeDir, path))) continue; // in the snapshot already: git holds it
    const source = join(paths.workspaceRoot, path);
    if (!(await exists(source))) continue; // a missing input is the command's to report
    await assertInsideWorkspace(paths.workspaceRoot, source, `input ${path}`);
    result.push(path);
  }
  return dropNested(result);
}

/** Workspace-relative paths of the datasets the snapshot's `.dvc` pointers name. */
async function datasetsIn(codeDir: string, dvcPointers: readonly string[]): Promise<string[]> {
  const datasets: string[] = [];
  for (const pointer of dvcPointers) {
    try {
      const parsed = parseYaml(await readFile(join(codeDir, pointer), 'utf8')) as { outs?: { path?: unknown }[] } | null;
      for (const out of parsed?.outs ?? []) {
        if (typeof out.path === 'string') datasets.push(posix.join(posix.dirname(pointer), out.path));
      }
    } catch {
      // Not a DVC pointer we can read: the data service reports those; the run just does not mount it.
    }
  }
  return datasets;
}

/** Refuses a path that is, or leads through, a symlink out of the workspace. */
export async function assertInsideWorkspace(workspaceRoot: string, path: string, what: string): Promise<void> {
  const root = await realpath(workspaceRoot);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return;
  }
  if (insideRoot(root, real) === undefined) {
    throw new LaunchError(`${what} resolves to ${real}, outside the workspace ${root}: mlw does not follow links out of it`);
  }
}

function dropNested(paths: readonly string[]): string[] {
  const sorted = [...paths].sort();
  return sorted.filter((path, index) => !sorted.slice(0, index).some((outer) => path.startsWith(`${outer}/`)));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function touch(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await (await open(path, 'a')).close();
}

export interface ContainerLayout {
  readonly mounts: Mount[];
  readonly workingDir: string;
  /** Where the declared outputs land on the host: mirrors the workspace folder. */
  readonly outputsRoot: string;
  readonly env: Record<string, string>;
}

/**
 * Mounts for a container run. Mount points are created in the snapshot first: the snapshot is
 * mounted read-only, and the engine cannot create a mount point inside a read-only mount.
 */
export async function containerLayout(paths: RunPaths, dirs: RunDirs): Promise<ContainerLayout> {
  const mounts: Mount[] = [{ source: dirs.code, target: CONTAINER_WORKSPACE, readOnly: true }];
  await mkdir(dirs.adhocOutputs, { recursive: true });
  await touch(dirs.metricsFile);
  mounts.push({ source: dirs.mlw, target: CONTAINER_MLW_DIR, readOnly: false });

  for (const path of await mountedReadOnly(paths, dirs.code)) {
    const source = join(paths.workspaceRoot, path);
    const isFolder = (await stat(source)).isDirectory();
    if (isFolder) await mkdir(join(dirs.code, path), { recursive: true });
    else await touch(join(dirs.code, path));
    mounts.push({ source, target: posix.join(CONTAINER_WORKSPACE, path), readOnly: true });
  }

  for (const { path, kind } of writableMounts(paths)) {
    const source = join(dirs.outputs, path);
    if (kind === 'file') {
      await touch(source);
      await touch(join(dirs.code, path));
    } else {
      await mkdir(source, { recursive: true });
      await mkdir(join(dirs.code, path), { recursive: true });
    }
    mounts.push({ source, target: posix.join(CONTAINER_WORKSPACE, path), readOnly: false });
  }

  return {
    mounts,
    workingDir: posix.join(CONTAINER_WORKSPACE, paths.workdir),
    outputsRoot: dirs.outputs,
    env: {
      MLW_METRICS: posix.join(CONTAINER_MLW_DIR, 'metrics.jsonl'),
      MLW_OUTPUTS: posix.join(CONTAINER_MLW_DIR, 'outputs'),
    },
  };
}

/**
 * The writable mounts for the declared outputs: a folder output is mounted itself; a file output
 * gets its folder mounted (the file does not exist yet), except a file directly in the working
 * folder, which is mounted as a file (the working folder is the read-only code).
 */
function writableMounts(paths: RunPaths): { path: string; kind: 'folder' | 'file' }[] {
  const folders = new Set<string>();
  const files = new Set<string>();
  for (const output of producedPaths(paths)) {
    const path = workspacePath(paths, output);
    const parent = posix.dirname(path);
    if (isFolderPath(output)) folders.add(path);
    else if (parent === '.' || parent === paths.workdir) files.add(path);
    else folders.add(parent);
  }
  const outerFolders = dropNested([...folders]);
  const underFolder = (path: string) => outerFolders.some((folder) => path.startsWith(`${folder}/`));
  return [
    ...outerFolders.map((path) => ({ path, kind: 'folder' as const })),
    ...[...files].filter((path) => !underFolder(path)).map((path) => ({ path, kind: 'file' as const })),
  ];
}

export interface ProcessLayout {
  readonly cwd: string;
  readonly outputsRoot: string;
  readonly env: Record<string, string>;
}

/** A local process works in the writable snapshot, with inputs git does not hold linked in. */
export async function processLayout(paths: RunPaths, dirs: RunDirs): Promise<ProcessLayout> {
  await mkdir(dirs.adhocOutputs, { recursive: true });
  await touch(dirs.metricsFile);
  for (const path of await mountedReadOnly(paths, dirs.code)) {
    const link = join(dirs.code, path);
    await mkdir(dirname(link), { recursive: true });
    await symlink(join(paths.workspaceRoot, path), link);
  }
  for (const output of producedPaths(paths)) {
    const path = join(dirs.code, workspacePath(paths, output));
    await mkdir(isFolderPath(output) ? path : dirname(path), { recursive: true });
  }
  const cwd = join(dirs.code, paths.workdir);
  await mkdir(cwd, { recursive: true });
  return { cwd, outputsRoot: dirs.code, env: { MLW_METRICS: dirs.metricsFile, MLW_OUTPUTS: dirs.adhocOutputs } };
}

/** A workspace-relative path for messages about a host path under the workspace. */
export function describePath(workspaceRoot: string, path: string): string {
  const rel = relative(workspaceRoot, path);
  return rel === '' ? '.' : rel.split('\\').join('/');
}
