/** 5,000 branches: every one listed with its upstream and the right ahead/behind, our walk equal to git (no timing here: bench/git.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listBranches, listBranchesByWalk, listBranchesFromGit } from '../../../agent/src/git/branches';
import { open, tempDir } from './helpers';
import { manyBranches } from './many-branches';

void test('5,000 local branches (+ their remote-tracking branches) listed with upstream, ahead/behind, merged', async (t) => {
  const { dir } = manyBranches(tempDir(t), 5000);
  const list = await listBranches(await open(dir), { includeRemote: true });
  const local = list.branches.filter((branch) => branch.kind === 'local');
  assert.equal(local.length, 5000);
  assert.equal(list.branches.length - local.length, 5000);
  const b = (name: string) => list.branches.find((branch) => branch.name === name)!;
  assert.deepEqual([b('b0').ahead, b('b0').behind, b('b0').upstream], [0, 0, 'origin/b0']);
  assert.deepEqual([b('b1').ahead, b('b1').behind], [0, 1]);
  assert.deepEqual([b('b2').ahead, b('b2').behind], [1, 0]);
  assert.equal(b('b4998').commit.subject, 'b4998 tip');
  assert.equal(b('main').current, true);
  assert.equal(b('main').merged, true);
  assert.equal(b('b0').merged, false);
  // At this size too, our walk answers (the history is under its limit) and equals git's answers.
  const repo = await open(dir);
  const now = Date.now();
  const walked = await listBranchesByWalk(repo, { includeRemote: true, now });
  assert.ok(walked);
  assert.deepEqual(walked, await listBranchesFromGit(repo, { includeRemote: true, now }));
});
