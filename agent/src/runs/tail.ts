/**
 * Follows a file another process appends to (a run's `$MLW_METRICS`): reads from the last offset
 * each time the file system reports a change (fs.watch on its folder, so a file created or
 * replaced later is still seen), and once more when stopped so nothing written before the end is
 * missed even where change events do not arrive (some network and VM file systems).
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { LineSplitter } from './lines';

const READ_CHUNK = 256 * 1024;

export class FileTailer {
  private offset = 0;
  private watcher: FSWatcher | undefined;
  private reading: Promise<void> = Promise.resolve();
  private readAgain = false;
  private readonly splitter: LineSplitter;

  constructor(
    private readonly path: string,
    onLine: (line: string) => void,
    private readonly onError: (error: Error) => void = () => {},
  ) {
    this.splitter = new LineSplitter(onLine);
  }

  /** Starts following from `offset` (0: the whole file). */
  start(offset = 0): void {
    this.offset = offset;
    const name = basename(this.path);
    this.watcher = watch(dirname(this.path), (_event, filename) => {
      if (filename === null || filename === name) this.schedule();
    });
    this.watcher.on('error', (error) => this.onError(error));
    this.schedule();
  }

  /** Reads what is left, emits a last unterminated line, and stops watching. */
  async stop(): Promise<number> {
    this.watcher?.close();
    this.watcher = undefined;
    this.schedule();
    await this.reading;
    this.splitter.flush();
    return this.offset;
  }

  /** Bytes consumed so far (recorded so a restarted agent can resume). */
  get position(): number {
    return this.offset;
  }

  private schedule(): void {
    if (this.readAgain) return;
    this.readAgain = true;
    this.reading = this.reading.then(async () => {
      this.readAgain = false;
      try {
        await this.readNew();
      } catch (error) {
        this.onError(error as Error);
      }
    });
  }

  private async readNew(): Promise<void> {
    let size: number;
    try {
      size = (await stat(this.path)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    // Truncated or replaced by a shorter file: start over rather than read garbage.
    if (size < this.offset) this.offset = 0;
    if (size === this.offset) return;
    const handle = await open(this.path, 'r');
    try {
      const buffer = Buffer.allocUnsafe(READ_CHUNK);
      while (this.offset < size) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(READ_CHUNK, size - this.offset), this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.splitter.write(buffer.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
  }
}
