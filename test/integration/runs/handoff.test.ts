/**
 * `mlw run` handed to a resident agent (`mlw agent --serve`) through the built bin/mlw.js, against
 * the real Docker Engine: the same output and exit code as in-process, Ctrl-C cancels, what the
 * agent declines (a host run) or an agent that is gone falls back to running in-process, and
 * nothing is handed to a socket folder other users could reach.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { handOffSocketPath } from '../../../agent/src/runs/handoff-socket';
import { startBuiltAgent, stopAgent } from '../lsp/agent-process';
import { busyboxDag, openService, requireDocker, workspace } from './helpers';

const repoRoot = join(__dirname, '..', '..', '..');
const mlw = join(repoRoot, 'bin', 'mlw.js');

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A private folder for the hand-off sockets, as $XDG_RUNTIME_DIR (so tests never meet a user's agent). */
function runtimeDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlw-handoff-rt-'));
  chmodSync(dir, 0o700);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function mlwProcess(root: string, runtime: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [mlw, ...args], {
    cwd: root,
    env: { ...process.env, XDG_RUNTIME_DIR: runtime, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** `mlw agent --serve` in `root`; resolves once it says it serves, with a way to read its log. */
async function residentAgent(t: { after: (fn: () => Promise<void>) => void }, root: string, runtime: string): Promise<{ child: ChildProcess; log: () => string }> {
  const child = mlwProcess(root, runtime, ['agent', '--serve']);
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  const lines = createInterface({ input: child.stdout! });
  const serving = new Promise<void>((resolve) => lines.on('line', (line) => line.startsWith('mlw agent: serving') && resolve()));
  const first = await Promise.race([serving.then(() => 'serving' as const), exited.then(() => 'exited' as const)]);
  if (first === 'exited') throw new Error(`mlw agent --serve exited: ${log}`);
  return { child, log: () => log };
}

const dag = busyboxDag('  noop:\n    run: "true"\n');

void test('a resident agent runs `mlw run` as the CLI would in-process: same output, same exit code, recorded', async (t) => {
  await requireDocker();
  const root = workspace(t, { 'pipe.dag.yaml': dag });
  const runtime = runtimeDir(t);
  const agent = await residentAgent(t, root, runtime);
  const command = ['run', '--cmd', 'echo out-line; echo err-line >&2; exit 3', '--env', 'box'];

  const handed = await finished(mlwProcess(root, runtime, command));
  const inProcess = await finished(mlwProcess(root, runtime, command, { MLW_NO_HAND_OFF: '1' }));

  assert.match(agent.log(), /handed-off `mlw run --cmd echo out-line; echo err-line >&2; exit 3 --env box` exited 1/);
  assert.equal(handed.code, 1);
  assert.equal(handed.code, inProcess.code);
  const logLines = (output: string) => output.split('\n').filter((line) => line.includes('-line')).sort();
  assert.deepEqual(logLines(handed.stdout), ['err-line', 'out-line']);
  assert.deepEqual(logLines(handed.stdout), logLines(inProcess.stdout));
  assert.match(handed.stderr, /failed \(3\) — exit code 3/);
  assert.match(handed.stderr, /1 of 1 run did not succeed: see `mlw runs logs [0-9a-f]+`/);

  const service = openService(t, root);
  const runs = await service.list({});
  assert.equal(runs.length, 2);
  for (const run of runs) assert.equal(run.status, 'failed');
});

void test('Ctrl-C on a handed-off run cancels it in the agent', async (t) => {
  await requireDocker();
  const root = workspace(t, { 'pipe.dag.yaml': dag });
  const runtime = runtimeDir(t);
  const agent = await residentAgent(t, root, runtime);
  const client = mlwProcess(root, runtime, ['run', '--cmd', 'echo started; sleep 60', '--env', 'box']);
  const result = finished(client);
  const lines = createInterface({ input: client.stdout! });
  await new Promise<void>((resolve) => lines.on('line', (line) => line === 'started' && resolve()));
  client.kill('SIGINT');
  const { code, stderr } = await result;
  assert.equal(code, 1);
  assert.match(stderr, /mlw: cancelling/);
  assert.match(stderr, /: cancelled/);
  assert.match(agent.log(), /handed-off `mlw run --cmd echo started; sleep 60 --env box` exited 1/);
});

void test('what the agent declines (a run on the host) and an agent that is gone both run in-process', async (t) => {
  await requireDocker();
  const root = workspace(t, { 'pipe.dag.yaml': dag });
  const runtime = runtimeDir(t);
  const agent = await residentAgent(t, root, runtime);

  const host = await finished(mlwProcess(root, runtime, ['run', '--cmd', 'echo on-the-host']));
  assert.equal(host.code, 0, host.stderr);
  assert.match(host.stdout, /on-the-host/);
  assert.match(agent.log(), /handed-off `mlw run --cmd echo on-the-host` was declined/);

  // Killed without a chance to remove its socket: the client finds no one answering.
  const socket = handOffSocketPath(root, join(runtime, 'mlw'));
  assert.ok(existsSync(socket));
  const exited = once(agent.child, 'exit');
  agent.child.kill('SIGKILL');
  await exited;
  const after = await finished(mlwProcess(root, runtime, ['run', '--cmd', 'echo in-process', '--env', 'box']));
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stdout, /in-process/);

  // A new agent replaces the dead one's socket and serves again.
  const second = await residentAgent(t, root, runtime);
  const again = await finished(mlwProcess(root, runtime, ['run', '--cmd', 'true', '--env', 'box']));
  assert.equal(again.code, 0, again.stderr);
  assert.match(second.log(), /handed-off `mlw run --cmd true --env box` exited 0/);
  second.child.kill('SIGTERM');
  await once(second.child, 'exit');
  assert.equal(existsSync(socket), false, 'a stopped agent removes its socket');
});

void test('the editor\'s agent takes `mlw run` from the terminal only in a trusted workspace', async (t) => {
  await requireDocker();
  for (const workspaceTrusted of [true, false]) {
    const root = workspace(t, { 'pipe.dag.yaml': dag });
    const runtime = runtimeDir(t);
    const agent = await startBuiltAgent(t, root, { initializationOptions: { workspaceTrusted }, env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
    const socket = handOffSocketPath(root, join(runtime, 'mlw'));
    if (workspaceTrusted) while (!existsSync(socket)) await delay(20);
    const result = await finished(mlwProcess(root, runtime, ['run', '--cmd', 'true', '--env', 'box']));
    assert.equal(result.code, 0, result.stderr);
    const service = openService(t, root);
    const [summary] = await service.list({});
    const run = await service.get(summary!.id);
    assert.equal(run.owner === `${hostname()}:${agent.ready.pid}`, workspaceTrusted, `run owned by ${run.owner}, agent pid ${agent.ready.pid}`);
    assert.equal(existsSync(socket), workspaceTrusted);
    await stopAgent(agent);
    assert.equal(existsSync(socket), false, 'the agent removes its socket when the editor ends it');
  }
});

void test('no hand-off through a socket folder that other users can enter', async (t) => {
  const root = workspace(t, { 'pipe.dag.yaml': dag });
  const runtime = runtimeDir(t);
  mkdirSync(join(runtime, 'mlw'), { mode: 0o755 });
  chmodSync(join(runtime, 'mlw'), 0o755);
  const refused = await finished(mlwProcess(root, runtime, ['agent', '--serve']));
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /can be entered by other users \(mode 755\)/);
});
