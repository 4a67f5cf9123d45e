/**
 * A directory remote (DVC's default kind; also any mounted network path). Existence comes from
 * listing the <2 hex> folders; uploads are written under a temporary name and renamed.
 */
import { closeSync, constants, createReadStream, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { copyFile, readdir, rm } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { createHash } from 'node:crypto';
import { temporaryName, isObjectId } from '../cache';
import { md5OfBytes } from '../hashing';
import { SmallFileCopier } from '../small-copy';
import type { Remote } from './types';

/** Below this size an object is copied or read with synchronous calls, in one piece. */
const SMALL = 4 << 20;
const SLAB = 1 << 20;

/** Reads up to `size` bytes from the start of `buffer`; returns how many there were. */
function readFully(fd: number, buffer: Buffer, size: number): number {
  let filled = 0;
  while (filled < size) {
    const read = readSync(fd, buffer, filled, size - filled, null);
    if (read === 0) break;
    filled += read;
  }
  return filled;
}

export class DirectoryRemote implements Remote {
  readonly parallelism = 16;
  private readonly madeDirs = new Set<string>();
  private readonly copier = new SmallFileCopier();
  private slab: Buffer = Buffer.alloc(0);
  private slabUsed = 0;

  readonly objectsRoot: string;

  constructor(
    readonly name: string,
    readonly url: string,
  ) {
    this.objectsRoot = join(url, 'files', 'md5');
  }

  private pathOf(md5: string): string {
    // Called per object: concatenation, not path.join (objectsRoot is already normal).
    return `${this.objectsRoot}${sep}${md5.slice(0, 2)}${sep}${md5.slice(2)}`;
  }

  async has(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    // Only the <2 hex> folders the remote has are listed: a new remote answers with one readdir.
    const existing = new Set(await readdir(this.objectsRoot).catch(() => [] as string[]));
    const prefixes = new Set(ids.map((id) => id.slice(0, 2)).filter((prefix) => existing.has(prefix)));
    const wanted = new Set(ids);
    await Promise.all(
      [...prefixes].map(async (prefix) => {
        const names = await readdir(`${this.objectsRoot}${sep}${prefix}`).catch(() => [] as string[]);
        for (const name of names) {
          const id = prefix + name;
          if (wanted.has(id) && isObjectId(id)) found.add(id);
        }
      }),
    );
    return found;
  }

  async upload(source: string, md5: string, size: number, onBytes: (bytes: number) => void): Promise<void> {
    if (size < SMALL && this.uploadSmallSync(source, md5, SMALL) !== undefined) {
      onBytes(size);
      return;
    }
    const target = this.pathOf(md5);
    this.ensureParent(md5);
    const temporary = temporaryName(target);
    try {
      await copyFile(source, temporary, constants.COPYFILE_FICLONE);
      renameSync(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    onBytes(size);
  }

  /**
   * Copies an object smaller than `limit` bytes synchronously (see concurrency.ts yielder), under a
   * temporary name then renamed (or under its final name into staging folder `into`), and returns its size; returns undefined, copying nothing, for a
   * larger one. By reflink when the filesystems have them, else through one reused buffer
   * (small-copy.ts: copyFile costs ext4 a write-back start at every close).
   */
  uploadSmallSync(source: string, md5: string, limit: number, into?: string): number | undefined {
    if (into !== undefined) {
      const staged = `${into}${sep}${md5.slice(2)}`;
      try {
        return this.copier.copyIfSmallerSync(source, staged, limit);
      } catch (error) {
        rmSync(staged, { force: true });
        throw error;
      }
    }
    const target = this.pathOf(md5);
    this.ensureParent(md5);
    const temporary = temporaryName(target);
    try {
      const size = this.copier.copyIfSmallerSync(source, temporary, limit);
      if (size !== undefined) renameSync(temporary, target);
      return size;
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  }

  private ensureParent(md5: string): void {
    const dir = `${this.objectsRoot}${sep}${md5.slice(0, 2)}`;
    if (!this.madeDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
  }

  async download(md5: string, destination: string, onBytes: (bytes: number) => void): Promise<string> {
    const source = this.pathOf(md5);
    const { size } = statSync(source);
    if (size < SMALL) {
      const bytes = readFileSync(source);
      writeFileSync(destination, bytes);
      onBytes(bytes.length);
      return md5OfBytes(bytes);
    }
    const hash = createHash('md5');
    await copyFile(source, destination, constants.COPYFILE_FICLONE);
    for await (const chunk of createReadStream(destination, { highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      onBytes((chunk as Buffer).length);
    }
    return hash.digest('hex');
  }

  readSmallSync(md5: string, limit: number, into?: Buffer): Buffer | undefined {
    const fd = openSync(this.pathOf(md5), 'r');
    try {
      if (into !== undefined && into.length >= limit) {
        // Read to its end without an fstat (and its Stats object): filling `limit` bytes means large.
        const length = readFully(fd, into, limit);
        return length === limit ? undefined : into.subarray(0, length);
      }
      const { size } = fstatSync(fd);
      if (size >= limit) return undefined;
      if (into !== undefined && into.length >= size) return into.subarray(0, readFully(fd, into, size));
      // Cut from 1 MiB slabs, never reused: the caller may keep the bytes (an allocation per
      // object was a tenth of a 15,000-file pull). Shared memory, so that a checkout can hand
      // them to its second thread without a copy.
      if (this.slab.length - this.slabUsed < size) {
        this.slab = Buffer.from(new SharedArrayBuffer(Math.max(SLAB, size)));
        this.slabUsed = 0;
      }
      const bytes = this.slab.subarray(this.slabUsed, this.slabUsed + readFully(fd, this.slab.subarray(this.slabUsed), size));
      this.slabUsed += bytes.length;
      return bytes;
    } finally {
      closeSync(fd);
    }
  }

  close(): void {}
}
