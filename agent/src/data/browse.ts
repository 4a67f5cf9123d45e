/**
 * A dataset's files one folder at a time, as its pointer records them (in the workspace or at a git
 * revision): read from the `.dir` listing in the cache, not from the workspace, so it also shows a
 * version that is not checked out. A folder of a 100,000-file dataset costs one pass over the
 * listing and one stat per row returned. Each file also says whether the workspace copy matches,
 * from the stat cache alone: nothing is hashed here (`mlw data status` does that).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetFileEntry, DatasetFiles } from '../../../schemas/protocol/data';
import { UserError } from '../errors';
import { mapLimit } from './concurrency';
import { compareCodePoints, type ListingEntry } from './hashing';
import type { Pointer } from './pointer';
import type { DataRepo } from './repo';
import { checkRelpath } from './safety';
import { sameStat } from './stat-cache';

const PARALLEL_STATS = 32;

export interface FolderQuery {
  /** Inside the dataset, '/'-separated; '' for its top. */
  readonly folder: string;
  readonly rev: string | undefined;
  readonly limit: number;
}

/** The folder as the listing names it: no leading or trailing '/', and nothing that leaves the dataset. */
export function normalizeFolder(folder: string, dataset: string): string {
  const trimmed = folder.replace(/^\/+|\/+$/g, '');
  if (trimmed !== '') checkRelpath(trimmed, `${dataset}: folder`);
  return trimmed;
}

type Row = { readonly name: string; readonly relpath: string } & ({ readonly kind: 'folder'; nfiles: number } | { readonly kind: 'file'; readonly md5: string });

/** The immediate children of `folder` in a listing: folders (with their file counts) first, then files, each by code point. */
export function childrenOf(listing: readonly ListingEntry[], folder: string): Row[] {
  const prefix = folder === '' ? '' : `${folder}/`;
  const folders = new Map<string, Extract<Row, { kind: 'folder' }>>();
  const files: Row[] = [];
  for (const entry of listing) {
    if (!entry.relpath.startsWith(prefix)) continue;
    const rest = entry.relpath.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) {
      files.push({ kind: 'file', name: rest, relpath: entry.relpath, md5: entry.md5 });
      continue;
    }
    const name = rest.slice(0, slash);
    const known = folders.get(name);
    if (known) known.nfiles++;
    else folders.set(name, { kind: 'folder', name, relpath: `${prefix}${name}`, nfiles: 1 });
  }
  const byName = (a: Row, b: Row): number => compareCodePoints(a.name, b.name);
  return [...[...folders.values()].sort(byName), ...files.sort(byName)];
}

/** The workspace copy of a file against the md5 the listing gives it, from the stat cache only. */
async function workspaceState(repo: DataRepo, absolute: string, md5: string, size: number | null): Promise<{ state: NonNullable<DatasetFileEntry['workspace']>; size: number | null }> {
  const stats = await stat(absolute).catch(() => undefined);
  if (!stats) return { state: 'missing', size: null };
  if (!stats.isFile()) return { state: 'modified', size: null };
  if (size !== null && stats.size !== size) return { state: 'modified', size: stats.size };
  const known = repo.state.get(repo.relative(absolute));
  if (known && sameStat(known, { ino: stats.ino, mtimeMs: stats.mtimeMs, size: stats.size })) {
    return { state: known.md5 === md5 ? 'clean' : 'modified', size: stats.size };
  }
  return { state: 'unknown', size: stats.size };
}

async function objectSize(repo: DataRepo, md5: string): Promise<number | null> {
  return stat(repo.cache.pathOf(md5)).then(
    (stats) => stats.size,
    () => null,
  );
}

async function fileEntry(repo: DataRepo, row: { name: string; relpath: string; md5: string }, absolute: string, knownSize: number | null): Promise<DatasetFileEntry> {
  const size = knownSize ?? (await objectSize(repo, row.md5));
  const workspace = await workspaceState(repo, absolute, row.md5, size);
  return {
    name: row.name,
    relpath: row.relpath,
    path: repo.relative(absolute),
    isDirectory: false,
    // The cache's copy is the version's size; a workspace copy that matches it tells the same.
    size: size ?? (workspace.state === 'clean' ? workspace.size : null),
    md5: row.md5,
    nfiles: null,
    workspace: workspace.state,
  };
}

function notInCache(dataset: string, md5: string, rev: string | undefined): UserError {
  const how = rev === undefined ? `run mlw data pull ${dataset}` : `run mlw data pull ${dataset} (or, to keep the workspace as it is, mlw data fetch --rev ${rev} ${dataset})`;
  return new UserError(`${dataset}${rev === undefined ? '' : ` at ${rev}`}: its file listing ${md5} is not in the cache; ${how}`, { code: 'not-in-cache', md5 });
}

/** One folder level of the dataset `pointer` describes. */
export async function listDatasetFolder(repo: DataRepo, pointer: Pointer, query: FolderQuery): Promise<DatasetFiles> {
  const dataset = repo.relative(pointer.dataPath);
  const folder = normalizeFolder(query.folder, dataset);
  const base = { path: dataset, md5: pointer.md5, rev: query.rev ?? null, folder };
  if (!pointer.isDirectory) {
    if (folder !== '') throw new UserError(`${dataset} is a single file: it has no folder ${JSON.stringify(folder)}`, { code: 'no-such-folder' });
    const name = pointer.path.split('/').pop()!;
    const entry = await fileEntry(repo, { name, relpath: name, md5: pointer.md5 }, pointer.dataPath, pointer.size ?? null);
    return { ...base, total: 1, entries: [entry] };
  }
  if (!(await repo.cache.has(pointer.md5))) throw notInCache(dataset, pointer.md5, query.rev);
  const rows = childrenOf(await repo.cache.readListing(pointer.md5), folder);
  if (rows.length === 0 && folder !== '') {
    throw new UserError(`${dataset}${query.rev === undefined ? '' : ` at ${query.rev}`} has no folder ${JSON.stringify(folder)}`, { code: 'no-such-folder' });
  }
  const shown = rows.slice(0, query.limit);
  const entries = await mapLimit(shown, PARALLEL_STATS, (row): Promise<DatasetFileEntry> => {
    const absolute = join(pointer.dataPath, ...row.relpath.split('/'));
    if (row.kind === 'file') return fileEntry(repo, row, absolute, null);
    return Promise.resolve({ name: row.name, relpath: row.relpath, path: repo.relative(absolute), isDirectory: true, size: null, md5: null, nfiles: row.nfiles, workspace: null });
  });
  return { ...base, total: rows.length, entries };
}
