/**
 * Fetch, pull and push between teammates through a bare origin, and the specific errors: no remote,
 * detached HEAD, non-fast-forward, diverged, unreachable remote, authentication failure (a local
 * HTTP server that answers 401, so no network is needed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchRemote, pullBranch, pushBranch, classifyGitFailure } from '../../../agent/src/git/sync';
import { commitFile, fingerprint, git, gitError, open, soloRepo, team } from './helpers';

void test('push sets the upstream on the first push; a teammate fetches and fast-forwards', async (t) => {
  const { alice, bob } = team(t);
  git(alice, 'switch', '-q', '-c', 'feature/new');
  const tip = commitFile(alice, 'n.txt', 'n\n');
  const pushed = await pushBranch(await open(alice), {});
  assert.deepEqual(pushed, { remote: 'origin', branch: 'feature/new', upstreamSet: true });
  assert.equal(git(alice, 'rev-parse', '--abbrev-ref', 'feature/new@{upstream}'), 'origin/feature/new');
  commitFile(alice, 'n2.txt', 'n2\n');
  assert.equal((await pushBranch(await open(alice), {})).upstreamSet, false);

  const bobRepo = await open(bob);
  const progress: string[] = [];
  await fetchRemote(bobRepo, { prune: true, progress: (message) => progress.push(message) });
  assert.notEqual(git(bob, 'rev-parse', 'origin/feature/new'), tip, 'the second push arrived');
  git(bob, 'switch', '-q', 'feature/new');
  assert.equal((await pullBranch(bobRepo, { rebase: false, stash: false })).outcome, 'up-to-date');

  commitFile(alice, 'n3.txt', 'n3\n');
  await pushBranch(await open(alice), {});
  const pulled = await pullBranch(bobRepo, { rebase: false, stash: false });
  assert.equal(pulled.outcome, 'fast-forward');
  assert.equal(git(bob, 'rev-parse', 'HEAD'), git(alice, 'rev-parse', 'HEAD'));
});

void test('diverged: push is non-fast-forward, ff-only pull refuses untouched, rebase pull replays the work', async (t) => {
  const { alice, bob } = team(t);
  commitFile(alice, 'a.txt', 'a\n', 'alice');
  git(alice, 'push', '-q');
  commitFile(bob, 'b.txt', 'b\n', 'bob');
  const repo = await open(bob);
  await assert.rejects(pushBranch(repo, {}), gitError('non-fast-forward'));
  git(bob, 'fetch', '-q');
  const before = fingerprint(bob);
  await assert.rejects(pullBranch(repo, { rebase: false, stash: false }), gitError('diverged'));
  assert.equal(fingerprint(bob), before);
  const rebased = await pullBranch(repo, { rebase: true, stash: false });
  assert.equal(rebased.outcome, 'rebased');
  assert.equal(git(bob, 'rev-parse', 'HEAD~1'), git(alice, 'rev-parse', 'HEAD'));
  assert.equal(git(bob, 'log', '-1', '--format=%s'), 'bob');
  await pushBranch(repo, {});
});

void test('a rebase pull that conflicts is aborted: the branch is as it was and the files are listed', async (t) => {
  const { alice, bob } = team(t);
  commitFile(alice, 'README.md', 'alice\n');
  git(alice, 'push', '-q');
  commitFile(bob, 'README.md', 'bob\n');
  writeDirty(bob);
  const repo = await open(bob);
  git(bob, 'fetch', '-q');
  const before = fingerprint(bob);
  await assert.rejects(pullBranch(repo, { rebase: true, stash: true }), gitError('merge-conflict', ['README.md']));
  assert.equal(fingerprint(bob), before);
});

function writeDirty(dir: string): void {
  commitFile(dir, 'local.txt', 'committed\n');
  writeFileSync(join(dir, 'local.txt'), 'uncommitted\n');
}

void test('no remote, detached HEAD, no upstream: specific errors before git is asked', async (t) => {
  const solo = await open(soloRepo(t));
  await assert.rejects(fetchRemote(solo, { prune: true }), gitError('no-remote'));
  await assert.rejects(pushBranch(solo, {}), gitError('no-remote'));
  const { alice } = team(t);
  git(alice, 'switch', '-q', '--detach', 'HEAD');
  await assert.rejects(pushBranch(await open(alice), {}), gitError('detached-head'));
  await assert.rejects(pullBranch(await open(alice), { rebase: false, stash: false }), gitError('detached-head'));
  git(alice, 'switch', '-q', '-c', 'local-only');
  await assert.rejects(pullBranch(await open(alice), { rebase: false, stash: false }), gitError('no-upstream'));
  await assert.rejects(fetchRemote(await open(alice), { remote: 'upstream', prune: true }), gitError('no-remote'));
  await assert.rejects(fetchRemote(await open(alice), { remote: '--upload-pack=touch x', prune: true }), gitError('invalid-name'));
});

void test('an unreachable remote and an authentication failure are told apart', async (t) => {
  const dir = soloRepo(t);
  const repo = await open(dir);
  // A port nothing listens on: connection refused.
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const deadPort = (closed.address() as AddressInfo).port;
  closed.close();
  await once(closed, 'close');
  git(dir, 'remote', 'add', 'origin', `http://127.0.0.1:${deadPort}/repo.git`);
  await assert.rejects(fetchRemote(repo, { prune: true }), gitError('unreachable-remote'));
  git(dir, 'remote', 'set-url', 'origin', `${dir}/no-such-repo.git`);
  await assert.rejects(fetchRemote(repo, { prune: true }), gitError('unreachable-remote'));

  const server = createServer((_request, response) => {
    response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' });
    response.end('unauthorized');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  git(dir, 'remote', 'set-url', 'origin', `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo.git`);
  await assert.rejects(fetchRemote(repo, { prune: true }), gitError('authentication-failed'));
  await assert.rejects(pushBranch(repo, {}), gitError('authentication-failed'));
});

void test('classification of git messages it would take a real server to produce', () => {
  assert.equal(classifyGitFailure('git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.'), 'authentication-failed');
  assert.equal(classifyGitFailure("fatal: unable to access 'https://x/': Could not resolve host: x"), 'unreachable-remote');
  assert.equal(classifyGitFailure(' ! [rejected]        main -> main (fetch first)'), 'non-fast-forward');
  assert.equal(classifyGitFailure('something else entirely'), 'git-failed');
});
