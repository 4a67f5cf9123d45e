/**
 * The stat cache: (inode, mtime, size) of a file as last hashed → its md5, so an unchanged file is
 * never hashed twice. A SQLite file at `.dvc/tmp/mlw-state.sqlite` (DVC keeps its own state there
 * and git ignores the folder). Reads load a dataset's rows in one query; writes go in one
 * transaction per batch. better-sqlite3 is native and loaded on first use: without it the cache
 * lives in memory for the process and nothing else changes.
 *
 * It is only a cache, so it is never fsynced (`synchronous = OFF`): on ext4 an fsync commits the
 * journal, which first writes out every freshly added data block — adding a 1 GiB file spent 1.5 s
 * in the stat cache's closing fsync. A crash can at worst lose or corrupt the cache; a corrupt file
 * is deleted and started afresh, and the files are hashed again.
 */
import { mkdirSync, rmSync } from 'node:fs';
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

/**
 * What a folder dataset last hashed to, keyed by a fingerprint of every file's (relpath, inode,
 * mtime, size) in walk order: when the fingerprint is the same again, so is every file's md5 (the
 * stat cache's own assumption), and the folder's hash and objects are known without a per-file
 * lookup. Any difference at all, even only in order, just means the per-file path is taken.
 */
export interface FolderMemo {
  readonly fingerprint: string;
  /** The folder's hash (`….dir`). */
  readonly md5: string;
  /** Every distinct file md5 of the folder, concatenated (32 hex characters each). */
  readonly objects: string;
  /**
   * The cache's stamp (Cache.stamp) when the objects' presence was last counted, and how many of
   * them (with the folder's own `.dir`) were missing; null until a status counts them.
   */
  readonly cacheStamp: string | null;
  readonly missing: number | null;
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
  /** undefined until first used; null when SQLite is unavailable or the cache was closed (memory only). */
  private db: BetterSqlite3.Database | null | undefined;
  private readonly memory = new Map<string, StatEntry>();
  private readonly folderMemory = new Map<string, FolderMemo>();

  private constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {}

  /**
   * The cache at `file`, opened on first use: a push or a status of pointers alone never loads
   * SQLite. Falls back to memory (with a warning) when SQLite is unavailable.
   */
  static open(file: string, log: Logger): StatCache {
    return new StatCache(file, log);
  }

  private connection(): BetterSqlite3.Database | null {
    if (this.db === undefined) this.db = connect(this.file, this.log);
    return this.db;
  }

  /** Runs a query; a cache found damaged mid-way is deleted and this process goes on in memory. */
  private query<T>(run: (db: BetterSqlite3.Database) => T, inMemory: () => T): T {
    const db = this.connection();
    if (!db) return inMemory();
    try {
      return run(db);
    } catch (error) {
      if (!isCorrupt(error)) throw error;
      this.log.warn(`data: the stat cache ${this.file} is damaged (${(error as Error).message}); it is deleted and files will be re-hashed`);
      db.close();
      this.db = null;
      removeStateFile(this.file);
      return inMemory();
    }
  }

  /** Every entry whose path is `prefix` or lies under `prefix/` (paths are workspace-relative, '/'-separated). */
  loadUnder(prefix: string): Map<string, StatEntry> {
    return this.query(
      (db) => {
        const found = new Map<string, StatEntry>();
        // '/' + 1 is '0': the range [prefix/, prefix0) holds exactly the paths under prefix/.
        const rows = db
          .prepare('SELECT path, ino, mtime, size, md5 FROM state WHERE path = ? OR (path >= ? AND path < ?)')
          .all(prefix, `${prefix}/`, `${prefix}0`) as Row[];
        for (const row of rows) found.set(row.path, { ino: row.ino, mtimeMs: row.mtime, size: row.size, md5: row.md5 });
        return found;
      },
      () => {
        const found = new Map<string, StatEntry>();
        for (const [path, entry] of this.memory) if (path === prefix || path.startsWith(`${prefix}/`)) found.set(path, entry);
        return found;
      },
    );
  }

  get(path: string): StatEntry | undefined {
    return this.query(
      (db) => {
        const row = db.prepare('SELECT path, ino, mtime, size, md5 FROM state WHERE path = ?').get(path) as Row | undefined;
        return row ? { ino: row.ino, mtimeMs: row.mtime, size: row.size, md5: row.md5 } : undefined;
      },
      () => this.memory.get(path),
    );
  }

  /**
   * Records many entries in one transaction, ROWS_PER_INSERT to a statement: a 15,000-file pull
   * records every file, and one statement per row spent half its time crossing into SQLite.
   */
  putMany(entries: Iterable<readonly [string, StatEntry]>): void {
    const list = [...entries];
    this.query(
      (db) => {
        let full: BetterSqlite3.Statement | undefined;
        const values: Array<string | number> = [];
        db.transaction(() => {
          for (let at = 0; at < list.length; at += ROWS_PER_INSERT) {
            const end = Math.min(at + ROWS_PER_INSERT, list.length);
            values.length = 0;
            for (let row = at; row < end; row++) pushRow(values, list[row]!);
            const insert = end - at === ROWS_PER_INSERT ? (full ??= db.prepare(insertRows(ROWS_PER_INSERT))) : db.prepare(insertRows(end - at));
            insert.run(values);
          }
        })();
      },
      () => {
        for (const [path, entry] of list) this.memory.set(path, entry);
      },
    );
  }

  folderMemo(path: string): FolderMemo | undefined {
    return this.query(
      (db) =>
        db.prepare('SELECT fingerprint, md5, objects, cache_stamp AS cacheStamp, missing FROM folder_memos WHERE path = ?').get(path) as FolderMemo | undefined,
      () => this.folderMemory.get(path),
    );
  }

  putFolderMemo(path: string, memo: FolderMemo): void {
    this.query(
      (db) => {
        db.prepare('INSERT OR REPLACE INTO folder_memos (path, fingerprint, md5, objects, cache_stamp, missing) VALUES (?, ?, ?, ?, ?, ?)').run(
          path,
          memo.fingerprint,
          memo.md5,
          memo.objects,
          memo.cacheStamp,
          memo.missing,
        );
      },
      () => {
        this.folderMemory.set(path, memo);
      },
    );
  }

  close(): void {
    this.db?.close();
    this.db = null;
  }
}

const ROWS_PER_INSERT = 100;

/** How long a command waits for another process's write to the cache to finish. */
const BUSY_TIMEOUT_MS = 10_000;

function insertRows(count: number): string {
  return `INSERT OR REPLACE INTO state (path, ino, mtime, size, md5) VALUES ${new Array<string>(count).fill('(?, ?, ?, ?, ?)').join(', ')}`;
}

function pushRow(values: Array<string | number>, [path, entry]: readonly [string, StatEntry]): void {
  values.push(path, entry.ino, entry.mtimeMs, entry.size, entry.md5);
}

/** Opens the file (made afresh when damaged); null, with a warning, when SQLite is unavailable. */
function connect(file: string, log: Logger): BetterSqlite3.Database | null {
  let failure: unknown;
  try {
    mkdirSync(dirname(file), { recursive: true });
    return openStateFile(file);
  } catch (error) {
    failure = error;
  }
  if (isCorrupt(failure)) {
    log.warn(`data: the stat cache ${file} is damaged (${(failure as Error).message}); starting it afresh`);
    removeStateFile(file);
    try {
      return openStateFile(file);
    } catch (error) {
      failure = error;
    }
  }
  log.warn(`data: the stat cache ${file} is unavailable (${(failure as Error).message}); files will be re-hashed`);
  return null;
}

function openStateFile(file: string): BetterSqlite3.Database {
  const db = openSqliteFile(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('synchronous = OFF');
    leaveWal(db);
    db.exec('CREATE TABLE IF NOT EXISTS state (path TEXT PRIMARY KEY, ino INTEGER NOT NULL, mtime REAL NOT NULL, size INTEGER NOT NULL, md5 TEXT NOT NULL) WITHOUT ROWID');
    db.exec(
      'CREATE TABLE IF NOT EXISTS folder_memos (path TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, md5 TEXT NOT NULL, objects TEXT NOT NULL, cache_stamp TEXT, missing INTEGER)',
    );
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * SQLite's rollback journal, not WAL: a command writes the cache once, in one transaction, and
 * WAL writes every page twice (to the log, then into the file at the close's checkpoint). A pull
 * recording 15,000 files spent ~20 ms more in WAL mode (on ext4: insert 31 ms and close 8–15 ms,
 * against 22–24 ms and 0.3 ms). A file an earlier version left in WAL mode is switched back when no
 * other process has it open; otherwise it stays in WAL, which works the same.
 */
function leaveWal(db: BetterSqlite3.Database): void {
  if (db.pragma('journal_mode', { simple: true }) !== 'wal') return;
  db.pragma('busy_timeout = 0');
  try {
    db.pragma('journal_mode = DELETE');
  } catch {
    // another connection has it open: WAL it stays
  } finally {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }
}

function removeStateFile(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
}

function isCorrupt(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB';
}
