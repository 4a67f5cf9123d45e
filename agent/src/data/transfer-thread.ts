/**
 * A second thread for transfers of many small objects to and from a directory remote, so that both
 * cores open, write and rename files (nearly all of a 15,000-file push or pull is that kernel work).
 * The two threads take the objects one by one from a shared counter. Three jobs, each doing exactly
 * what the calling thread does for its share:
 * - `fetch`: read an object of the remote whole into shared memory, hash it, and write it to the
 *   cache (temporary name, then rename) only when its bytes match its name; the calling thread
 *   keeps the bytes for checkout without a copy — or, for an object with places (fresh-folders.ts),
 *   read it into a reused buffer and write it to its new workspace files as well;
 * - `copy` (push): read a cache object whole and write it to the remote, temporary name then rename
 *   (an object of `limit` bytes or more is left for the caller's general path);
 * - `write` (checkout): write bytes from shared memory to a temporary file, take its stats, rename
 *   it into place.
 */
import { randomBytes } from 'node:crypto';
import { sep } from 'node:path';
import { Worker } from 'node:worker_threads';

/** Below this many objects the caller does them all: a thread costs ~30 ms to start. */
export const THREAD_FROM = 1000;

type RawResult = {
  i: number;
  placed?: true;
  copied?: number;
  slab?: number;
  offset?: number;
  length?: number;
  large?: true;
  corrupt?: string;
  error?: string;
  absent?: true;
  ino?: number;
  mtimeMs?: number;
  size?: number;
};
type Message = { readonly slab: SharedArrayBuffer } | { readonly results: readonly RawResult[] } | { readonly finished: true };

/**
 * The worker's code, plain JavaScript run with `eval: true` (Node's own modules only), so it runs
 * the same from the bundle, from the sources under tsx and from the .vsix. Keep it in step with
 * DirectoryRemote.readSmallSync and uploadSmallSync, the small-object path of transfer.ts `fetch`,
 * Cache.writeObjectSync, FreshFolders.writeSync (the places' stats) and checkout.ts
 * writeFileAtomically.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { closeSync, constants, copyFileSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeSync } = require('node:fs');
const { job, sep, tag, stop } = workerData;
// Only a fetch hashes: loading node:crypto is ~3 ms of a thread's start.
const hash = job.kind === 'fetch' ? require('node:crypto').hash : undefined;
// Lists of strings arrive packed (see pack below).
const unpack = (packed) => (packed.count === 0 ? [] : packed.joined.split('\\0'));
if (job.ids) job.ids = unpack(job.ids);
if (job.paths) job.paths = unpack(job.paths);
if (job.places) job.places.paths = unpack(job.places.paths);
const stopped = new Int32Array(stop);
const madeDirs = new Set();
let count = 0;
let slab = Buffer.alloc(0);
let slabIndex = -1;
let used = 0;
let buffer = Buffer.allocUnsafeSlow(64 << 10);

/**
 * Reads an open file whole into the reused buffer (grown as needed) and returns its length, or -1
 * once it reaches limit bytes: no fstat, and no Stats object, per small file.
 */
function readWhole(fd, limit) {
  let filled = 0;
  for (;;) {
    if (filled === buffer.length) {
      if (filled >= limit) return -1;
      const larger = Buffer.allocUnsafeSlow(Math.min(limit, 2 * buffer.length));
      buffer.copy(larger, 0, 0, filled);
      buffer = larger;
    }
    const read = readSync(fd, buffer, filled, buffer.length - filled, null);
    if (read === 0) return filled;
    filled += read;
  }
}
function readFully(fd, into, size) {
  let filled = 0;
  while (filled < size) {
    const read = readSync(fd, into, filled, size - filled, null);
    if (read === 0) break;
    filled += read;
  }
  return filled;
}
/** Writes bytes under a temporary name next to target, then renames; returns its stats when asked. */
function writeAtomically(target, bytes, makeDir, withStats) {
  if (makeDir) {
    const dir = target.slice(0, target.lastIndexOf(sep));
    if (!madeDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      madeDirs.add(dir);
    }
  }
  const temporary = target + '.' + tag + (count++).toString(36) + '.tmp';
  let fd;
  try {
    fd = openSync(temporary, 'w');
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written);
    const stats = withStats ? fstatSync(fd) : undefined;
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, target);
    return stats;
  } catch (error) {
    try {
      if (fd !== undefined) closeSync(fd);
      rmSync(temporary, { force: true });
    } catch {
      // the error that matters is the one reported
    }
    throw error;
  }
}
function objectPath(root, id) {
  return root + sep + id.slice(0, 2) + sep + id.slice(2);
}
function fetchOne(i, into) {
  const id = job.ids[i];
  const places = job.places && job.places.first[i] !== -1 ? job.places : null;
  const fd = openSync(objectPath(job.remoteRoot, id), 'r');
  let bytes;
  try {
    if (places) {
      // Written out below and not kept: one reused buffer, no fresh memory to fault in.
      const length = readWhole(fd, job.limit);
      if (length === -1) return { i, large: true };
      bytes = buffer.subarray(0, length);
    } else {
      const { size } = fstatSync(fd);
      if (size >= job.limit) return { i, large: true };
      if (slab.length - used < size) {
        const shared = new SharedArrayBuffer(Math.max(1 << 20, size));
        parentPort.postMessage({ slab: shared });
        slab = Buffer.from(shared);
        slabIndex++;
        used = 0;
      }
      bytes = slab.subarray(used, used + readFully(fd, slab.subarray(used), size));
    }
  } finally {
    closeSync(fd);
  }
  const md5 = hash('md5', bytes, 'hex');
  if (md5 !== id) return { i, corrupt: md5 };
  if (into) writeNewRemovingOnError(into + sep + id.slice(2), bytes);
  else writeAtomically(objectPath(job.cacheRoot, id), bytes, true, false);
  if (places) {
    for (let at = places.first[i]; at !== -1; at = places.next[at]) {
      const stats = writeNew(places.paths[at], bytes, true);
      places.stats[3 * at] = stats.ino;
      places.stats[3 * at + 1] = stats.mtimeMs;
      places.stats[3 * at + 2] = bytes.length;
    }
    return { i, placed: true, length: bytes.length };
  }
  const offset = used;
  used += bytes.length;
  return { i, slab: slabIndex, offset, length: bytes.length };
}
/** writeNew, and a file left half-written by a failure is removed. */
function writeNewRemovingOnError(path, bytes) {
  try {
    writeNew(path, bytes, false);
  } catch (error) {
    try {
      rmSync(path, { force: true });
    } catch {
      // the error that matters is the one reported
    }
    throw error;
  }
}
/** Renames a staging folder into place; if the folder appeared meanwhile, moves its files in one by one. */
function settleFolder(staging, folder) {
  try {
    renameSync(staging, folder);
    return;
  } catch {
    // another writer made the folder: join it
  }
  mkdirSync(folder, { recursive: true });
  for (const name of readdirSync(staging)) renameSync(staging + sep + name, folder + sep + name);
  rmSync(staging, { recursive: true, force: true });
}
/** Writes bytes to a new file (in a staging folder: no temporary name) and returns its stats when asked. */
function writeNew(path, bytes, withStats) {
  const fd = openSync(path, 'wx');
  try {
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written);
    return withStats ? fstatSync(fd) : undefined;
  } finally {
    closeSync(fd);
  }
}
let reflinks;
function reflinkWorks(source, probe) {
  try {
    copyFileSync(source, probe, constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { force: true });
  }
}
function copyOne(i, into) {
  const id = job.ids[i];
  const source = objectPath(job.sourceRoot, id);
  const target = into ? into + sep + id.slice(2) : objectPath(job.targetRoot, id);
  if (reflinks === undefined) {
    mkdirSync(target.slice(0, target.lastIndexOf(sep)), { recursive: true });
    reflinks = reflinkWorks(source, target + '.' + tag + 'probe.tmp');
  }
  if (reflinks) {
    const { size } = statSync(source);
    if (size >= job.limit) return { i, large: true };
    if (into) {
      copyFileSync(source, target, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
      return { i, copied: size };
    }
    const temporary = target + '.' + tag + (count++).toString(36) + '.tmp';
    try {
      mkdirSync(target.slice(0, target.lastIndexOf(sep)), { recursive: true });
      copyFileSync(source, temporary, constants.COPYFILE_FICLONE);
      renameSync(temporary, target);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
    return { i, copied: size };
  }
  const fd = openSync(source, 'r');
  let bytes;
  try {
    const length = readWhole(fd, job.limit);
    if (length === -1) return { i, large: true };
    bytes = buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
  if (into) writeNewRemovingOnError(target, bytes);
  else writeAtomically(target, bytes, true, false);
  return { i, copied: bytes.length };
}
function writeOne(i) {
  const bytes = Buffer.from(job.slabs[job.slabOf[i]], job.offsets[i], job.lengths[i]);
  const stats = writeAtomically(job.paths[i], bytes, false, true);
  return { i, ino: stats.ino, mtimeMs: stats.mtimeMs, size: stats.size };
}
const one = job.kind === 'fetch' ? fetchOne : job.kind === 'copy' ? copyOne : writeOne;
const total = job.kind === 'write' ? job.paths.length : job.ids.length;
const next = new Int32Array(workerData.claim);
let results = [];
function run(i, into) {
  try {
    results.push(one(i, into));
  } catch (error) {
    // A push's source missing from the cache is reported as such (transfer.ts NOT_IN_CACHE).
    if (job.kind === 'copy' && error.code === 'ENOENT' && error.path === objectPath(job.sourceRoot, job.ids[i])) results.push({ i, absent: true });
    else results.push({ i, error: error.message });
    if (job.kind === 'write') return false;
  }
  if (results.length === 64) {
    parentPort.postMessage({ results });
    results = [];
  }
  return true;
}
const groups = job.kind === 'write' ? undefined : job.groups;
if (groups === undefined) {
  for (let i = Atomics.add(next, 0, 1); i < total && Atomics.load(stopped, 0) === 0; i = Atomics.add(next, 0, 1)) {
    if (!run(i, null)) break;
  }
} else {
  // Claimed a folder's group at a time; a staged group's folder is settled even when stopped
  // midway, as every file in it is complete.
  for (let g = Atomics.add(next, 0, 1); g < groups.prefixes.length && Atomics.load(stopped, 0) === 0; g = Atomics.add(next, 0, 1)) {
    const folder = groups.root + sep + groups.prefixes[g];
    const into = groups.staged[g] === 1 ? folder + '.' + tag + 'g' + (count++).toString(36) + '.tmp' : null;
    try {
      if (into) mkdirSync(into, { recursive: true });
    } catch (error) {
      for (let i = groups.starts[g]; i < groups.starts[g + 1]; i++) results.push({ i, error: error.message });
      continue;
    }
    try {
      for (let i = groups.starts[g]; i < groups.starts[g + 1] && Atomics.load(stopped, 0) === 0; i++) run(i, into);
    } finally {
      if (into) settleFolder(into, folder);
    }
  }
}
parentPort.postMessage({ results });
parentPort.postMessage({ finished: true });
`;

/**
 * `places`, when given, lists new files (in a staging folder) that objects are also written to:
 * an object with places does not keep its bytes (result `placed`; the files' stats go to `places.stats`).
 */
export type FetchJob = {
  readonly kind: 'fetch';
  readonly ids: readonly string[];
  readonly remoteRoot: string;
  readonly cacheRoot: string;
  readonly limit: number;
  readonly places?: PlaceChains;
  readonly groups?: FolderGroups;
};

/**
 * Item i's files: paths[first[i]], then paths[next[p]] after each place p, until -1 (none: -1 as
 * first). Typed arrays and the one array of paths the plan made, because a thread's job is copied
 * to it whole before it starts (fresh-folders.ts). The thread writes each file's ino, mtimeMs and
 * size to `stats` (shared memory) at 3 × its place.
 */
export interface PlaceChains {
  readonly paths: readonly string[];
  readonly first: Int32Array;
  readonly next: Int32Array;
  readonly stats: Float64Array;
}

/**
 * Copies objects `ids` from one object store to another (`<root>/<2 hex>/<30 hex>`; the thread
 * makes the paths, so that the calling thread neither builds nor copies 30,000 of them). `limit`:
 * objects this large or larger are left (result `large`) for the general path.
 */
export type CopyJob = { readonly kind: 'copy'; readonly ids: readonly string[]; readonly sourceRoot: string; readonly targetRoot: string; readonly limit: number; readonly groups?: FolderGroups };

/**
 * A job's items in runs that go to one <2 hex> folder of `root` (items starts[g] to starts[g + 1] - 1
 * go to prefixes[g]), claimed a run at a time. Where staged[g] is 1 the folder did not exist: the
 * run is written under final names into a staging folder beside it, renamed into place at the end
 * (object-groups.ts).
 */
export interface FolderGroups {
  readonly root: string;
  readonly prefixes: readonly string[];
  readonly starts: Int32Array;
  readonly staged: Uint8Array;
}
export type WriteJob = {
  readonly kind: 'write';
  readonly paths: readonly string[];
  readonly slabs: readonly SharedArrayBuffer[];
  readonly slabOf: Int32Array;
  readonly offsets: Float64Array;
  readonly lengths: Float64Array;
};

/** A workspace file written from an object, with the stats the stat cache keeps. */
export interface PlacedFile {
  readonly ino: number;
  readonly mtimeMs: number;
}

/** What became of job item `index` (`placed`: stored in the cache, and written to its places if it has any, their stats in `places.stats`; its bytes not kept). */
export type ThreadResult =
  | { readonly index: number; readonly bytes: Buffer }
  | { readonly index: number; readonly placed: true; readonly size: number }
  | { readonly index: number; readonly large: true }
  | { readonly index: number; readonly corrupt: string }
  | { readonly index: number; readonly error: string }
  | { readonly index: number; readonly absent: true }
  | { readonly index: number; readonly stats: { readonly ino: number; readonly mtimeMs: number; readonly size: number } }
  | { readonly index: number; readonly copied: number };

export interface ThreadRun {
  /** Settles when the thread has done every item (or stopped after `stop`); every result was delivered before. */
  readonly done: Promise<void>;
  /** Asks the thread to stop after the item in hand. */
  stop(): void;
}

/**
 * Starts a thread on `job`, whose items it claims one by one through `claim` (Shared.claim).
 * `onResults` runs on this thread whenever this thread lets the event loop run. A `write` job
 * stops at its first failure.
 */
export function runInThread(job: FetchJob | CopyJob | WriteJob, claim: SharedArrayBuffer, onResults: (results: readonly ThreadResult[]) => void): ThreadRun {
  const stop = new SharedArrayBuffer(4);
  // A small young generation: fewer pages touched for the first time (~10–20 µs each on these VMs).
  // Only here: the CLI keeps V8's default, which measured faster for it (docs/datasets.md).
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { job: packed(job), sep, tag: randomBytes(4).toString('hex'), stop, claim },
    resourceLimits: { maxYoungGenerationSizeMb: 3 },
  });
  const slabs: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: Message) => {
      if ('slab' in message) slabs.push(Buffer.from(message.slab));
      else if ('finished' in message) resolve();
      else onResults(message.results.map((result) => toResult(result, slabs)));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the transfer thread stopped (exit code ${code}) before it finished`)));
  }).finally(() => void worker.terminate());
  return { done, stop: () => Atomics.store(new Int32Array(stop), 0, 1) };
}

/**
 * A list of strings as one string and a count. The job is cloned to the thread before its code
 * runs, and cloning 30,000 strings (a pull's ids and places) held the thread's start back ~15 ms;
 * one string is a copy, and the thread splits it in under 1 ms. No id or path holds a NUL.
 */
interface PackedStrings {
  readonly joined: string;
  readonly count: number;
}

function pack(strings: readonly string[]): PackedStrings {
  return { joined: strings.join('\0'), count: strings.length };
}

function packed(job: FetchJob | CopyJob | WriteJob): object {
  switch (job.kind) {
    case 'write':
      return { ...job, paths: pack(job.paths) };
    case 'copy':
      return { ...job, ids: pack(job.ids) };
    case 'fetch':
      return { ...job, ids: pack(job.ids), ...(job.places ? { places: { ...job.places, paths: pack(job.places.paths) } } : {}) };
  }
}

function toResult(result: RawResult, slabs: readonly Buffer[]): ThreadResult {
  const index = result.i;
  if (result.error !== undefined) return { index, error: result.error };
  if (result.absent) return { index, absent: true };
  if (result.large) return { index, large: true };
  if (result.corrupt !== undefined) return { index, corrupt: result.corrupt };
  if (result.placed) return { index, placed: true, size: result.length ?? 0 };
  if (result.slab !== undefined) return { index, bytes: slabs[result.slab]!.subarray(result.offset ?? 0, (result.offset ?? 0) + (result.length ?? 0)) };
  if (result.ino !== undefined) return { index, stats: { ino: result.ino, mtimeMs: result.mtimeMs ?? 0, size: result.size ?? 0 } };
  if (result.copied !== undefined) return { index, copied: result.copied };
  throw new Error(`the transfer thread sent a result of unknown kind for item ${index}`);
}


/**
 * How a list of items is shared: `theirs` (possibly empty) is taken item by item by whichever
 * thread is free — the thread and `mine`, which yields first the items only this thread may do,
 * then those it claims from `theirs` — so that neither waits for the other at the end.
 */
export interface Shared<T> {
  readonly mine: Iterable<T>;
  readonly theirs: readonly T[];
  /** The index of the next item of `theirs` to take, for the thread's job. */
  readonly claim: SharedArrayBuffer;
}

/** Shares `items` that `canShare` with a second thread when there are at least `from` of them. */
export function shareOut<T>(items: readonly T[], canShare: (item: T) => boolean = () => true, from = THREAD_FROM): Shared<T> {
  const claim = new SharedArrayBuffer(4);
  const here = items.filter((item) => !canShare(item));
  const theirs = items.filter(canShare);
  if (theirs.length < from) return { mine: items, theirs: [], claim };
  return { mine: claimed(here, theirs, new Int32Array(claim)), theirs, claim };
}

function* claimed<T>(here: readonly T[], shared: readonly T[], next: Int32Array): Generator<T> {
  yield* here;
  for (let index = Atomics.add(next, 0, 1); index < shared.length; index = Atomics.add(next, 0, 1)) yield shared[index]!;
}

/** Runs `here` (this thread's share) while the thread runs, then waits for the thread; stops it on any failure here. */
export async function alongside(run: ThreadRun | undefined, here: () => Promise<void>): Promise<void> {
  try {
    await here();
    await run?.done;
  } finally {
    run?.stop();
    await run?.done.catch(() => undefined);
  }
}
