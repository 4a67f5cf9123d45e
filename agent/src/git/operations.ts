/**
 * Branch operations: create, checkout (a remote branch gets a tracking branch), rename, delete
 * (an unmerged branch only with force), merge into the current branch (conflicts listed, abort).
 * Every user value is checked by refs.ts and passed after `--end-of-options`; operations that touch
 * the work tree go through safety.ts so uncommitted work is never lost.
 */
import type { HeadState, StashOutcome } from '../../../schemas/protocol/git';
import { GitError, listFiles } from './errors';
import { checkBranchName, checkStartPoint, localBranchExists, refuseOptionLike, remoteBranchExists } from './refs';
import { conflictedFiles, configValue, defaultBranch, headState, operationInProgress, readGit, refValue, remotes, upstreamOf, writeGit, type Repo } from './repo';
import { GitCommandError } from './runner';
import { guarded } from './safety';


export interface CreateOptions {
  readonly name: string;
  readonly from?: string | undefined;
  readonly checkout: boolean;
  readonly stash: boolean;
}

export async function createBranch(
  repo: Repo,
  options: CreateOptions,
): Promise<{ name: string; sha: string; head: HeadState; stash: StashOutcome | null }> {
  const name = await checkBranchName(repo, options.name);
  if (await localBranchExists(repo, name)) throw new GitError('already-exists', `a branch named '${name}' already exists`);
  const sha = options.from === undefined ? await headCommit(repo) : await checkStartPoint(repo, options.from);
  if (!options.checkout) {
    await writeGit(repo, ['branch', '--no-track', '--end-of-options', name, sha]);
    return { name, sha, head: await headState(repo), stash: null };
  }
  const { stash } = await guarded(repo, { label: `create and switch to ${name}`, stash: options.stash }, async () => {
    await writeGit(repo, ['branch', '--no-track', '--end-of-options', name, sha]);
    await switchOrUndo(repo, name, name);
  });
  return { name, sha, head: await headState(repo), stash };
}

async function headCommit(repo: Repo): Promise<string> {
  const head = await headState(repo);
  if (head.kind === 'unborn') throw new GitError('no-commits', `${repo.root} has no commits yet: commit something first`);
  return head.sha;
}

/** Switches to `name`; when that fails, deletes `created` (the branch made for this switch) and rethrows. */
async function switchOrUndo(repo: Repo, name: string, created: string | null): Promise<void> {
  try {
    await writeGit(repo, ['switch', '--quiet', '--no-guess', '--end-of-options', name]);
  } catch (error) {
    if (created !== null) await writeGit(repo, ['branch', '-D', '--end-of-options', created]);
    throw gitFailure(error, `cannot switch to ${name}`);
  }
}

/** Turns a failed git command into a GitError carrying git's message (other errors pass through). */
export function gitFailure(error: unknown, what: string): unknown {
  if (!(error instanceof GitCommandError)) return error;
  const message = (error.stderr.trim() || error.stdout.trim()).replace(/^(error|fatal): /gm, '');
  return new GitError('git-failed', `${what}: ${message}`, [], error.stderr.trim());
}

export async function checkoutBranch(
  repo: Repo,
  options: { name: string; stash: boolean },
): Promise<{ head: HeadState; created: string | null; stash: StashOutcome | null }> {
  refuseOptionLike(options.name, 'branch');
  const head = await headState(repo);
  if (head.kind !== 'detached' && head.name === options.name) return { head, created: null, stash: null };
  if (await localBranchExists(repo, options.name)) {
    const { stash } = await guarded(repo, { label: `switch to ${options.name}`, stash: options.stash }, () =>
      switchOrUndo(repo, options.name, null),
    );
    return { head: await headState(repo), created: null, stash };
  }
  if (await remoteBranchExists(repo, options.name)) return checkoutRemote(repo, options.name, options.stash);
  throw new GitError('unknown-ref', `there is no branch '${options.name}' in ${repo.root} (local or remote-tracking)`);
}

/** `origin/feature/x` → a local `feature/x` tracking it (or the existing one, when it already tracks it). */
async function checkoutRemote(repo: Repo, remoteName: string, stash: boolean): Promise<{ head: HeadState; created: string | null; stash: StashOutcome | null }> {
  const remote = (await remotes(repo)).filter((name) => remoteName.startsWith(`${name}/`)).sort((a, b) => b.length - a.length)[0];
  if (remote === undefined) throw new GitError('unknown-ref', `'${remoteName}' is not a branch of any remote`);
  const localName = await checkBranchName(repo, remoteName.slice(remote.length + 1));
  if (await localBranchExists(repo, localName)) {
    if ((await upstreamOf(repo, localName)) !== `refs/remotes/${remoteName}`) {
      throw new GitError('already-exists', `a local branch '${localName}' already exists and does not track ${remoteName}: switch to it, or rename it first`);
    }
    const result = await guarded(repo, { label: `switch to ${localName}`, stash }, () => switchOrUndo(repo, localName, null));
    return { head: await headState(repo), created: null, stash: result.stash };
  }
  const result = await guarded(repo, { label: `check out ${remoteName}`, stash }, async () => {
    await writeGit(repo, ['branch', '--quiet', '--track', '--end-of-options', localName, `refs/remotes/${remoteName}`]);
    await switchOrUndo(repo, localName, localName);
  });
  return { head: await headState(repo), created: localName, stash: result.stash };
}

export async function renameBranch(repo: Repo, options: { from: string; to: string }): Promise<{ name: string }> {
  refuseOptionLike(options.from, 'branch');
  if (!(await localBranchExists(repo, options.from))) {
    const head = await headState(repo);
    if (!(head.kind === 'unborn' && head.name === options.from)) throw new GitError('unknown-ref', `there is no local branch '${options.from}'`);
  }
  const to = await checkBranchName(repo, options.to);
  if (await localBranchExists(repo, to)) throw new GitError('already-exists', `a branch named '${to}' already exists`);
  try {
    await writeGit(repo, ['branch', '--move', '--end-of-options', options.from, to]);
  } catch (error) {
    throw gitFailure(error, `cannot rename ${options.from} to ${to}`);
  }
  return { name: to };
}

/**
 * Deletes a local branch. Without force, refuses unless its tip is reachable from HEAD, its upstream
 * or the default branch (so no commit becomes unreachable). Returns the sha so it can be restored.
 */
export async function deleteBranch(repo: Repo, options: { name: string; force: boolean }): Promise<{ name: string; sha: string }> {
  refuseOptionLike(options.name, 'branch');
  const sha = await refValue(repo, `refs/heads/${options.name}`);
  if (sha === null) throw new GitError('unknown-ref', `there is no local branch '${options.name}'`);
  const head = await headState(repo);
  if (head.kind !== 'detached' && head.name === options.name) {
    throw new GitError('current-branch', `'${options.name}' is the current branch: switch to another branch before deleting it`);
  }
  if (!options.force && !(await isMergedSomewhere(repo, options.name, sha))) {
    throw new GitError(
      'unmerged-branch',
      `'${options.name}' is not merged into HEAD, its upstream or the default branch: deleting it would lose commits (force to delete anyway; it is at ${sha.slice(0, 7)})`,
    );
  }
  await writeGit(repo, ['branch', '--delete', '--force', '--end-of-options', options.name]);
  return { name: options.name, sha };
}

async function isMergedSomewhere(repo: Repo, name: string, sha: string): Promise<boolean> {
  const local = await readGit(repo, ['for-each-ref', '--format=%(refname:short)', 'refs/heads']);
  const names = new Set(local.stdout.split('\n').filter((line) => line !== ''));
  const candidates = ['HEAD'];
  const upstream = await upstreamOf(repo, name);
  if (upstream !== null) candidates.push(upstream);
  const fallback = await defaultBranch(repo, names);
  if (fallback !== null) candidates.push(names.has(fallback) ? `refs/heads/${fallback}` : `refs/remotes/${fallback}`);
  for (const candidate of candidates) {
    const { exitCode } = await readGit(repo, ['merge-base', '--is-ancestor', '--end-of-options', sha, candidate], { okCodes: [1, 128] });
    if (exitCode === 0) return true;
  }
  return false;
}

export type MergeResult = {
  outcome: 'up-to-date' | 'fast-forward' | 'merge-commit' | 'conflicts' | 'aborted';
  head: HeadState;
  conflicts: string[];
  stash: StashOutcome | null;
};

export async function mergeBranch(
  repo: Repo,
  options: { name?: string | undefined; noFastForward: boolean; abort: boolean; stash: boolean },
): Promise<MergeResult> {
  if (options.abort) return abortMerge(repo);
  const name = options.name ?? '';
  refuseOptionLike(name, 'branch');
  const head = await headState(repo);
  if (head.kind === 'detached') throw new GitError('detached-head', 'HEAD is detached: switch to the branch to merge into first');
  if (head.kind === 'unborn') throw new GitError('no-commits', `${repo.root} has no commits yet: nothing to merge into`);
  const target = await checkStartPoint(repo, name);
  const result = await guarded(
    repo,
    { label: `merge ${name} into ${head.name}`, stash: options.stash, canReapply: (outcome) => outcome !== 'conflicts' },
    async () => {
      try {
        await writeGit(repo, ['merge', '--no-edit', options.noFastForward ? '--no-ff' : '--ff', '--end-of-options', name]);
      } catch (error) {
        if (operationInProgress(repo) === 'merge') return 'conflicts' as const;
        throw gitFailure(error, `cannot merge ${name} into ${head.name}`);
      }
      const after = await headState(repo);
      const sha = after.kind === 'branch' ? after.sha : '';
      if (sha === head.sha) return 'up-to-date' as const;
      return sha === target ? ('fast-forward' as const) : ('merge-commit' as const);
    },
  );
  const conflicts = result.value === 'conflicts' ? await conflictedFiles(repo) : [];
  return { outcome: result.value, head: await headState(repo), conflicts, stash: result.stash };
}

async function abortMerge(repo: Repo): Promise<MergeResult> {
  if (operationInProgress(repo) !== 'merge') throw new GitError('git-failed', `no merge is in progress in ${repo.root}`);
  await writeGit(repo, ['merge', '--abort']);
  return { outcome: 'aborted', head: await headState(repo), conflicts: [], stash: null };
}

/** The message for a merge that stopped on conflicts. */
export function conflictMessage(name: string, conflicts: readonly string[]): string {
  return `merging ${name} stopped on conflicts in:\n${listFiles(conflicts)}\nresolve them and commit, or abort the merge`;
}

/** The upstream remote of a branch, when it has one. */
export async function upstreamRemote(repo: Repo, branch: string): Promise<string | undefined> {
  return configValue(repo, `branch.${branch}.remote`);
}
