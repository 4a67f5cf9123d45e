/**
 * Hashes the small files of an add and writes those the cache lacks as objects. The first few
 * hundred are done on the calling thread; past that a worker thread takes the rest, so that hashing
 * and creating, writing and renaming each object file (most of the kernel's time in an add of many
 * small files) overlap with walking and reading the next files on this thread. When the worker is
 * behind (its queue full), the calling thread writes the object itself instead of waiting: creating
 * files is the slower half, so both cores do it. Every object is still written under a temporary
 * name and renamed, so an object under its final name is always complete; two threads writing the
 * same content write the same bytes under the same name.
 */
import { randomBytes } from 'node:crypto';
import { sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Cache } from './cache';
import { md5OfBytes } from './hashing';

export interface ObjectWriter {
  /**
   * Hashes `bytes` and stores them as an object unless the cache has it; calls `done` with the md5,
   * now or later (not necessarily in the order of the calls). The bytes are copied: the caller may
   * reuse its buffer. Never waits: when the worker is behind, the object is written on this thread.
   */
  put(bytes: Uint8Array, done: (md5: string) => void): void;
  /** Waits until every `done` was called and every object is in the cache under its final name; throws the first failure. */
  finish(): Promise<void>;
  /** Stops the worker, if any, whether or not everything was written (after a failure elsewhere). */
  dispose(): Promise<void>;
}

/** Objects written on the calling thread before a worker is worth its start (~30 ms). */
const WRITTEN_HERE = 256;
/** Objects are sent to the worker in batches of about this many bytes… */
const BATCH_BYTES = 256 << 10;
/** …with at most this many batches queued (memory stays bounded whatever the dataset's size). */
const QUEUED_BATCHES = 8;

/** `present`: the cache's objects (Cache.listAll); kept up to date with what is written. */
export function objectWriter(cache: Cache, present: Set<string>, options: { writtenHere?: number } = {}): ObjectWriter {
  return new HandOffWriter(cache, present, options.writtenHere ?? WRITTEN_HERE);
}

class HandOffWriter implements ObjectWriter {
  private written = 0;
  private worker: WorkerWriter | undefined;

  constructor(
    private readonly cache: Cache,
    private readonly present: Set<string>,
    private readonly writtenHere: number,
  ) {}

  put(bytes: Uint8Array, done: (md5: string) => void): void {
    if (this.written >= this.writtenHere) {
      this.worker ??= new WorkerWriter(this.cache.objectsRoot, this.present);
      if (!this.worker.saturated) return this.worker.put(bytes, done);
    }
    this.written++;
    const md5 = md5OfBytes(bytes);
    if (!this.present.has(md5)) {
      this.cache.writeObjectSync(md5, bytes);
      this.present.add(md5);
    }
    done(md5);
  }

  async finish(): Promise<void> {
    await this.worker?.finish();
  }

  async dispose(): Promise<void> {
    await this.worker?.dispose();
  }
}

/** Main thread → worker: objects laid end to end in `bytes`; object i ends at `ends[i]`. */
interface Batch {
  readonly bytes: ArrayBuffer;
  readonly ends: Uint32Array;
}

/**
 * Worker → main thread, once per batch: the md5s of its objects, concatenated, and the batch's
 * memory handed back for the next batch. A fresh megabyte per batch was fresh pages to fault in
 * (~20 µs each on the VMs we measure on): ~16,000 faults for 15,000 small files.
 */
type Reply = { readonly md5s: string; readonly bytes: ArrayBuffer } | { readonly failed: string };

/**
 * The worker's code, plain JavaScript run with `eval: true`: it needs only Node's own modules, and
 * so it runs the same from the bundle, from the TypeScript sources under tsx (where a `.ts` worker
 * file would not load) and from the .vsix. Keep it in step with HandOffWriter.put and
 * Cache.writeObjectSync.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const { mkdirSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { objectsRoot, sep, tag, present: packed } = workerData;
const present = new Set();
for (let at = 0; at < packed.length; at += 32) present.add(packed.slice(at, at + 32));
const madeDirs = new Set();
let count = 0;
parentPort.on('message', ({ bytes, ends }) => {
  const all = new Uint8Array(bytes);
  let md5s = '';
  let start = 0;
  for (let index = 0; index < ends.length; index++) {
    const content = all.subarray(start, ends[index]);
    start = ends[index];
    const md5 = hash('md5', content, 'hex');
    md5s += md5;
    if (present.has(md5)) continue;
    const dir = objectsRoot + sep + md5.slice(0, 2);
    const target = dir + sep + md5.slice(2);
    const temporary = target + '.' + tag + (count++).toString(36) + '.tmp';
    try {
      if (!madeDirs.has(dir)) {
        mkdirSync(dir, { recursive: true });
        madeDirs.add(dir);
      }
      writeFileSync(temporary, content);
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
    present.add(md5);
  }
  parentPort.postMessage({ md5s, bytes }, [bytes]);
});
`;

class WorkerWriter {
  private readonly worker: Worker;
  private batch = new Uint8Array(BATCH_BYTES);
  /** Batch memory the worker handed back, reused before any new allocation. */
  private readonly spare: Array<Uint8Array<ArrayBuffer>> = [];
  private used = 0;
  private ends: number[] = [];
  private callbacks: Array<(md5: string) => void> = [];
  /** The callbacks of each batch sent and not yet answered, oldest first (the worker answers in order). */
  private readonly sent: Array<Array<(md5: string) => void>> = [];
  private failure: Error | undefined;
  private waiting: Array<() => void> = [];

  constructor(
    objectsRoot: string,
    private readonly present: Set<string>,
  ) {
    const packed = [...present].filter((id) => id.length === 32).join('');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { objectsRoot, sep, tag: randomBytes(4).toString('hex'), present: packed } });
    this.worker.on('message', (reply: Reply) => {
      if ('failed' in reply) this.fail(new Error(`could not write a cache object: ${reply.failed}`));
      else {
        this.answered(reply.md5s);
        if (reply.bytes.byteLength === BATCH_BYTES) this.spare.push(new Uint8Array(reply.bytes));
      }
      this.wake();
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (this.sent.length > 0) this.fail(new Error(`the cache writer thread stopped (exit code ${code}) with objects still to write`));
    });
  }

  /** Batches sent and not yet answered reached the bound: the caller should write the object itself. */
  get saturated(): boolean {
    return this.sent.length >= QUEUED_BATCHES;
  }

  put(bytes: Uint8Array, done: (md5: string) => void): void {
    if (this.failure) throw this.failure;
    if (this.used + bytes.length > this.batch.length) {
      this.send();
      if (bytes.length > this.batch.length) this.batch = new Uint8Array(bytes.length);
    }
    this.batch.set(bytes, this.used);
    this.used += bytes.length;
    this.ends.push(this.used);
    this.callbacks.push(done);
  }

  async finish(): Promise<void> {
    this.send();
    await this.until(() => this.sent.length === 0);
  }

  async dispose(): Promise<void> {
    await this.worker.terminate();
  }

  /** Hands the current batch over (its memory moves to the worker) and starts a new one. */
  private send(): void {
    if (this.ends.length === 0) return;
    const batch: Batch = { bytes: this.batch.buffer, ends: Uint32Array.from(this.ends) };
    this.worker.postMessage(batch, [batch.bytes]);
    this.sent.push(this.callbacks);
    this.batch = this.spare.pop() ?? new Uint8Array(BATCH_BYTES);
    this.used = 0;
    this.ends = [];
    this.callbacks = [];
  }

  private answered(md5s: string): void {
    const callbacks = this.sent.shift() ?? [];
    for (let index = 0; index < callbacks.length; index++) {
      const md5 = md5s.slice(index * 32, index * 32 + 32);
      this.present.add(md5);
      try {
        callbacks[index]!(md5);
      } catch (error) {
        this.fail(error as Error);
      }
    }
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
