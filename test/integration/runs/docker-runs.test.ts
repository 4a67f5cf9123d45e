/**
 * Runs in real containers on the local Docker Engine: success with outputs, metrics and inputs
 * recorded; a non-zero exit; OOM; cancel (SIGTERM honoured, and ignored until the kill); the queue;
 * 100 containers that exit at once without one exit code or log line lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEntry } from '../../../schemas/protocol/runs';
import { planCommand, planTask } from '../../../agent/src/runs/launch';
import { runDirs } from '../../../agent/src/runs/layout';
import type { RunService } from '../../../agent/src/runs/service';
import { BUSYBOX, busyboxDag, git, openService, requireDocker, workspace } from './helpers';

/** Resolves when a log line of the run matches. */
function logLine(service: RunService, id: () => string | undefined, pattern: RegExp): Promise<LogEntry> {
  return new Promise((resolve) => {
    const listener = (runId: string, entries: LogEntry[]) => {
      if (runId !== id()) return;
      const hit = entries.find((entry) => pattern.test(entry.text));
      if (hit) {
        service.off('log', listener);
        resolve(hit);
      }
    };
    service.on('log', listener);
  });
}

void test('a task succeeds: outputs land in the workspace and the cache, metrics, inputs, params and code are recorded', async (t) => {
  await requireDocker();
  const root = workspace(t, {
    'data/train.csv': 'a,b\n1,2\n',
    'pipe.dag.yaml': busyboxDag(`  train:
    run: |
      echo "seed is $MLW_PARAM_SEED, arg ${'$'}{params.seed}"
      cat data/train.csv > /dev/null
      mkdir -p build/model
      echo weights-${'$'}{params.seed} > build/model/weights.txt
      echo '{"accuracy": 0.93, "loss": 0.2}' > build/metrics.json
      echo '{"step": 0, "loss": 0.9}' >> $MLW_METRICS
      echo '{"step": 1, "loss": 0.5}' >> $MLW_METRICS
      echo result > $MLW_OUTPUTS/extra.txt
    inputs: [data/train.csv]
    outputs: [build/model/]
    metrics: build/metrics.json
`).replace('tasks:', 'params:\n  seed: 1\ntasks:'),
  });
  writeFileSync(join(root, 'uncommitted.txt'), 'not committed\n');
  const service = openService(t, root);
  const [plan] = await planTask({ workspaceRoot: root, dagFile: 'pipe.dag.yaml', task: 'train', params: { seed: '7' } });
  const id = await service.submit(plan!);
  const run = await service.finished(id);

  assert.equal(run.status, 'succeeded', run.statusReason ?? '');
  assert.equal(run.exitCode, 0);
  assert.equal(readFileSync(join(root, 'build/model/weights.txt'), 'utf8'), 'weights-7\n');
  assert.equal(readFileSync(join(root, 'build/metrics.json'), 'utf8'), '{"accuracy": 0.93, "loss": 0.2}\n');
  assert.deepEqual(run.params, { seed: '7' });
  assert.equal(run.gitCommit, git(root, 'rev-parse', 'HEAD').trim());
  assert.equal(run.gitBranch, 'main');
  assert.equal(run.dirty, true, 'the untracked file made the tree dirty');
  assert.match(run.gitDiff ?? '', /uncommitted\.txt/);
  assert.match(run.environmentDigest ?? '', /^sha256:/);
  assert.equal(run.image, BUSYBOX);
  assert.deepEqual(run.inputs.map((input) => input.path), ['data/train.csv']);
  assert.equal(run.inputs[0]!.md5, createHash('md5').update('a,b\n1,2\n').digest('hex'));
  const artifactPaths = run.artifacts.map((artifact) => artifact.path).sort();
  assert.deepEqual(artifactPaths, ['$MLW_OUTPUTS/extra.txt', 'build/metrics.json', 'build/model/weights.txt']);
  const weights = run.artifacts.find((artifact) => artifact.path === 'build/model/weights.txt')!;
  const cached = join(root, '.mlw', 'cache', 'files', 'md5', weights.md5.slice(0, 2), weights.md5.slice(2));
  assert.equal(readFileSync(cached, 'utf8'), 'weights-7\n');
  const series = await service.store.metrics(id);
  assert.deepEqual(series, [
    { name: 'accuracy', points: [{ step: 0, value: 0.93 }] },
    { name: 'loss', points: [{ step: 0, value: 0.9 }, { step: 1, value: 0.2 }] },
  ]);
  const log = await service.store.readLog(id);
  assert.ok(log.some((entry) => entry.stream === 'stdout' && entry.text === 'seed is 7, arg 7'));
  assert.equal(existsSync(runDirs(root, id).root), false, 'the run folder is cleaned up');
});

void test('a non-zero exit fails the run and leaves the previous outputs in the workspace untouched', async (t) => {
  await requireDocker();
  const root = workspace(t, {
    'pipe.dag.yaml': busyboxDag(`  make:
    run: mkdir -p out && echo new > out/file.txt && echo failing >&2 && exit 3
    outputs: [out/]
`),
  });
  const service = openService(t, root);
  mkdirSync(join(root, 'out'));
  writeFileSync(join(root, 'out/file.txt'), 'old\n');
  const [plan] = await planTask({ workspaceRoot: root, dagFile: 'pipe.dag.yaml', task: 'make' });
  const run = await service.finished(await service.submit(plan!));
  assert.equal(run.status, 'failed');
  assert.equal(run.exitCode, 3);
  assert.equal(run.oomKilled, false);
  assert.equal(run.statusReason, 'exit code 3');
  assert.equal(readFileSync(join(root, 'out/file.txt'), 'utf8'), 'old\n');
  const log = await service.store.readLog(run.id);
  assert.ok(log.some((entry) => entry.stream === 'stderr' && entry.text === 'failing'));
});

void test('a run over its memory limit is failed as OOM-killed, never succeeded', async (t) => {
  await requireDocker();
  const root = workspace(t, {
    'pipe.dag.yaml': busyboxDag(`  hog:
    run: exec dd if=/dev/zero of=/dev/null bs=64M count=1
    resources: { memory: 8m }
`),
  });
  const service = openService(t, root);
  const [plan] = await planTask({ workspaceRoot: root, dagFile: 'pipe.dag.yaml', task: 'hog' });
  const run = await service.finished(await service.submit(plan!));
  const log = (await service.store.readLog(run.id)).map((entry) => `${entry.stream}: ${entry.text}`);
  const seen = JSON.stringify({ status: run.status, reason: run.statusReason, exitCode: run.exitCode, oomKilled: run.oomKilled, log });
  assert.equal(run.oomKilled, true, seen);
  assert.equal(run.status, 'failed', seen);
  assert.equal(run.exitCode, 137, seen);
  assert.match(run.statusReason ?? '', /OOM-killed/);
  assert.equal(log.filter((line) => line === 'system: failed: OOM-killed: the run used more memory than its limit').length, 1, seen);
});

void test('cancel sends SIGTERM first: a run that handles it ends on its own and is cancelled', async (t) => {
  await requireDocker();
  const root = workspace(t, { 'README': 'x' });
  const service = openService(t, root, { cancelGraceMs: 60_000 });
  const idRef: { current?: string } = {};
  const ready = logLine(service, () => idRef.current, /^ready$/);
  const plan = await planCommand({
    workspaceRoot: root,
    command: "trap 'echo got TERM; exit 143' TERM; echo ready; while true; do sleep 0.1; done",
    environment: null,
  });
  // Docker, not the host: the command names no environment, so give it the busybox image directly.
  const dockerPlan = { ...plan, environment: { name: 'box', spec: { docker: { image: BUSYBOX } }, baseDir: root } };
  const id = (idRef.current = await service.submit(dockerPlan));
  await ready;
  assert.equal(await service.cancel(id), 'running', 'it is still running while it shuts down');
  const run = await service.finished(id);
  assert.equal(run.status, 'cancelled');
  assert.equal(run.exitCode, 143, 'it exited by its own handler, well within the grace period');
  const log = await service.store.readLog(id);
  assert.ok(log.some((entry) => entry.text === 'got TERM'));
});

void test('cancel kills a run that ignores SIGTERM once the grace period is over', async (t) => {
  await requireDocker();
  const root = workspace(t, { 'README': 'x' });
  const service = openService(t, root, { cancelGraceMs: 1_000 });
  const idRef: { current?: string } = {};
  const ready = logLine(service, () => idRef.current, /^ready$/);
  const plan = await planCommand({ workspaceRoot: root, command: "trap '' TERM; echo ready; while true; do sleep 0.1; done", environment: null });
  const id = (idRef.current = await service.submit({ ...plan, environment: { name: 'box', spec: { docker: { image: BUSYBOX } }, baseDir: root } }));
  await ready;
  await service.cancel(id);
  const run = await service.finished(id);
  assert.equal(run.status, 'cancelled');
  assert.equal(run.exitCode, 137, 'SIGKILL after the grace period');
});

void test('beyond the concurrency limit runs wait queued, and the highest priority starts first', async (t) => {
  await requireDocker();
  const root = workspace(t, { 'README': 'x' });
  const service = openService(t, root, { cpuSlots: 1 });
  const box = { name: 'box', spec: { docker: { image: BUSYBOX } }, baseDir: root };
  const plan = async (command: string, priority: number) => ({
    ...(await planCommand({ workspaceRoot: root, command, environment: null, priority })),
    environment: box,
  });
  const blockerIdRef: { current?: string } = {};
  const blocking = logLine(service, () => blockerIdRef.current, /^waiting$/);
  const blockerId = (blockerIdRef.current = await service.submit(await plan('echo waiting; until [ -f /mlw/go ]; do sleep 0.05; done', 0)));
  await blocking;
  const low = await service.submit(await plan('echo low', 0));
  const high = await service.submit(await plan('echo high', 5));
  assert.equal((await service.get(low)).status, 'queued');
  assert.equal((await service.get(high)).status, 'queued');
  writeFileSync(join(runDirs(root, blockerId).mlw, 'go'), '');
  const [lowRun, highRun] = await Promise.all([service.finished(low), service.finished(high)]);
  assert.equal(lowRun.status, 'succeeded');
  assert.equal(highRun.status, 'succeeded');
  assert.ok(highRun.endedAt! <= lowRun.startedAt!, 'the high-priority run ran first, and alone');
});

void test('metric points are recorded and announced while the run is still going', async (t) => {
  await requireDocker();
  const root = workspace(t, { 'README': 'x' });
  const service = openService(t, root);
  const idRef: { current?: string } = {};
  const seen = new Promise<void>((resolve) => {
    service.on('metric', (runId, points) => {
      if (runId === idRef.current && points.some((point) => point.name === 'loss' && point.step === 2)) resolve();
    });
  });
  const plan = await planCommand({
    workspaceRoot: root,
    command:
      'for s in 0 1 2; do echo "{\\"step\\": $s, \\"loss\\": 1.$s}" >> $MLW_METRICS; done; until [ -f /mlw/go ]; do sleep 0.05; done; echo \'{"loss": 0.01}\' >> $MLW_METRICS',
    environment: null,
  });
  const id = (idRef.current = await service.submit({ ...plan, environment: { name: 'box', spec: { docker: { image: BUSYBOX } }, baseDir: root } }));
  await seen;
  assert.equal((await service.get(id)).status, 'running', 'the points arrived before the run ended');
  assert.deepEqual((await service.get(id)).latestMetrics, { loss: { step: 2, value: 1.2 } });
  writeFileSync(join(runDirs(root, id).mlw, 'go'), '');
  const run = await service.finished(id);
  assert.equal(run.status, 'succeeded');
  assert.deepEqual(run.latestMetrics, { loss: { step: 3, value: 0.01 } }, 'a line without a step continues the series');
});

void test('100 containers that exit at once: no exit code and no log line is lost', async (t) => {
  await requireDocker();
  const root = workspace(t, { 'README': 'x' });
  const service = openService(t, root, { cpuSlots: 8 });
  const box = { name: 'box', spec: { docker: { image: BUSYBOX } }, baseDir: root };
  const ids: string[] = [];
  for (let i = 0; i < 100; i++) {
    const plan = await planCommand({ workspaceRoot: root, command: `echo run-${i}; exit ${i % 7}`, environment: null });
    ids.push(await service.submit({ ...plan, environment: box }));
  }
  const runs = await Promise.all(ids.map((id) => service.finished(id)));
  for (const [i, run] of runs.entries()) {
    assert.equal(run.exitCode, i % 7, `run ${i}: exit code`);
    assert.equal(run.status, i % 7 === 0 ? 'succeeded' : 'failed', `run ${i}: status`);
    const log = await service.store.readLog(run.id);
    assert.ok(
      log.some((entry) => entry.stream === 'stdout' && entry.text === `run-${i}`),
      `run ${i}: its one line of output`,
    );
  }
  const docker = await requireDocker();
  const left = await docker.listContainers({ all: true, filters: { label: [`mlw.workspace=${root}`] } });
  assert.equal(left.length, 0, 'every container was removed after its exit was recorded');
});
