/**
 * A DVC-layout workspace: the folder holding `.dvc/`, its configuration, cache and stat cache.
 * Found by walking up from a path; `mlw data add` creates `.dvc/` (as `dvc init --no-scm` would
 * lay it out) when there is none.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Logger } from '../context';
import { UserError } from '../errors';
import { Cache } from './cache';
import { readDataConfig, type DataConfig, type LinkType } from './config';
import { StatCache } from './stat-cache';

export interface DataRepo {
  readonly root: string;
  readonly dvcDir: string;
  readonly config: DataConfig;
  readonly cache: Cache;
  readonly state: StatCache;
  readonly log: Logger;
  readonly linkType: LinkType;
  /** Workspace-relative, '/'-separated form of an absolute path (the stat cache's keys). */
  relative(path: string): string;
  close(): void;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
}

export async function findDataRoot(start: string): Promise<string | undefined> {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (await isDirectory(join(dir, '.dvc'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Lays out `.dvc/` like `dvc init`: an empty config and a .gitignore for the machine-local parts. */
export async function initDataRoot(root: string): Promise<void> {
  const dvcDir = join(root, '.dvc');
  await mkdir(dvcDir, { recursive: true });
  await writeFile(join(dvcDir, 'config'), '', { flag: 'a' });
  await writeFile(join(dvcDir, '.gitignore'), '/config.local\n/tmp\n/cache\n', { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}

export interface OpenOptions {
  readonly log: Logger;
  /** Create `.dvc/` in `start` when no enclosing folder has one. */
  readonly create?: boolean;
  readonly linkType?: LinkType;
}

export async function openDataRepo(start: string, options: OpenOptions): Promise<DataRepo> {
  let root = await findDataRoot(start);
  if (!root) {
    if (!options.create) throw new UserError(`${resolve(start)}: no .dvc folder here or above (track something first: mlw data add PATH)`);
    root = resolve(start);
    await initDataRoot(root);
  }
  const dvcDir = join(root, '.dvc');
  const config = await readDataConfig(dvcDir);
  const state = StatCache.open(join(dvcDir, 'tmp', 'mlw-state.sqlite'), options.log);
  const workspace = root;
  return {
    root,
    dvcDir,
    config,
    cache: new Cache(config.cacheDir),
    state,
    log: options.log,
    linkType: options.linkType ?? config.linkType,
    relative: (path) => relative(workspace, path).split(sep).join('/'),
    close: () => state.close(),
  };
}
