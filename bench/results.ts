/**
 * Issue 8 benchmark: pushing and pulling 1,000 run records (each with params and three metric
 * series) through a bare git remote on the same disk, as whole `mlw push` / `mlw pull` commands.
 * Target: ≤ 5 s each way. Floor for comparison: `git push` / `git fetch` of the same 1,000 refs
 * once they exist (what git itself costs). Needs a built dist/. Run: npx tsx bench/results.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openSqliteRunStore } from '../agent/src/runs/store-sqlite';

const MLW = resolve(import.meta.dirname, '..', 'bin', 'mlw.js');
const COUNT = 1_000;
const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'b',
  GIT_AUTHOR_EMAIL: 'b@example.invalid',
  GIT_COMMITTER_NAME: 'b',
  GIT_COMMITTER_EMAIL: 'b@example.invalid',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: ENV });
}

function timed(cwd: string, command: string, args: readonly string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd, env: ENV, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function seed(root: string): Promise<void> {
  const store = openSqliteRunStore(join(root, '.mlw', 'runs.db'));
  const base = Date.parse('2026-11-01T00:00:00Z');
  for (let index = 0; index < COUNT; index++) {
    const id = `${index.toString(16).padStart(6, '0')}aa`;
    await store.create({
      id,
      name: `train@m${index % 5}`,
      task: `train@m${index % 5}`,
      dagFile: 'p.dag.yaml',
      dagRunId: null,
      command: 'python3 train.py',
      workdir: '',
      environment: null,
      executor: 'local',
      priority: 0,
      slotClass: 'cpu',
      params: { seed: String(index), lr: '0.01' },
      resources: {},
      outputs: [],
      gitCommit: 'a'.repeat(40),
      gitBranch: 'main',
      owner: 'bench:1',
      spec: { kind: 'bench' },
      createdAt: base + index * 1000,
    });
    await store.transition(id, 'running', { at: base + index * 1000 + 1 });
    await store.appendMetrics(
      id,
      ['loss', 'accuracy', 'f1'].flatMap((name) => [0, 1, 2, 3, 4].map((step) => ({ name, step, value: step / 5 }))),
      base,
    );
    await store.transition(id, 'succeeded', { at: base + index * 1000 + 2, exitCode: 0 });
  }
  await store.close();
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'mlw-bench-results-'));
  try {
    const origin = join(root, 'origin.git');
    git(root, 'init', '-q', '--bare', '-b', 'main', origin);
    const alice = join(root, 'alice');
    git(root, 'clone', '-q', origin, alice);
    git(alice, 'commit', '-q', '--allow-empty', '-m', 'start');
    git(alice, 'push', '-q', '-u', 'origin', 'main');
    const bob = join(root, 'bob');
    git(root, 'clone', '-q', origin, bob);
    await seed(alice);
    const push = timed(alice, process.execPath, [MLW, 'push']);
    const pull = timed(bob, process.execPath, [MLW, 'pull']);
    const listed = JSON.parse(
      execFileSync(process.execPath, [MLW, 'runs', 'list', '--json'], { cwd: bob, encoding: 'utf8' }),
    ) as unknown[];
    if (listed.length !== COUNT) throw new Error(`bob sees ${listed.length} runs, not ${COUNT}`);
    // git's own cost for the same refs: a fresh bare remote and a fresh clone.
    const origin2 = join(root, 'origin2.git');
    git(root, 'init', '-q', '--bare', origin2);
    const gitPush = timed(alice, 'git', ['push', '-q', origin2, 'refs/mlw/runs/*:refs/mlw/runs/*']);
    const carol = join(root, 'carol');
    git(root, 'init', '-q', carol);
    const gitFetch = timed(carol, 'git', ['fetch', '-q', origin2, 'refs/mlw/runs/*:refs/mlw/runs/*']);
    console.log(
      `push of ${COUNT} runs: mlw push ${push.toFixed(0)} ms (git push of the same refs ${gitPush.toFixed(0)} ms); target ≤ 5000`,
    );
    console.log(
      `pull of ${COUNT} runs: mlw pull ${pull.toFixed(0)} ms (git fetch of the same refs ${gitFetch.toFixed(0)} ms); target ≤ 5000`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
