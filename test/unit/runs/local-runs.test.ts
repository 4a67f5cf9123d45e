/**
 * Runs in the host environment (`local: true`): real processes, a real git workspace and store,
 * no Docker. Outputs reach the workspace only on success; cancel reaches the process group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEntry } from '../../../schemas/protocol/runs';
import { planTask } from '../../../agent/src/runs/launch';
import { openService, workspace } from '../../integration/runs/helpers';

const DAG = `version: 1
params:
  rows: 3
environments:
  host:
    local: true
defaults:
  environment: host
tasks:
  make:
    run: |
      mkdir -p out
      for i in $(seq 1 \${params.rows}); do echo "row $i" >> out/table.txt; done
      echo "{\\"step\\": 1, \\"rows\\": $MLW_PARAM_ROWS}" >> "$MLW_METRICS"
      cat data/input.txt
    inputs: [data/input.txt]
    outputs: [out/]
  fail:
    run: mkdir -p out && echo partial > out/table.txt && exit 5
    outputs: [out/]
  wait:
    run: trap 'echo got TERM; exit 143' TERM; echo ready; while true; do sleep 0.1; done
`;

void test('a local run succeeds: its folder output replaces the previous one whole, metrics and inputs are recorded', async (t) => {
  const root = workspace(t, { 'pipe.dag.yaml': DAG, '.gitignore': 'data/\nout/\n' });
  mkdirSync(join(root, 'data'));
  writeFileSync(join(root, 'data/input.txt'), 'from the workspace, not git\n');
  mkdirSync(join(root, 'out'));
  writeFileSync(join(root, 'out/stale.txt'), 'from an earlier run\n');
  const service = openService(t, root);
  const [plan] = await planTask({ workspaceRoot: root, dagFile: 'pipe.dag.yaml', task: 'make', params: { rows: '2' } });
  const run = await service.finished(await service.submit(plan!));
  assert.equal(run.status, 'succeeded', run.statusReason ?? '');
  assert.equal(run.executor, 'local');
  assert.equal(readFileSync(join(root, 'out/table.txt'), 'utf8'), 'row 1\nrow 2\n');
  assert.equal(existsSync(join(root, 'out/stale.txt')), false, 'the output folder is the run’s, whole');
  assert.deepEqual(run.latestMetrics, { rows: { step: 1, value: 2 } });
  assert.deepEqual(run.inputs.map((input) => input.path), ['data/input.txt']);
  const log = await service.store.readLog(run.id);
  assert.ok(log.some((entry) => entry.text === 'from the workspace, not git'), 'an input git does not hold is linked in');
});

void test('a failed local run leaves the previous outputs as they were', async (t) => {
  const root = workspace(t, { 'pipe.dag.yaml': DAG, '.gitignore': 'out/\n' });
  mkdirSync(join(root, 'out'));
  writeFileSync(join(root, 'out/table.txt'), 'previous\n');
  const service = openService(t, root);
  const [plan] = await planTask({ workspaceRoot: root, dagFile: 'pipe.dag.yaml', task: 'fail' });
  const run = await service.finished(await service.submit(plan!));
  assert.equal(run.status, 'failed');
  assert.equal(run.exitCode, 5);
  assert.equal(readFileSync(join(root, 'out/table.txt'), 'utf8'), 'previous\n');
});

void test('cancelling a local run sends SIGTERM to its process group, and it ends cancelled', async (t) => {
  const root = workspace(t, { 'pipe.dag.yaml': DAG });
  const service = openService(t, root, { cancelGraceMs: 60_000 });
  const idRef: { current?: string } = {};
  const ready = new Promise<void>((resolve) =>
    service.on('log', (runId: string, entries: LogEntry[]) => {
      if (runId === idRef.current && entries.some((entry) => entry.text === 'ready')) resolve();
    }),
  );
  const [plan] = await planTask({ workspaceRoot: root, dagFile: 'pipe.dag.yaml', task: 'wait' });
  const id = (idRef.current = await service.submit(plan!));
  await ready;
  await service.cancel(id.slice(0, 6));
  const run = await service.finished(id);
  assert.equal(run.status, 'cancelled');
  assert.equal(run.exitCode, 143);
  assert.ok((await service.store.readLog(id)).some((entry) => entry.text === 'got TERM'));
});

void test('a queued run can be cancelled before it starts, and a finished one deleted; a running one cannot be', async (t) => {
  const root = workspace(t, { 'pipe.dag.yaml': DAG });
  const service = openService(t, root, { cpuSlots: 1, cancelGraceMs: 60_000 });
  const firstRef: { current?: string } = {};
  const ready = new Promise<void>((resolve) =>
    service.on('log', (runId: string, entries: LogEntry[]) => {
      if (runId === firstRef.current && entries.some((entry) => entry.text === 'ready')) resolve();
    }),
  );
  const [wait] = await planTask({ workspaceRoot: root, dagFile: 'pipe.dag.yaml', task: 'wait' });
  const first = (firstRef.current = await service.submit(wait!));
  await ready;
  const second = await service.submit(wait!);
  assert.equal(await service.cancel(second), 'cancelled');
  assert.equal((await service.get(second)).statusReason, 'cancelled before it started');
  await assert.rejects(service.delete(first), /is running: cancel it first/);
  await service.cancel(first);
  await service.finished(first);
  await service.delete(first);
  await assert.rejects(service.get(first), /no run/);
});
