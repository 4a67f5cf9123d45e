/**
 * The native loop for the small objects of a push or pull through a directory remote
 * (agent/native/transfer.c, built by scripts/build.mjs next to the bundle as mlw_transfer.node).
 * Where it is not built or does not load (no C compiler at build time; a runtime whose OpenSSL
 * lacks MD5_Init), push and fetch keep their JavaScript paths, which do the same work:
 * `nativeTransfer()` says which. MLW_NATIVE_TRANSFER=0 forces the JavaScript paths (the tests run both).
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FolderGroups, PlaceChains, ThreadResult } from './transfer-thread';

const STATUS = { pending: 0, stored: 1, large: 2, corrupt: 3, failed: 4, absent: 5 } as const;
const THREADS = 2;

interface NativeJob {
  readonly ids: string;
  readonly count: number;
  readonly sourceRoot: string;
  readonly targetRoot: string;
  readonly verify: boolean;
  readonly limit: number;
  readonly tag: string;
  readonly threads: number;
  readonly prefixes: string;
  readonly groupCount: number;
  readonly starts: Int32Array;
  readonly staged: Uint8Array;
  readonly status: Uint8Array;
  readonly sizes: Float64Array;
  readonly progress: Float64Array;
  readonly stop: Int32Array;
  readonly placeCount?: number;
  readonly placePaths?: string;
  readonly first?: Int32Array;
  readonly next?: Int32Array;
  readonly placeStats?: Float64Array;
}

interface NativeModule {
  /** Resolves to [index, message] for each corrupt (message: its md5) or failed item once every thread stopped. */
  move(job: NativeJob): Promise<Array<[number, string]>>;
}

/** Why the native loop is not in use, or undefined when it is. */
let unavailable: string | undefined;
let loaded: NativeModule | undefined;

function load(): NativeModule | undefined {
  if (loaded !== undefined || unavailable !== undefined) return loaded;
  if (process.env.MLW_NATIVE_TRANSFER === '0') {
    unavailable = 'MLW_NATIVE_TRANSFER=0';
    return undefined;
  }
  // Next to the bundle (dist/agent.js), or the built copy when running from the sources.
  const file = [join(__dirname, 'mlw_transfer.node'), join(__dirname, '..', '..', '..', 'dist', 'mlw_transfer.node')].find((candidate) => existsSync(candidate));
  if (file === undefined) {
    unavailable = 'mlw_transfer.node was not built (scripts/build.mjs needs a C compiler and Node headers)';
    return undefined;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(file) as NativeModule;
  } catch (error) {
    unavailable = `mlw_transfer.node did not load: ${(error as Error).message}`;
  }
  return loaded;
}

/** Whether pushes and pulls use the native loop here, and if not, why. */
export function nativeTransfer(): { readonly inUse: true } | { readonly inUse: false; readonly reason: string } {
  return load() !== undefined ? { inUse: true } : { inUse: false, reason: unavailable ?? 'unknown' };
}

export interface NativeMoveRequest {
  /** fetch: from the remote to the cache (and places), verified; copy: from the cache to the remote (push). */
  readonly kind: 'fetch' | 'copy';
  /** Plain md5 names (no .dir), in the order of `groups`. */
  readonly ids: readonly string[];
  readonly sourceRoot: string;
  /** In the target store. */
  readonly groups: FolderGroups;
  readonly limit: number;
  readonly places?: PlaceChains;
  readonly signal?: AbortSignal;
  /** Called with the files and bytes stored since the last call, every few ms while there are some, and once at the end. */
  readonly onProgress: (files: number, bytes: number) => void;
}

/**
 * Moves the objects on two native threads. Each item's result, in the terms of a transfer thread's
 * (fetch `placed`: stored in the cache and written to its places, if any, whose stats are in
 * `places.stats`; copy `copied` or `absent`); items left undone by a cancel have none. Undefined
 * when the module is not in use.
 */
export async function moveNatively(request: NativeMoveRequest): Promise<ThreadResult[] | undefined> {
  const native = load();
  if (native === undefined) return undefined;
  const { ids, groups, places, signal } = request;
  const status = new Uint8Array(ids.length);
  const sizes = new Float64Array(ids.length);
  const progress = new Float64Array(2 * THREADS);
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const job: NativeJob = {
    ids: ids.join('\0'),
    count: ids.length,
    sourceRoot: request.sourceRoot,
    targetRoot: groups.root,
    verify: request.kind === 'fetch',
    limit: request.limit,
    tag: randomBytes(4).toString('hex'),
    threads: THREADS,
    prefixes: groups.prefixes.join('\0'),
    groupCount: groups.prefixes.length,
    starts: groups.starts,
    staged: groups.staged,
    status,
    sizes,
    progress,
    stop,
    ...(places ? { placeCount: places.paths.length, placePaths: places.paths.join('\0'), first: places.first, next: places.next, placeStats: places.stats } : {}),
  };
  let reported = { files: 0, bytes: 0 };
  const report = (): void => {
    let files = 0;
    let bytes = 0;
    for (let slot = 0; slot < THREADS; slot++) {
      files += progress[2 * slot]!;
      bytes += progress[2 * slot + 1]!;
    }
    if (files > reported.files) request.onProgress(files - reported.files, bytes - reported.bytes);
    reported = { files, bytes };
  };
  const cancel = (): void => {
    Atomics.store(stop, 0, 1);
  };
  signal?.addEventListener('abort', cancel);
  // Often: a cancel waits for the first progress report (the Meter shows one each 100 ms).
  const ticker = setInterval(report, 5);
  let messages: Array<[number, string]>;
  try {
    messages = await native.move(job);
  } finally {
    clearInterval(ticker);
    signal?.removeEventListener('abort', cancel);
  }
  report();
  return results(request.kind, status, sizes, new Map(messages));
}

function results(kind: NativeMoveRequest['kind'], status: Uint8Array, sizes: Float64Array, messages: ReadonlyMap<number, string>): ThreadResult[] {
  const all: ThreadResult[] = [];
  status.forEach((state, index) => {
    if (state === STATUS.stored) all.push(kind === 'fetch' ? { index, placed: true, size: sizes[index]! } : { index, copied: sizes[index]! });
    else if (state === STATUS.absent) all.push({ index, absent: true });
    else if (state === STATUS.large) all.push({ index, large: true });
    else if (state === STATUS.corrupt) all.push({ index, corrupt: messages.get(index) ?? 'an unknown md5' });
    else if (state === STATUS.failed) all.push({ index, error: messages.get(index) ?? 'the native transfer failed without a message' });
  });
  return all;
}
