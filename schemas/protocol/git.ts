/**
 * Git: the branches of a workspace's repository and the operations on them (create, checkout,
 * rename, delete, merge), sync with a remote (fetch, pull, push) and git-flow. Failures are answered
 * as errors whose `data` is a GitErrorData: a code the editor can act on (offer "stash and continue",
 * offer pull, open the conflicted files) and the files involved.
 */
import { z } from 'zod';
import { defineNotification, defineRequest } from '../rpc';

export const GIT_ERROR_CODES = [
  'not-a-repository',
  'invalid-name',
  'unknown-ref',
  'already-exists',
  'dirty-tree',
  'unmerged-branch',
  'current-branch',
  'merge-conflict',
  'operation-in-progress',
  'no-commits',
  'detached-head',
  'no-remote',
  'no-upstream',
  'authentication-failed',
  'unreachable-remote',
  'non-fast-forward',
  'diverged',
  'git-failed',
] as const;
export const GitErrorCode = z.enum(GIT_ERROR_CODES);
export type GitErrorCode = z.output<typeof GitErrorCode>;

/** The `data` of an error answer from a git request. */
export const GitErrorData = z.object({
  code: GitErrorCode,
  /** Files involved: the dirty files of a refused operation, or the conflicted files of a merge. */
  files: z.array(z.string()).default([]),
  /** git's own message, when the error came from a git command. */
  gitMessage: z.string().optional(),
});
export type GitErrorData = z.output<typeof GitErrorData>;

/** Which repository: a workspace root or a folder inside one; the first workspace root when absent. */
const Root = z.string().min(1).optional().describe('A folder in the repository (default: the first workspace root).');

export const CommitInfo = z.object({
  sha: z.string(),
  shortSha: z.string(),
  subject: z.string(),
  author: z.string(),
  /** The committer date, milliseconds since the epoch. */
  date: z.number(),
  /** "3 hours ago", relative to when the listing was made. */
  relativeDate: z.string(),
});
export type CommitInfo = z.output<typeof CommitInfo>;

export const Branch = z.object({
  /** `feature/x` for a local branch, `origin/feature/x` for a remote-tracking one. */
  name: z.string(),
  /** The full ref: `refs/heads/feature/x`, `refs/remotes/origin/feature/x`. */
  ref: z.string(),
  kind: z.enum(['local', 'remote']),
  /** The remote of a remote-tracking branch (null for local branches). */
  remote: z.string().nullable(),
  current: z.boolean(),
  /** The upstream of a local branch (`origin/feature/x`), null when it has none. */
  upstream: z.string().nullable(),
  /** The upstream is configured but its remote-tracking branch no longer exists. */
  upstreamGone: z.boolean(),
  /** Commits on this branch not on its upstream; null without an upstream. */
  ahead: z.number().int().nullable(),
  behind: z.number().int().nullable(),
  commit: CommitInfo,
  /** Whether the branch tip is reachable from the default branch (null when there is none). */
  merged: z.boolean().nullable(),
});
export type Branch = z.output<typeof Branch>;

export const HeadState = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('branch'), name: z.string(), sha: z.string() }),
  z.object({ kind: z.literal('detached'), sha: z.string() }),
  /** A branch with no commits yet (a new repository). */
  z.object({ kind: z.literal('unborn'), name: z.string() }),
]);
export type HeadState = z.output<typeof HeadState>;

export const BranchList = z.object({
  /** The repository's top-level folder. */
  root: z.string(),
  head: HeadState,
  /** The branch `merged` is measured against: origin/HEAD's branch, else init.defaultBranch, main or master. */
  defaultBranch: z.string().nullable(),
  branches: z.array(Branch),
});
export type BranchList = z.output<typeof BranchList>;

/** Sent by the extension: the repository's local and (optionally) remote-tracking branches. */
export const listBranches = defineRequest('mlw/git/listBranches', {
  params: z.object({ root: Root, includeRemote: z.boolean().default(true) }).strict(),
  result: BranchList,
});

export const WorkingTreeStatus = z.object({
  root: z.string(),
  head: HeadState,
  /** Tracked files with staged or unstaged changes (paths relative to the root). */
  dirty: z.array(z.string()),
  untracked: z.array(z.string()),
  conflicted: z.array(z.string()),
  /** An operation git is in the middle of. */
  inProgress: z.enum(['merge', 'rebase', 'cherry-pick', 'revert']).nullable(),
});
export type WorkingTreeStatus = z.output<typeof WorkingTreeStatus>;

/** Sent by the extension: HEAD, the dirty and conflicted files, and any merge or rebase in progress. */
export const gitStatus = defineRequest('mlw/git/status', {
  params: z.object({ root: Root }).strict(),
  result: WorkingTreeStatus,
});

/** What happened to uncommitted work an operation stashed ("stash and continue"). */
export const StashOutcome = z.object({
  /** The stash commit: still in `git stash list` unless `reapplied`. */
  sha: z.string(),
  reapplied: z.boolean(),
  /** Files that conflicted when the work was re-applied (the stash is kept then). */
  conflicts: z.array(z.string()),
});
export type StashOutcome = z.output<typeof StashOutcome>;

const BranchName = z.string().min(1).max(1024);
/** With uncommitted changes: refuse (default, listing them) or stash, operate and re-apply. */
const Stash = z.boolean().default(false).describe('Stash uncommitted changes, operate, then re-apply them.');

/** Sent by the extension: create a branch at a ref (default HEAD), optionally switching to it. */
export const createBranch = defineRequest('mlw/git/createBranch', {
  params: z
    .object({ root: Root, name: BranchName, from: z.string().min(1).optional(), checkout: z.boolean().default(false), stash: Stash })
    .strict(),
  result: z.object({ name: z.string(), sha: z.string(), head: HeadState, stash: StashOutcome.nullable() }),
});

/** Sent by the extension: switch to a local branch, or to a remote one through a new tracking branch. */
export const checkoutBranch = defineRequest('mlw/git/checkout', {
  params: z.object({ root: Root, name: BranchName, stash: Stash }).strict(),
  result: z.object({
    head: HeadState,
    /** The tracking branch created for a remote branch, null when none was needed. */
    created: z.string().nullable(),
    stash: StashOutcome.nullable(),
  }),
});

/** Sent by the extension: rename a local branch (its upstream setting moves with it). */
export const renameBranch = defineRequest('mlw/git/rename', {
  params: z.object({ root: Root, from: BranchName, to: BranchName }).strict(),
  result: z.object({ name: z.string() }),
});

/** Sent by the extension: delete a local branch; an unmerged one only with force (after the user confirms). */
export const deleteBranch = defineRequest('mlw/git/delete', {
  params: z.object({ root: Root, name: BranchName, force: z.boolean().default(false) }).strict(),
  result: z.object({ name: z.string(), sha: z.string() }),
});

export const MergeOutcome = z.enum(['up-to-date', 'fast-forward', 'merge-commit', 'conflicts', 'aborted']);

/** Sent by the extension: merge a branch into the current one, or abort a merge in progress. */
export const mergeBranch = defineRequest('mlw/git/merge', {
  params: z
    .object({
      root: Root,
      name: BranchName.optional(),
      /** Always make a merge commit, even when a fast-forward is possible. */
      noFastForward: z.boolean().default(false),
      /** Abort the merge in progress instead (name is ignored). */
      abort: z.boolean().default(false),
      stash: Stash,
    })
    .strict()
    .refine((p) => p.abort || p.name !== undefined, { message: 'give the branch to merge', path: ['name'] }),
  result: z.object({
    outcome: MergeOutcome,
    head: HeadState,
    /** The conflicted files when the outcome is `conflicts` (the merge is left in progress to resolve or abort). */
    conflicts: z.array(z.string()),
    stash: StashOutcome.nullable(),
  }),
});

const Remote = z.string().min(1).optional().describe("The remote (default: the branch's upstream remote, else origin, else the only one).");

/** Sent by the extension: fetch a remote (all its branches; pruning deleted ones). */
export const fetchRemote = defineRequest('mlw/git/fetch', {
  params: z.object({ root: Root, remote: Remote, prune: z.boolean().default(true), progressToken: z.string().optional() }).strict(),
  result: z.object({ remote: z.string() }),
});

/** Sent by the extension: bring the current branch up to date with its upstream (fast-forward only unless rebase). */
export const pullBranch = defineRequest('mlw/git/pull', {
  params: z
    .object({ root: Root, remote: Remote, rebase: z.boolean().default(false), stash: Stash, progressToken: z.string().optional() })
    .strict(),
  result: z.object({
    outcome: z.enum(['up-to-date', 'fast-forward', 'rebased']),
    head: HeadState,
    stash: StashOutcome.nullable(),
  }),
});

/** Sent by the extension: push the current branch; the first push sets its upstream. Never forces. */
export const pushBranch = defineRequest('mlw/git/push', {
  params: z.object({ root: Root, remote: Remote, progressToken: z.string().optional() }).strict(),
  result: z.object({ remote: z.string(), branch: z.string(), upstreamSet: z.boolean() }),
});

export const FlowKind = z.enum(['feature', 'release', 'hotfix']);
export type FlowKind = z.output<typeof FlowKind>;

/** git-flow settings; absent ones come from the repository's `gitflow.*` config, then the defaults. */
export const FlowConfig = z
  .object({
    mainBranch: z.string().min(1).optional().describe('default: gitflow.branch.master, else main (or master)'),
    developBranch: z.string().min(1).optional().describe('default: gitflow.branch.develop, else develop'),
    featurePrefix: z.string().optional().describe('default: gitflow.prefix.feature, else feature/'),
    releasePrefix: z.string().optional().describe('default: gitflow.prefix.release, else release/'),
    hotfixPrefix: z.string().optional().describe('default: gitflow.prefix.hotfix, else hotfix/'),
    tagPrefix: z.string().optional().describe('default: gitflow.prefix.versiontag, else none'),
  })
  .strict();
export type FlowConfig = z.output<typeof FlowConfig>;

/** Sent by the extension: start a feature (off develop), release (off develop) or hotfix (off main). */
export const flowStart = defineRequest('mlw/git/flowStart', {
  params: z.object({ root: Root, kind: FlowKind, name: BranchName, config: FlowConfig.optional(), stash: Stash }).strict(),
  result: z.object({ branch: z.string(), base: z.string(), head: HeadState, stash: StashOutcome.nullable() }),
});

/**
 * Sent by the extension: finish a flow branch. A feature merges into develop; a release or hotfix
 * merges into main, is tagged, and merges back into develop. The branch is deleted afterwards.
 * Any failure (a conflict on the way) rolls every branch, tag and HEAD back to where they were.
 */
export const flowFinish = defineRequest('mlw/git/flowFinish', {
  params: z
    .object({
      root: Root,
      kind: FlowKind,
      name: BranchName,
      config: FlowConfig.optional(),
      tagMessage: z.string().optional(),
      keepBranch: z.boolean().default(false),
      stash: Stash,
    })
    .strict(),
  result: z.object({
    branch: z.string(),
    mergedInto: z.array(z.string()),
    tag: z.string().nullable(),
    deleted: z.boolean(),
    head: HeadState,
    stash: StashOutcome.nullable(),
  }),
});

/** Sent by the agent when a repository's HEAD or refs change (debounced; from watching `.git`, never polling). */
export const gitChanged = defineNotification('mlw/git/changed', {
  params: z.object({ root: z.string() }),
});

/** Sent by the agent during fetch, pull and push that carried a progressToken: git's progress lines. */
export const gitProgress = defineNotification('mlw/git/progress', {
  params: z.object({ token: z.string(), message: z.string(), percent: z.number().min(0).max(100).nullable() }),
});
