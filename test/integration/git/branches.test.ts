/**
 * Listing against real repositories: teammates with diverged histories (ahead/behind, upstream,
 * merged), remote-tracking branches, detached HEAD, an empty repository with no commits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listBranches } from '../../../agent/src/git/branches';
import { workingTreeStatus } from '../../../agent/src/git/repo';
import { commitFile, git, open, team, tempDir } from './helpers';

void test('teammates: ahead/behind, upstream, remote branches, current marker, merged into the default branch', async (t) => {
  const { alice, bob } = team(t);
  // alice pushes one commit to main and a feature branch; bob commits twice on main and fetches.
  commitFile(alice, 'a.txt', 'a\n', 'alice on main');
  git(alice, 'push', '-q', 'origin', 'main');
  git(alice, 'switch', '-q', '-c', 'feature/x');
  commitFile(alice, 'x.txt', 'x\n', 'feature x: start');
  git(alice, 'push', '-q', '-u', 'origin', 'feature/x');
  commitFile(bob, 'b1.txt', '1\n', 'bob one');
  commitFile(bob, 'b2.txt', '2\n', 'bob two');
  git(bob, 'fetch', '-q', 'origin');
  git(bob, 'branch', 'old', 'HEAD~2');

  const list = await listBranches(await open(bob), { includeRemote: true, now: Date.now() });
  assert.deepEqual(list.head.kind, 'branch');
  assert.equal(list.defaultBranch, 'main');
  const byName = new Map(list.branches.map((branch) => [branch.name, branch]));
  assert.deepEqual([...byName.keys()].sort(), ['main', 'old', 'origin/feature/x', 'origin/main']);

  const main = byName.get('main')!;
  assert.equal(main.current, true);
  assert.equal(main.upstream, 'origin/main');
  assert.deepEqual([main.ahead, main.behind], [2, 1]);
  assert.equal(main.commit.subject, 'bob two');
  assert.equal(main.commit.author, 'Alice Tester');
  assert.equal(main.commit.sha, git(bob, 'rev-parse', 'main'));
  assert.equal(main.commit.shortSha, git(bob, 'rev-parse', '--short', 'main'));
  assert.match(main.commit.relativeDate, /seconds? ago/);

  const feature = byName.get('origin/feature/x')!;
  assert.equal(feature.kind, 'remote');
  assert.equal(feature.remote, 'origin');
  assert.equal(feature.upstream, null);
  assert.equal(feature.ahead, null);
  assert.equal(feature.merged, false, 'feature/x has a commit main lacks');
  assert.equal(byName.get('old')!.merged, true, 'old is an ancestor of main');
  assert.equal(byName.get('old')!.upstream, null);

  const localOnly = await listBranches(await open(bob), { includeRemote: false });
  assert.deepEqual(localOnly.branches.map((branch) => branch.name).sort(), ['main', 'old']);
});

void test('an upstream whose remote branch was deleted is reported gone', async (t) => {
  const { alice, bob } = team(t);
  git(bob, 'switch', '-q', '-c', 'topic');
  git(bob, 'push', '-q', '-u', 'origin', 'topic');
  git(alice, 'push', '-q', 'origin', '--delete', 'topic');
  git(bob, 'fetch', '-q', '--prune', 'origin');
  const topic = (await listBranches(await open(bob), { includeRemote: true })).branches.find((branch) => branch.name === 'topic')!;
  assert.equal(topic.upstreamGone, true);
  assert.equal(topic.ahead, null);
});

void test('detached HEAD: the head says so and no branch is current', async (t) => {
  const { alice } = team(t);
  const first = git(alice, 'rev-parse', 'HEAD');
  commitFile(alice, 'more.txt', 'more\n');
  git(alice, 'switch', '-q', '--detach', first);
  const list = await listBranches(await open(alice), { includeRemote: true });
  assert.deepEqual(list.head, { kind: 'detached', sha: first });
  assert.equal(list.branches.some((branch) => branch.current), false);
});

void test('an empty repository with no commits: unborn head, no branches, clean status', async (t) => {
  const dir = join(tempDir(t), 'empty');
  git(tempDir(t), 'init', '-q', '-b', 'trunk', dir);
  const repo = await open(dir);
  const list = await listBranches(repo, { includeRemote: true });
  assert.deepEqual(list.head, { kind: 'unborn', name: 'trunk' });
  assert.deepEqual(list.branches, []);
  assert.equal(list.defaultBranch, null);
  const status = await workingTreeStatus(repo);
  assert.deepEqual([status.dirty, status.untracked, status.conflicted], [[], [], []]);
});

void test('status lists dirty, untracked and conflicted files and the merge in progress', async (t) => {
  const { alice } = team(t);
  commitFile(alice, 'tracked.txt', 'v1\n');
  git(alice, 'switch', '-q', '-c', 'other');
  commitFile(alice, 'README.md', 'other\n');
  git(alice, 'switch', '-q', 'main');
  commitFile(alice, 'README.md', 'main\n');
  assert.throws(() => git(alice, 'merge', 'other'));
  writeFileSync(join(alice, 'tracked.txt'), 'v2\n');
  writeFileSync(join(alice, 'new.txt'), 'new\n');
  const status = await workingTreeStatus(await open(alice));
  assert.deepEqual(status.conflicted, ['README.md']);
  assert.deepEqual(status.dirty, ['tracked.txt']);
  assert.deepEqual(status.untracked, ['new.txt']);
  assert.equal(status.inProgress, 'merge');
});
