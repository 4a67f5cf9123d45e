/**
 * Teammates through the built `mlw` CLI, with a containerized task (the busybox test image on the
 * Docker Engine) and a directory data remote: A runs a task that reads a tracked dataset and writes
 * a model file and a metric, promotes it, pushes; B pulls and sees the run with the same metrics,
 * its artifact fetched by md5, the model versions; B reproduces the run and gets the same metric
 * and the same model bytes. A push interrupted by an unwritable data remote or by a refusing git
 * remote publishes nothing, and the next push completes it without sending anything twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUSYBOX, requireDocker } from '../runs/helpers';

const MLW = resolve(__dirname, '..', '..', '..', 'bin', 'mlw.js');
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Ada',
  GIT_AUTHOR_EMAIL: 'ada@example.invalid',
  GIT_COMMITTER_NAME: 'Ada',
  GIT_COMMITTER_EMAIL: 'ada@example.invalid',
};

interface Run {
  id: string;
  status: string;
  tags: string[];
  latestMetrics: Record<string, { value: number }>;
  artifacts: { path: string; md5: string }[];
  gitCommit: string;
  params: Record<string, string>;
}

interface Model {
  name: string;
  version: number;
  runId: string;
  artifact: { path: string; md5: string };
  metrics: Record<string, number>;
  promotedBy: string;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } });
}

function mlw(cwd: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MLW, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function mlwJson<T>(cwd: string, ...args: string[]): T {
  const result = mlw(cwd, ...args, '--json');
  assert.equal(result.code, 0, `mlw ${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

const md5 = (bytes: Buffer | string) => createHash('md5').update(bytes).digest('hex');
const cached = (root: string, id: string) => join(root, '.dvc', 'cache', 'files', 'md5', id.slice(0, 2), id.slice(2));

const DAG = `version: 1
environments:
  box:
    docker: { image: ${BUSYBOX} }
defaults:
  environment: box
params:
  scale: 2
tasks:
  train:
    run: |
      acc=$(cat data/score.txt)
      echo "weights scale=\${params.scale} score=$acc" > model.txt
      echo "{\\"step\\": 1, \\"accuracy\\": $acc}" >> $MLW_METRICS
    inputs: [data/score.txt]
    outputs: [model.txt]
`;

/** A bare origin, a directory data remote, and two clones; A has a tracked dataset pushed to the data remote. */
function team(t: { after: (fn: () => void) => void }): { root: string; origin: string; storage: string; alice: string; bob: string } {
  const root = mkdtempSync(join(tmpdir(), 'mlw-team-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const origin = join(root, 'origin.git');
  const storage = join(root, 'storage');
  git(root, 'init', '-q', '--bare', '-b', 'main', origin);
  const alice = join(root, 'alice');
  git(root, 'clone', '-q', origin, alice);
  git(alice, 'config', 'user.name', 'Alice');
  git(alice, 'config', 'user.email', 'alice@example.invalid');
  mkdirSync(join(alice, '.dvc'));
  writeFileSync(join(alice, '.dvc', 'config'), `[core]\n    remote = storage\n['remote "storage"']\n    url = ${storage}\n`);
  writeFileSync(join(alice, '.dvc', '.gitignore'), '/config.local\n/tmp\n/cache\n');
  mkdirSync(join(alice, 'data'));
  writeFileSync(join(alice, 'data', 'score.txt'), '0.87\n');
  writeFileSync(join(alice, 'train.dag.yaml'), DAG);
  const added = mlw(alice, 'data', 'add', 'data/score.txt');
  assert.equal(added.code, 0, added.stderr);
  assert.equal(mlw(alice, 'data', 'push').code, 0);
  git(alice, 'add', '-A');
  git(alice, 'commit', '-q', '-m', 'a task and its dataset');
  git(alice, 'push', '-q', '-u', 'origin', 'main');
  const bob = join(root, 'bob');
  git(root, 'clone', '-q', origin, bob);
  git(bob, 'config', 'user.name', 'Bob');
  git(bob, 'config', 'user.email', 'bob@example.invalid');
  return { root, origin, storage, alice, bob };
}

/** A's run of `train` with scale=3 and an uncommitted change to the task (another metric). */
function aliceTrains(alice: string): Run {
  writeFileSync(join(alice, 'train.dag.yaml'), DAG.replace('>> $MLW_METRICS\n', '>> $MLW_METRICS\n      echo \'{"step": 1, "epochs": 5}\' >> $MLW_METRICS\n'));
  const ran = mlwJson<{ runs: Run[] }>(alice, 'run', 'train', '-p', 'scale=3');
  assert.equal(ran.runs.length, 1);
  const run = ran.runs[0]!;
  assert.equal(run.status, 'succeeded');
  assert.deepEqual(
    Object.fromEntries(Object.entries(run.latestMetrics).map(([name, latest]) => [name, latest.value])),
    { accuracy: 0.87, epochs: 5 },
  );
  return run;
}

void test('A runs, promotes and pushes; B pulls the run, its artifact and the models, and reproduces the run', async (t) => {
  await requireDocker();
  const { storage, alice, bob } = team(t);
  const run = aliceTrains(alice);
  const model = run.artifacts.find((artifact) => artifact.path === 'model.txt')!;
  assert.equal(readFileSync(cached(alice, model.md5), 'utf8'), 'weights scale=3 score=0.87\n');

  const v1 = mlwJson<Model>(alice, 'models', 'promote', run.id, '--name', 'scorer');
  assert.equal(v1.version, 1);
  const pushed = mlwJson<{ published: string[]; models: string[]; artifacts: { remote: string; transferred: number } }>(alice, 'push');
  assert.deepEqual(pushed.published, [run.id]);
  assert.deepEqual(pushed.models, ['scorer v1']);
  assert.equal(pushed.artifacts.remote, 'storage');
  assert.equal(pushed.artifacts.transferred, 1, 'the model file went up once (the dataset was there already)');
  assert.ok(existsSync(join(storage, 'files', 'md5', model.md5.slice(0, 2), model.md5.slice(2))));
  const v2 = mlwJson<Model>(alice, 'models', 'promote', run.id, '--name', 'scorer', '--artifact', 'model.txt');
  assert.equal(v2.version, 2);
  const again = mlwJson<{ published: string[]; models: string[]; artifacts: { transferred: number } }>(alice, 'push');
  assert.deepEqual(again.published, []);
  assert.deepEqual(again.models, ['scorer v2']);
  assert.equal(again.artifacts.transferred, 0, 'nothing is uploaded twice');

  const pulled = mlwJson<{ imported: string[]; models: string[]; artifacts: { transferred: number; failed: unknown[] } }>(bob, 'pull');
  assert.deepEqual(pulled.imported, [run.id]);
  assert.deepEqual(pulled.models, ['scorer v1', 'scorer v2']);
  assert.deepEqual(pulled.artifacts.failed, []);
  assert.equal(md5(readFileSync(cached(bob, model.md5))), model.md5, "the run's artifact is in B's cache, verified");
  const seen = mlwJson<Run>(bob, 'runs', 'show', run.id);
  assert.ok(seen.tags.includes('remote'));
  assert.deepEqual(seen.latestMetrics, run.latestMetrics);
  const models = mlwJson<Model[]>(bob, 'models', 'list');
  assert.deepEqual(
    models.map((entry) => [entry.name, entry.version, entry.runId, entry.artifact.md5, entry.metrics['accuracy'], entry.promotedBy]),
    [
      ['scorer', 1, run.id, model.md5, 0.87, 'Alice <alice@example.invalid>'],
      ['scorer', 2, run.id, model.md5, 0.87, 'Alice <alice@example.invalid>'],
    ],
  );
  assert.ok(!existsSync(join(bob, 'data', 'score.txt')), "B has not pulled the dataset: the reproduction's worktree must");

  const reproduced = mlwJson<{ original: string; worktree: string; runs: { reproduction: string; status: string; metrics: unknown[] }[] }>(
    bob,
    'runs',
    'reproduce',
    run.id,
  );
  assert.equal(reproduced.runs.length, 1);
  const again1 = reproduced.runs[0]!;
  assert.equal(again1.status, 'succeeded');
  assert.deepEqual(again1.metrics, [
    { name: 'accuracy', original: 0.87, reproduction: 0.87 },
    { name: 'epochs', original: 5, reproduction: 5 },
  ]);
  const copy = mlwJson<Run>(bob, 'runs', 'show', again1.reproduction);
  assert.deepEqual(copy.tags, [`reproduces=${run.id}`]);
  assert.equal(copy.gitCommit, run.gitCommit);
  assert.equal(copy.params['scale'], '3');
  assert.equal(copy.artifacts.find((artifact) => artifact.path === 'model.txt')?.md5, model.md5, 'the same model bytes');
  assert.equal(readFileSync(join(reproduced.worktree, 'model.txt'), 'utf8'), 'weights scale=3 score=0.87\n');
  assert.ok(!existsSync(join(bob, 'model.txt')), "the reproduction's outputs stay in its worktree");

  const v3 = mlwJson<Model>(bob, 'models', 'promote', again1.reproduction, '--name', 'scorer');
  assert.equal(v3.version, 3, "B's next version follows the team's");
});

void test('reproduce refuses a run whose commit is not in the repository, and says to git fetch it', async (t) => {
  const { alice, bob } = team(t);
  writeFileSync(join(alice, 'note.txt'), 'later\n');
  git(alice, 'add', 'note.txt');
  git(alice, 'commit', '-q', '-m', 'a commit bob does not have');
  const ran = mlwJson<{ runs: Run[] }>(alice, 'run', '--cmd', 'echo \'{"step": 1, "accuracy": 0.5}\' >> "$MLW_METRICS"');
  const pushed = mlw(alice, 'push');
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.match(pushed.stderr, new RegExp(`origin has no branch with commit\\(s\\) ${ran.runs[0]!.gitCommit.slice(0, 12)} .*git push`));
  assert.equal(mlw(bob, 'pull').code, 0);
  const refused = mlw(bob, 'runs', 'reproduce', ran.runs[0]!.id);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`commit ${ran.runs[0]!.gitCommit}, which is not in this repository: \`git fetch\` it`));
  git(alice, 'push', '-q', 'origin', 'main');
  git(bob, 'fetch', '-q', 'origin', 'main');
  const reproduced = mlwJson<{ runs: { status: string; metrics: unknown[] }[] }>(bob, 'runs', 'reproduce', ran.runs[0]!.id);
  assert.deepEqual(reproduced.runs[0]!.metrics, [{ name: 'accuracy', original: 0.5, reproduction: 0.5 }]);
});

void test('a push whose data remote cannot be written publishes nothing; once writable, push again completes it', async (t) => {
  const { origin, storage, alice, bob } = team(t);
  const ran = mlwJson<{ runs: Run[] }>(alice, 'run', '--cmd', 'echo model > "$MLW_OUTPUTS/model.bin"');
  const artifact = ran.runs[0]!.artifacts[0]!;
  // The data remote's folder is a file for now: the upload fails (as root, chmod would not stop it).
  renameSync(storage, `${storage}.aside`);
  writeFileSync(storage, 'in the way\n');
  const failed = mlw(alice, 'push');
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /uploading run artifacts to the data remote storage failed .* no run was published, run `mlw push` again/);
  assert.equal(git(origin, 'for-each-ref', 'refs/mlw/').trim(), '', 'no run ref reached the origin');
  rmSync(storage);
  renameSync(`${storage}.aside`, storage);
  const completed = mlwJson<{ published: string[]; artifacts: { transferred: number } }>(alice, 'push');
  assert.deepEqual(completed.published, [ran.runs[0]!.id]);
  assert.equal(completed.artifacts.transferred, 1);
  mlwJson(bob, 'pull');
  assert.equal(md5(readFileSync(cached(bob, artifact.md5))), artifact.md5);
});

void test('a push the git remote refuses (pre-receive hook) publishes no ref; the next push completes it and uploads nothing twice', async (t) => {
  const { origin, alice, bob } = team(t);
  const ran = mlwJson<{ runs: Run[] }>(alice, 'run', '--cmd', 'echo model > "$MLW_OUTPUTS/model.bin"');
  mlwJson(alice, 'models', 'promote', ran.runs[0]!.id, '--name', 'tiny');
  const hook = join(origin, 'hooks', 'pre-receive');
  writeFileSync(hook, '#!/bin/sh\necho "refused by policy" >&2\nexit 1\n');
  chmodSync(hook, 0o755);
  const failed = mlw(alice, 'push');
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /nothing was published, run `mlw push` again .*refused by policy/s);
  assert.equal(git(origin, 'for-each-ref', 'refs/mlw/').trim(), '', 'neither the run nor the model reached the origin');
  rmSync(hook);
  const completed = mlwJson<{ published: string[]; models: string[]; artifacts: { transferred: number; skipped: number } }>(alice, 'push');
  assert.deepEqual(completed.published, [ran.runs[0]!.id]);
  assert.deepEqual(completed.models, ['tiny v1']);
  assert.deepEqual([completed.artifacts.transferred, completed.artifacts.skipped], [0, 1], 'the artifact went up the first time');
  const pulled = mlwJson<{ imported: string[]; models: string[] }>(bob, 'pull');
  assert.deepEqual([pulled.imported, pulled.models], [[ran.runs[0]!.id], ['tiny v1']]);
});

void test('without a data remote the records are pushed and the artifacts stay local, said on stderr and in --json; configured later, push uploads them', async (t) => {
  const { alice, bob } = team(t);
  writeFileSync(join(alice, '.dvc', 'config'), '');
  const ran = mlwJson<{ runs: Run[] }>(alice, 'run', '--cmd', 'echo model > "$MLW_OUTPUTS/model.bin"');
  const pushed = mlw(alice, 'push', '--json');
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.match(pushed.stderr, /artifacts not uploaded: .*names no default data remote.*dvc remote add -d storage URL/);
  const report = JSON.parse(pushed.stdout) as { published: string[]; artifacts: { remote: string | null; localOnly: string } };
  assert.deepEqual(report.published, [ran.runs[0]!.id]);
  assert.equal(report.artifacts.remote, null);
  assert.match(report.artifacts.localOnly, /stay in the local cache/);
  writeFileSync(join(bob, '.dvc', 'config'), '');
  const early = mlwJson<{ imported: string[]; artifacts: { localOnly: string | null } }>(bob, 'pull');
  assert.deepEqual(early.imported, [ran.runs[0]!.id]);
  assert.match(early.artifacts.localOnly ?? '', /names no default data remote/);
  git(bob, 'checkout', '--', '.dvc/config');

  // No .dvc/ at all (moved aside with its cache): the run's artifacts are kept in .mlw/cache.
  renameSync(join(alice, '.dvc'), join(alice, 'dvc-aside'));
  const later = mlwJson<{ runs: Run[] }>(alice, 'run', '--cmd', 'echo later > "$MLW_OUTPUTS/later.bin"').runs[0]!;
  const noDvc = mlw(alice, 'push', '--json');
  assert.equal(noDvc.code, 0, noDvc.stderr);
  assert.match(noDvc.stderr, /artifacts not uploaded: the workspace has no \.dvc folder, so run artifacts stay in \.mlw\/cache/);

  // The data remote configured: the next push uploads what was published without it, from either cache.
  renameSync(join(alice, 'dvc-aside'), join(alice, '.dvc'));
  git(alice, 'checkout', '--', '.dvc/config');
  const completed = mlwJson<{ published: string[]; artifacts: { remote: string; transferred: number } }>(alice, 'push');
  assert.deepEqual(completed.published, []);
  assert.deepEqual([completed.artifacts.remote, completed.artifacts.transferred], ['storage', 2]);
  const pulled = mlwJson<{ imported: string[]; artifacts: { transferred: number } }>(bob, 'pull');
  assert.deepEqual(pulled.imported, [later.id]);
  assert.equal(pulled.artifacts.transferred, 2, 'the artifact of the run pulled without a data remote comes now too');
  for (const artifact of [ran.runs[0]!.artifacts[0]!, later.artifacts[0]!]) {
    assert.equal(md5(readFileSync(cached(bob, artifact.md5))), artifact.md5);
  }
});

void test("a version promoted offline that clashes with a teammate's is named by pull, and promoting after pull numbers past it", async (t) => {
  const { origin, alice, bob } = team(t);
  const aliceRun = mlwJson<{ runs: Run[] }>(alice, 'run', '--cmd', 'echo a > "$MLW_OUTPUTS/m.bin"').runs[0]!;
  assert.equal(mlwJson<Model>(alice, 'models', 'promote', aliceRun.id, '--name', 'm').version, 1);
  mlwJson(alice, 'push');
  const bobRun = mlwJson<{ runs: Run[] }>(bob, 'run', '--cmd', 'echo b > "$MLW_OUTPUTS/m.bin"').runs[0]!;
  git(bob, 'remote', 'set-url', 'origin', join(origin, '..', 'offline.git'));
  assert.equal(mlwJson<Model>(bob, 'models', 'promote', bobRun.id, '--name', 'm').version, 1, 'offline: numbered from what is here');
  git(bob, 'remote', 'set-url', 'origin', origin);
  const clash = mlw(bob, 'pull');
  assert.equal(clash.code, 1);
  assert.match(clash.stderr, /m v1 here differs from the team's: it was promoted here and not pushed; `git update-ref -d refs\/mlw\/models\/m\/v1`/);
  git(bob, 'update-ref', '-d', 'refs/mlw/models/m/v1');
  mlwJson(bob, 'pull');
  assert.equal(mlwJson<Model>(bob, 'models', 'promote', bobRun.id, '--name', 'm').version, 2);
  assert.deepEqual(mlwJson<{ models: string[] }>(bob, 'push').models, ['m v2']);
});
