/**
 * The Runs view's model: the cache follows mlw/runs/changed notifications (new, changed, deleted),
 * runs are grouped by branch then DAG run, status icons and descriptions, remote runs marked, and
 * the children of a run (params, latest metrics, artifacts, log).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RunRecord, RunSummary } from '../../../schemas/protocol/runs';
import {
  dagRunStatus,
  formatBytes,
  formatDuration,
  formatNumber,
  groupModels,
  groupRuns,
  modelDescription,
  modelTooltip,
  runContextValue,
  runDescription,
  RunsCache,
  runSections,
  sectionChildren,
  statusIcon,
  taskChoices,
  type DagRunGroup,
} from '../../../extension/src/views/runs-model';

function run(overrides: Partial<RunSummary> & { id: string }): RunSummary {
  return {
    name: 'train',
    task: 'train',
    dagFile: 'pipe.dag.yaml',
    dagRunId: null,
    status: 'succeeded',
    statusReason: null,
    exitCode: 0,
    oomKilled: false,
    environment: 'box',
    executor: 'docker',
    gitCommit: 'abcdef1234567890',
    gitBranch: 'main',
    dirty: false,
    priority: 0,
    createdAt: 1_000,
    startedAt: 1_000,
    endedAt: 13_000,
    params: {},
    latestMetrics: {},
    tags: [],
    ...overrides,
  };
}

void describe('RunsCache', () => {
  void test('applies created, changed and deleted runs from notifications, newest first', () => {
    const cache = new RunsCache();
    cache.reset([run({ id: 'aaaa', createdAt: 1 }), run({ id: 'bbbb', createdAt: 2 })]);
    assert.deepEqual(
      cache.all().map((r) => r.id),
      ['bbbb', 'aaaa'],
    );
    cache.apply('cccc', run({ id: 'cccc', createdAt: 3, status: 'running' }));
    cache.apply('aaaa', run({ id: 'aaaa', createdAt: 1, status: 'failed' }));
    cache.apply('bbbb', null);
    assert.deepEqual(
      cache.all().map((r) => `${r.id}:${r.status}`),
      ['cccc:running', 'aaaa:failed'],
    );
    assert.equal(cache.get('bbbb'), undefined);
  });

  void test('changes announced while a listing is on its way are not lost to it', () => {
    const cache = new RunsCache();
    cache.beginReset();
    cache.apply('aaaa', run({ id: 'aaaa', status: 'succeeded' }));
    cache.apply('gone', null);
    // The listing was read before those changes: aaaa still running, gone still there.
    cache.reset([run({ id: 'aaaa', status: 'running' }), run({ id: 'gone', createdAt: 0 })]);
    assert.deepEqual(
      cache.all().map((r) => `${r.id}:${r.status}`),
      ['aaaa:succeeded'],
    );
    // Once the listing is in, changes are applied directly and a later reset replays nothing old.
    cache.apply('bbbb', run({ id: 'bbbb', createdAt: 5 }));
    cache.reset([run({ id: 'cccc' })]);
    assert.deepEqual(
      cache.all().map((r) => r.id),
      ['cccc'],
    );
  });
});

void describe('groupRuns', () => {
  void test('groups by branch, newest branch first, and gathers one DAG run under its file', () => {
    const groups = groupRuns([
      run({ id: 'a1', gitBranch: 'main', createdAt: 10, dagRunId: 'd1', task: 'prep' }),
      run({ id: 'a2', gitBranch: 'main', createdAt: 11, dagRunId: 'd1', status: 'running' }),
      run({ id: 'a3', gitBranch: 'main', createdAt: 5 }),
      run({ id: 'b1', gitBranch: 'feature/x', createdAt: 20 }),
      run({ id: 'c1', gitBranch: null, createdAt: 1 }),
    ]);
    assert.deepEqual(
      groups.map((g) => g.label),
      ['feature/x', 'main', '(no branch)'],
    );
    const main = groups[1]!;
    assert.equal(main.description, '3 runs, 1 running');
    const [dagRun, single] = main.children;
    assert.equal((dagRun as DagRunGroup).kind, 'dagRun');
    assert.equal((dagRun as DagRunGroup).label, 'pipe.dag.yaml');
    assert.equal((dagRun as DagRunGroup).description, 'running · 2 runs, 1 running');
    assert.deepEqual(
      (dagRun as DagRunGroup).runs.map((r) => r.id),
      ['a1', 'a2'],
    );
    assert.equal((single as RunSummary).id, 'a3');
  });

  void test('a DAG run is as far as its least finished task', () => {
    assert.equal(dagRunStatus([{ status: 'succeeded' }, { status: 'queued' }]), 'queued');
    assert.equal(dagRunStatus([{ status: 'succeeded' }, { status: 'failed' }]), 'failed');
    assert.equal(dagRunStatus([{ status: 'succeeded' }, { status: 'succeeded' }]), 'succeeded');
  });
});

void describe('run rows', () => {
  void test('each status has its own icon; running spins', () => {
    const icons = (['queued', 'running', 'succeeded', 'failed', 'cancelled', 'lost'] as const).map(
      (s) => statusIcon(s).icon,
    );
    assert.equal(new Set(icons).size, icons.length);
    assert.equal(statusIcon('running').icon, 'sync~spin');
    assert.equal(statusIcon('succeeded').color, 'testing.iconPassed');
  });

  void test('the description has status, duration and up to three latest metrics; remote runs say so', () => {
    const summary = run({
      id: 'aaaa',
      latestMetrics: { loss: { step: 3, value: 0.412345 }, acc: { step: 3, value: 0.9 } },
    });
    assert.equal(runDescription(summary, 0), 'succeeded · 12s · acc 0.9, loss 0.4123');
    const remote = run({ id: 'bbbb', tags: ['remote'], status: 'failed', oomKilled: true });
    assert.equal(runDescription(remote, 0), 'remote · failed (OOM-killed) · 12s');
    const running = run({ id: 'cccc', status: 'running', endedAt: null, startedAt: 0 });
    assert.equal(runDescription(running, 65_000), 'running · 1m 5s');
  });

  void test('context values tell live from finished and local from remote', () => {
    assert.equal(runContextValue({ status: 'running', tags: [] }), 'mlw.run.live');
    assert.equal(runContextValue({ status: 'queued', tags: [] }), 'mlw.run.live');
    assert.equal(runContextValue({ status: 'lost', tags: [] }), 'mlw.run.finished');
    assert.equal(runContextValue({ status: 'succeeded', tags: ['remote'] }), 'mlw.run.finished.remote');
  });
});

void describe('run children', () => {
  const record: Pick<RunRecord, 'params' | 'latestMetrics' | 'artifacts' | 'status'> = {
    status: 'running',
    params: { lr: '0.1', depth: '3' },
    latestMetrics: { loss: { step: 7, value: 0.25 } },
    artifacts: [{ path: 'model.pkl', md5: '0123456789abcdef', size: 2048 }],
  };

  void test('sections only for what the run has, and always the log (live while running)', () => {
    assert.deepEqual(
      runSections(record).map((c) => `${c.label}:${c.description}`),
      ['Params:2', 'Metrics:1', 'Artifacts:1', 'Log:live'],
    );
    assert.deepEqual(
      runSections({ params: {}, latestMetrics: {}, artifacts: [], status: 'succeeded' }).map((c) => c.kind),
      ['log'],
    );
  });

  void test('params by name, metrics with their step, artifacts with size and hash', () => {
    assert.deepEqual(
      sectionChildren(record, 'params').map((c) => `${c.label}=${c.description}`),
      ['depth=3', 'lr=0.1'],
    );
    assert.deepEqual(
      sectionChildren(record, 'metrics').map((c) => `${c.label}=${c.description}`),
      ['loss=0.25 (step 7)'],
    );
    assert.deepEqual(
      sectionChildren(record, 'artifacts').map((c) => `${c.label}=${c.description}`),
      ['model.pkl=2.0 KiB · md5 01234567'],
    );
  });
});

void describe('formatting and task choices', () => {
  void test('numbers, durations and sizes', () => {
    assert.equal(formatNumber(0.123456), '0.1235');
    assert.equal(formatNumber(1234.5), '1235');
    assert.equal(formatNumber(12_345_678), '1.235e+7');
    assert.equal(formatNumber(0), '0');
    assert.equal(formatDuration(3_725_000), '1h 2m');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(3 * 1024 * 1024), '3.0 MiB');
  });

  void test('every task of every DAG file is a choice, with its file', () => {
    const choices = taskChoices(
      [
        {
          path: '/ws/a.dag.yaml',
          tasks: [
            { name: 'prep', task: 'prep' },
            { name: 'train@rf', task: 'train' },
            { name: 'train@gb', task: 'train' },
          ],
        },
      ],
      (path) => path.replace('/ws/', ''),
    );
    assert.deepEqual(choices, [
      { label: 'prep', description: 'a.dag.yaml', dagFile: '/ws/a.dag.yaml', task: 'prep' },
      { label: 'train', description: 'a.dag.yaml · all 2 expansions', dagFile: '/ws/a.dag.yaml', task: 'train' },
      { label: 'train@rf', description: 'a.dag.yaml', dagFile: '/ws/a.dag.yaml', task: 'train@rf' },
      { label: 'train@gb', description: 'a.dag.yaml', dagFile: '/ws/a.dag.yaml', task: 'train@gb' },
    ]);
  });
});

void describe('models group', () => {
  const version = (name: string, v: number, metrics: Record<string, number> = {}) => ({
    format: 1 as const,
    name,
    version: v,
    runId: `abcdef12345${v}`,
    artifact: { path: 'model.pkl', md5: '0123456789abcdef0123456789abcdef', size: 4096 },
    metrics,
    params: { lr: '0.1' },
    gitCommit: '0123456789abcdef',
    promotedBy: 'Ada <ada@example.invalid>',
    promotedAt: 0,
  });

  void test('models by name, versions newest first, described by their metrics, run and artifact', () => {
    const groups = groupModels([
      version('iris', 1),
      version('iris', 3, { acc: 0.9312 }),
      version('base', 1),
      version('iris', 2),
    ]);
    assert.deepEqual(
      groups.map((g) => `${g.name}: ${g.description}`),
      ['base: latest v1 · 1 version', 'iris: latest v3 · 3 versions'],
    );
    assert.deepEqual(
      groups[1]!.versions.map((v) => v.version),
      [3, 2, 1],
    );
    assert.equal(modelDescription(groups[1]!.versions[0]!), 'acc 0.9312 · run abcdef12 · model.pkl');
    assert.equal(modelDescription(groups[0]!.versions[0]!), 'run abcdef12 · model.pkl');
    assert.match(modelTooltip(groups[0]!.versions[0]!), /promoted by Ada <ada@example\.invalid>[^]*param lr = 0\.1/);
  });
});
