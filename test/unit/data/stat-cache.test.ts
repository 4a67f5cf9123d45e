/**
 * The stat cache's SQLite file: what putMany records (in statements of many rows) is exactly what a
 * later process reads back, whatever the count, with a later entry for a path replacing an earlier one;
 * its journal mode, and when the file is opened.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { StatCache, type StatEntry } from '../../../agent/src/data/stat-cache';
import { openSqliteFile } from '../../../agent/src/sqlite';
import { quietLog, tempDir } from './fixture';

function entry(index: number): StatEntry {
  return { ino: 1_000_000 + index, mtimeMs: 1_733_450_000_123.456 + index, size: index * 7, md5: index.toString(16).padStart(32, '0') };
}

void test('putMany records any number of entries, and the last entry for a path wins', (t) => {
  const file = join(tempDir(t), 'state.sqlite');
  const first = StatCache.open(file, quietLog);
  const expected = new Map<string, StatEntry>();
  for (const count of [0, 1, 99, 100, 101, 257]) {
    const batch: Array<[string, StatEntry]> = [];
    for (let index = 0; index < count; index++) batch.push([`data/n${count}/file ${index}.bin`, entry(count * 1000 + index)]);
    first.putMany(batch);
    for (const [path, value] of batch) expected.set(path, value);
  }
  // One batch that replaces a recorded entry and names one path twice (in the same statement).
  const replaced: StatEntry = { ...entry(1), md5: 'a'.repeat(32) };
  const twice: StatEntry = { ...entry(2), md5: 'b'.repeat(32) };
  first.putMany([
    ['data/n257/file 3.bin', replaced],
    ['data/new.bin', entry(5)],
    ['data/new.bin', twice],
  ]);
  expected.set('data/n257/file 3.bin', replaced);
  expected.set('data/new.bin', twice);
  first.close();

  const reopened = StatCache.open(file, quietLog);
  t.after(() => reopened.close());
  assert.deepEqual(reopened.loadUnder('data'), expected);
  assert.equal(expected.size, 1 + 99 + 100 + 101 + 257 + 1);
});

void test('a cache an earlier version left in WAL mode goes back to a rollback journal, unless another process has it open', (t) => {
  const file = join(tempDir(t), 'state.sqlite');
  const earlier = openSqliteFile(file);
  earlier.pragma('journal_mode = WAL');
  earlier.exec('CREATE TABLE state (path TEXT PRIMARY KEY, ino INTEGER NOT NULL, mtime REAL NOT NULL, size INTEGER NOT NULL, md5 TEXT NOT NULL) WITHOUT ROWID');

  // Held open elsewhere: the cache works, in WAL, without waiting for the other process.
  const shared = StatCache.open(file, quietLog);
  shared.putMany([['data/a.bin', entry(1)]]);
  assert.equal(earlier.pragma('journal_mode', { simple: true }), 'wal');
  shared.close();
  earlier.close();

  const alone = StatCache.open(file, quietLog);
  alone.putMany([['data/b.bin', entry(2)]]);
  alone.close();
  const check = openSqliteFile(file);
  t.after(() => check.close());
  assert.equal(check.pragma('journal_mode', { simple: true }), 'delete');
  assert.deepEqual(
    check.prepare('SELECT path FROM state ORDER BY path').all(),
    [{ path: 'data/a.bin' }, { path: 'data/b.bin' }],
  );
});

void test('the cache file is opened on first use only', (t) => {
  const file = join(tempDir(t), 'tmp', 'state.sqlite');
  const unused = StatCache.open(file, quietLog);
  unused.close();
  assert.equal(existsSync(file), false);
  const used = StatCache.open(file, quietLog);
  t.after(() => used.close());
  assert.equal(used.get('data/a.bin'), undefined);
  assert.equal(existsSync(file), true);
});
