/**
 * `mlw data status`: for each dataset, whether the workspace matches its pointer (and if not, which
 * files were added, removed or changed), whether the cache holds every object, and — when a remote
 * is given — whether the remote does.
 */
import { lstat } from 'node:fs/promises';
import type { DatasetStatus, FileChanges } from '../../../schemas/protocol/data';
import { directoryHash, type ListingEntry } from './hashing';
import type { Pointer } from './pointer';
import type { DataRepo } from './repo';
import type { FolderMemo } from './stat-cache';
import { fingerprintDirectory, hashFiles, listingOf, packObjects, unpackObjects, walkDirectory, type WorkspaceFile } from './tree';

export interface WorkspaceState {
  readonly state: 'clean' | 'modified' | 'missing';
  /**
   * The workspace's listing (a single file: one entry with relpath ''), when the data exists —
   * except for a clean folder recognised by its memo, whose listing is the pointer's own (read it
   * with `pointerListing` if needed): then `objects` holds its distinct file md5s instead.
   */
  readonly listing: ListingEntry[] | undefined;
  readonly objects?: readonly string[];
  readonly md5: string | undefined;
  /** A folder's memo, as read (when it told the state) or as just recorded. */
  readonly memo?: FolderMemo;
}

/** Hashes what the workspace holds at the pointer's path (stat cache first) and compares. */
export async function workspaceState(repo: DataRepo, pointer: Pointer): Promise<WorkspaceState> {
  const stats = await lstat(pointer.dataPath).catch(() => undefined);
  if (!stats) return { state: 'missing', listing: undefined, md5: undefined };
  const key = repo.relative(pointer.dataPath);
  if (!stats.isDirectory()) {
    const file: WorkspaceFile = { relpath: '', absolute: pointer.dataPath, ino: stats.ino, mtimeMs: stats.mtimeMs, size: stats.size };
    const { files: hashed, fresh } = await hashFiles(repo, key, [file]);
    repo.state.putMany(fresh);
    const md5 = hashed[0]!.md5;
    return { state: md5 === pointer.md5 ? 'clean' : 'modified', listing: listingOf(hashed), md5 };
  }
  const memo = repo.state.folderMemo(key);
  // Only a memo of the pointer's own hash can tell "clean"; then the fingerprint alone is taken,
  // and the files are walked again (at ~0.5 s per 100,000) only if it no longer matches.
  if (memo && memo.md5 === pointer.md5 && memo.fingerprint === (await fingerprintDirectory(repo, pointer.dataPath))) {
    return { state: 'clean', listing: undefined, objects: unpackObjects(memo.objects), md5: memo.md5, memo };
  }
  const { files, fingerprint } = await walkDirectory(repo, pointer.dataPath);
  const { files: hashed, fresh } = await hashFiles(repo, key, files);
  repo.state.putMany(fresh);
  const listing = listingOf(hashed);
  const md5 = directoryHash(listing).md5;
  const freshMemo: FolderMemo = { fingerprint, md5, objects: packObjects(listing), cacheStamp: null, missing: null };
  repo.state.putFolderMemo(key, freshMemo);
  return { state: md5 === pointer.md5 ? 'clean' : 'modified', listing, md5, memo: freshMemo };
}

export function compareListings(before: readonly ListingEntry[], after: readonly ListingEntry[]): FileChanges {
  const old = new Map(before.map((entry) => [entry.relpath, entry.md5]));
  const added: string[] = [];
  const modified: string[] = [];
  for (const entry of after) {
    const previous = old.get(entry.relpath);
    if (previous === undefined) added.push(entry.relpath);
    else if (previous !== entry.md5) modified.push(entry.relpath);
    old.delete(entry.relpath);
  }
  return { added, removed: [...old.keys()], modified };
}

/** The pointer's own listing: a file is one entry; a folder's comes from its .dir object (if cached). */
export async function pointerListing(repo: DataRepo, pointer: { md5: string }): Promise<readonly ListingEntry[] | undefined> {
  if (!pointer.md5.endsWith('.dir')) return [{ md5: pointer.md5, relpath: '' }];
  if (!(await repo.cache.has(pointer.md5))) return undefined;
  return repo.cache.readListing(pointer.md5);
}

export interface StatusOptions {
  /** Objects the remote holds, when the caller asked to compare with one. */
  readonly remote?: { readonly name: string; readonly has: (ids: readonly string[]) => Promise<Set<string>> };
}

export async function datasetStatus(repo: DataRepo, pointer: Pointer, present: () => Promise<Set<string>>, options: StatusOptions = {}): Promise<DatasetStatus> {
  const workspace = await workspaceState(repo, pointer);
  // When the workspace is clean its listing is the pointer's: no need to read the .dir object.
  const listing = workspace.state === 'clean' ? workspace.listing : await pointerListing(repo, pointer);
  const known = listing !== undefined || workspace.objects !== undefined;
  const objects = listing ? [...new Set(listing.map((entry) => entry.md5))] : [...(workspace.objects ?? [])];
  if (pointer.isDirectory) objects.push(pointer.md5);
  const missingInCache = known ? await countMissing(repo, pointer, workspace, objects, present) : undefined;
  let changes: FileChanges | undefined;
  if (workspace.state === 'modified' && workspace.listing && listing) {
    changes = pointer.isDirectory ? compareListings(listing, workspace.listing) : { added: [], removed: [], modified: [pointer.path] };
  }
  let notPushed: number | undefined;
  if (options.remote && known) {
    const onRemote = await options.remote.has(objects);
    notPushed = objects.filter((id) => !onRemote.has(id)).length;
  }
  return {
    path: repo.relative(pointer.dataPath),
    pointerFile: repo.relative(pointer.file),
    md5: pointer.md5,
    size: pointer.size ?? null,
    nfiles: pointer.nfiles ?? null,
    workspace: workspace.state,
    changes: changes ?? null,
    cache: missingInCache === undefined ? 'unknown' : missingInCache === 0 ? 'complete' : 'incomplete',
    missingObjects: missingInCache ?? null,
    remote: options.remote ? options.remote.name : null,
    notPushed: notPushed ?? null,
  };
}

/**
 * How many of a dataset's objects the cache lacks. A clean folder remembers the count with the
 * cache's stamp: while no object has been added or removed since, the count stands.
 */
async function countMissing(repo: DataRepo, pointer: Pointer, workspace: WorkspaceState, objects: readonly string[], present: () => Promise<Set<string>>): Promise<number> {
  const remember = pointer.isDirectory && workspace.state === 'clean';
  // Taken before the listing: a change made while it is read moves the stamp for next time.
  const stamp = remember ? await repo.cache.stamp() : undefined;
  if (stamp !== undefined && workspace.memo && workspace.memo.missing !== null && workspace.memo.cacheStamp === stamp) return workspace.memo.missing;
  const cached = await present();
  const missing = objects.filter((id) => !cached.has(id)).length;
  if (stamp !== undefined && workspace.memo?.md5 === pointer.md5) {
    repo.state.putFolderMemo(repo.relative(pointer.dataPath), { ...workspace.memo, cacheStamp: stamp, missing });
  }
  return missing;
}
