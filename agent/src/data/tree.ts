/**
 * The files of a dataset in the workspace: a walk that stats every file, then md5s from the stat
 * cache where (inode, mtime, size) still match and from the bytes where not. Symlinks are followed
 * only when they stay inside the workspace. Empty folders are not part of a DVC listing.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors';
import { mapLimit, yielder } from './concurrency';
import { md5OfBytes, md5OfFile, type ListingEntry } from './hashing';
import type { ObjectWriter } from './object-writer';
import type { DataRepo } from './repo';
import { sameStat, type StatEntry, type StatKey } from './stat-cache';

export interface WorkspaceFile extends StatKey {
  /** Relative to the dataset root, '/'-separated. */
  readonly relpath: string;
  readonly absolute: string;
}

export interface HashedFile extends WorkspaceFile {
  readonly md5: string;
}

/** Files smaller than this are read whole (and handed to the cache); larger ones are streamed. */
const SMALL_FILE = 4 << 20;
const PARALLEL_IO = 32;

async function resolveLink(repo: DataRepo, path: string): Promise<void> {
  const target = await realpath(path).catch(() => undefined);
  const rootReal = await realpath(repo.root);
  const rel = target ? relative(rootReal, target) : '..';
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new UserError(`${path}: a symlink that leads out of the workspace (${target ?? 'dangling'}); refused`);
  }
}

export interface WalkedFolder {
  readonly files: WorkspaceFile[];
  /** A digest of every file's (relpath, inode, mtime, size) in walk order (see FolderMemo). */
  readonly fingerprint: string;
}

/**
 * Every file under `directory` (recursively), with its stat key, and their fingerprint (taken in
 * the same pass: a second pass over 100,000 files cost ~90 ms). `onFile` sees each file as it is
 * found (the walk waits for the promise it may return).
 */
export async function walkDirectory(repo: DataRepo, directory: string, onFile?: (file: WorkspaceFile) => Promise<void> | undefined): Promise<WalkedFolder> {
  const files: WorkspaceFile[] = [];
  const fingerprint = new FingerprintBuilder();
  await visitFiles(repo, directory, (relpath, absolute, stats) => {
    const file: WorkspaceFile = { relpath, absolute, ino: stats.ino, mtimeMs: stats.mtimeMs, size: stats.size };
    files.push(file);
    fingerprint.add(relpath, file);
    return onFile?.(file);
  });
  return { files, fingerprint: fingerprint.digest() };
}

/**
 * The fingerprint `walkDirectory` would return, without keeping the files: when it matches a
 * folder's memo nothing else is needed, and not holding 100,000 paths and objects saved ~180 ms of
 * a clean status (most of it garbage collection).
 */
export async function fingerprintDirectory(repo: DataRepo, directory: string): Promise<string> {
  const fingerprint = new FingerprintBuilder();
  await visitFiles(repo, directory, (relpath, _absolute, stats) => fingerprint.add(relpath, stats));
  return fingerprint.digest();
}

/**
 * Calls `visit` for every file under `directory` in walk order, each with its stat (a symlink's
 * target's). Synchronous calls in small batches (see yielder). Names are listed without types and
 * every entry is lstat'ed once: the file's stat key is needed anyway, and `withFileTypes` Dirents
 * cost ~25% more per file at 100,000 files.
 */
async function visitFiles(
  repo: DataRepo,
  directory: string,
  visit: (relpath: string, absolute: string, stats: Stats) => Promise<void> | undefined | void,
): Promise<void> {
  const pause = yielder(512);
  const pending: Array<[string, string]> = [[resolve(directory), '']];
  while (pending.length > 0) {
    const [dir, prefix] = pending.pop()!;
    for (const name of readdirSync(dir)) {
      // dir is already normal: plain concatenation (path.join re-normalises, 70 ms per 100,000 files).
      const absolute = `${dir}${sep}${name}`;
      const relpath = prefix ? `${prefix}/${name}` : name;
      let stats: Stats = lstatSync(absolute);
      if (stats.isSymbolicLink()) {
        await resolveLink(repo, absolute);
        stats = await stat(absolute);
      }
      if (stats.isDirectory()) pending.push([absolute, relpath]);
      else if (stats.isFile()) {
        // Not `await visit(…)` nor `await pause()`: awaiting undefined still costs a microtask per file.
        const visited = visit(relpath, absolute, stats);
        if (visited) await visited;
        const waiting = pause();
        if (waiting) await waiting;
      }
    }
  }
}

/**
 * Names and numbers go to two digests: the numbers as raw doubles (formatting 100,000 fractional
 * mtimes as text cost ~70 ms), the names '\0'-terminated (no name holds a NUL), so the pair of
 * digests still tells every (relpath, inode, mtime, size) sequence apart.
 */
class FingerprintBuilder {
  private readonly names = createHash('md5');
  private readonly numbers = createHash('md5');
  private pendingNames = '';
  private readonly pendingNumbers = new Float64Array(3 * 4096);
  private filled = 0;

  add(relpath: string, stats: StatKey): void {
    this.pendingNames += `${relpath}\0`;
    if (this.pendingNames.length > 65_536) {
      this.names.update(this.pendingNames);
      this.pendingNames = '';
    }
    this.pendingNumbers[this.filled++] = stats.ino;
    this.pendingNumbers[this.filled++] = stats.mtimeMs;
    this.pendingNumbers[this.filled++] = stats.size;
    if (this.filled === this.pendingNumbers.length) {
      this.numbers.update(this.pendingNumbers);
      this.filled = 0;
    }
  }

  digest(): string {
    this.names.update(this.pendingNames);
    this.numbers.update(this.pendingNumbers.subarray(0, this.filled));
    return `${this.names.digest('hex')}${this.numbers.digest('hex')}`;
  }
}

export interface HashOptions {
  /**
   * Hashes the small files that have to be read, and stores them (add): the bytes go to it instead
   * of being hashed here.
   */
  readonly store?: ObjectWriter;
  readonly onHashed?: (file: WorkspaceFile) => void;
}

export interface HashResult {
  readonly files: HashedFile[];
  /** Entries to record in the stat cache (files that had to be hashed). */
  readonly fresh: Array<[string, StatEntry]>;
}

/**
 * md5 of each file: from the stat cache when its stat still matches, else from its bytes. Known and
 * small files go through one synchronous loop (an async call per file was a fifth of adding 15,000
 * small files); large ones are streamed, several at a time.
 */
export async function hashFiles(repo: DataRepo, datasetKey: string, files: readonly WorkspaceFile[], options: HashOptions = {}): Promise<HashResult> {
  const hasher = new FileHasher(repo, datasetKey, options);
  for (const file of files) {
    const waiting = hasher.take(file);
    if (waiting) await waiting;
  }
  return hasher.finish();
}

/**
 * hashFiles one file at a time, so that an add can hash (and hand files to the object writer) while
 * it walks: the writer's thread then starts creating objects during the walk instead of after it.
 * Same results, in the order the files were taken.
 */
export class FileHasher {
  private readonly known: Map<string, StatEntry>;
  private readonly fresh: Array<[string, StatEntry]> = [];
  private readonly hashed: HashedFile[] = [];
  private readonly large: Array<[number, WorkspaceFile]> = [];
  private readonly reader = new SmallFileReader();
  private readonly pause = yielder();
  private taken = 0;

  constructor(
    repo: DataRepo,
    private readonly datasetKey: string,
    private readonly options: HashOptions = {},
  ) {
    this.known = repo.state.loadUnder(datasetKey);
  }

  /** Hashes (or hands over) one file; returns a promise when the caller should wait before the next. */
  take(file: WorkspaceFile): Promise<void> | undefined {
    const index = this.taken++;
    const key = this.keyFor(file);
    const entry = this.known.get(key);
    if (entry && sameStat(entry, file)) {
      this.hashed[index] = withMd5(file, entry.md5);
      return undefined;
    }
    if (file.size >= SMALL_FILE) {
      this.large.push([index, file]);
      return undefined;
    }
    const waiting = this.pause();
    if (waiting) return waiting.then(() => this.takeSmall(file, key, index));
    this.takeSmall(file, key, index);
    return undefined;
  }

  /** Waits for the object writer and hashes the large files. */
  async finish(): Promise<HashResult> {
    await this.options.store?.finish();
    await mapLimit(this.large, PARALLEL_IO, async ([index, file]) => {
      const { md5 } = await md5OfFile(file.absolute);
      if (!sameStat(statSync(file.absolute), file)) throw changedWhileHashed(file);
      this.hashed[index] = this.record(file, this.keyFor(file), md5);
    });
    return { files: this.hashed, fresh: this.fresh };
  }

  private takeSmall(file: WorkspaceFile, key: string, index: number): void {
    const bytes = this.reader.read(file);
    if (!this.options.store) {
      this.hashed[index] = this.record(file, key, md5OfBytes(bytes));
      return;
    }
    this.options.store.put(bytes, (md5) => {
      this.hashed[index] = this.record(file, key, md5);
    });
  }

  private keyFor(file: WorkspaceFile): string {
    return file.relpath ? `${this.datasetKey}/${file.relpath}` : this.datasetKey;
  }

  private record(file: WorkspaceFile, key: string, md5: string): HashedFile {
    this.fresh.push([key, { ino: file.ino, mtimeMs: file.mtimeMs, size: file.size, md5 }]);
    this.options.onHashed?.(file);
    return withMd5(file, md5);
  }
}

function changedWhileHashed(file: WorkspaceFile): UserError {
  return new UserError(`${file.absolute} changed while it was being hashed; try again when it is no longer being written`);
}

/**
 * Reads small files whole into one reused buffer (allocating a buffer per file was ~5% of adding
 * 15,000 files, and holding them all until the cache was filled cost garbage collection), and
 * checks through the open descriptor that the bytes are those of the file as walked: same inode,
 * and the same mtime and size after the read.
 */
class SmallFileReader {
  private readonly buffer = Buffer.allocUnsafe(SMALL_FILE);

  read(file: WorkspaceFile): Buffer {
    const fd = openSync(file.absolute, 'r');
    try {
      // Up to the walked size only: a file that grew since is caught by the fstat below, without a
      // second read to find its end (one pread per file fewer).
      let length = 0;
      while (length < file.size) {
        const got = readSync(fd, this.buffer, length, file.size - length, length);
        if (got === 0) break;
        length += got;
      }
      if (length !== file.size || !sameStat(fstatSync(fd), file)) throw changedWhileHashed(file);
      return this.buffer.subarray(0, length);
    } finally {
      closeSync(fd);
    }
  }
}

function withMd5(file: WorkspaceFile, md5: string): HashedFile {
  return { relpath: file.relpath, absolute: file.absolute, ino: file.ino, mtimeMs: file.mtimeMs, size: file.size, md5 };
}

export function listingOf(files: readonly HashedFile[]): ListingEntry[] {
  return files.map((file) => ({ md5: file.md5, relpath: file.relpath }));
}

/** The distinct file md5s of a listing, concatenated (FolderMemo.objects). */
export function packObjects(listing: readonly ListingEntry[]): string {
  return [...new Set(listing.map((entry) => entry.md5))].join('');
}

export function unpackObjects(packed: string): string[] {
  const ids: string[] = [];
  for (let at = 0; at < packed.length; at += 32) ids.push(packed.slice(at, at + 32));
  return ids;
}
