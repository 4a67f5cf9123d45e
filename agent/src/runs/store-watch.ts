/**
 * Tells when the run store changed, whichever process changed it: SQLite in WAL mode writes every
 * commit to `runs.db-wal` next to the database, so watching that folder gives an event per commit
 * without asking the database over and over. Used to start queued runs when a slot frees, to see
 * a cancel asked for by another process, and to follow a run's log from another terminal.
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export class StoreWatcher extends EventEmitter<{ change: [] }> {
  private watcher: FSWatcher | undefined;
  private pending = false;

  constructor(private readonly databasePath: string) {
    super();
    this.setMaxListeners(0);
  }

  start(): this {
    const name = basename(this.databasePath);
    this.watcher = watch(dirname(this.databasePath), (_event, filename) => {
      if (filename === null || filename.startsWith(name)) this.signal();
    });
    this.watcher.on('error', () => this.signal());
    return this;
  }

  /** Also called by this process after its own writes, so listeners need not wait for the file system. */
  signal(): void {
    if (this.pending) return;
    this.pending = true;
    // Many commits in a burst become one event.
    setImmediate(() => {
      this.pending = false;
      this.emit('change');
    });
  }

  /** Resolves on the next change. */
  next(): Promise<void> {
    return new Promise((resolve) => this.once('change', () => resolve()));
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.removeAllListeners();
  }
}
