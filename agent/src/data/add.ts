/**
 * `mlw data add PATH`: hash a file or folder, put its content in the cache, write `PATH.dvc` and
 * ignore PATH in git. The user's files are only read — except in the hardlink/symlink cache modes
 * the user chose, where (as with DVC) each file is replaced by a link to its read-only cache object.
 */
import { constants } from 'node:fs';
import { copyFile, link, lstat, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../errors';
import { temporaryName } from './cache';
import { mapLimit, yielder } from './concurrency';
import { directoryHash, md5OfFile } from './hashing';
import { ignoreInGit } from './gitignore';
import { writePointer } from './pointer';
import type { DataRepo } from './repo';
import { checkRelpath } from './safety';
import { SmallFileCopier } from './small-copy';
import { objectWriter } from './object-writer';
import { FileHasher, packObjects, walkDirectory, type HashedFile, type HashResult, type WorkspaceFile } from './tree';

export interface AddResult {
  readonly path: string;
  readonly pointerFile: string;
  readonly md5: string;
  readonly size: number;
  readonly nfiles?: number;
  /** Files whose content had to be read (the others were known to the stat cache). */
  readonly hashed: number;
}

export interface AddProgress {
  (event: {
    readonly path: string;
    readonly files: number;
    /** Files found so far: it grows while the walk goes on (files are hashed as they are found). */
    readonly totalFiles: number;
    readonly done: boolean;
  }): void;
}

/** Below this size a file the cache lacks is copied with synchronous calls (small-copy.ts). */
const SMALL_COPY = 4 << 20;
/** Above this size a file is copied into the cache while it is hashed (two cores, two jobs). */
const LARGE_FILE = 64 << 20;

export async function addPath(repo: DataRepo, target: string, onProgress?: AddProgress): Promise<AddResult> {
  const dataPath = resolve(target);
  const key = repo.relative(dataPath);
  if (key === '' || key.startsWith('..') || key.startsWith('/')) throw new UserError(`${dataPath}: not inside the workspace ${repo.root}`);
  checkRelpath(key, 'mlw data add');
  if (key === '.dvc' || key.startsWith('.dvc/') || key === '.git' || key.startsWith('.git/')) {
    throw new UserError(`${dataPath}: refused: .git and .dvc are not data`);
  }
  const stats = await lstat(dataPath).catch(() => undefined);
  if (!stats) throw new UserError(`${dataPath}: no such file or folder`);
  if (stats.isSymbolicLink()) throw new UserError(`${dataPath}: a symlink; track the file or folder it points to`);
  const result = stats.isDirectory() ? await addDirectory(repo, dataPath, key, onProgress) : await addFile(repo, dataPath, key);
  await ignoreInGit(dataPath);
  return result;
}

async function addFile(repo: DataRepo, dataPath: string, key: string): Promise<AddResult> {
  const stats = await stat(dataPath);
  const file: WorkspaceFile = { relpath: '', absolute: dataPath, ino: stats.ino, mtimeMs: stats.mtimeMs, size: stats.size };
  let hashed: HashedFile;
  let hashedCount = 1;
  if (stats.size >= LARGE_FILE) {
    hashed = await hashAndCopyLarge(repo, file);
    repo.state.putMany([[key, { ino: file.ino, mtimeMs: file.mtimeMs, size: file.size, md5: hashed.md5 }]]);
  } else {
    const result = await hashAndStore(repo, key, async (hasher) => {
      const waiting = hasher.take(file);
      if (waiting) await waiting;
    });
    hashed = result.files[0]!;
    hashedCount = result.fresh.length;
  }
  await linkWorkspace(repo, [hashed]);
  const pointerFile = await writePointer(dataPath, { md5: hashed.md5, size: hashed.size });
  return { path: key, pointerFile, md5: hashed.md5, size: hashed.size, hashed: hashedCount };
}

/** Copies a large file into a temporary cache name while hashing it, then renames it into place. */
async function hashAndCopyLarge(repo: DataRepo, file: WorkspaceFile): Promise<HashedFile> {
  const staging = await repo.cache.stagingName();
  try {
    const [{ md5 }] = await Promise.all([md5OfFile(file.absolute), copyFile(file.absolute, staging, constants.COPYFILE_FICLONE)]);
    const after = await stat(file.absolute);
    if (after.mtimeMs !== file.mtimeMs || after.size !== file.size) {
      throw new UserError(`${file.absolute} changed while it was being added; try again when it is no longer being written`);
    }
    await repo.cache.adopt(staging, md5);
    return { ...file, md5 };
  } catch (error) {
    await rm(staging, { force: true });
    throw error;
  }
}

async function addDirectory(repo: DataRepo, dataPath: string, key: string, onProgress?: AddProgress): Promise<AddResult> {
  let found = 0;
  let done = 0;
  let walked = false;
  const report = (): void => onProgress?.({ path: key, files: done, totalFiles: found, done: walked && done === found });
  // Files are read and handed to the object writer as the walk finds them, so that its thread
  // creates objects during the walk rather than after it.
  const { walk, files, fresh } = await hashAndStore(repo, key, async (hasher) => {
    const result = await walkDirectory(repo, dataPath, (file) => {
      found++;
      return hasher.take(file);
    });
    walked = true;
    return result;
  }, () => {
    done++;
    if (done % 1000 === 0) report();
  });
  const { md5, bytes } = directoryHash(files);
  await repo.cache.insertBytes(md5, bytes);
  // The next status recognises the folder at once (in the link modes the files are replaced by
  // links below, the fingerprint no longer matches and status takes the per-file path once).
  repo.state.putFolderMemo(key, { fingerprint: walk.fingerprint, md5, objects: packObjects(files), cacheStamp: null, missing: null });
  await linkWorkspace(repo, files);
  const size = files.reduce((total, file) => total + file.size, 0);
  const pointerFile = await writePointer(dataPath, { md5, size, nfiles: files.length });
  done = found;
  report();
  return { path: key, pointerFile, md5, size, nfiles: files.length, hashed: fresh.length };
}

/**
 * Hashes the files `feed` gives the hasher (stat cache first), records them in the stat cache, and
 * puts into the cache what it lacks: small files from the bytes read to hash them (see
 * object-writer.ts), the others by copy.
 */
async function hashAndStore<T>(
  repo: DataRepo,
  key: string,
  feed: (hasher: FileHasher) => Promise<T>,
  onHashed?: () => void,
): Promise<HashResult & { readonly walk: T }> {
  const present = await repo.cache.listAll();
  const store = objectWriter(repo.cache, present);
  let walk: T;
  let result: HashResult;
  try {
    const hasher = new FileHasher(repo, key, { store, ...(onHashed ? { onHashed } : {}) });
    walk = await feed(hasher);
    result = await hasher.finish();
  } finally {
    await store.dispose();
  }
  repo.state.putMany(result.fresh);
  await copyMissing(repo, result.files, present);
  return { ...result, walk };
}

/**
 * Copies (reflink where possible) into the cache the files it still lacks: large ones, and those
 * the stat cache knew. Small ones synchronously (a libuv round trip costs more than the copy), a
 * yield every 256 keeping progress and cancel alive.
 */
async function copyMissing(repo: DataRepo, files: readonly HashedFile[], present: Set<string>): Promise<void> {
  const large: HashedFile[] = [];
  const copier = new SmallFileCopier();
  const pause = yielder();
  for (const file of files) {
    if (present.has(file.md5)) continue;
    present.add(file.md5);
    if (file.size >= SMALL_COPY) {
      large.push(file);
      continue;
    }
    repo.cache.copyObjectSync(file.absolute, file.md5, copier);
    await pause();
  }
  await mapLimit(large, 32, (file) => repo.cache.insertFile(file.absolute, file.md5));
}

/** hardlink/symlink modes: each workspace file becomes a link to its (read-only) cache object. */
async function linkWorkspace(repo: DataRepo, files: readonly HashedFile[]): Promise<void> {
  if (repo.linkType !== 'hardlink' && repo.linkType !== 'symlink') return;
  const fresh: Array<[string, { ino: number; mtimeMs: number; size: number; md5: string }]> = [];
  await mapLimit(files, 16, async (file) => {
    const object = repo.cache.pathOf(file.md5);
    await repo.cache.protect(file.md5);
    const temporary = temporaryName(file.absolute);
    if (repo.linkType === 'hardlink') await link(object, temporary);
    else await symlink(object, temporary);
    try {
      await rename(temporary, file.absolute);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    const stats = await stat(file.absolute);
    fresh.push([repo.relative(file.absolute), { ino: stats.ino, mtimeMs: stats.mtimeMs, size: stats.size, md5: file.md5 }]);
  });
  repo.state.putMany(fresh);
}
