/**
 * Writes the small objects of an add into the cache. The first few hundred are written on the
 * calling thread; past that a worker thread takes the rest, so that creating, writing and renaming
 * each object file (most of the kernel's time in an add of many small files) overlaps with reading
 * and hashing the next files on this thread. Every object is still written under a temporary name
 * and renamed, so an object under its final name is always complete.
 */
import { randomBytes } from 'node:crypto';
import { sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Cache } from './cache';
import { MD5_PATTERN } from './hashing';

export interface ObjectWriter {
  /**
   * Queues `bytes` as the object `md5` (a file's md5, not a `.dir`). The bytes are copied: the
   * caller may reuse its buffer. Returns a promise when too much is queued: wait for it.
   */
  write(md5: string, bytes: Uint8Array): Promise<void> | undefined;
  /** Waits until every queued object is in the cache under its final name; throws the first failure. */
  finish(): Promise<void>;
  /** Stops the worker, if any, whether or not everything was written (after a failure elsewhere). */
  dispose(): Promise<void>;
}

/** Objects written on the calling thread before a worker is worth its start (~30 ms). */
const WRITTEN_HERE = 256;
/** Objects are sent to the worker in batches of about this many bytes… */
const BATCH_BYTES = 1 << 20;
/** …with at most this many batches queued (memory stays bounded whatever the dataset's size). */
const QUEUED_BATCHES = 8;

export function objectWriter(cache: Cache, options: { writtenHere?: number } = {}): ObjectWriter {
  return new HandOffWriter(cache, options.writtenHere ?? WRITTEN_HERE);
}

class HandOffWriter implements ObjectWriter {
  private written = 0;
  private worker: WorkerWriter | undefined;

  constructor(
    private readonly cache: Cache,
    private readonly writtenHere: number,
  ) {}

  write(md5: string, bytes: Uint8Array): Promise<void> | undefined {
    if (this.written < this.writtenHere) {
      this.written++;
      this.cache.writeObjectSync(md5, bytes);
      return undefined;
    }
    this.worker ??= new WorkerWriter(this.cache.objectsRoot);
    return this.worker.write(md5, bytes);
  }

  async finish(): Promise<void> {
    await this.worker?.finish();
  }

  async dispose(): Promise<void> {
    await this.worker?.dispose();
  }
}

/** Main thread → worker: objects laid end to end in `bytes`; object i ends at `ends[i]`, its md5 is ids[32i, 32i+32). */
interface Batch {
  readonly bytes: ArrayBuffer;
  readonly ids: string;
  readonly ends: Uint32Array;
}

/** Worker → main thread, once per batch. */
type Reply = { readonly written: number } | { readonly failed: string };

/**
 * The worker's code, plain JavaScript run with `eval: true`: it needs only Node's own modules, and
 * so it runs the same from the bundle, from the TypeScript sources under tsx (where a `.ts` worker
 * file would not load) and from the .vsix. Keep it in step with Cache.writeObjectSync.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { mkdirSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { objectsRoot, sep, tag } = workerData;
const madeDirs = new Set();
let count = 0;
parentPort.on('message', ({ bytes, ids, ends }) => {
  const all = new Uint8Array(bytes);
  let start = 0;
  for (let index = 0; index < ends.length; index++) {
    const md5 = ids.slice(index * 32, index * 32 + 32);
    const dir = objectsRoot + sep + md5.slice(0, 2);
    const target = dir + sep + md5.slice(2);
    const temporary = target + '.' + tag + (count++).toString(36) + '.tmp';
    try {
      if (!madeDirs.has(dir)) {
        mkdirSync(dir, { recursive: true });
        madeDirs.add(dir);
      }
      writeFileSync(temporary, all.subarray(start, ends[index]));
      renameSync(temporary, target);
    } catch (error) {
      try {
        rmSync(temporary, { force: true });
      } catch {
        // the error that matters is the one reported
      }
      parentPort.postMessage({ failed: target + ': ' + error.message });
      return;
    }
    start = ends[index];
  }
  parentPort.postMessage({ written: ends.length });
});
`;

class WorkerWriter {
  private readonly worker: Worker;
  private batch = new Uint8Array(BATCH_BYTES);
  private used = 0;
  private ids = '';
  private ends: number[] = [];
  private queued = 0;
  private failure: Error | undefined;
  private waiting: Array<() => void> = [];

  constructor(objectsRoot: string) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { objectsRoot, sep, tag: randomBytes(4).toString('hex') } });
    this.worker.on('message', (reply: Reply) => {
      if ('failed' in reply) this.fail(new Error(`could not write a cache object: ${reply.failed}`));
      else this.queued--;
      this.wake();
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (this.queued > 0) this.fail(new Error(`the cache writer thread stopped (exit code ${code}) with objects still to write`));
    });
  }

  write(md5: string, bytes: Uint8Array): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (!MD5_PATTERN.test(md5)) throw new Error(`not a file md5: ${JSON.stringify(md5)}`);
    if (this.used + bytes.length > this.batch.length) {
      this.send();
      if (bytes.length > this.batch.length) this.batch = new Uint8Array(bytes.length);
    }
    this.batch.set(bytes, this.used);
    this.used += bytes.length;
    this.ids += md5;
    this.ends.push(this.used);
    return this.queued >= QUEUED_BATCHES ? this.until(() => this.queued < QUEUED_BATCHES) : undefined;
  }

  async finish(): Promise<void> {
    this.send();
    await this.until(() => this.queued === 0);
  }

  async dispose(): Promise<void> {
    await this.worker.terminate();
  }

  /** Hands the current batch over (its memory moves to the worker) and starts a new one. */
  private send(): void {
    if (this.ends.length === 0) return;
    const batch: Batch = { bytes: this.batch.buffer, ids: this.ids, ends: Uint32Array.from(this.ends) };
    this.worker.postMessage(batch, [batch.bytes]);
    this.queued++;
    this.batch = new Uint8Array(BATCH_BYTES);
    this.used = 0;
    this.ids = '';
    this.ends = [];
  }

  private until(ready: () => boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.failure) reject(this.failure);
        else if (ready()) resolve();
        else this.waiting.push(check);
      };
      check();
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const check of waiting) check();
  }
}
