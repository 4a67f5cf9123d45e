/**
 * Branch operations on real repositories: create, checkout (remote → tracking branch), rename,
 * delete (unmerged refused unless forced), merge (ff, merge commit, conflicts + abort), and the
 * safety net: dirty trees refused with the files listed, "stash and continue", failures that leave
 * the repository exactly as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkoutBranch, createBranch, deleteBranch, mergeBranch, renameBranch } from '../../../agent/src/git/operations';
import { commitFile, fingerprint, git, gitError, open, soloRepo, team } from './helpers';

void test('create from a ref, then switch to it; existing and invalid names are refused', async (t) => {
  const dir = soloRepo(t);
  const first = git(dir, 'rev-parse', 'HEAD');
  commitFile(dir, 'two.txt', '2\n');
  const repo = await open(dir);
  const created = await createBranch(repo, { name: 'topic/a', from: first, checkout: false, stash: false });
  assert.equal(created.sha, first);
  assert.equal(git(dir, 'rev-parse', 'topic/a'), first);
  assert.equal(git(dir, 'branch', '--show-current'), 'main');
  await createBranch(repo, { name: 'b', checkout: true, stash: false });
  assert.equal(git(dir, 'branch', '--show-current'), 'b');
  await assert.rejects(createBranch(repo, { name: 'b', checkout: false, stash: false }), gitError('already-exists'));
  for (const bad of ['a..b', 'HEAD', 'x~1', 'bad name', 'ends.lock', '@{-1}']) {
    await assert.rejects(createBranch(repo, { name: bad, checkout: false, stash: false }), gitError('invalid-name'), bad);
  }
  await assert.rejects(createBranch(repo, { name: 'c', from: 'no-such-ref', checkout: false, stash: false }), gitError('unknown-ref'));
});

void test('checkout of a remote branch creates a tracking branch; a second checkout reuses it', async (t) => {
  const { alice, bob } = team(t);
  git(alice, 'switch', '-q', '-c', 'feature/shared');
  commitFile(alice, 'f.txt', 'f\n');
  git(alice, 'push', '-q', 'origin', 'feature/shared');
  git(bob, 'fetch', '-q');
  const repo = await open(bob);
  const result = await checkoutBranch(repo, { name: 'origin/feature/shared', stash: false });
  assert.equal(result.created, 'feature/shared');
  assert.equal(git(bob, 'rev-parse', '--abbrev-ref', 'feature/shared@{upstream}'), 'origin/feature/shared');
  assert.deepEqual(result.head, { kind: 'branch', name: 'feature/shared', sha: git(alice, 'rev-parse', 'HEAD') });
  await checkoutBranch(repo, { name: 'main', stash: false });
  const again = await checkoutBranch(repo, { name: 'origin/feature/shared', stash: false });
  assert.equal(again.created, null);
  assert.equal(git(bob, 'branch', '--show-current'), 'feature/shared');
  await assert.rejects(checkoutBranch(repo, { name: 'nope', stash: false }), gitError('unknown-ref'));
});

void test('rename keeps the commit and the upstream setting; delete refuses unmerged work unless forced', async (t) => {
  const { bob } = team(t);
  git(bob, 'switch', '-q', '-c', 'work');
  const tip = commitFile(bob, 'w.txt', 'w\n');
  git(bob, 'switch', '-q', 'main');
  const repo = await open(bob);
  await renameBranch(repo, { from: 'work', to: 'work-renamed' });
  assert.equal(git(bob, 'rev-parse', 'work-renamed'), tip);
  await assert.rejects(renameBranch(repo, { from: 'work-renamed', to: 'main' }), gitError('already-exists'));

  const before = fingerprint(bob);
  await assert.rejects(deleteBranch(repo, { name: 'work-renamed', force: false }), gitError('unmerged-branch'));
  assert.equal(fingerprint(bob), before);
  await assert.rejects(deleteBranch(repo, { name: 'main', force: true }), gitError('current-branch'));
  const deleted = await deleteBranch(repo, { name: 'work-renamed', force: true });
  assert.equal(deleted.sha, tip);
  assert.equal(git(bob, 'branch', '--list', 'work-renamed'), '');

  git(bob, 'branch', 'merged-one', 'main');
  await deleteBranch(repo, { name: 'merged-one', force: false });
  assert.equal(git(bob, 'branch', '--list', 'merged-one'), '');
});

void test('merge: fast-forward, merge commit, up to date; a conflict lists the files and abort restores everything', async (t) => {
  const dir = soloRepo(t);
  const repo = await open(dir);
  git(dir, 'switch', '-q', '-c', 'ff');
  const ffTip = commitFile(dir, 'ff.txt', 'ff\n');
  git(dir, 'switch', '-q', 'main');
  const ff = await mergeBranch(repo, { name: 'ff', noFastForward: false, abort: false, stash: false });
  assert.equal(ff.outcome, 'fast-forward');
  assert.equal(git(dir, 'rev-parse', 'HEAD'), ffTip);
  assert.equal((await mergeBranch(repo, { name: 'ff', noFastForward: false, abort: false, stash: false })).outcome, 'up-to-date');

  git(dir, 'switch', '-q', '-c', 'side');
  commitFile(dir, 'side.txt', 'side\n');
  git(dir, 'switch', '-q', 'main');
  commitFile(dir, 'main.txt', 'main\n');
  const merged = await mergeBranch(repo, { name: 'side', noFastForward: false, abort: false, stash: false });
  assert.equal(merged.outcome, 'merge-commit');
  assert.equal(git(dir, 'rev-list', '--parents', '-n1', 'HEAD').split(' ').length, 3);

  git(dir, 'switch', '-q', '-c', 'clash');
  commitFile(dir, 'README.md', 'clash\n');
  commitFile(dir, 'other.md', 'clash\n');
  git(dir, 'switch', '-q', 'main');
  commitFile(dir, 'README.md', 'main\n');
  commitFile(dir, 'other.md', 'main\n');
  const before = fingerprint(dir);
  const conflicted = await mergeBranch(repo, { name: 'clash', noFastForward: false, abort: false, stash: false });
  assert.equal(conflicted.outcome, 'conflicts');
  assert.deepEqual(conflicted.conflicts.sort(), ['README.md', 'other.md']);
  await assert.rejects(checkoutBranch(repo, { name: 'side', stash: true }), gitError('operation-in-progress'));
  const aborted = await mergeBranch(repo, { noFastForward: false, abort: true, stash: false });
  assert.equal(aborted.outcome, 'aborted');
  assert.equal(fingerprint(dir), before);
});

void test('a dirty tree is refused with its files listed; stash and continue re-applies the work, index included', async (t) => {
  const dir = soloRepo(t);
  commitFile(dir, 'notes.txt', 'v1\n');
  git(dir, 'branch', 'other');
  writeFileSync(join(dir, 'notes.txt'), 'staged\n');
  git(dir, 'add', 'notes.txt');
  writeFileSync(join(dir, 'README.md'), 'unstaged\n');
  const repo = await open(dir);
  const before = fingerprint(dir);
  await assert.rejects(checkoutBranch(repo, { name: 'other', stash: false }), gitError('dirty-tree', ['README.md', 'notes.txt']));
  await assert.rejects(mergeBranch(repo, { name: 'other', noFastForward: true, abort: false, stash: false }), gitError('dirty-tree'));
  assert.equal(fingerprint(dir), before);

  const result = await checkoutBranch(repo, { name: 'other', stash: true });
  assert.equal(git(dir, 'branch', '--show-current'), 'other');
  assert.deepEqual(result.stash && { reapplied: result.stash.reapplied, conflicts: result.stash.conflicts }, { reapplied: true, conflicts: [] });
  assert.deepEqual(git(dir, 'status', '--porcelain').split('\n').sort(), [' M README.md', 'M  notes.txt']);
  assert.equal(git(dir, 'stash', 'list'), '');
});

void test('stash and continue: work that conflicts with the new branch is reported and the stash kept', async (t) => {
  const dir = soloRepo(t);
  git(dir, 'switch', '-q', '-c', 'changed');
  commitFile(dir, 'README.md', 'changed on branch\n');
  git(dir, 'switch', '-q', 'main');
  writeFileSync(join(dir, 'README.md'), 'my local edit\n');
  const result = await checkoutBranch(await open(dir), { name: 'changed', stash: true });
  assert.equal(git(dir, 'branch', '--show-current'), 'changed');
  assert.equal(result.stash?.reapplied, false);
  assert.deepEqual(result.stash?.conflicts, ['README.md']);
  assert.equal(git(dir, 'rev-parse', 'stash@{0}'), result.stash?.sha);
  assert.match(readFileSync(join(dir, 'README.md'), 'utf8'), /<<<<<<<[\s\S]*my local edit/);
});

void test('a failed operation after stashing leaves the repository exactly as it was', async (t) => {
  const dir = soloRepo(t);
  git(dir, 'switch', '-q', '-c', 'adds-file');
  commitFile(dir, 'blocker.txt', 'tracked there\n');
  git(dir, 'switch', '-q', 'main');
  writeFileSync(join(dir, 'README.md'), 'dirty\n');
  git(dir, 'add', 'README.md');
  writeFileSync(join(dir, 'README.md'), 'dirtier\n');
  writeFileSync(join(dir, 'blocker.txt'), 'untracked here: checkout would overwrite it\n');
  const before = fingerprint(dir);
  await assert.rejects(checkoutBranch(await open(dir), { name: 'adds-file', stash: true }), gitError('git-failed'));
  assert.equal(fingerprint(dir), before);
});
