/**
 * git-flow on a real repository: feature start/finish into develop; release and hotfix finish into
 * main, tagged, merged back into develop; configured prefixes; a conflicting finish rolls back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flowFinish, flowStart } from '../../../agent/src/git/flow';
import { commitFile, fingerprint, git, gitError, open, soloRepo } from './helpers';

function flowRepo(t: Parameters<typeof soloRepo>[0]): string {
  const dir = soloRepo(t);
  git(dir, 'branch', 'develop');
  return dir;
}

void test('feature: start off develop, finish merges into develop with a merge commit and deletes the branch', async (t) => {
  const dir = flowRepo(t);
  const repo = await open(dir);
  const started = await flowStart(repo, { kind: 'feature', name: 'etl', stash: false });
  assert.deepEqual([started.branch, started.base], ['feature/etl', 'develop']);
  assert.equal(git(dir, 'branch', '--show-current'), 'feature/etl');
  const tip = commitFile(dir, 'etl.py', 'print(1)\n');
  const finished = await flowFinish(repo, { kind: 'feature', name: 'etl', keepBranch: false, stash: false });
  assert.deepEqual(finished.mergedInto, ['develop']);
  assert.equal(finished.tag, null);
  assert.equal(git(dir, 'branch', '--show-current'), 'develop');
  assert.equal(git(dir, 'rev-parse', 'develop^2'), tip);
  assert.equal(git(dir, 'branch', '--list', 'feature/etl'), '');
  assert.equal(git(dir, 'rev-parse', 'main'), git(dir, 'rev-parse', 'develop^1'), 'main untouched');
});

void test('release: finish merges into main, tags it, merges the tag back into develop', async (t) => {
  const dir = flowRepo(t);
  const repo = await open(dir);
  await flowStart(repo, { kind: 'release', name: '1.0.0', stash: false });
  const tip = commitFile(dir, 'VERSION', '1.0.0\n');
  const finished = await flowFinish(repo, { kind: 'release', name: '1.0.0', tagMessage: 'first release', keepBranch: false, stash: false });
  assert.deepEqual(finished.mergedInto, ['main', 'develop']);
  assert.equal(finished.tag, '1.0.0');
  assert.equal(git(dir, 'cat-file', '-t', '1.0.0'), 'tag');
  assert.equal(git(dir, 'rev-parse', '1.0.0^{commit}'), git(dir, 'rev-parse', 'main'));
  assert.equal(git(dir, 'rev-parse', 'main^2'), tip);
  assert.equal(git(dir, 'merge-base', '--is-ancestor', 'main', 'develop'), '');
  assert.equal(git(dir, 'branch', '--list', 'release/1.0.0'), '');
});

void test('hotfix off main with configured prefixes (gitflow.* config and request config)', async (t) => {
  const dir = flowRepo(t);
  git(dir, 'config', 'gitflow.prefix.hotfix', 'fix-');
  git(dir, 'config', 'gitflow.prefix.versiontag', 'v');
  commitFile(dir, 'dev-only.txt', 'x\n');
  git(dir, 'switch', '-q', 'develop');
  commitFile(dir, 'develop.txt', 'd\n');
  const repo = await open(dir);
  const started = await flowStart(repo, { kind: 'hotfix', name: '1.0.1', stash: false });
  assert.deepEqual([started.branch, started.base], ['fix-1.0.1', 'main']);
  commitFile(dir, 'fix.txt', 'fixed\n');
  const finished = await flowFinish(repo, { kind: 'hotfix', name: '1.0.1', keepBranch: true, stash: false });
  assert.equal(finished.tag, 'v1.0.1');
  assert.equal(finished.deleted, false);
  assert.equal(git(dir, 'branch', '--list', 'fix-1.0.1').trim(), 'fix-1.0.1');
  assert.equal(git(dir, 'show', 'develop:fix.txt'), 'fixed');

  const custom = await flowStart(repo, { kind: 'feature', name: 'x', config: { featurePrefix: 'feat/', developBranch: 'main' }, stash: false });
  assert.deepEqual([custom.branch, custom.base], ['feat/x', 'main']);
});

void test('a finish that conflicts on the way back into develop rolls back every branch, tag and HEAD', async (t) => {
  const dir = flowRepo(t);
  const repo = await open(dir);
  git(dir, 'switch', '-q', 'develop');
  commitFile(dir, 'README.md', 'develop says\n');
  git(dir, 'switch', '-q', '-c', 'release/2.0', 'main');
  commitFile(dir, 'README.md', 'release says\n');
  const before = fingerprint(dir);
  await assert.rejects(
    flowFinish(repo, { kind: 'release', name: '2.0', keepBranch: false, stash: false }),
    gitError('merge-conflict', ['README.md']),
  );
  assert.equal(fingerprint(dir), before);
  assert.equal(git(dir, 'tag', '--list'), '');
});

void test('missing develop, unknown branch, option-like names and an existing tag are refused up front', async (t) => {
  const dir = soloRepo(t);
  const repo = await open(dir);
  await assert.rejects(flowStart(repo, { kind: 'feature', name: 'a', stash: false }), gitError('unknown-ref'));
  git(dir, 'branch', 'develop');
  await assert.rejects(flowStart(repo, { kind: 'feature', name: '-oProxyCommand=x', stash: false }), gitError('invalid-name'));
  await assert.rejects(flowStart(repo, { kind: 'feature', name: 'a..b', stash: false }), gitError('invalid-name'));
  await assert.rejects(flowFinish(repo, { kind: 'feature', name: 'nope', keepBranch: false, stash: false }), gitError('unknown-ref'));
  git(dir, 'tag', '3.0');
  git(dir, 'branch', 'release/3.0');
  await assert.rejects(flowFinish(repo, { kind: 'release', name: '3.0', keepBranch: false, stash: false }), gitError('already-exists'));
});
