import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import BetterSqlite3 from 'better-sqlite3';
import { PostgresRunStore } from '../../../agent/src/runs/store-postgres';
import { openSqliteRunStore } from '../../../agent/src/runs/store-sqlite';
import { LATEST_SCHEMA_VERSION } from '../../../agent/src/runs/store-sqlite-schema';
import { AmbiguousRunIdError, RunNotFoundError, RunStoreTooNewError } from '../../../agent/src/runs/errors';
import type { RunStore } from '../../../agent/src/runs/store';
import { newRun, openPostgresTemp, tempDir } from './helpers';

function openTemp(t: Parameters<typeof tempDir>[0]) {
  const path = join(tempDir(t), '.mlw', 'runs.db');
  const store = openSqliteRunStore(path);
  t.after(() => store.close());
  return { store, path };
}

/**
 * The behaviour every run store must have, checked on the embedded SQLite store and on the team's
 * PostgreSQL store (a real server: scripts/setup/postgres.sh; MLW_TEST_POSTGRES_URL to use another).
 */
function contractTest(name: string, body: (store: RunStore) => Promise<void>): void {
  void test(`sqlite: ${name}`, async (t) => body(openTemp(t).store));
  void test(`postgres: ${name}`, async (t) => body(await openPostgresTemp(t)));
}

contractTest('a created run is queued and reads back with its params, resources and outputs', async (store) => {
  const created = await store.create(newRun({ id: 'abc123', params: { seed: '42', model: 'rf' } }));
  assert.equal(created.status, 'queued');
  const run = await store.get('abc123');
  assert.ok(run);
  assert.deepEqual(run.params, { seed: '42', model: 'rf' });
  assert.deepEqual(run.resources, { cpus: 1, memory: '1g' });
  assert.deepEqual(run.outputs, ['build/models/rf.pkl']);
  assert.equal(run.gitCommit, 'a'.repeat(40));
  assert.equal(run.dirty, false);
  assert.equal(run.exitCode, null);
  assert.deepEqual(await store.spec('abc123'), { kind: 'test' });
});

void test('the schema is versioned: migrations are recorded once and a newer store is refused', async (t) => {
  const { store, path } = openTemp(t);
  await store.close();
  const reopened = openSqliteRunStore(path);
  await reopened.close();
  const db = new BetterSqlite3(path);
  const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
  assert.deepEqual(versions.map((row) => row.version), Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST_SCHEMA_VERSION + 1, 'future', 0);
  db.close();
  assert.throws(() => openSqliteRunStore(path), RunStoreTooNewError);
});

contractTest('status moves only along allowed transitions, and records exit code, OOM and times', async (store) => {
  await store.create(newRun({ id: 'feed01' }));
  assert.equal(await store.transition('feed01', 'succeeded', { at: 1 }), false, 'queued cannot succeed');
  assert.equal(await store.transition('feed01', 'running', { at: 10 }), true);
  assert.equal(await store.transition('feed01', 'failed', { at: 20, exitCode: 137, oomKilled: true, reason: 'OOM-killed' }), true);
  assert.equal(await store.transition('feed01', 'succeeded', { at: 30, exitCode: 0 }), false, 'failed is final');
  const run = await store.get('feed01');
  assert.ok(run);
  assert.equal(run.status, 'failed');
  assert.equal(run.exitCode, 137);
  assert.equal(run.oomKilled, true);
  assert.equal(run.statusReason, 'OOM-killed');
  assert.equal(run.startedAt, 10);
  assert.equal(run.endedAt, 20);
  assert.equal(await store.transition('nope', 'running', { at: 1 }), false, 'unknown run');
});

contractTest('a run recorded as finished is all there at once: succeeded, with inputs, artifacts, metrics and tags', async (store) => {
  await store.recordFinished(newRun({ id: 'cafe01' }), {
    inputs: [{ path: 'data/x.csv', md5: '1'.repeat(32) }],
    artifacts: [{ path: 'build/models/rf.pkl', md5: '2'.repeat(32), size: 12 }],
    metrics: [
      { name: 'accuracy', step: 0, value: 0.5 },
      { name: 'accuracy', step: 1, value: 0.9 },
    ],
    tags: ['cached', 'cached'],
    startedAt: 40,
    endedAt: 41,
    exitCode: 0,
    reason: 'cached: outputs of run abc restored',
  });
  const run = await store.get('cafe01');
  assert.ok(run);
  assert.deepEqual(
    [run.status, run.exitCode, run.statusReason, run.startedAt, run.endedAt],
    ['succeeded', 0, 'cached: outputs of run abc restored', 40, 41],
  );
  assert.deepEqual(run.inputs, [{ path: 'data/x.csv', md5: '1'.repeat(32) }]);
  assert.deepEqual(run.artifacts, [{ path: 'build/models/rf.pkl', md5: '2'.repeat(32), size: 12 }]);
  assert.deepEqual(run.tags, ['cached']);
  assert.deepEqual(run.latestMetrics, { accuracy: { step: 1, value: 0.9 } });
  assert.deepEqual(await store.metrics('cafe01'), [{ name: 'accuracy', points: [{ step: 0, value: 0.5 }, { step: 1, value: 0.9 }] }]);
  assert.equal((await store.active()).length, 0);
  await assert.rejects(store.recordFinished(newRun({ id: 'cafe01' }), {
    inputs: [], artifacts: [], metrics: [], tags: [], startedAt: 50, endedAt: 51, exitCode: 0, reason: 'again',
  }));
  assert.equal((await store.get('cafe01'))?.statusReason, 'cached: outputs of run abc restored', 'a refused record changes nothing');
});

contractTest('claimSlot respects the limit and lets the highest priority, then the oldest, go first', async (store) => {
  await store.create(newRun({ id: 'aa0001', priority: 0 }));
  await store.create(newRun({ id: 'aa0002', priority: 5 }));
  await store.create(newRun({ id: 'aa0003', priority: 5 }));
  await store.create(newRun({ id: 'bb0001', slotClass: 'gpu' }));
  assert.equal(await store.claimSlot('aa0001', 1, 1), false, 'a higher priority run waits');
  assert.equal(await store.claimSlot('aa0003', 1, 1), false, 'an older run of the same priority waits');
  assert.equal(await store.claimSlot('aa0002', 1, 1), true);
  assert.equal(await store.claimSlot('aa0003', 1, 2), false, 'the limit is reached');
  assert.equal(await store.claimSlot('bb0001', 1, 2), true, 'the GPU pool is separate');
  await store.transition('aa0002', 'succeeded', { at: 3, exitCode: 0 });
  assert.equal(await store.claimSlot('aa0003', 1, 4), true);
  assert.equal(await store.claimSlot('aa0003', 1, 4), false, 'a running run cannot be claimed again');
  assert.deepEqual(
    (await store.active()).map((run) => [run.id, run.status]),
    [
      ['aa0001', 'queued'],
      ['aa0003', 'running'],
      ['bb0001', 'running'],
    ],
  );
});

contractTest('metrics: a batch is stored as series, a repeated step replaces, latest is the highest step', async (store) => {
  await store.create(newRun({ id: 'ccc111' }));
  await store.appendMetrics('ccc111', [{ name: 'loss', step: 0, value: 1 }, { name: 'loss', step: 1, value: 0.5 }], 1);
  await store.appendMetrics('ccc111', [{ name: 'loss', step: 1, value: 0.4 }, { name: 'accuracy', step: 1, value: 0.9 }], 2);
  await store.appendMetrics('ccc111', [{ name: 'loss', step: 0, value: 2 }], 3);
  assert.deepEqual(await store.metrics('ccc111'), [
    { name: 'accuracy', points: [{ step: 1, value: 0.9 }] },
    { name: 'loss', points: [{ step: 0, value: 2 }, { step: 1, value: 0.4 }] },
  ]);
  const [summary] = await store.list();
  assert.ok(summary);
  assert.deepEqual(summary.latestMetrics, { loss: { step: 1, value: 0.4 }, accuracy: { step: 1, value: 0.9 } });
});

contractTest('logs get consecutive sequence numbers and read back after a given one', async (store) => {
  await store.create(newRun({ id: 'dd0001' }));
  const first = await store.appendLog('dd0001', [
    { stream: 'stdout', text: 'one', at: 1 },
    { stream: 'stderr', text: 'two', at: 2 },
  ]);
  const second = await store.appendLog('dd0001', [{ stream: 'system', text: 'three', at: 3 }]);
  assert.deepEqual([...first, ...second].map((entry) => entry.seq), [1, 2, 3]);
  assert.deepEqual((await store.readLog('dd0001', 1)).map((entry) => entry.text), ['two', 'three']);
  assert.deepEqual((await store.readLog('dd0001', 0, 1)).map((entry) => entry.text), ['one']);
});

contractTest('inputs, artifacts, tags, note and the captured diff are recorded', async (store) => {
  await store.create(newRun({ id: 'ee0001' }));
  await store.recordInputs('ee0001', [{ path: 'data/iris.csv', md5: 'f'.repeat(32) }]);
  await store.recordArtifacts('ee0001', [{ path: 'build/models/rf.pkl', md5: 'e'.repeat(32), size: 123 }]);
  await store.setTags('ee0001', ['best', 'baseline', 'best']);
  await store.setNote('ee0001', 'first try');
  await store.recordExecution('ee0001', { gitDiff: 'diff --git a/x b/x', gitTree: 'b'.repeat(40), containerId: 'c1', image: 'img:1' });
  await store.recordExecution('ee0001', { pid: 42 });
  const run = await store.get('ee0001');
  assert.ok(run);
  assert.deepEqual(run.inputs, [{ path: 'data/iris.csv', md5: 'f'.repeat(32) }]);
  assert.deepEqual(run.artifacts, [{ path: 'build/models/rf.pkl', md5: 'e'.repeat(32), size: 123 }]);
  assert.deepEqual(run.tags, ['baseline', 'best']);
  assert.equal(run.note, 'first try');
  assert.equal(run.dirty, true);
  assert.equal(run.gitDiff, 'diff --git a/x b/x');
  assert.equal(run.containerId, 'c1', 'a later partial update keeps earlier fields');
  assert.equal(run.pid, 42);
});

contractTest('run ids resolve from a unique prefix; an ambiguous or unknown one is a user error', async (store) => {
  await store.create(newRun({ id: 'abcd0001' }));
  await store.create(newRun({ id: 'abcd0002' }));
  await store.create(newRun({ id: 'ef000001' }));
  assert.equal(await store.resolveId('ef00'), 'ef000001');
  assert.equal(await store.resolveId('abcd0002'), 'abcd0002');
  await assert.rejects(store.resolveId('abcd'), AmbiguousRunIdError);
  await assert.rejects(store.resolveId('0000'), RunNotFoundError);
});

contractTest('listing filters by status and DAG run, newest first; delete removes everything of a run', async (store) => {
  await store.create(newRun({ id: 'f00001', dagRunId: 'dag1' }));
  await store.create(newRun({ id: 'f00002', dagRunId: 'dag1' }));
  await store.create(newRun({ id: 'f00003' }));
  await store.transition('f00002', 'cancelled', { at: 1 });
  assert.deepEqual((await store.list()).map((run) => run.id), ['f00003', 'f00002', 'f00001']);
  assert.deepEqual((await store.list({ dagRunId: 'dag1' })).map((run) => run.id), ['f00002', 'f00001']);
  assert.deepEqual((await store.list({ status: ['cancelled'] })).map((run) => run.id), ['f00002']);
  assert.deepEqual((await store.list({ limit: 1 })).map((run) => run.id), ['f00003']);
  await store.appendMetrics('f00001', [{ name: 'loss', step: 0, value: 1 }], 1);
  await store.appendLog('f00001', [{ stream: 'stdout', text: 'x', at: 1 }]);
  assert.equal(await store.delete('f00001'), true);
  assert.equal(await store.delete('f00001'), false);
  assert.equal(await store.get('f00001'), undefined);
  assert.deepEqual(await store.metrics('f00001'), []);
  assert.deepEqual(await store.readLog('f00001'), []);
});

void test('records are intact after a writer is killed mid-write (SIGKILL), and the store reopens', async (t) => {
  const { store, path } = openTemp(t);
  await store.create(newRun({ id: 'c0ffee' }));
  await store.close();
  const writer = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'crash-writer.ts'), path, 'c0ffee'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(writer, 'exit');
  let lastReported = -1;
  for await (const line of createInterface({ input: writer.stdout! })) {
    lastReported = Number(line.split(' ')[1]);
    // Let it get well into its stride, then kill it where it stands (almost always in a transaction).
    if (lastReported >= 300) {
      writer.kill('SIGKILL');
      break;
    }
  }
  const [, signal] = await exited;
  assert.equal(signal, 'SIGKILL');

  const reopened = openSqliteRunStore(path);
  t.after(() => reopened.close());
  assert.equal(reopened.integrityCheck(), 'ok');
  const series = await reopened.metrics('c0ffee');
  assert.equal(series.length, 50);
  const steps = series[0]!.points.map((point) => point.step);
  assert.ok(steps.length >= lastReported + 1, 'every step the writer reported as committed is there');
  assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i), 'steps form an unbroken prefix');
  for (const one of series) assert.equal(one.points.length, steps.length, `${one.name}: no half-written batch`);
  const log = await reopened.readLog('c0ffee');
  assert.deepEqual(log.map((entry) => entry.seq), Array.from({ length: log.length }, (_, i) => i + 1));
  assert.ok(log.length >= lastReported + 1);
  const [summary] = await reopened.list();
  assert.deepEqual(summary!.latestMetrics.m0, { step: steps.length - 1, value: steps.length - 1 });
  // The store still takes writes after the crash.
  await reopened.appendMetrics('c0ffee', [{ name: 'm0', step: 100_000, value: 1 }], 1);
  assert.equal((await reopened.list())[0]!.latestMetrics.m0!.step, 100_000);
});

void test('postgres: another process sees changes by notification, and concurrent claims never exceed the limit', async (t) => {
  const first = await openPostgresTemp(t);
  // A second store on the same schema stands for another agent on the team's server.
  const second = new PostgresRunStore((first as unknown as { pool: { options: { connectionString: string } } }).pool.options.connectionString);
  t.after(() => second.close());
  let notified = 0;
  let resolveNotified: () => void = () => undefined;
  const gotNotification = new Promise<void>((resolve) => (resolveNotified = resolve));
  const watch = await second.watchChanges(() => {
    notified++;
    resolveNotified();
  });
  t.after(() => watch.close());
  for (let index = 0; index < 6; index++) await first.create(newRun({ id: `ab000${index}` }));
  await gotNotification;
  assert.ok(notified >= 1);
  const claims = await Promise.all(
    Array.from({ length: 6 }, (_, index) => (index % 2 === 0 ? first : second).claimSlot(`ab000${index}`, 2, 1)),
  );
  assert.ok(claims.filter(Boolean).length <= 2, `at most 2 running, got ${claims.filter(Boolean).length}`);
  assert.equal((await first.active()).filter((run) => run.status === 'running').length, claims.filter(Boolean).length);
});
