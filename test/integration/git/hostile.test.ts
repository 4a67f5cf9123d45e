/**
 * A hostile repository: its config points every program git could run (fsmonitor, ssh, hooks,
 * upload-pack/receive-pack, clean/smudge/process filters, textconv, external diff, pager, editor,
 * askpass, proxy) at a script that leaves a sentinel file. The agent's read-only calls (open,
 * list, status) must create no sentinel — and plain `git status` must (so the test can fail).
 * Option-like names (`--upload-pack=x`, `-oProxyCommand=x`) are refused by every operation before
 * git sees them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listBranches } from '../../../agent/src/git/branches';
import { flowStart } from '../../../agent/src/git/flow';
import { checkoutBranch, createBranch, deleteBranch, mergeBranch, renameBranch } from '../../../agent/src/git/operations';
import { workingTreeStatus } from '../../../agent/src/git/repo';
import { fetchRemote, pushBranch } from '../../../agent/src/git/sync';
import { commitFile, git, gitError, open, tempDir } from './helpers';

/** Refs and HEAD (plain `git status` would run the hostile programs, so the usual fingerprint cannot be used). */
function refsAndHead(dir: string): string {
  return `${git(dir, 'rev-parse', '--symbolic-full-name', 'HEAD')}\n${git(dir, 'for-each-ref', '--format=%(refname) %(objectname)')}`;
}

const VECTORS = ['fsmonitor', 'ssh', 'uploadpack', 'receivepack', 'clean', 'smudge', 'process', 'textconv', 'extdiff', 'pager', 'editor', 'askpass', 'proxy'];
const HOOKS = ['post-checkout', 'post-merge', 'pre-commit', 'reference-transaction', 'post-index-change', 'pre-auto-gc', 'post-rewrite'];

function hostileRepo(t: Parameters<typeof tempDir>[0]): { dir: string; sentinels: string } {
  const base = tempDir(t, 'mlw-hostile-');
  const sentinels = join(base, 'sentinels');
  const scripts = join(base, 'scripts');
  const hooks = join(base, 'hooks');
  for (const folder of [sentinels, scripts, hooks]) mkdirSync(folder);
  const script = (path: string, name: string): void => {
    // Exits at once without reading stdin: a filter that waited for input would hang plain git.
    writeFileSync(path, `#!/bin/sh\ntouch '${join(sentinels, name)}'\nexit 1\n`);
    chmodSync(path, 0o755);
  };
  for (const name of VECTORS) script(join(scripts, name), name);
  for (const name of HOOKS) script(join(hooks, name), `hook-${name}`);

  const dir = join(base, 'repo');
  git(base, 'init', '-q', '-b', 'main', dir);
  commitFile(dir, 'data.csv', 'a,b\n1,2\n', 'data');
  git(dir, 'branch', 'feature');
  const s = (name: string): string => join(scripts, name);
  const config: Array<[string, string]> = [
    ['core.fsmonitor', s('fsmonitor')],
    ['core.sshCommand', s('ssh')],
    ['core.hooksPath', hooks],
    ['core.pager', s('pager')],
    ['core.editor', s('editor')],
    ['core.askPass', s('askpass')],
    ['core.gitProxy', s('proxy')],
    ['remote.origin.url', 'ssh://example.invalid/repo.git'],
    ['remote.origin.fetch', '+refs/heads/*:refs/remotes/origin/*'],
    ['remote.origin.uploadpack', s('uploadpack')],
    ['remote.origin.receivepack', s('receivepack')],
    ['filter.evil.clean', s('clean')],
    ['filter.evil.smudge', s('smudge')],
    ['filter.evil.process', s('process')],
    ['filter.evil.required', 'true'],
    ['diff.evil.textconv', s('textconv')],
    ['diff.external', s('extdiff')],
    ['branch.main.remote', 'origin'],
    ['branch.main.merge', 'refs/heads/main'],
  ];
  for (const [key, value] of config) git(dir, 'config', key, value);
  writeFileSync(join(dir, '.gitattributes'), '* filter=evil diff=evil\n');
  // Same content, new mtime: status must re-hash data.csv, which would run the clean filter.
  utimesSync(join(dir, 'data.csv'), new Date(), new Date(Date.now() + 5000));
  return { dir, sentinels };
}

void test('read-only calls (open, list, status) run nothing from a hostile config; plain git status does', async (t) => {
  const { dir, sentinels } = hostileRepo(t);
  const repo = await open(dir);
  const list = await listBranches(repo, { includeRemote: true });
  assert.deepEqual(list.branches.map((branch) => branch.name).sort(), ['feature', 'main']);
  const status = await workingTreeStatus(repo);
  assert.deepEqual(status.untracked, ['.gitattributes']);
  assert.deepEqual(readdirSync(sentinels), [], 'no program from the repository config ran');

  // The control: the same repository makes plain git run its programs (which fail, so git may too).
  assert.throws(() => git(dir, 'status', '--porcelain'));
  const ran = readdirSync(sentinels);
  assert.ok(ran.includes('fsmonitor'), `plain git status ran ${JSON.stringify(ran)}`);
});

void test('option-like names are refused by every operation before git runs', async (t) => {
  const { dir, sentinels } = hostileRepo(t);
  const repo = await open(dir);
  const before = refsAndHead(dir);
  const clean = readdirSync(sentinels).length;
  for (const hostile of ['--upload-pack=x', '-oProxyCommand=x', '--exec=touch x', '-']) {
    await assert.rejects(createBranch(repo, { name: hostile, checkout: false, stash: false }), gitError('invalid-name'), hostile);
    await assert.rejects(createBranch(repo, { name: 'ok', from: hostile, checkout: false, stash: false }), gitError('invalid-name'), hostile);
    await assert.rejects(checkoutBranch(repo, { name: hostile, stash: false }), gitError('invalid-name'), hostile);
    await assert.rejects(renameBranch(repo, { from: 'feature', to: hostile }), gitError('invalid-name'), hostile);
    await assert.rejects(renameBranch(repo, { from: hostile, to: 'x' }), gitError('invalid-name'), hostile);
    await assert.rejects(deleteBranch(repo, { name: hostile, force: true }), gitError('invalid-name'), hostile);
    await assert.rejects(mergeBranch(repo, { name: hostile, noFastForward: false, abort: false, stash: false }), gitError('invalid-name'), hostile);
    await assert.rejects(fetchRemote(repo, { remote: hostile, prune: true }), gitError('invalid-name'), hostile);
    await assert.rejects(pushBranch(repo, { remote: hostile }), gitError('invalid-name'), hostile);
    await assert.rejects(flowStart(repo, { kind: 'feature', name: hostile, stash: false }), gitError('invalid-name'), hostile);
  }
  assert.equal(refsAndHead(dir), before);
  assert.equal(readdirSync(sentinels).length, clean);
  assert.equal(existsSync(join(dir, 'x')), false);
});
