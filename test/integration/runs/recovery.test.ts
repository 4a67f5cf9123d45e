/**
 * Recovery: the process supervising a run is killed with SIGKILL mid-run; the next one re-attaches
 * to the labelled container (or finishes it from its exit state, or marks it lost when it is gone),
 * and removes containers no run owns. No run stays "running" forever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { runDirs } from '../../../agent/src/runs/layout';
import { BUSYBOX, busyboxDag, openService, requireDocker, workspace } from './helpers';

const repoRoot = join(__dirname, '..', '..', '..');
const mainEntry = join(repoRoot, 'agent', 'src', 'main.ts');
// The workspace is a temp dir where `--import tsx` would not resolve: name the loader by path.
const tsxLoader = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** `mlw run --cmd …` from the sources, as the supervising process; resolves once `line` is printed. */
async function supervisorPrinting(root: string, command: string, line: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', tsxLoader, mainEntry, 'run', '--cmd', command, '--env', 'box'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout! });
  const printed = new Promise<void>((resolve) => lines.on('line', (text) => text === line && resolve()));
  const first = await Promise.race([printed.then(() => 'printed' as const), exited.then(() => 'exited' as const)]);
  if (first === 'exited') throw new Error(`the supervisor exited before printing ${line}: ${stderr.join('')}`);
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

const WAIT_FOR_GO = 'echo tick 1; until [ -f /mlw/go ]; do sleep 0.05; done; echo tick 2; echo \'{"step": 1, "acc": 0.5}\' >> $MLW_METRICS; exit 4';

void test('a supervisor killed with SIGKILL mid-run: the next process re-attaches and records the rest', async (t) => {
  await requireDocker();
  const root = workspace(t, { 'pipe.dag.yaml': busyboxDag('  noop:\n    run: "true"\n') });
  const child = await supervisorPrinting(root, WAIT_FOR_GO, 'tick 1');
  await kill(child);

  const service = openService(t, root);
  const [running] = await service.list({ status: ['running'] });
  assert.ok(running, 'the run is still recorded as running after the kill');
  const report = await service.recover();
  assert.deepEqual(report.adopted, [running.id]);
  writeFileSync(join(runDirs(root, running.id).mlw, 'go'), '');
  const run = await service.finished(running.id);
  assert.equal(run.status, 'failed');
  assert.equal(run.exitCode, 4);
  const texts = (await service.store.readLog(run.id)).filter((entry) => entry.stream === 'stdout').map((entry) => entry.text);
  assert.deepEqual(texts, ['tick 1', 'tick 2'], 'every line exactly once across the re-attach');
  assert.deepEqual(run.latestMetrics, { acc: { step: 1, value: 0.5 } });
});

void test('a container that exited while no supervisor lived is finished from its exit state', async (t) => {
  const docker = await requireDocker();
  const root = workspace(t, { 'pipe.dag.yaml': busyboxDag('  noop:\n    run: "true"\n') });
  const child = await supervisorPrinting(root, WAIT_FOR_GO, 'tick 1');
  await kill(child);

  const service = openService(t, root);
  const [running] = await service.list({ status: ['running'] });
  const record = await service.get(running!.id);
  writeFileSync(join(runDirs(root, record.id).mlw, 'go'), '');
  await docker.getContainer(record.containerId!).wait();

  await service.recover();
  const run = await service.finished(record.id);
  assert.equal(run.status, 'failed');
  assert.equal(run.exitCode, 4, 'the exit code survived: the container was not auto-removed');
  const texts = (await service.store.readLog(run.id)).filter((entry) => entry.stream === 'stdout').map((entry) => entry.text);
  assert.deepEqual(texts, ['tick 1', 'tick 2']);
});

void test('a run whose container vanished while no supervisor lived is marked lost', async (t) => {
  const docker = await requireDocker();
  const root = workspace(t, { 'pipe.dag.yaml': busyboxDag('  noop:\n    run: "true"\n') });
  const child = await supervisorPrinting(root, WAIT_FOR_GO, 'tick 1');
  await kill(child);

  const service = openService(t, root);
  const [running] = await service.list({ status: ['running'] });
  const record = await service.get(running!.id);
  await docker.getContainer(record.containerId!).remove({ force: true });
  const report = await service.recover();
  assert.deepEqual(report.lost, [record.id]);
  const run = await service.get(record.id);
  assert.equal(run.status, 'lost');
  assert.match(run.statusReason ?? '', /container is gone/);
});

void test('a queued run whose process died is marked lost, and containers no run owns are removed', async (t) => {
  const docker = await requireDocker();
  const root = workspace(t, { README: 'x' });
  const service = openService(t, root);
  const deadOwner = `${hostname()}:${2 ** 22 + 12345}`;
  await service.store.create({
    id: 'deadbeef0001',
    name: 'orphan',
    task: null,
    dagFile: null,
    dagRunId: null,
    command: 'true',
    workdir: '',
    environment: null,
    executor: 'docker',
    priority: 0,
    slotClass: 'cpu',
    params: {},
    resources: {},
    outputs: [],
    gitCommit: null,
    gitBranch: null,
    owner: deadOwner,
    spec: null,
    createdAt: Date.now(),
  });
  const stray = await docker.createContainer({
    Image: BUSYBOX,
    Cmd: ['true'],
    Labels: { 'mlw.run': 'feedface0001', 'mlw.workspace': root },
    HostConfig: { NetworkMode: 'none' },
  });
  const report = await service.recover();
  assert.deepEqual(report.lost, ['deadbeef0001']);
  assert.deepEqual(report.removedContainers, [stray.id]);
  assert.equal((await service.get('deadbeef0001')).status, 'lost');
  await assert.rejects(docker.getContainer(stray.id).inspect(), /no such container/i);
});
