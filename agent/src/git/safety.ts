/**
 * "Never lose uncommitted work": operations that touch the work tree run through `guarded`, which
 * refuses a dirty tree (listing the files) unless the caller chose "stash and continue" — then the
 * work is stashed, the operation runs, and the work is re-applied (conflicts reported, the stash
 * kept). When the operation fails, the stash is re-applied onto the unchanged HEAD with its index,
 * so the repository is exactly as it was.
 */
import type { StashOutcome } from '../../../schemas/protocol/git';
import { GitError, listFiles } from './errors';
import { conflictedFiles, readGit, workingTreeStatus, writeGit, type Repo } from './repo';
import { GitCommandError } from './runner';

export interface Guarded<T> {
  readonly value: T;
  readonly stash: StashOutcome | null;
}

export interface GuardOptions<T> {
  /** What the user is doing, for messages and the stash's description ("checkout feature/x"). */
  readonly label: string;
  readonly stash: boolean;
  /** Whether the stashed work can be re-applied after this result (not in the middle of a conflicted merge). */
  readonly canReapply?: (value: T) => boolean;
}

/** Refuses when git is mid-operation or files are conflicted: nothing else is safe then. */
export async function assertNoOperationInProgress(repo: Repo): Promise<void> {
  const status = await workingTreeStatus(repo);
  if (status.inProgress !== null || status.conflicted.length > 0) {
    throw new GitError(
      'operation-in-progress',
      `a ${status.inProgress ?? 'merge'} is in progress in ${repo.root}; finish or abort it first` +
        (status.conflicted.length > 0 ? `; conflicted:\n${listFiles(status.conflicted)}` : ''),
      status.conflicted,
    );
  }
}

export async function guarded<T>(repo: Repo, options: GuardOptions<T>, operation: () => Promise<T>): Promise<Guarded<T>> {
  const status = await workingTreeStatus(repo);
  if (status.inProgress !== null || status.conflicted.length > 0) {
    throw new GitError(
      'operation-in-progress',
      `cannot ${options.label}: a ${status.inProgress ?? 'merge'} is in progress in ${repo.root}; finish or abort it first`,
      status.conflicted,
    );
  }
  if (status.dirty.length === 0) return { value: await operation(), stash: null };
  if (!options.stash) {
    throw new GitError(
      'dirty-tree',
      `cannot ${options.label}: ${status.dirty.length} file(s) have uncommitted changes (commit them, or stash and continue):\n${listFiles(status.dirty)}`,
      status.dirty,
    );
  }
  const sha = await stashPush(repo, `mlw: before ${options.label}`);
  let value: T;
  try {
    value = await operation();
  } catch (error) {
    await restoreExactly(repo, sha);
    throw error;
  }
  if (options.canReapply && !options.canReapply(value)) return { value, stash: { sha, reapplied: false, conflicts: [] } };
  return { value, stash: await reapply(repo, sha) };
}

async function stashPush(repo: Repo, message: string): Promise<string> {
  await writeGit(repo, ['stash', 'push', '--quiet', '--message', message]);
  const { stdout } = await readGit(repo, ['rev-parse', '--verify', 'refs/stash']);
  return stdout.trim();
}

/** After a failed operation HEAD is where it was: the stash applies cleanly with its index. */
async function restoreExactly(repo: Repo, sha: string): Promise<void> {
  await writeGit(repo, ['stash', 'apply', '--quiet', '--index', sha]);
  await dropStash(repo, sha);
}

/** Re-applies onto the new HEAD: with the index when possible, else the changes alone; conflicts keep the stash. */
async function reapply(repo: Repo, sha: string): Promise<StashOutcome> {
  try {
    await writeGit(repo, ['stash', 'apply', '--quiet', '--index', sha]);
  } catch (error) {
    if (!(error instanceof GitCommandError)) throw error;
    const conflicts = await conflictedFiles(repo);
    if (conflicts.length > 0) return { sha, reapplied: false, conflicts };
    // "Conflicts in index. Try without --index.": the staged state cannot be kept on this commit.
    try {
      await writeGit(repo, ['stash', 'apply', '--quiet', sha]);
    } catch (second) {
      if (!(second instanceof GitCommandError)) throw second;
      return { sha, reapplied: false, conflicts: await conflictedFiles(repo) };
    }
  }
  await dropStash(repo, sha);
  return { sha, reapplied: true, conflicts: [] };
}

async function dropStash(repo: Repo, sha: string): Promise<void> {
  const { stdout } = await readGit(repo, ['stash', 'list', '--format=%H']);
  const index = stdout.split('\n').indexOf(sha);
  if (index >= 0) await writeGit(repo, ['stash', 'drop', '--quiet', `stash@{${index}}`]);
}

/** The message a StashOutcome needs, when it needs one. */
export function describeStash(stash: StashOutcome | null): string | null {
  if (stash === null || stash.reapplied) return null;
  if (stash.conflicts.length > 0) {
    return `your stashed changes conflicted when re-applied (the stash ${stash.sha.slice(0, 7)} is kept):\n${listFiles(stash.conflicts)}`;
  }
  return `your changes are kept in stash ${stash.sha.slice(0, 7)} (git stash list); re-apply them with git stash apply`;
}
