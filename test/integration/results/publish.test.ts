/**
 * Two clones of one bare origin act as teammates, through the built `mlw` CLI: A runs and pushes,
 * B pulls and sees A's runs with the same metrics; nothing is pushed twice; a push to a dead remote
 * publishes nothing and a second push completes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MLW = resolve(__dirname, '..', '..', '..', 'bin', 'mlw.js');
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Ada',
  GIT_AUTHOR_EMAIL: 'ada@example.invalid',
  GIT_COMMITTER_NAME: 'Ada',
  GIT_COMMITTER_EMAIL: 'ada@example.invalid',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } });
}

function mlw(cwd: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MLW, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...GIT_ENV },
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function teammates(t: { after: (fn: () => void) => void }): { origin: string; alice: string; bob: string } {
  const root = mkdtempSync(join(tmpdir(), 'mlw-results-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const origin = join(root, 'origin.git');
  git(root, 'init', '-q', '--bare', '-b', 'main', origin);
  const alice = join(root, 'alice');
  git(root, 'clone', '-q', origin, alice);
  git(alice, 'config', 'user.name', 'Alice');
  git(alice, 'config', 'user.email', 'alice@example.invalid');
  writeFileSync(
    join(alice, 'train.sh'),
    'echo "{\\"step\\": 1, \\"accuracy\\": 0.91}" >> "$MLW_METRICS"\necho trained\n',
  );
  git(alice, 'add', '-A');
  git(alice, 'commit', '-q', '-m', 'training script');
  git(alice, 'push', '-q', '-u', 'origin', 'main');
  const bob = join(root, 'bob');
  git(root, 'clone', '-q', origin, bob);
  return { origin, alice, bob };
}

void test('A runs and pushes; B pulls and sees the same runs and metrics; nothing is pushed twice', async (t) => {
  const { alice, bob } = teammates(t);
  for (let index = 0; index < 2; index++) {
    const run = mlw(alice, 'run', '--cmd', 'sh train.sh');
    assert.equal(run.code, 0, run.stderr);
  }
  const aliceRuns = JSON.parse(mlw(alice, 'runs', 'list', '--json').stdout) as {
    id: string;
    latestMetrics: Record<string, unknown>;
  }[];
  assert.equal(aliceRuns.length, 2);

  const pushed = mlw(alice, 'push', '--json');
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.deepEqual(
    (JSON.parse(pushed.stdout) as { published: string[] }).published.sort(),
    aliceRuns.map((run) => run.id).sort(),
  );
  const again = JSON.parse(mlw(alice, 'push', '--json').stdout) as { published: string[]; recorded: string[] };
  assert.deepEqual(
    again,
    { remote: 'origin', recorded: [], published: [], models: [], unpushedCommits: [], artifacts: { remote: null, transferred: 0, skipped: 0, bytes: 0, localOnly: null } },
    'a second push publishes nothing',
  );

  const pulled = mlw(bob, 'pull', '--json');
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.equal((JSON.parse(pulled.stdout) as { imported: string[] }).imported.length, 2);
  const bobRuns = JSON.parse(mlw(bob, 'runs', 'list', '--json').stdout) as {
    id: string;
    tags: string[];
    latestMetrics: Record<string, unknown>;
    status: string;
  }[];
  assert.deepEqual(bobRuns.map((run) => run.id).sort(), aliceRuns.map((run) => run.id).sort());
  for (const run of bobRuns) {
    assert.equal(run.status, 'succeeded');
    assert.ok(run.tags.includes('remote'));
    assert.deepEqual(run.latestMetrics, { accuracy: { step: 1, value: 0.91 } });
  }
  const shown = JSON.parse(mlw(bob, 'runs', 'show', bobRuns[0]!.id, '--json').stdout) as {
    gitCommit: string;
    command: string;
  };
  assert.equal(shown.gitCommit, git(alice, 'rev-parse', 'HEAD').trim(), 'the commit it ran at travels with it');
  assert.equal(shown.command, 'sh train.sh');
  assert.equal(
    (JSON.parse(mlw(bob, 'pull', '--json').stdout) as { imported: string[] }).imported.length,
    0,
    'a second pull adds nothing',
  );
});

void test('a push to an unreachable remote publishes nothing, says so, and the next push completes it', async (t) => {
  const { origin, alice, bob } = teammates(t);
  assert.equal(mlw(alice, 'run', '--cmd', 'sh train.sh').code, 0);
  git(alice, 'remote', 'set-url', 'origin', join(origin, '..', 'gone.git'));
  const failed = mlw(alice, 'push');
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /cannot reach the git remote origin|nothing was published/);
  assert.equal(git(origin, 'for-each-ref', 'refs/mlw/runs/').trim(), '', 'the origin holds no run ref');
  git(alice, 'remote', 'set-url', 'origin', origin);
  const completed = mlw(alice, 'push', '--json');
  assert.equal(completed.code, 0, completed.stderr);
  assert.equal((JSON.parse(completed.stdout) as { published: string[] }).published.length, 1);
  assert.equal((JSON.parse(mlw(bob, 'pull', '--json').stdout) as { imported: string[] }).imported.length, 1);
});

void test('push names a remote that does not exist', async (t) => {
  const { alice } = teammates(t);
  const noRemote = mlw(alice, 'push', '--remote', 'nope');
  assert.equal(noRemote.code, 1);
  assert.match(noRemote.stderr, /no git remote named nope/);
});
