/**
 * The runs service through the real agent (`mlw agent --stdio`, from the sources) over JSON-RPC:
 * start a run, see its log and metric notifications and its status change to succeeded; bad params
 * are answered with InvalidParams naming the field; an agent killed with SIGKILL mid-run is
 * replaced by one that re-attaches to the container and reports the run's end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import type { LogEntry, MetricPoint, RunSummary } from '../../../schemas/protocol/runs';
import { runDirs } from '../../../agent/src/runs/layout';
import { busyboxDag, requireDocker, workspace } from './helpers';

const repoRoot = join(__dirname, '..', '..', '..');
const tsxLoader = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

interface Agent {
  readonly process: ChildProcess;
  readonly connection: MessageConnection;
  readonly changes: RunSummary[];
  readonly logs: Map<string, LogEntry[]>;
  readonly metrics: Map<string, MetricPoint[]>;
  /** Resolves when a `mlw/runs/changed` notification matches. */
  changed(predicate: (run: RunSummary) => boolean): Promise<RunSummary>;
  /** Resolves when the run has logged this line. */
  logged(id: string, text: string): Promise<void>;
}

async function startAgent(t: { after: (fn: () => unknown) => void }, root: string): Promise<Agent> {
  const child = spawn(process.execPath, ['--import', tsxLoader, join(repoRoot, 'agent', 'src', 'main.ts'), 'agent', '--stdio'], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const changes: RunSummary[] = [];
  const waiters: { predicate: (run: RunSummary) => boolean; resolve: (run: RunSummary) => void }[] = [];
  const logs = new Map<string, LogEntry[]>();
  const metrics = new Map<string, MetricPoint[]>();
  connection.onNotification('mlw/runs/changed', (params: { id: string; run: RunSummary | null }) => {
    if (!params.run) return;
    changes.push(params.run);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(params.run)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(params.run);
      }
    }
  });
  const logWaiters: { id: string; text: string; resolve: () => void }[] = [];
  const hasLogged = (id: string, text: string) => logs.get(id)?.some((entry) => entry.text === text) ?? false;
  connection.onNotification('mlw/runs/log', (params: { id: string; entries: LogEntry[] }) => {
    logs.set(params.id, [...(logs.get(params.id) ?? []), ...params.entries]);
    for (const waiter of [...logWaiters]) {
      if (hasLogged(waiter.id, waiter.text)) {
        logWaiters.splice(logWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  connection.onNotification('mlw/runs/metric', (params: { id: string; points: MetricPoint[] }) => {
    metrics.set(params.id, [...(metrics.get(params.id) ?? []), ...params.points]);
  });
  const ready = new Promise<void>((resolve) => connection.onNotification('mlw/agent/ready', () => resolve()));
  connection.listen();
  t.after(() => {
    connection.dispose();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(root).href,
    workspaceFolders: [{ uri: pathToFileURL(root).href, name: 'ws' }],
    capabilities: {},
  });
  await connection.sendNotification('initialized', {});
  await ready;
  return {
    process: child,
    connection,
    changes,
    logs,
    metrics,
    changed: (predicate) => {
      const seen = changes.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    logged: (id, text) =>
      hasLogged(id, text) ? Promise.resolve() : new Promise((resolve) => logWaiters.push({ id, text, resolve })),
  };
}

void test('a run started over RPC streams its log and metrics as notifications and turns succeeded', async (t) => {
  await requireDocker();
  const root = workspace(t, {
    'pipe.dag.yaml': busyboxDag(`  train:
    run: |
      echo training
      echo '{"step": 0, "loss": 0.7}' >> $MLW_METRICS
      echo '{"step": 1, "loss": 0.3}' >> $MLW_METRICS
`),
  });
  const agent = await startAgent(t, root);
  const { ids } = (await agent.connection.sendRequest('mlw/runs/start', { task: 'train', dagFile: 'pipe.dag.yaml' })) as { ids: string[] };
  assert.equal(ids.length, 1);
  const id = ids[0]!;
  const done = await agent.changed((run) => run.id === id && run.status === 'succeeded');
  assert.deepEqual(done.latestMetrics, { loss: { step: 1, value: 0.3 } });
  assert.ok(agent.changes.some((run) => run.id === id && run.status === 'running'), 'it was announced running first');
  assert.ok(agent.logs.get(id)?.some((entry) => entry.text === 'training'));
  assert.deepEqual(
    agent.metrics.get(id)?.map((point) => point.step),
    [0, 1],
  );
  const listed = (await agent.connection.sendRequest('mlw/runs/list', {})) as RunSummary[];
  assert.deepEqual(listed.map((run) => run.id), [id]);
  const logs = (await agent.connection.sendRequest('mlw/runs/logs', { id: id.slice(0, 6) })) as { entries: LogEntry[]; status: string };
  assert.equal(logs.status, 'succeeded');
  await assert.rejects(agent.connection.sendRequest('mlw/runs/start', { command: 'true', task: 'train' }), /either task or command/);
  await assert.rejects(agent.connection.sendRequest('mlw/runs/get', { id: 'zz' }), /id: .*run id/);
});

void test('an agent killed with SIGKILL mid-run: the restarted agent re-attaches and reports the end', async (t) => {
  await requireDocker();
  const root = workspace(t, {
    'pipe.dag.yaml': busyboxDag(`  wait:
    run: echo started; until [ -f /mlw/go ]; do sleep 0.05; done; echo finished
`),
  });
  const first = await startAgent(t, root);
  const { ids } = (await first.connection.sendRequest('mlw/runs/start', { task: 'wait', dagFile: 'pipe.dag.yaml' })) as { ids: string[] };
  const id = ids[0]!;
  await first.logged(id, 'started');
  const exited = once(first.process, 'exit');
  first.process.kill('SIGKILL');
  await exited;

  const second = await startAgent(t, root);
  writeFileSync(join(runDirs(root, id).mlw, 'go'), '');
  const done = await second.changed((run) => run.id === id && run.status !== 'running' && run.status !== 'queued');
  assert.equal(done.status, 'succeeded');
  const log = (await second.connection.sendRequest('mlw/runs/logs', { id })) as { entries: LogEntry[] };
  assert.deepEqual(
    log.entries.filter((entry) => entry.stream === 'stdout').map((entry) => entry.text),
    ['started', 'finished'],
  );
});
