/**
 * The stat cache: (inode, mtime, size) of a file as last hashed → its md5, so an unchanged file is
 * never hashed twice. A SQLite file at `.dvc/tmp/mlw-state.sqlite` (DVC keeps its own state there
 * and git ignores the folder). Reads load a dataset's rows in one query; writes go in one
 * transaction per batch. better-sqlite3 is native and loaded on first use: without it the cache
 * lives in memory for the process and nothing else changes.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { openSqliteFile } from '../sqlite';
import type { Logger } from '../context';

export interface StatKey {
  readonly ino: number;
  readonly mtimeMs: number;
  readonly size: number;
}

export interface StatEntry extends StatKey {
  readonly md5: string;
}

export function sameStat(entry: StatKey, stats: StatKey): boolean {
  return entry.ino === stats.ino && entry.mtimeMs === stats.mtimeMs && entry.size === stats.size;
}

interface Row {
  path: string;
  ino: number;
  mtime: number;
  size: number;
  md5: string;
}

export class StatCache {
  private db: BetterSqlite3.Database | undefined;
  private readonly memory = new Map<string, StatEntry>();

  constructor(db: BetterSqlite3.Database | undefined) {
    this.db = db;
  }

  /** Opens the cache at `file`; falls back to memory (with a warning) when SQLite is unavailable. */
  static open(file: string, log: Logger): StatCache {
    try {
      mkdirSync(dirname(file), { recursive: true });
      const db = openSqliteFile(file, { timeout: 10_000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec('CREATE TABLE IF NOT EXISTS state (path TEXT PRIMARY KEY, ino INTEGER NOT NULL, mtime REAL NOT NULL, size INTEGER NOT NULL, md5 TEXT NOT NULL) WITHOUT ROWID');
      return new StatCache(db);
    } catch (error) {
      log.warn(`data: the stat cache ${file} is unavailable (${(error as Error).message}); files will be re-hashed`);
      return new StatCache(undefined);
    }
  }

  /** Every entry whose path is `prefix` or lies under `prefix/` (paths are workspace-relative, '/'-separated). */
  loadUnder(prefix: string): Map<string, StatEntry> {
    const found = new Map<string, StatEntry>();
    if (!this.db) {
      for (const [path, entry] of this.memory) if (path === prefix || path.startsWith(`${prefix}/`)) found.set(path, entry);
      return found;
    }
    // '/' + 1 is '0': the range [prefix/, prefix0) holds exactly the paths under prefix/.
    const rows = this.db
      .prepare('SELECT path, ino, mtime, size, md5 FROM state WHERE path = ? OR (path >= ? AND path < ?)')
      .all(prefix, `${prefix}/`, `${prefix}0`) as Row[];
    for (const row of rows) found.set(row.path, { ino: row.ino, mtimeMs: row.mtime, size: row.size, md5: row.md5 });
    return found;
  }

  get(path: string): StatEntry | undefined {
    if (!this.db) return this.memory.get(path);
    const row = this.db.prepare('SELECT path, ino, mtime, size, md5 FROM state WHERE path = ?').get(path) as Row | undefined;
    return row ? { ino: row.ino, mtimeMs: row.mtime, size: row.size, md5: row.md5 } : undefined;
  }

  /** Records many entries in one transaction. */
  putMany(entries: Iterable<readonly [string, StatEntry]>): void {
    if (!this.db) {
      for (const [path, entry] of entries) this.memory.set(path, entry);
      return;
    }
    const insert = this.db.prepare('INSERT OR REPLACE INTO state (path, ino, mtime, size, md5) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const [path, entry] of entries) insert.run(path, entry.ino, entry.mtimeMs, entry.size, entry.md5);
    })();
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
  }
}
