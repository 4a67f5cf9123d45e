/**
 * A directory remote (DVC's default kind; also any mounted network path). Existence comes from
 * listing the <2 hex> folders; uploads are written under a temporary name and renamed.
 */
import { constants, copyFileSync, createReadStream, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { temporaryName, isObjectId } from '../cache';
import { md5OfBytes } from '../hashing';
import type { Remote } from './types';

const SMALL = 4 << 20;

export class DirectoryRemote implements Remote {
  readonly parallelism = 16;
  private readonly madeDirs = new Set<string>();

  constructor(
    readonly name: string,
    readonly url: string,
  ) {}

  private pathOf(md5: string): string {
    return join(this.url, 'files', 'md5', md5.slice(0, 2), md5.slice(2));
  }

  async has(ids: readonly string[]): Promise<Set<string>> {
    const prefixes = new Set(ids.map((id) => id.slice(0, 2)));
    const found = new Set<string>();
    const wanted = new Set(ids);
    await Promise.all(
      [...prefixes].map(async (prefix) => {
        const names = await readdir(join(this.url, 'files', 'md5', prefix)).catch(() => [] as string[]);
        for (const name of names) {
          const id = prefix + name;
          if (wanted.has(id) && isObjectId(id)) found.add(id);
        }
      }),
    );
    return found;
  }

  async upload(source: string, md5: string, size: number, onBytes: (bytes: number) => void): Promise<void> {
    const target = this.pathOf(md5);
    const dir = join(this.url, 'files', 'md5', md5.slice(0, 2));
    if (!this.madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    const temporary = temporaryName(target);
    try {
      // Small objects: synchronous calls (see concurrency.ts yielder); large ones in libuv's pool.
      if (size < SMALL) copyFileSync(source, temporary, constants.COPYFILE_FICLONE);
      else await copyFile(source, temporary, constants.COPYFILE_FICLONE);
      renameSync(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    onBytes(size);
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

  close(): void {}
}
