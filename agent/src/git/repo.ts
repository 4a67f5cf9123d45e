/**
 * Opening a repository and reading its state with read-profile git only: where it is, what HEAD
 * is, which files are dirty or conflicted, which operation is in progress, what the default branch is.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { HeadState, WorkingTreeStatus } from '../../../schemas/protocol/git';
import { GitError } from './errors';
import { GitCommandError, runGit, type GitOutput, type GitRunOptions } from './runner';

export interface Repo {
  /** The top-level folder of the work tree. */
  readonly root: string;
  /** `.git` of this work tree (HEAD lives here). */
  readonly gitDir: string;
  /** The shared `.git` (refs and packed-refs live here; differs from gitDir in linked worktrees). */
  readonly commonDir: string;
}

/** Runs read-profile git in the repository. */
export function readGit(repo: Repo, args: readonly string[], options: Omit<GitRunOptions, 'profile'> = {}): Promise<GitOutput> {
  return runGit(repo.root, args, { ...options, profile: 'read' });
}

/** Runs write-profile git in the repository (operations the user asked for). */
export function writeGit(repo: Repo, args: readonly string[], options: Omit<GitRunOptions, 'profile'> = {}): Promise<GitOutput> {
  return runGit(repo.root, args, { ...options, profile: 'write' });
}

/** Finds the repository containing `folder`; a GitError naming the folder when there is none. */
export async function openRepo(folder: string): Promise<Repo> {
  const absolute = resolve(folder);
  if (!existsSync(absolute)) throw new GitError('not-a-repository', `${absolute} does not exist`);
  try {
    const { stdout } = await runGit(absolute, ['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-common-dir'], {
      profile: 'read',
    });
    const [root, gitDir, common] = stdout.split('\n');
    if (!root || !gitDir || !common) throw new GitError('not-a-repository', `${absolute} is not in a git work tree`);
    return { root, gitDir, commonDir: isAbsolute(common) ? common : resolve(absolute, common) };
  } catch (error) {
    if (error instanceof GitCommandError) {
      throw new GitError('not-a-repository', `${absolute} is not in a git repository (${error.stderr.trim()})`);
    }
    throw error;
  }
}

/** HEAD: on a branch (with its commit), detached, or on a branch with no commits yet. */
export async function headState(repo: Repo): Promise<HeadState> {
  const [symbolic, commit] = await Promise.all([
    readGit(repo, ['symbolic-ref', '-q', 'HEAD'], { okCodes: [1] }),
    readGit(repo, ['rev-parse', '-q', '--verify', 'HEAD^{commit}'], { okCodes: [1] }),
  ]);
  const ref = symbolic.stdout.trim();
  const sha = commit.stdout.trim();
  if (ref.startsWith('refs/heads/')) {
    const name = ref.slice('refs/heads/'.length);
    return sha === '' ? { kind: 'unborn', name } : { kind: 'branch', name, sha };
  }
  return { kind: 'detached', sha };
}

/** The full sha a ref points at, or null. Only for names already checked by refs.ts. */
export async function resolveCommit(repo: Repo, ref: string): Promise<string | null> {
  const { stdout, exitCode } = await readGit(repo, ['rev-parse', '-q', '--verify', '--end-of-options', `${ref}^{commit}`], {
    okCodes: [1, 128],
  });
  return exitCode === 0 ? stdout.trim() : null;
}

/**
 * Config keys of drivers git could run while computing status (clean/smudge/process filters,
 * textconv, external diff): each pointed at nothing for read-profile calls.
 */
async function driverOverrides(repo: Repo): Promise<string[]> {
  const { stdout } = await readGit(repo, ['config', '--name-only', '-z', '--get-regexp', '^(filter|diff)\\.'], { okCodes: [1] });
  const overrides: string[] = [];
  for (const key of stdout.split('\0')) {
    const lower = key.toLowerCase();
    if (/^filter\..+\.(clean|smudge|process)$/.test(lower) || /^diff\..+\.(textconv|command)$/.test(lower)) {
      overrides.push(`${key}=`);
    } else if (/^filter\..+\.required$/.test(lower)) {
      overrides.push(`${key}=false`);
    }
  }
  return overrides;
}

/** `git status` split into what the safety checks and the view need. */
export async function workingTreeStatus(repo: Repo): Promise<WorkingTreeStatus> {
  const [head, config] = await Promise.all([headState(repo), driverOverrides(repo)]);
  const { stdout } = await readGit(repo, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignore-submodules=dirty'], {
    config,
  });
  const dirty: string[] = [];
  const untracked: string[] = [];
  const conflicted: string[] = [];
  const fields = stdout.split('\0');
  for (let index = 0; index < fields.length; index++) {
    const entry = fields[index]!;
    if (entry.length < 4) continue;
    const code = entry.slice(0, 2);
    const path = entry.slice(3);
    if (code === '??') untracked.push(path);
    else if (code === '!!') continue;
    else if (/U|AA|DD/.test(code)) conflicted.push(path);
    else dirty.push(path);
    // A rename or copy is followed by its source path in its own field.
    if (code[0] === 'R' || code[0] === 'C') index++;
  }
  return { root: repo.root, head, dirty, untracked, conflicted, inProgress: operationInProgress(repo) };
}

export function operationInProgress(repo: Repo): WorkingTreeStatus['inProgress'] {
  if (existsSync(join(repo.gitDir, 'MERGE_HEAD'))) return 'merge';
  if (existsSync(join(repo.gitDir, 'rebase-merge')) || existsSync(join(repo.gitDir, 'rebase-apply'))) return 'rebase';
  if (existsSync(join(repo.gitDir, 'CHERRY_PICK_HEAD'))) return 'cherry-pick';
  if (existsSync(join(repo.gitDir, 'REVERT_HEAD'))) return 'revert';
  return null;
}

/** Paths with unmerged entries in the index (after a conflicted merge or stash apply). */
export async function conflictedFiles(repo: Repo): Promise<string[]> {
  const { stdout } = await readGit(repo, ['diff', '--name-only', '-z', '--diff-filter=U']);
  return [...new Set(stdout.split('\0').filter((path) => path !== ''))];
}

/** A local ref's value, or null when it does not exist. */
export async function refValue(repo: Repo, fullRef: string): Promise<string | null> {
  const { stdout, exitCode } = await readGit(repo, ['rev-parse', '-q', '--verify', '--end-of-options', fullRef], { okCodes: [1] });
  return exitCode === 0 ? stdout.trim() : null;
}

/** The repository's remotes. */
export async function remotes(repo: Repo): Promise<string[]> {
  const { stdout } = await readGit(repo, ['remote']);
  return stdout.split('\n').filter((name) => name !== '');
}

/** One config value (read profile), or undefined. */
export async function configValue(repo: Repo, key: string): Promise<string | undefined> {
  const { stdout, exitCode } = await readGit(repo, ['config', '--get', '--end-of-options', key], { okCodes: [1] });
  return exitCode === 0 ? stdout.trim() : undefined;
}

/**
 * The default branch: what origin/HEAD points at (as a local name when that branch exists locally),
 * else init.defaultBranch, main or master if it exists locally.
 */
export async function defaultBranch(repo: Repo, localNames: ReadonlySet<string>): Promise<string | null> {
  return pickDefaultBranch(await defaultBranchHints(repo), localNames);
}

/** What the default branch is decided from, read without knowing the branches (so beside their listing). */
export interface DefaultBranchHints {
  /** Where refs/remotes/origin/HEAD points ('' when it is not a symbolic ref). */
  readonly originHead: string;
  readonly configured: string | undefined;
}

export async function defaultBranchHints(repo: Repo): Promise<DefaultBranchHints> {
  const [originHead, configured] = await Promise.all([
    readGit(repo, ['symbolic-ref', '-q', 'refs/remotes/origin/HEAD'], { okCodes: [1, 128] }),
    configValue(repo, 'init.defaultBranch'),
  ]);
  return { originHead: originHead.stdout.trim(), configured };
}

/** `localNames` needs only `has`: the listing answers it from its map of refs. */
export function pickDefaultBranch(hints: DefaultBranchHints, localNames: Pick<ReadonlySet<string>, 'has'>): string | null {
  if (hints.originHead.startsWith('refs/remotes/origin/')) {
    const name = hints.originHead.slice('refs/remotes/origin/'.length);
    return localNames.has(name) ? name : `origin/${name}`;
  }
  for (const candidate of [hints.configured, 'main', 'master']) {
    if (candidate && localNames.has(candidate)) return candidate;
  }
  return null;
}

/** The full ref of a local branch's upstream (`refs/remotes/origin/x`), or null when it has none. */
export async function upstreamOf(repo: Repo, branch: string): Promise<string | null> {
  const { stdout } = await readGit(repo, ['for-each-ref', '--format=%(upstream)', '--end-of-options', `refs/heads/${branch}`]);
  const upstream = stdout.trim();
  return upstream === '' ? null : upstream;
}
