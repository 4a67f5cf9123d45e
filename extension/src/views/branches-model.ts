/**
 * What the Branches view, its status bar item and its quick pick show for the agent's branch list,
 * and how the git service's error answers are read — free of `vscode` so it is unit tested.
 */
import {
  GitErrorData,
  type Branch,
  type BranchList,
  type HeadState,
  type StashOutcome,
} from '../../../schemas/protocol';

export type BranchGroup = 'local' | 'remote';

export type BranchNode =
  | { readonly kind: 'group'; readonly group: BranchGroup; readonly branches: readonly Branch[] }
  | { readonly kind: 'branch'; readonly branch: Branch };

/** The two groups of the view, each in git's order (by name); an empty remote group is left out. */
export function branchGroups(list: BranchList): BranchNode[] {
  const local = list.branches.filter((branch) => branch.kind === 'local');
  const remote = list.branches.filter((branch) => branch.kind === 'remote');
  const groups: BranchNode[] = [{ kind: 'group', group: 'local', branches: local }];
  if (remote.length > 0) groups.push({ kind: 'group', group: 'remote', branches: remote });
  return groups;
}

export function groupLabel(group: BranchGroup): string {
  return group === 'local' ? 'Local' : 'Remote';
}

/** "↑2 ↓1" against the upstream; "" when in step or without one; "upstream gone" when it was deleted. */
export function aheadBehindText(branch: Pick<Branch, 'ahead' | 'behind' | 'upstreamGone'>): string {
  if (branch.upstreamGone) return 'upstream gone';
  const parts: string[] = [];
  if (branch.ahead !== null && branch.ahead > 0) parts.push(`↑${branch.ahead}`);
  if (branch.behind !== null && branch.behind > 0) parts.push(`↓${branch.behind}`);
  return parts.join(' ');
}

export function branchDescription(branch: Branch): string {
  return aheadBehindText(branch);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The hover: what the branch tracks, whether it is merged, and its last commit. */
export function branchTooltip(branch: Branch, defaultBranch: string | null): string {
  const lines = [branch.current ? `${branch.name} (current branch)` : branch.name];
  if (branch.kind === 'local') {
    if (branch.upstream === null) lines.push('No upstream (the first push sets one)');
    else if (branch.upstreamGone) lines.push(`Upstream ${branch.upstream} is gone from the remote`);
    else {
      const ahead = branch.ahead ?? 0;
      const behind = branch.behind ?? 0;
      lines.push(
        ahead === 0 && behind === 0
          ? `Up to date with ${branch.upstream}`
          : `${plural(ahead, 'commit')} ahead, ${behind} behind ${branch.upstream}`,
      );
    }
  }
  if (branch.merged !== null && defaultBranch !== null && branch.name !== defaultBranch) {
    lines.push(branch.merged ? `Merged into ${defaultBranch}` : `Not merged into ${defaultBranch}`);
  }
  const { commit } = branch;
  lines.push('', `${commit.shortSha} ${commit.subject}`, `${commit.author}, ${commit.relativeDate}`);
  return lines.join('\n');
}

/** A codicon id: the current branch is checked, remote-tracking ones are in the cloud. */
export function branchIconId(branch: Branch): string {
  if (branch.current) return 'check';
  return branch.kind === 'remote' ? 'cloud' : 'git-branch';
}

/**
 * The row's contextValue, which the context menu's `when` clauses read:
 * `mlw.branch.local.current`, `mlw.branch.local` or `mlw.branch.remote`.
 */
export function branchContextValue(branch: Branch): string {
  if (branch.kind === 'remote') return 'mlw.branch.remote';
  return branch.current ? 'mlw.branch.local.current' : 'mlw.branch.local';
}

/** What a screen reader says for the row (and what the end-to-end test finds the current branch by). */
export function branchAccessibilityLabel(branch: Branch): string {
  const parts = [branch.name];
  if (branch.current) parts.push('current branch');
  const aheadBehind = aheadBehindText(branch);
  if (aheadBehind !== '') parts.push(aheadBehind);
  parts.push(`last commit ${branch.commit.subject}, ${branch.commit.relativeDate}`);
  return parts.join(', ');
}

/** The current branch of a listing (null when HEAD is detached or unborn). */
export function currentBranch(list: BranchList): Branch | null {
  return list.branches.find((branch) => branch.current) ?? null;
}

/** The status bar text: `$(git-branch) main ↑1 ↓2`, a short sha when detached. */
export function statusBarText(list: BranchList): string {
  const head = list.head;
  if (head.kind === 'detached') return `$(git-commit) ${head.sha.slice(0, 7)} (detached)`;
  if (head.kind === 'unborn') return `$(git-branch) ${head.name} (no commits)`;
  const branch = currentBranch(list);
  const aheadBehind = branch === null ? '' : aheadBehindText(branch);
  return `$(git-branch) ${head.name}${aheadBehind === '' ? '' : ` ${aheadBehind}`}`;
}

export function statusBarTooltip(list: BranchList): string {
  const head = list.head;
  if (head.kind === 'detached') return `HEAD is detached at ${head.sha.slice(0, 7)}: click to check out a branch`;
  const branch = currentBranch(list);
  const state = branch === null ? `${head.name} has no commits yet` : branchTooltip(branch, list.defaultBranch);
  return `${state}\n\nClick to check out another branch`;
}

export interface BranchPick {
  readonly label: string;
  readonly description: string;
  readonly detail: string;
  /** The name to check out (a remote one creates its tracking branch). */
  readonly name: string;
}

/** The quick pick's entries: local branches first, then remote ones; the current one is marked. */
export function branchPicks(list: BranchList): BranchPick[] {
  const order = (branch: Branch): number => (branch.kind === 'local' ? 0 : 1);
  return [...list.branches]
    .sort((a, b) => order(a) - order(b))
    .map((branch) => {
      const icon = `$(${branchIconId(branch)})`;
      const aheadBehind = aheadBehindText(branch);
      const description = [branch.current ? 'current' : '', branch.kind === 'remote' ? 'remote' : '', aheadBehind]
        .filter((part) => part !== '')
        .join(' · ');
      const { commit } = branch;
      return {
        label: `${icon} ${branch.name}`,
        description,
        detail: `${commit.shortSha} ${commit.subject} — ${commit.author}, ${commit.relativeDate}`,
        name: branch.name,
      };
    });
}

/** Input box validation for a new branch name; git's own rules are checked by the agent. */
export function branchNameProblem(text: string): string | undefined {
  const name = text.trim();
  if (name === '') return 'Give the branch a name.';
  if (name.startsWith('-')) return 'A branch name cannot start with "-".';
  if (/\s/.test(name)) return 'A branch name cannot contain spaces.';
  return undefined;
}

/** An error answer from a git request: its message and, when the agent sent one, its GitErrorData. */
export interface GitFailure {
  readonly message: string;
  readonly data: GitErrorData | null;
}

/** Reads a rejected request (a JSON-RPC ResponseError carries `data`); anything else keeps its message. */
export function gitFailure(error: unknown): GitFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (typeof error !== 'object' || error === null || !('data' in error)) return { message, data: null };
  const parsed = GitErrorData.safeParse(error.data);
  return { message, data: parsed.success ? parsed.data : null };
}

/** The first line of a message for a notification's text; the rest (a file list) goes to the detail. */
export function splitMessage(message: string): { readonly summary: string; readonly detail: string } {
  const [summary = '', ...rest] = message.split('\n');
  return { summary, detail: rest.join('\n').trim() };
}

/** What happened to the work "stash and continue" put aside; null when nothing was stashed. */
export function stashOutcomeText(stash: StashOutcome | null): string | null {
  if (stash === null) return null;
  if (stash.reapplied) return 'Your uncommitted changes were stashed and re-applied.';
  if (stash.conflicts.length > 0) {
    return `Re-applying your stashed changes conflicted in ${stash.conflicts.join(', ')}; they are kept in stash ${stash.sha.slice(0, 7)}.`;
  }
  return `Your uncommitted changes are kept in stash ${stash.sha.slice(0, 7)} (git stash list).`;
}

export function headText(head: HeadState): string {
  if (head.kind === 'detached') return `detached at ${head.sha.slice(0, 7)}`;
  return head.name;
}

export type MergeOutcome = 'up-to-date' | 'fast-forward' | 'merge-commit' | 'conflicts' | 'aborted';

export function mergeOutcomeText(outcome: MergeOutcome, name: string, head: HeadState): string {
  const into = headText(head);
  switch (outcome) {
    case 'up-to-date':
      return `${into} already contains ${name}.`;
    case 'fast-forward':
      return `Fast-forwarded ${into} to ${name}.`;
    case 'merge-commit':
      return `Merged ${name} into ${into}.`;
    case 'conflicts':
      return `Merging ${name} into ${into} stopped on conflicts.`;
    case 'aborted':
      return `The merge into ${into} was aborted; nothing changed.`;
  }
}
