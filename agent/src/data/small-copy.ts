/**
 * Copying small files into new files (temporary names, renamed into place by the caller) without
 * `copyFile`. libuv's copyfile truncates the file it has just created (`ftruncate(fd, 0)`), and on
 * ext4 (its default `auto_da_alloc`) a truncated file starts being written back when it is closed:
 * every close then allocates blocks and queues I/O. For 15,000 files of 1–8 KiB, `copyFileSync`
 * took 1.15–3.8 s on the benchmark VM against 0.48–0.61 s for an open, a read, a create, a write
 * and two closes through one reused buffer (docs/datasets.md, "Copying small files").
 *
 * Reflinks still go through copyFile (nothing to write back): the first copy tries one, and its
 * answer holds for the copier's life, so make one copier per operation and pair of folders.
 */
import { closeSync, constants, copyFileSync, fstatSync, mkdirSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';

export class SmallFileCopier {
  private readonly buffer = Buffer.allocUnsafeSlow(256 << 10);
  private reflinks: boolean | undefined;

  /** Copies `source` to `destination`, which must not exist yet. */
  copySync(source: string, destination: string): void {
    if (this.reflinks === true) copyFileSync(source, destination, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
    else if (this.reflinks === false || !this.tryReflink(source, destination)) this.copyThroughBuffer(source, destination);
  }

  /** Whether the file system reflinks (the copy is then done); if not, nothing is left behind. */
  private tryReflink(source: string, destination: string): boolean {
    try {
      copyFileSync(source, destination, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
      this.reflinks = true;
    } catch (error) {
      // Not ours to remove: the destination was there before.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw error;
      this.reflinks = false;
      rmSync(destination, { force: true });
    }
    return this.reflinks;
  }

  /**
   * Copies `source` to `destination` (which must not exist yet) when `source` is smaller than
   * `limit` bytes, and returns its size; returns undefined, creating nothing, when it is not. The
   * size comes from the open file, so a caller need not stat each file first.
   */
  copyIfSmallerSync(source: string, destination: string, limit: number): number | undefined {
    if (this.reflinks !== false) {
      const { size } = statSync(source);
      if (size >= limit) return undefined;
      this.copySync(source, destination);
      return size;
    }
    return this.copyThroughBuffer(source, destination, limit);
  }

  /**
   * The size is what the reads find: only a file that fills the first read is stat'ed, to check
   * `limit` before anything is created (an fstat and its Stats object per small file cost more
   * than the read that finds the end).
   */
  private copyThroughBuffer(source: string, destination: string, limit = Number.POSITIVE_INFINITY): number | undefined {
    const input = openSync(source, 'r');
    try {
      let read = readSync(input, this.buffer, 0, this.buffer.length, null);
      if (read === this.buffer.length && fstatSync(input).size >= limit) return undefined;
      // 'wx': a new file, so nothing is truncated.
      const output = openSync(destination, 'wx');
      let size = 0;
      try {
        for (; read > 0; read = readSync(input, this.buffer, 0, this.buffer.length, null)) {
          for (let written = 0; written < read; ) written += writeSync(output, this.buffer, written, read - written);
          size += read;
        }
      } finally {
        closeSync(output);
      }
      return size;
    } finally {
      closeSync(input);
    }
  }
}

/**
 * Whether a copy of `source` into `folder` (made if missing) reflinks, tried with a probe file that
 * is removed; undefined when `source` cannot be read (the copy itself then reports it).
 */
export function reflinksInto(source: string, folder: string, probe: string): boolean | undefined {
  try {
    mkdirSync(folder, { recursive: true });
    copyFileSync(source, probe, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
    return true;
  } catch (error) {
    // The folder was made: a missing file is the source (copyFile's errors name it either way).
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : false;
  } finally {
    rmSync(probe, { force: true });
  }
}
