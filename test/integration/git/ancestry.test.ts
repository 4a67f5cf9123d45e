/**
 * Differential: our own ahead/behind and merged walk (ancestry.ts, via listBranchesByWalk) against
 * git's answers (`%(upstream:track)`, `--merged`, `rev-list --left-right --count`) on real
 * repositories: diverged histories, merges, criss-cross merges, an upstream that is a local branch,
 * no upstream, an upstream gone, commit dates out of order, a shallow clone, an empty repository,
 * detached HEAD. The two listings must be equal field for field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ancestry, parseCommitGraph } from '../../../agent/src/git/ancestry';
import { listBranches, listBranchesByWalk, listBranchesFromGit } from '../../../agent/src/git/branches';
import { extendHistory, readHistory, type History } from '../../../agent/src/git/history';
import { commitFile, git, open, team, tempDir } from './helpers';

const NOW = 1_800_000_000_000;

/** A commit with a chosen committer date (to put dates out of order). */
function commitAt(cwd: string, file: string, date: string, message: string): void {
  writeFileSync(join(cwd, file), `${message}\n`);
  git(cwd, 'add', '--', file);
  execFileSync('git', ['commit', '-q', '-m', message], {
    cwd,
    env: { ...process.env, GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date },
    stdio: 'ignore',
  });
}

/** Both listings, with and without remote branches: the walk must answer (not fall back) and equal git. */
async function assertSameAsGit(dir: string): Promise<void> {
  const repo = await open(dir);
  for (const includeRemote of [true, false]) {
    const walked = await listBranchesByWalk(repo, { includeRemote, now: NOW });
    assert.ok(walked, `the walk answered (includeRemote ${includeRemote})`);
    const fromGit = await listBranchesFromGit(repo, { includeRemote, now: NOW });
    assert.deepEqual(walked, fromGit, `includeRemote ${includeRemote}`);
    assert.deepEqual(await listBranches(repo, { includeRemote, now: NOW }), fromGit);
  }
}

/** Every ordered pair of branches: our counts against `git rev-list --left-right --count A...B`. */
function assertPairsSameAsGit(dir: string): void {
  const refs = git(dir, 'for-each-ref', '--format=%(refname)', 'refs/heads', 'refs/remotes')
    .split('\n')
    .filter((ref) => !ref.endsWith('/HEAD'));
  const graph = parseCommitGraph(`${git(dir, 'rev-list', '--parents', '--branches', '--remotes')}\n`);
  assert.ok(graph);
  const ancestry = new Ancestry(graph);
  const id = (ref: string): number => ancestry.id(git(dir, 'rev-parse', ref))!;
  for (const left of refs) {
    for (const right of refs) {
      const [ahead, behind] = git(dir, 'rev-list', '--left-right', '--count', `${left}...${right}`)
        .split('\t')
        .map(Number);
      assert.deepEqual(ancestry.aheadBehind(id(left), id(right)), { ahead, behind }, `${left}...${right}`);
    }
  }
}

void test('diverged histories, merges, criss-cross merges, local/missing/gone upstreams, skewed dates: the walk equals git', async (t) => {
  const { alice, bob } = team(t);
  // alice: main moves on; feature/a diverges, then takes main in with a merge commit.
  commitFile(alice, 'm1.txt', '1\n', 'main one');
  git(alice, 'switch', '-q', '-c', 'feature/a');
  commitFile(alice, 'a1.txt', '1\n', 'a one');
  commitFile(alice, 'a2.txt', '2\n', 'a two');
  git(alice, 'switch', '-q', 'main');
  commitFile(alice, 'm2.txt', '2\n', 'main two');
  git(alice, 'switch', '-q', 'feature/a');
  git(alice, 'merge', '-q', '--no-edit', 'main');
  // A criss-cross: x and y each merge the other's earlier tip, so x...y has two merge bases.
  git(alice, 'switch', '-q', '-c', 'x', 'main');
  commitFile(alice, 'x1.txt', '1\n', 'x one');
  git(alice, 'switch', '-q', '-c', 'y', 'main');
  commitFile(alice, 'y1.txt', '1\n', 'y one');
  git(alice, 'branch', 'y-old');
  git(alice, 'switch', '-q', 'x');
  git(alice, 'branch', 'x-old');
  git(alice, 'merge', '-q', '--no-edit', 'y-old');
  git(alice, 'switch', '-q', 'y');
  git(alice, 'merge', '-q', '--no-edit', 'x-old');
  commitFile(alice, 'y2.txt', '2\n', 'y two');
  git(alice, 'switch', '-q', 'main');
  git(alice, 'push', '-q', 'origin', 'main', 'feature/a', 'x', 'y');

  // bob: his own main commits, tracking branches with local work and merges, fetches the rest.
  commitFile(bob, 'b1.txt', '1\n', 'bob one');
  git(bob, 'fetch', '-q', 'origin');
  git(bob, 'branch', '-q', '--track', 'feature/a', 'origin/feature/a');
  git(bob, 'switch', '-q', '--track', 'origin/x');
  commitFile(bob, 'bx.txt', '1\n', 'bob on x');
  git(bob, 'merge', '-q', '--no-edit', 'origin/y');
  git(bob, 'switch', '-q', '-c', 'y', 'origin/y~1');
  git(bob, 'branch', '-q', '--set-upstream-to=origin/y');
  git(bob, 'merge', '-q', '--no-edit', 'origin/x');
  // An upstream that is a local branch (remote "."), and a branch with no upstream.
  git(bob, 'branch', '-q', '--track', 'follows-main', 'main');
  git(bob, 'branch', '-q', 'loose', 'origin/feature/a~2');
  // Dates out of order: children committed "before" their parents, on a branch and its upstream.
  git(bob, 'switch', '-q', '-c', 'skewed', 'main');
  commitAt(bob, 's1.txt', '2001-01-01T00:00:00Z', 'skewed one');
  commitAt(bob, 's2.txt', '1999-01-01T00:00:00Z', 'skewed two');
  git(bob, 'push', '-q', '-u', 'origin', 'skewed');
  commitAt(bob, 's3.txt', '1990-06-01T00:00:00Z', 'skewed three');
  git(bob, 'switch', '-q', '-c', 'skewed-behind', 'skewed~2'); // at 'skewed one'
  git(bob, 'branch', '-q', '--set-upstream-to=origin/skewed');
  // An upstream gone: pushed, deleted on the remote, pruned.
  git(bob, 'switch', '-q', '-c', 'topic', 'main');
  commitFile(bob, 't.txt', '1\n', 'topic');
  git(bob, 'push', '-q', '-u', 'origin', 'topic');
  git(alice, 'push', '-q', 'origin', '--delete', 'topic');
  git(bob, 'fetch', '-q', '--prune', 'origin');
  // An upstream on a remote that does not exist.
  git(bob, 'config', 'branch.loose.remote', 'nowhere');
  git(bob, 'config', 'branch.loose.merge', 'refs/heads/loose');
  git(bob, 'switch', '-q', 'main');

  const list = await listBranchesByWalk(await open(bob), { includeRemote: true, now: NOW });
  const byName = new Map(list!.branches.map((branch) => [branch.name, branch]));
  // A few answers spelled out, so a shared mistake in both paths would still show.
  assert.equal(list!.defaultBranch, 'main');
  assert.deepEqual([byName.get('main')!.ahead, byName.get('main')!.behind], [1, 2]);
  assert.deepEqual([byName.get('skewed')!.ahead, byName.get('skewed')!.behind], [1, 0]);
  assert.deepEqual([byName.get('skewed-behind')!.ahead, byName.get('skewed-behind')!.behind], [0, 1]);
  assert.deepEqual([byName.get('follows-main')!.upstream, byName.get('follows-main')!.ahead], ['main', 0]);
  assert.equal(byName.get('topic')!.upstreamGone, true);
  assert.equal(byName.get('loose')!.merged, false);
  assert.equal(byName.get('follows-main')!.merged, true);

  await assertSameAsGit(bob);
  assertPairsSameAsGit(bob);
  git(bob, 'switch', '-q', '--detach', 'origin/x');
  await assertSameAsGit(bob);
});

void test('last-commit fields read with the history equal for-each-ref\'s: a subject over two lines, an empty message, a non-ASCII author', async (t) => {
  const { bob } = team(t);
  const commitWith = (message: string, author: string): void => {
    execFileSync('git', ['commit', '-q', '--allow-empty', '--allow-empty-message', '--cleanup=verbatim', '-F', '-'], {
      cwd: bob,
      input: message,
      env: { ...process.env, GIT_AUTHOR_NAME: author },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
  };
  git(bob, 'switch', '-q', '-c', 'wrapped');
  commitWith('a subject\nwrapped\ttabbed\n\nand a body\n', 'Zoë Ångström');
  git(bob, 'switch', '-q', '-c', 'silent', 'main');
  commitWith('', 'Nobody');
  git(bob, 'switch', '-q', 'main');
  const list = await listBranchesByWalk(await open(bob), { includeRemote: true, now: NOW });
  const byName = new Map(list!.branches.map((branch) => [branch.name, branch]));
  assert.deepEqual([byName.get('wrapped')!.commit.subject, byName.get('wrapped')!.commit.author], ['a subject wrapped\ttabbed', 'Zoë Ångström']);
  assert.equal(byName.get('silent')!.commit.subject, '');
  await assertSameAsGit(bob);
});

void test('no origin/HEAD: the default branch from init.defaultBranch; a remote default branch', async (t) => {
  const { alice, bob } = team(t);
  git(bob, 'remote', 'set-head', 'origin', '--delete');
  git(bob, 'config', 'init.defaultBranch', 'main');
  commitFile(alice, 'm.txt', '1\n', 'main moves');
  git(alice, 'push', '-q', 'origin', 'main');
  git(bob, 'fetch', '-q', 'origin');
  await assertSameAsGit(bob);
  // origin/HEAD naming a branch bob has no local copy of: merged is checked against origin/<it>.
  git(alice, 'push', '-q', 'origin', 'main:trunk');
  git(bob, 'fetch', '-q', 'origin');
  git(bob, 'symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/trunk');
  const list = await listBranchesByWalk(await open(bob), { includeRemote: true, now: NOW });
  assert.equal(list!.defaultBranch, 'origin/trunk');
  await assertSameAsGit(bob);
  // origin/HEAD left naming a branch the remote deleted: ignored, as for-each-ref ignores it.
  git(bob, 'symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/pruned');
  const dangling = await listBranchesByWalk(await open(bob), { includeRemote: true, now: NOW });
  assert.equal(dangling!.defaultBranch, 'main');
  assert.equal(dangling!.branches.find((branch) => branch.name === 'main')!.merged, true);
  // Git's own listing (long histories go there) ignores it too, rather than failing on --merged.
  const danglingFromGit = await listBranchesFromGit(await open(bob), { includeRemote: true, now: NOW });
  assert.equal(danglingFromGit.defaultBranch, 'main');
  assert.deepEqual(
    danglingFromGit.branches.map((branch) => [branch.name, branch.merged]),
    dangling!.branches.map((branch) => [branch.name, branch.merged]),
  );
});

void test('a shallow clone: commits at the cut have no parents, for git and for us', async (t) => {
  const { alice, dir } = team(t);
  for (let index = 0; index < 5; index++) commitFile(alice, `f${index}.txt`, `${index}\n`, `main ${index}`);
  git(alice, 'switch', '-q', '-c', 'side', 'HEAD~3');
  commitFile(alice, 'side.txt', '1\n', 'side');
  git(alice, 'push', '-q', 'origin', 'main', 'side');
  const shallow = join(dir, 'shallow');
  git(dir, 'clone', '-q', '--depth', '2', '--no-single-branch', `file://${join(dir, 'origin.git')}`, shallow);
  git(shallow, 'branch', '-q', '--track', 'side', 'origin/side');
  git(shallow, 'reset', '-q', '--hard', 'HEAD~1');
  await assertSameAsGit(shallow);
  assertPairsSameAsGit(shallow);
});

void test('an empty repository: both listings are empty with an unborn head', async (t) => {
  const dir = join(tempDir(t), 'empty');
  git(tempDir(t), 'init', '-q', '-b', 'trunk', dir);
  await assertSameAsGit(dir);
});

void test('what the walk cannot answer goes to git: an upstream outside refs/heads and refs/remotes, a history over the limit', async (t) => {
  const { bob } = team(t);
  git(bob, 'tag', 'v1');
  commitFile(bob, 'after.txt', '1\n', 'after the tag');
  git(bob, 'switch', '-q', '-c', 'from-tag');
  git(bob, 'config', 'branch.from-tag.remote', '.');
  git(bob, 'config', 'branch.from-tag.merge', 'refs/tags/v1');
  const repo = await open(bob);
  assert.equal(await listBranchesByWalk(repo, { includeRemote: true, now: NOW }), null);
  const listed = await listBranches(repo, { includeRemote: true, now: NOW });
  assert.deepEqual(listed, await listBranchesFromGit(repo, { includeRemote: true, now: NOW }));
  assert.deepEqual([listed.branches.find((branch) => branch.name === 'from-tag')!.ahead], [1]);

  git(bob, 'config', '--unset', 'branch.from-tag.merge');
  assert.equal(
    await listBranchesByWalk(repo, { includeRemote: true, now: NOW, historyLimit: 1 }),
    null,
    'two commits are over a limit of one',
  );
  assert.ok(await listBranchesByWalk(repo, { includeRemote: true, now: NOW, historyLimit: 2 }));
});

void test('a refresh reuses the history read before and still equals git after commits, new and deleted branches', async (t) => {
  const { alice, bob } = team(t);
  commitFile(alice, 'm1.txt', '1\n', 'main one');
  git(alice, 'push', '-q', 'origin', 'main');
  git(bob, 'pull', '-q', '--ff-only');
  const repo = await open(bob);
  // The first listing reads the whole history; every later one reads only the commits it lacks.
  assert.ok(await listBranchesByWalk(repo, { includeRemote: true, now: NOW }));
  commitFile(bob, 'b1.txt', '1\n', 'bob one');
  git(bob, 'switch', '-q', '-c', 'fresh');
  commitFile(bob, 'f1.txt', '1\n', 'fresh one');
  git(bob, 'push', '-q', '-u', 'origin', 'fresh');
  commitFile(bob, 'f2.txt', '2\n', 'fresh two');
  await assertSameAsGit(bob);
  git(bob, 'switch', '-q', 'main');
  git(bob, 'branch', '-q', '-D', 'fresh');
  git(bob, 'remote', 'set-head', 'origin', 'main');
  await assertSameAsGit(bob);
});

/** Each commit of `history` as `sha parents | date author subject`, sorted: two reads compare as sets. */
function commitsOf(history: History): string[] {
  const { graph } = history.parsed;
  const shas = [...graph.ids.keys()];
  return shas
    .map((sha, id) => {
      const parents = Array.from(graph.parents.subarray(graph.parentStart[id], graph.parentStart[id + 1]), (parent) => shas[parent]);
      return `${sha} ${parents.join(' ')} | ${history.parsed.formatted(id)}`;
    })
    .sort();
}

void test('a kept history grows by only what it lacks: a commit, a rebase, a fetched branch; never from a shallow clone', async (t) => {
  const { alice, bob, dir } = team(t);
  for (let index = 0; index < 4; index++) commitFile(alice, `a${index}.txt`, `${index}\n`, `alice ${index}`);
  git(alice, 'push', '-q', 'origin', 'main');
  git(bob, 'pull', '-q', '--ff-only');
  git(bob, 'switch', '-q', '-c', 'topic');
  commitFile(bob, 't1.txt', '1\n', 'topic one');
  const repo = await open(bob);
  const tips = (): string[] => git(bob, 'for-each-ref', '--format=%(objectname)', 'refs/heads', 'refs/remotes').split('\n');
  const fullRead = async (): Promise<History> => {
    const read = await readHistory(repo, tips(), 1_000);
    assert.ok(typeof read !== 'string');
    return read;
  };
  let known = await fullRead();
  const grown = async (stops: string[], label: string): Promise<void> => {
    const extended = await extendHistory(repo, known, tips(), stops, 1_000);
    assert.ok(extended, `${label}: grown, not read again`);
    assert.ok(extended !== known, `${label}: something was missing`);
    const fresh = await fullRead();
    // The kept history may also hold commits no tip reaches any more (a rebased branch's old ones).
    const kept = new Set(commitsOf(extended));
    for (const commit of commitsOf(fresh)) assert.ok(kept.has(commit), `${label}: ${commit}`);
    known = extended;
  };

  const topicBefore = git(bob, 'rev-parse', 'topic');
  commitFile(bob, 't2.txt', '2\n', 'topic two');
  await grown([topicBefore], 'a commit on topic');

  assert.equal(await extendHistory(repo, known, tips(), [], 1_000), known, 'nothing new: the same history');

  const rebasedFrom = git(bob, 'rev-parse', 'topic');
  git(bob, 'rebase', '-q', '--onto', 'main~2', 'main');
  await grown([rebasedFrom], 'a rebase');

  git(alice, 'switch', '-q', '-c', 'feature', 'main~1');
  commitFile(alice, 'f1.txt', '1\n', 'feature one');
  git(alice, 'push', '-q', 'origin', 'feature');
  git(bob, 'fetch', '-q', 'origin');
  await grown([git(bob, 'rev-parse', 'main')], 'a fetched branch off main');

  commitFile(bob, 't3.txt', '3\n', 'topic three');
  await grown([], 'a commit with no stop: the walk goes down to known commits');

  assert.equal(await extendHistory(repo, known, tips(), [], known.parsed.graph.ids.size - 1), undefined, 'over the limit: read afresh');
  commitFile(bob, 't4.txt', '4\n', 'topic four');
  assert.equal(await extendHistory(repo, known, tips(), [], known.parsed.graph.ids.size), undefined, 'no room for the new commit: read afresh');

  const shallow = join(dir, 'shallow');
  git(dir, 'clone', '-q', '--depth', '1', `file://${join(dir, 'origin.git')}`, shallow);
  const shallowRepo = await open(shallow);
  const shallowRead = await readHistory(shallowRepo, [git(shallow, 'rev-parse', 'HEAD')], 1_000);
  assert.ok(typeof shallowRead !== 'string');
  git(shallow, 'fetch', '-q', '--deepen', '2');
  assert.equal(await extendHistory(shallowRepo, shallowRead, [git(shallow, 'rev-parse', 'HEAD')], [], 1_000), undefined, 'a shallow clone can deepen: never reused');
  await assertSameAsGit(shallow);
});

void test('a refresh after the commit it would stop at was pruned reads the history again and equals git', async (t) => {
  const { bob } = team(t);
  git(bob, 'switch', '-q', '-c', 'topic');
  commitFile(bob, 't1.txt', '1\n', 'topic one');
  commitFile(bob, 't2.txt', '2\n', 'topic two');
  const repo = await open(bob);
  assert.ok(await listBranchesByWalk(repo, { includeRemote: true, now: NOW }));
  // topic's old tip, the stop the next listing would pass to git, no longer exists.
  git(bob, 'reset', '-q', '--hard', 'HEAD~2');
  commitFile(bob, 't3.txt', '3\n', 'topic three');
  git(bob, 'reflog', 'expire', '--expire=now', '--all');
  git(bob, 'gc', '-q', '--prune=now');
  await assertSameAsGit(bob);
});
