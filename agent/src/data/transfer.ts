/**
 * push / fetch between the cache and a remote. Only objects the other side lacks move (existence
 * checked in batches), several at a time. A fetched object is written to a staging file, and
 * enters the cache only if its bytes hash to its name. Push sends a folder's files before its .dir
 * listing, and fetch gets the listing first: a kill at any point leaves both sides consistent, and
 * running the command again moves only what is still missing.
 */
import { statSync } from 'node:fs';
import { sep } from 'node:path';
import { rm } from 'node:fs/promises';
import type { TransferResult } from '../../../schemas/protocol/data';
import { mapLimit, yielder } from './concurrency';
import { md5OfBytes } from './hashing';
import type { Pointer } from './pointer';
import type { Remote } from './remotes/types';
import type { DataRepo } from './repo';
import { writeNewFileSync } from './fresh-folders';
import { temporaryName } from './cache';
import { reflinksInto } from './small-copy';
import { folderGroups, groupByFolder, writeGroup, type ObjectGroup } from './object-groups';
import { moveNatively, nativeTransfer } from './native-transfer';
import { alongside, runInThread, shareOut, THREAD_FROM, type PlaceChains, type ThreadResult } from './transfer-thread';
import type { VerifiedObjects } from './verified-objects';

/**
 * Below this size, a remote that offers synchronous calls (a directory remote) moves objects in a
 * plain loop that yields every 256 objects: a promise and a libuv round trip per object of a few
 * KiB cost more than the copy itself.
 */
const SMALL_OBJECT = 4 << 20;

export interface TransferProgress {
  readonly files: number;
  readonly totalFiles: number;
  readonly bytes: number;
  readonly totalBytes: number | null;
  readonly bytesPerSecond: number;
  readonly done: boolean;
}

export interface TransferOptions {
  readonly onProgress?: (progress: TransferProgress) => void;
  readonly signal?: AbortSignal;
  /** fetch adds each object it downloaded and verified (pull then checks them out without hashing or reading them again). */
  readonly verified?: VerifiedObjects;
  /**
   * pull into dataset folders that do not exist yet: called once the listings are in the cache;
   * each fetched object is also written to the places it returns as the object is stored.
   */
  readonly places?: () => Promise<WorkspacePlaces | undefined>;
}

/** New workspace files (places, in a staging folder) to write fetched objects to (fresh-folders.ts). */
export interface WorkspacePlaces {
  /** Object `id`'s first place, or -1 when it goes to none. */
  placeOf(id: string): number;
  /** Writes verified bytes to `place` and every further place of the same object, and records each file's stats. */
  writeSync(place: number, bytes: Uint8Array): void;
  /** The places of `ids`, in their order, as a transfer thread's job takes them (the thread records the stats). */
  chains(ids: readonly string[]): PlaceChains;
}

class Meter {
  private files = 0;
  private bytes = 0;
  private lastReport = 0;
  private readonly started = Date.now();

  constructor(
    private readonly totalFiles: number,
    private readonly totalBytes: number | null,
    private readonly onProgress: TransferOptions['onProgress'],
  ) {}

  addBytes(bytes: number): void {
    this.bytes += bytes;
    this.report(false);
  }

  fileDone(): void {
    this.files++;
    this.report(false);
  }

  /** Several whole small objects moved (counted elsewhere, as the native loop does). */
  advance(files: number, bytes: number): void {
    this.files += files;
    this.bytes += bytes;
    this.report(false);
  }

  /** One whole small object moved: its bytes and the file at once. */
  objectDone(bytes: number): void {
    this.bytes += bytes;
    this.fileDone();
  }

  report(done: boolean): void {
    if (!this.onProgress) return;
    const now = Date.now();
    if (!done && now - this.lastReport < 100 && this.files !== 1) return;
    this.lastReport = now;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    this.onProgress({ files: this.files, totalFiles: this.totalFiles, bytes: this.bytes, totalBytes: this.totalBytes, bytesPerSecond: this.bytes / seconds, done });
  }
}

/** Why a push could not send an object that is not in the local cache. */
const NOT_IN_CACHE = 'not in the local cache';

/**
 * The objects of pointers: file objects, and the .dir listings the cache holds (`absent`: those it
 * does not, whose files are then unknown). Whether a file object is in the cache is learnt when it
 * is sent (NOT_IN_CACHE), not by listing the cache's 15,000 names first (~20 ms of every push).
 */
async function localObjects(repo: DataRepo, pointers: readonly Pointer[]): Promise<{ files: string[]; dirs: string[]; absent: string[] }> {
  const files = new Set<string>();
  const dirs = new Set<string>();
  const absent = new Set<string>();
  for (const pointer of pointers) {
    if (!pointer.isDirectory) {
      files.add(pointer.md5);
      continue;
    }
    const listing = await repo.cache.readListingIfPresent(pointer.md5);
    if (listing === undefined) {
      absent.add(pointer.md5);
      continue;
    }
    dirs.add(pointer.md5);
    for (const entry of listing) files.add(entry.md5);
  }
  return { files: [...files], dirs: [...dirs], absent: [...absent] };
}

/** The message for a failed send: NOT_IN_CACHE when it was the cache object `source` that was missing. */
function sendError(error: unknown, source: string | undefined): string {
  const { code, path } = error as NodeJS.ErrnoException;
  return code === 'ENOENT' && source !== undefined && path === source ? NOT_IN_CACHE : (error as Error).message;
}

export async function push(repo: DataRepo, remote: Remote, pointers: readonly Pointer[], options: TransferOptions = {}): Promise<TransferResult> {
  const { files, dirs, absent } = await localObjects(repo, pointers);
  const all = [...files, ...dirs];
  const onRemote = await remote.has(all);
  const missingFiles = files.filter((id) => !onRemote.has(id));
  const missingDirs = dirs.filter((id) => !onRemote.has(id));
  const totalBytes = bytesToSend(repo, pointers, { missingFiles, missingDirs, allFilesMissing: missingFiles.length === files.length && absent.length === 0 });
  const meter = new Meter(missingFiles.length + missingDirs.length, totalBytes, options.onProgress);
  const failed: TransferResult['failed'] = absent.map((md5) => ({ md5, error: NOT_IN_CACHE }));
  let bytes = 0;
  let sent = 0;
  const pause = yielder();
  const send = async (id: string): Promise<void> => {
    await pause();
    options.signal?.throwIfAborted();
    let source: string | undefined;
    try {
      source = repo.cache.pathOf(id);
      await remote.upload(source, id, statSync(source).size, (n) => {
        bytes += n;
        meter.addBytes(n);
      });
      sent++;
      meter.fileDone();
    } catch (error) {
      failed.push({ md5: id, error: sendError(error, source) });
    }
  };
  const counted = (size: number, metered = false): void => {
    bytes += size;
    sent++;
    if (!metered) meter.objectDone(size);
  };
  const sendSmall = (id: string, into: string | undefined): boolean => {
    let source: string | undefined;
    try {
      source = repo.cache.pathOf(id);
      const size = remote.uploadSmallSync!(source, id, SMALL_OBJECT, into);
      if (size === undefined) return false;
      counted(size);
    } catch (error) {
      failed.push({ md5: id, error: sendError(error, source) });
    }
    return true;
  };
  const rest = remote.uploadSmallSync && remote.objectsRoot !== undefined ? await sendSmallAlongside(repo, remote, missingFiles, { sendSmall, counted, progressed: (files, size) => meter.advance(files, size), failed, signal: options.signal }) : missingFiles;
  await mapLimit(rest, remote.parallelism, send);
  // A listing goes up only when all its files did: a remote never lists what it lacks.
  if (failed.length === 0) await mapLimit(missingDirs, remote.parallelism, send);
  else for (const id of missingDirs) failed.push({ md5: id, error: 'not sent: some of its files failed' });
  meter.report(true);
  return {
    remote: remote.name,
    transferred: sent,
    skipped: all.length - missingFiles.length - missingDirs.length,
    bytes,
    failed,
  };
}

/**
 * The bytes a push will send, for its progress. A first push (the remote lacks every file) sends
 * what the pointers record, read from them rather than from 15,000 stat calls (files that share
 * content are counted once per file there, so it can be a little over); any other push stats the
 * objects it sends.
 */
function bytesToSend(repo: DataRepo, pointers: readonly Pointer[], plan: { missingFiles: readonly string[]; missingDirs: readonly string[]; allFilesMissing: boolean }): number {
  // An object missing from the cache counts nothing: its send fails (NOT_IN_CACHE).
  const sizeOf = (id: string): number => statSync(repo.cache.pathOf(id), { throwIfNoEntry: false })?.size ?? 0;
  const listings = plan.missingDirs.reduce((sum, id) => sum + sizeOf(id), 0);
  if (plan.allFilesMissing && pointers.every((pointer) => pointer.size !== undefined)) {
    return listings + pointers.reduce((sum, pointer) => sum + (pointer.size ?? 0), 0);
  }
  return listings + plan.missingFiles.reduce((sum, id) => sum + sizeOf(id), 0);
}

interface SmallSends {
  /** Uploads one object on this thread if it is small (into a staging folder, if given), and counts it; false when it is not. */
  readonly sendSmall: (id: string, into: string | undefined) => boolean;
  /** Counts one small object another thread uploaded (`metered`: the meter has it already, through `progressed`). */
  readonly counted: (size: number, metered?: boolean) => void;
  /** Advances the meter by objects counted later (the native loop's progress). */
  readonly progressed: (files: number, bytes: number) => void;
  readonly failed: TransferResult['failed'];
  readonly signal: AbortSignal | undefined;
}

/**
 * Pushes the small objects among `ids`, a remote folder at a time (object-groups.ts): for many,
 * where the stores do not reflink, on the native loop; else on this thread and, for many, on a
 * second thread too. Returns the others (found large as they were opened), for the general path.
 */
async function sendSmallAlongside(repo: DataRepo, remote: Remote, ids: readonly string[], options: SmallSends): Promise<string[]> {
  const root = remote.objectsRoot!;
  const groups = groupByFolder(ids, root);
  const large: string[] = [];
  const take = (id: string, result: ThreadResult, metered: boolean): void => {
    if ('absent' in result) options.failed.push({ md5: id, error: NOT_IN_CACHE });
    else if ('error' in result) options.failed.push({ md5: id, error: result.error });
    else if ('large' in result) large.push(id);
    else if ('copied' in result) options.counted(result.copied, metered);
  };
  const native = ids.length >= THREAD_FROM && nativeTransfer().inUse && reflinksInto(repo.cache.pathOf(ids[0]!), root, temporaryName(`${root}${sep}probe`)) === false;
  if (native && (await sendNatively(repo, groups, root, options, take))) return large;
  const { mine, theirs, claim } = shareOut(groups, () => true, ids.length >= THREAD_FROM ? 1 : Number.POSITIVE_INFINITY);
  const flat = theirs.flatMap((group) => group.ids);
  const run =
    theirs.length === 0
      ? undefined
      : runInThread(
          { kind: 'copy', ids: flat, sourceRoot: repo.cache.objectsRoot, targetRoot: root, limit: SMALL_OBJECT, groups: folderGroups(theirs, root) },
          claim,
          (results) => {
            for (const result of results) take(flat[result.index]!, result, false);
          },
        );
  await alongside(run, async () => {
    const pause = yielder();
    for (const group of mine) {
      large.push(...(await writeGroup(group, root, (into) => inSyncLoop(group.ids, (id) => options.sendSmall(id, into), options.signal, pause))));
    }
  });
  return large;
}

/**
 * The small objects of `groups` by the native loop (native-transfer.ts), each result handed to
 * `take`; false when the loop is not in use here. Not where the stores reflink: those stay on the
 * JavaScript paths, which reflink.
 */
async function sendNatively(repo: DataRepo, groups: readonly ObjectGroup[], root: string, options: SmallSends, take: (id: string, result: ThreadResult, metered: boolean) => void): Promise<boolean> {
  const ids = groups.flatMap((group) => group.ids);
  const results = await moveNatively({
    kind: 'copy',
    ids,
    sourceRoot: repo.cache.objectsRoot,
    groups: folderGroups(groups, root),
    limit: SMALL_OBJECT,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: options.progressed,
  });
  if (results === undefined) return false;
  for (const result of results) take(ids[result.index]!, result, true);
  options.signal?.throwIfAborted();
  return true;
}

/**
 * Runs `move` on every id synchronously, yielding to the event loop through `pause` (every 256
 * objects) and stopping there when `signal` is aborted. Returns the ids `move` declined (false: not
 * small), for the general (asynchronous) path.
 */
async function inSyncLoop(ids: Iterable<string>, move: (id: string) => boolean, signal: AbortSignal | undefined, pause = yielder()): Promise<string[]> {
  const rest: string[] = [];
  for (const id of ids) {
    const paused = pause();
    if (paused) await paused;
    signal?.throwIfAborted();
    if (!move(id)) rest.push(id);
  }
  return rest;
}

/** Expected md5 of an object's bytes: a .dir object is named by the md5 of its listing + '.dir'. */
function bytesMd5(id: string): string {
  return id.endsWith('.dir') ? id.slice(0, -4) : id;
}

export async function fetch(repo: DataRepo, remote: Remote, pointers: readonly Pointer[], options: TransferOptions = {}): Promise<TransferResult> {
  let present = await repo.cache.listAll();
  const failed: TransferResult['failed'] = [];
  let transferred = 0;
  let attempted = 0;
  let bytes = 0;
  let meter = new Meter(0, null, options.onProgress);
  const pause = yielder();
  const corrupt = (md5: string): string => `the remote's object is corrupt (its bytes hash to ${md5}); not stored`;
  const get = async (id: string): Promise<void> => {
    await pause();
    options.signal?.throwIfAborted();
    attempted++;
    const staging = await repo.cache.stagingName();
    try {
      const md5 = await remote.download(id, staging, (n) => {
        bytes += n;
        meter.addBytes(n);
      });
      if (md5 !== bytesMd5(id)) {
        failed.push({ md5: id, error: corrupt(md5) });
        await rm(staging, { force: true });
        return;
      }
      await repo.cache.adopt(staging, id, present);
      options.verified?.add(id);
      transferred++;
      meter.fileDone();
    } catch (error) {
      await rm(staging, { force: true });
      failed.push({ md5: id, error: (error as Error).message });
    }
  };
  // Small objects: read whole, hashed in memory, and written to the cache only when they match —
  // no staging file, and nothing unverified ever lands on disk. Larger ones take `get`.
  const large: string[] = [];
  let spare: Buffer | undefined;
  const getSmall = (id: string, places: WorkspacePlaces | undefined, into: string | undefined): boolean => {
    let object: Buffer | undefined;
    const place = places ? places.placeOf(id) : -1;
    try {
      // Bytes written to their places right away need no memory of their own (no page to fault in).
      if (place !== -1) spare ??= Buffer.allocUnsafeSlow(SMALL_OBJECT);
      object = remote.readSmallSync!(id, SMALL_OBJECT, place !== -1 ? spare : undefined);
      if (object === undefined) return false;
      attempted++;
      const md5 = md5OfBytes(object);
      if (md5 !== bytesMd5(id)) {
        failed.push({ md5: id, error: corrupt(md5) });
        return true;
      }
      if (into !== undefined) writeNewFileSync(`${into}${sep}${id.slice(2)}`, object, false);
      else if (!present.has(id)) repo.cache.writeObjectSync(id, object);
      if (places && place !== -1) places.writeSync(place, object);
    } catch (error) {
      if (object === undefined) attempted++;
      failed.push({ md5: id, error: (error as Error).message });
      return true;
    }
    present.add(id);
    options.verified?.add(id, place !== -1 ? undefined : object);
    transferred++;
    bytes += object.length;
    meter.objectDone(object.length);
    return true;
  };
  /** `counted`: the meter already has the object (the native loop reports its progress itself). */
  const fromThread = (id: string, result: ThreadResult, counted = false): void => {
    if ('large' in result) {
      large.push(id);
      return;
    }
    attempted++;
    if ('corrupt' in result) failed.push({ md5: id, error: corrupt(result.corrupt) });
    else if ('error' in result) failed.push({ md5: id, error: result.error });
    else if ('bytes' in result) {
      present.add(id);
      options.verified?.add(id, result.bytes);
      transferred++;
      bytes += result.bytes.length;
      meter.objectDone(result.bytes.length);
    } else if ('placed' in result) {
      // The thread recorded its files' stats with the places.
      present.add(id);
      options.verified?.add(id);
      transferred++;
      bytes += result.size;
      if (!counted) meter.objectDone(result.size);
    }
  };
  /** The files of `groups` by the native loop; false when it is not in use here (native-transfer.ts). */
  const fetchNativelyAll = async (groups: readonly ObjectGroup[], places: WorkspacePlaces | undefined): Promise<boolean> => {
    const ids = groups.flatMap((group) => group.ids);
    const results = await moveNatively({
      kind: 'fetch',
      ids,
      sourceRoot: remote.objectsRoot!,
      groups: folderGroups(groups, repo.cache.objectsRoot),
      limit: SMALL_OBJECT,
      ...(places ? { places: places.chains(ids) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (files, size) => meter.advance(files, size),
    });
    if (results === undefined) return false;
    for (const result of results) fromThread(ids[result.index]!, result, true);
    options.signal?.throwIfAborted();
    return true;
  };
  const fetchAll = async (ids: readonly string[], places?: WorkspacePlaces): Promise<void> => {
    if (remote.readSmallSync) {
      // Listings stay on this thread: the thread checks plain md5 names.
      large.push(...(await inSyncLoop(ids.filter((id) => id.endsWith('.dir')), (id) => getSmall(id, places, undefined), options.signal)));
      const files = ids.filter((id) => !id.endsWith('.dir'));
      const root = repo.cache.objectsRoot;
      const groups = groupByFolder(files, root);
      const shared = remote.objectsRoot !== undefined && files.length >= THREAD_FROM;
      if (shared && (await fetchNativelyAll(groups, places))) {
        await mapLimit(large.splice(0), remote.parallelism, get);
        return;
      }
      const { mine, theirs, claim } = shareOut(groups, () => shared, 1);
      const flat = theirs.flatMap((group) => group.ids);
      const run =
        theirs.length === 0
          ? undefined
          : runInThread(
              {
                kind: 'fetch',
                ids: flat,
                remoteRoot: remote.objectsRoot!,
                cacheRoot: root,
                limit: SMALL_OBJECT,
                ...(places ? { places: places.chains(flat) } : {}),
                groups: folderGroups(theirs, root),
              },
              claim,
              (results) => {
                for (const result of results) fromThread(flat[result.index]!, result);
              },
            );
      await alongside(run, async () => {
        const pause = yielder();
        for (const group of mine) {
          large.push(...(await writeGroup(group, root, (into) => inSyncLoop(group.ids, (id) => getSmall(id, places, into), options.signal, pause))));
        }
      });
    }
    await mapLimit(remote.readSmallSync ? large.splice(0) : ids, remote.parallelism, get);
  };
  // Listings first: they say which files a folder needs.
  const dirIds = [...new Set(pointers.filter((pointer) => pointer.isDirectory).map((pointer) => pointer.md5))];
  await fetchAll(dirIds.filter((id) => !present.has(id)));
  present = await repo.cache.listAll();
  const places = await options.places?.();
  const wanted = new Set<string>();
  for (const pointer of pointers) {
    if (!pointer.isDirectory) wanted.add(pointer.md5);
    else if (present.has(pointer.md5)) for (const entry of await repo.cache.readListing(pointer.md5)) wanted.add(entry.md5);
  }
  const missing = [...wanted].filter((id) => !present.has(id));
  meter = new Meter(missing.length, null, options.onProgress);
  await fetchAll(missing, places);
  meter.report(true);
  return { remote: remote.name, transferred, skipped: wanted.size + dirIds.length - attempted, bytes, failed };
}
