/**
 * `mlw data checkout`: make the workspace match a pointer from the cache. Every object is verified
 * on the way out (its bytes must hash to its name), so a corrupt cache object is never checked out;
 * files are written under a temporary name and renamed, never through a symlink out of the
 * workspace; and workspace content that is not in the cache (work not yet tracked) is never
 * overwritten or removed unless forced.
 */
import { closeSync, constants, copyFileSync, fstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { copyFile, link, lstat, mkdir, rename, rm, rmdir, stat, symlink, unlink } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import type { CheckoutResult } from '../../../schemas/protocol/data';
import { UserError } from '../errors';
import { temporaryName } from './cache';
import { mapLimit, yielder } from './concurrency';
import { md5OfBytes, md5OfFile, type ListingEntry } from './hashing';
import type { Pointer } from './pointer';
import type { DataRepo } from './repo';
import { assertWritableInside, nativeRelpath } from './safety';
import { SmallFileCopier } from './small-copy';
import type { StatEntry } from './stat-cache';
import { pointerListing, workspaceState } from './status';
import { alongside, runInThread, shareOut, type WriteJob } from './transfer-thread';
import type { VerifiedObjects } from './verified-objects';

export interface CheckoutOptions {
  readonly force?: boolean;
  /**
   * Objects this same command has just downloaded and hashed (pull): copied without hashing them a
   * second time, and written from the bytes it kept when the workspace would get a copy anyway (no
   * reflinks). Every other object is verified as it is read.
   */
  readonly verified?: VerifiedObjects;
  readonly onProgress?: (files: number, total: number) => void;
}

const SMALL_OBJECT = 4 << 20;

export class CorruptObjectError extends UserError {}

export async function checkoutPointer(repo: DataRepo, pointer: Pointer, options: CheckoutOptions = {}): Promise<CheckoutResult> {
  const path = repo.relative(pointer.dataPath);
  const target = await pointerListing(repo, pointer);
  if (!target) throw new UserError(`${path}: its listing ${pointer.md5} is not in the cache; fetch it first (mlw data fetch ${path})`);
  const current = await workspaceState(repo, pointer);
  // A clean folder known by its memo carries no listing of its own: it is the target's.
  const currentListing = current.listing ?? (current.state === 'clean' ? target : []);
  const have = new Map(currentListing.map((entry) => [entry.relpath, entry.md5]));
  const wanted = new Map(target.map((entry) => [entry.relpath, entry.md5]));
  const toWrite = target.filter((entry) => have.get(entry.relpath) !== entry.md5);
  const toRemove = [...have.keys()].filter((relpath) => !wanted.has(relpath));
  const unchanged = target.length - toWrite.length;
  const absolute = (relpath: string): string => (relpath === '' ? pointer.dataPath : pointer.dataPath + sep + nativeRelpath(relpath));

  const present = await repo.cache.listAll();
  const missing = [...new Set(toWrite.map((entry) => entry.md5))].filter((md5) => !present.has(md5));
  if (missing.length > 0) {
    throw new UserError(`${path}: ${missing.length} object(s) are not in the cache (first: ${missing[0]}); fetch them first (mlw data fetch ${path})`);
  }
  if (!options.force) {
    const unsaved = [...toWrite.map((entry) => entry.relpath), ...toRemove].filter((relpath) => {
      const md5 = have.get(relpath);
      return md5 !== undefined && !present.has(md5);
    });
    if (unsaved.length > 0) {
      const shown = unsaved.slice(0, 5).map((relpath) => absolute(relpath)).join(', ');
      throw new UserError(
        `${path}: checkout would overwrite or remove ${unsaved.length} file(s) whose content is not in the cache (${shown}${unsaved.length > 5 ? ', …' : ''}); add them first or use --force`,
      );
    }
  }
  if (pointer.isDirectory) {
    const existing = await lstat(pointer.dataPath).catch(() => undefined);
    if (existing && !existing.isDirectory()) {
      if (!options.force) throw new UserError(`${pointer.dataPath} is a file but the dataset is a folder; use --force to replace it`);
      await unlink(pointer.dataPath);
    }
  }

  const checkedDirs = new Set<string>();
  const madeDirs = new Set<string>();
  const prepareFolder = async (destination: string): Promise<void> => {
    await assertWritableInside(repo.root, destination, checkedDirs);
    if (!madeDirs.has(dirname(destination))) {
      await mkdir(dirname(destination), { recursive: true });
      madeDirs.add(dirname(destination));
    }
  };
  const fresh: Array<[string, StatEntry]> = [];
  const base = repo.relative(pointer.dataPath);
  let done = 0;
  const record = (entry: ListingEntry, stats: { ino: number; mtimeMs: number; size: number }): void => {
    fresh.push([entry.relpath === '' ? base : `${base}/${entry.relpath}`, { ino: stats.ino, mtimeMs: stats.mtimeMs, size: stats.size, md5: entry.md5 }]);
    done++;
    if (done % 1000 === 0) options.onProgress?.(done, toWrite.length);
  };
  const memoryWrite: MemoryWrite = { absolute, madeDirs, prepareFolder, record };
  const fromMemory = options.verified !== undefined && (await copiesAnyway(repo, toWrite[0], memoryWrite));
  const rest = fromMemory ? await writeFromMemory(toWrite, options.verified!, memoryWrite) : toWrite;
  const pause = yielder();
  const copier = new SmallFileCopier();
  await mapLimit(rest, 16, async (entry) => {
    const destination = absolute(entry.relpath);
    await prepareFolder(destination);
    await pause();
    record(entry, await materialize(repo, entry, destination, options.verified?.has(entry.md5) ? copier : undefined));
  });
  for (const relpath of toRemove) {
    const file = absolute(relpath);
    await assertWritableInside(repo.root, file, checkedDirs);
    await rm(file, { force: true });
    await removeEmptyParents(dirname(file), pointer.dataPath);
  }
  repo.state.putMany(fresh);
  options.onProgress?.(toWrite.length, toWrite.length);
  return { path, md5: pointer.md5, written: toWrite.length, removed: toRemove.length, unchanged };
}

interface MemoryWrite {
  readonly absolute: (relpath: string) => string;
  readonly madeDirs: ReadonlySet<string>;
  readonly prepareFolder: (destination: string) => Promise<void>;
  readonly record: (entry: ListingEntry, stats: { ino: number; mtimeMs: number; size: number }) => void;
}

/**
 * Writes every file whose object's verified bytes were kept, synchronously, yielding every 256
 * files — for many, every other one on a second thread; returns the others. A folder is checked
 * (no symlink out of the workspace) and made once, for its first file: the names inside it come
 * from a checked listing and have no '/' or '..'.
 */
async function writeFromMemory(toWrite: readonly ListingEntry[], verified: VerifiedObjects, write: MemoryWrite): Promise<ListingEntry[]> {
  const rest: ListingEntry[] = [];
  const jobs: FileJob[] = [];
  for (const entry of toWrite) {
    const bytes = verified.bytesOf(entry.md5);
    if (bytes === undefined) {
      rest.push(entry);
      continue;
    }
    const destination = write.absolute(entry.relpath);
    if (!write.madeDirs.has(dirname(destination))) await write.prepareFolder(destination);
    jobs.push({ entry, destination, bytes });
  }
  const { mine, theirs, claim } = shareOut(jobs, (job) => job.bytes.buffer instanceof SharedArrayBuffer);
  let failure: string | undefined;
  const run =
    theirs.length === 0
      ? undefined
      : runInThread(writeJob(theirs), claim, (results) => {
          for (const result of results) {
            if ('error' in result) failure ??= result.error;
            else if ('stats' in result) write.record(theirs[result.index]!.entry, result.stats);
          }
        });
  await alongside(run, async () => {
    const pause = yielder();
    for (const job of mine) {
      const paused = pause();
      if (paused) await paused;
      if (failure !== undefined) break;
      write.record(job.entry, writeFileAtomically(job.destination, job.bytes));
    }
  });
  if (failure !== undefined) throw new Error(failure);
  return rest;
}

interface FileJob {
  readonly entry: ListingEntry;
  readonly destination: string;
  readonly bytes: Uint8Array;
}

/** The thread's share of a checkout: each file's bytes as (slab, offset, length) of shared memory. */
function writeJob(jobs: readonly FileJob[]): WriteJob {
  const slabs: SharedArrayBuffer[] = [];
  const index = new Map<SharedArrayBuffer, number>();
  const slabOf = new Int32Array(jobs.length);
  const offsets = new Float64Array(jobs.length);
  const lengths = new Float64Array(jobs.length);
  jobs.forEach((job, at) => {
    const slab = job.bytes.buffer as SharedArrayBuffer;
    if (!index.has(slab)) index.set(slab, slabs.push(slab) - 1);
    slabOf[at] = index.get(slab)!;
    offsets[at] = job.bytes.byteOffset;
    lengths[at] = job.bytes.length;
  });
  return { kind: 'write', paths: jobs.map((job) => job.destination), slabs, slabOf, offsets, lengths };
}

/** Writes `bytes` under a temporary name next to `destination`, then renames it into place. */
function writeFileAtomically(destination: string, bytes: Uint8Array): { ino: number; mtimeMs: number; size: number } {
  const temporary = temporaryName(destination);
  let fd: number | undefined;
  try {
    fd = openSync(temporary, 'w');
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written);
    // Taken before the rename, which moves neither the inode nor the mtime.
    const stats = fstatSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, destination);
    return stats;
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Whether the workspace gets plain copies of small objects, so that writing them from memory gives
 * the same files: the copy mode, or the reflink mode where the filesystem has no reflinks (tried
 * once, with the first file, as libuv's copy would silently fall back).
 */
async function copiesAnyway(repo: DataRepo, first: ListingEntry | undefined, write: Pick<MemoryWrite, 'absolute' | 'prepareFolder'>): Promise<boolean> {
  if (repo.linkType === 'copy') return true;
  if (repo.linkType !== 'reflink' || first === undefined) return false;
  const destination = write.absolute(first.relpath);
  await write.prepareFolder(destination);
  const probe = temporaryName(destination);
  try {
    copyFileSync(repo.cache.pathOf(first.md5), probe, constants.COPYFILE_FICLONE_FORCE);
    return false;
  } catch {
    return true;
  } finally {
    rmSync(probe, { force: true });
  }
}

/**
 * Writes one file from its cache object, verified, under a temporary name then renamed into place.
 * `verifiedCopier` is given when the object was verified by this operation: a small one is then
 * copied without reading it into memory.
 */
export async function materialize(
  repo: DataRepo,
  entry: ListingEntry,
  destination: string,
  verifiedCopier: SmallFileCopier | undefined,
): Promise<{ ino: number; mtimeMs: number; size: number }> {
  const object = repo.cache.pathOf(entry.md5);
  const temporary = temporaryName(destination);
  const corrupt = (): CorruptObjectError =>
    new CorruptObjectError(`${object}: corrupt cache object (its content does not hash to ${entry.md5}); not checked out — run mlw data verify, then fetch it again`);
  try {
    if (repo.linkType === 'hardlink' || repo.linkType === 'symlink') {
      if (!(await repo.cache.verifyObject(entry.md5))) throw corrupt();
      if (repo.linkType === 'hardlink') await link(object, temporary);
      else await symlink(object, temporary);
    } else {
      const size = statSync(object).size;
      if (verifiedCopier !== undefined && size < SMALL_OBJECT) {
        verifiedCopier.copySync(object, temporary);
        renameSync(temporary, destination);
        return statSync(destination);
      } else if (size < SMALL_OBJECT) {
        // Small files: synchronous calls (see concurrency.ts yielder); the caller yields between files.
        const bytes = readFileSync(object);
        if (md5OfBytes(bytes) !== entry.md5) throw corrupt();
        writeFileSync(temporary, bytes);
        renameSync(temporary, destination);
        return statSync(destination);
      } else {
        await copyFile(object, temporary, constants.COPYFILE_FICLONE);
        if ((await md5OfFile(temporary)).md5 !== entry.md5) throw corrupt();
      }
    }
    await rename(temporary, destination);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return stat(destination);
}

async function removeEmptyParents(dir: string, stopAt: string): Promise<void> {
  for (let current = dir; current.startsWith(stopAt) && current !== stopAt; current = dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
  }
}
