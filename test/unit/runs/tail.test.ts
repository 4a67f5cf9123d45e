import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileTailer } from '../../../agent/src/runs/tail';
import { tempDir } from './helpers';

/** Collects lines and resolves waiters when a given count has arrived. */
function collector() {
  const lines: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  return {
    lines,
    onLine: (line: string) => {
      lines.push(line);
      for (const waiter of [...waiters]) if (lines.length >= waiter.count) waiter.resolve();
    },
    until: (count: number) =>
      lines.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
  };
}

void test('the tailer delivers lines as they are appended, even to a file created after it started', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'metrics.jsonl');
  const seen = collector();
  const tailer = new FileTailer(path, seen.onLine);
  tailer.start();
  writeFileSync(path, 'one\n');
  await seen.until(1);
  appendFileSync(path, 'two\nthr');
  await seen.until(2);
  assert.deepEqual(seen.lines, ['one', 'two'], 'a partial line waits for its end');
  appendFileSync(path, 'ee\n');
  await seen.until(3);
  appendFileSync(path, 'last, unterminated');
  const offset = await tailer.stop();
  assert.deepEqual(seen.lines, ['one', 'two', 'three', 'last, unterminated']);
  assert.equal(offset, Buffer.byteLength('one\ntwo\nthree\nlast, unterminated'));
});

void test('the tailer can resume from an offset and starts over when the file is truncated', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'metrics.jsonl');
  writeFileSync(path, 'old\nnew\n');
  const seen = collector();
  const tailer = new FileTailer(path, seen.onLine);
  tailer.start(4);
  await seen.until(1);
  writeFileSync(path, 'x\n');
  await seen.until(2);
  await tailer.stop();
  assert.deepEqual(seen.lines, ['new', 'x']);
});
