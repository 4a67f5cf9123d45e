/**
 * "Push results" and "Pull team runs" as the Runs view sends them: mlw/results/push and
 * mlw/results/pull to the real agent (`mlw agent --stdio`, from the sources) of two clones of one
 * bare origin. Alice's agent pushes her finished run; Bob's agent pulls it, announces it with
 * mlw/runs/changed (tagged remote, with its metrics) and lists it; params are checked by zod.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import type { RunSummary } from '../../../schemas/protocol/runs';

const repoRoot = resolve(__dirname, '..', '..', '..');
const tsxLoader = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const MLW = join(repoRoot, 'bin', 'mlw.js');
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Ada',
  GIT_AUTHOR_EMAIL: 'ada@example.invalid',
  GIT_COMMITTER_NAME: 'Ada',
  GIT_COMMITTER_EMAIL: 'ada@example.invalid',
};

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV } });
}

interface Agent {
  readonly connection: MessageConnection;
  /** Resolves with the first mlw/runs/changed summary (seen so far or later) that matches. */
  changed(predicate: (run: RunSummary) => boolean): Promise<RunSummary>;
}

async function startAgent(t: { after: (fn: () => unknown) => void }, root: string): Promise<Agent> {
  const child = spawn(
    process.execPath,
    ['--import', tsxLoader, join(repoRoot, 'agent', 'src', 'main.ts'), 'agent', '--stdio'],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ...GIT_ENV },
    },
  );
  const connection = createMessageConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  const seen: RunSummary[] = [];
  const waiters: { predicate: (run: RunSummary) => boolean; resolve: (run: RunSummary) => void }[] = [];
  connection.onNotification('mlw/runs/changed', (params: { run: RunSummary | null }) => {
    if (!params.run) return;
    seen.push(params.run);
    for (const waiter of waiters.filter((candidate) => candidate.predicate(params.run!))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(params.run);
    }
  });
  const ready = new Promise<void>((resolveReady) => connection.onNotification('mlw/agent/ready', () => resolveReady()));
  connection.listen();
  t.after(() => {
    connection.dispose();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const uri = pathToFileURL(root).href;
  await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: uri,
    workspaceFolders: [{ uri, name: 'ws' }],
    capabilities: {},
  });
  await connection.sendNotification('initialized', {});
  await ready;
  return {
    connection,
    changed: (predicate) => {
      const found = seen.find(predicate);
      return found
        ? Promise.resolve(found)
        : new Promise((resolveRun) => waiters.push({ predicate, resolve: resolveRun }));
    },
  };
}

void test('Push results from one clone, Pull team runs in another: the run arrives as a notification, marked remote', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mlw-results-rpc-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const origin = join(root, 'origin.git');
  git(root, 'init', '-q', '--bare', '-b', 'main', origin);
  const alice = join(root, 'alice');
  git(root, 'clone', '-q', origin, alice);
  writeFileSync(
    join(alice, 'train.sh'),
    'echo "{\\"step\\": 2, \\"accuracy\\": 0.93}" >> "$MLW_METRICS"\necho weights > "$MLW_OUTPUTS/model.bin"\n',
  );
  writeFileSync(join(alice, '.gitignore'), '.mlw/\n');
  git(alice, 'add', '-A');
  git(alice, 'commit', '-q', '-m', 'training script');
  git(alice, 'push', '-q', '-u', 'origin', 'main');
  const bob = join(root, 'bob');
  git(root, 'clone', '-q', origin, bob);

  const run = spawnSync(process.execPath, [MLW, 'run', '--cmd', 'sh train.sh'], {
    cwd: alice,
    encoding: 'utf8',
    env: { ...process.env, ...GIT_ENV },
  });
  assert.equal(run.status, 0, run.stderr);

  const aliceAgent = await startAgent(t, alice);
  const [aliceRun] = (await aliceAgent.connection.sendRequest('mlw/runs/list', {})) as RunSummary[];
  assert.ok(aliceRun);
  const pushed = (await aliceAgent.connection.sendRequest('mlw/results/push', {})) as {
    remote: string;
    published: string[];
  };
  assert.deepEqual(pushed.published, [aliceRun.id]);
  assert.equal(pushed.remote, 'origin');
  const again = (await aliceAgent.connection.sendRequest('mlw/results/push', { ids: [aliceRun.id] })) as {
    published: string[];
  };
  assert.deepEqual(again.published, [], 'nothing is pushed twice');
  await assert.rejects(
    aliceAgent.connection.sendRequest('mlw/results/push', { ids: ['not-an-id'] }),
    (error: unknown) => {
      assert.ok(error instanceof ResponseError);
      assert.match(error.message, /ids\.0/);
      return true;
    },
  );

  const bobAgent = await startAgent(t, bob);
  const announced = bobAgent.changed((summary) => summary.id === aliceRun.id && summary.tags.includes('remote'));
  const pulled = (await bobAgent.connection.sendRequest('mlw/results/pull', {})) as { imported: string[] };
  assert.deepEqual(pulled.imported, [aliceRun.id]);
  // The Runs view learns of pulled runs this way: the store's change, announced tagged remote.
  const summary = await announced;
  assert.equal(summary.status, 'succeeded');
  const listed = (await bobAgent.connection.sendRequest('mlw/runs/list', {})) as RunSummary[];
  const bobRun = listed.find((candidate) => candidate.id === aliceRun.id);
  assert.equal(bobRun?.status, 'succeeded');
  assert.deepEqual(bobRun?.latestMetrics, { accuracy: { step: 2, value: 0.93 } });

  // The Models group and Reproduce, as the Runs view asks for them.
  const promoted = (await bobAgent.connection.sendRequest('mlw/results/promoteModel', { id: aliceRun.id, name: 'acc' })) as {
    version: number;
    artifact: { path: string };
  };
  assert.deepEqual([promoted.version, promoted.artifact.path], [1, '$MLW_OUTPUTS/model.bin']);
  const { models } = (await bobAgent.connection.sendRequest('mlw/results/listModels', {})) as {
    models: { name: string; version: number; runId: string; metrics: Record<string, number> }[];
  };
  assert.deepEqual(
    models.map((model) => [model.name, model.version, model.runId, model.metrics]),
    [['acc', 1, aliceRun.id, { accuracy: 0.93 }]],
  );
  const reproduction = (await bobAgent.connection.sendRequest('mlw/results/reproduce', { id: aliceRun.id })) as { ids: string[] };
  assert.equal(reproduction.ids.length, 1);
  const finished = await bobAgent.changed(
    (candidate) => candidate.id === reproduction.ids[0] && candidate.status !== 'queued' && candidate.status !== 'running',
  );
  assert.equal(finished.status, 'succeeded');
  assert.deepEqual(finished.tags, [`reproduces=${aliceRun.id}`]);
  assert.deepEqual(finished.latestMetrics, { accuracy: { step: 2, value: 0.93 } });
});
