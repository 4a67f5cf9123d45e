import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoalescedReload } from '../../../extension/src/views/reload';

void test('reload requests during a load make exactly one more load, after it', async () => {
  const started: number[] = [];
  const finishers: (() => void)[] = [];
  const reloads = new CoalescedReload(
    () =>
      new Promise<void>((resolve) => {
        started.push(started.length + 1);
        finishers.push(resolve);
      }),
  );
  reloads.request();
  reloads.request();
  reloads.request();
  assert.deepEqual(started, [1], 'one load at a time');
  finishers.shift()!();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, [1, 2], 'the requests made meanwhile became one more load');
  finishers.shift()!();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, [1, 2], 'and no more');
  reloads.request();
  assert.deepEqual(started, [1, 2, 3], 'an idle view loads at once');
});
