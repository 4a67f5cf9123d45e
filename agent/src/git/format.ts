/** Plain-text renderings of git results for the CLI (the editor renders the same data itself). */
import type { Branch, BranchList, HeadState, StashOutcome } from '../../../schemas/protocol/git';
import { describeStash } from './safety';

export function describeHead(head: HeadState): string {
  if (head.kind === 'branch') return `on ${head.name} at ${head.sha.slice(0, 7)}`;
  if (head.kind === 'detached') return `HEAD detached at ${head.sha.slice(0, 7)}`;
  return `on ${head.name} (no commits yet)`;
}

function tracking(branch: Branch): string {
  if (branch.upstream === null) return '';
  if (branch.upstreamGone) return `[${branch.upstream}: gone]`;
  const parts = [branch.ahead ? `ahead ${branch.ahead}` : '', branch.behind ? `behind ${branch.behind}` : ''].filter(Boolean);
  return `[${branch.upstream}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}]`;
}

/** `git branch -vv`-like: marker, name, sha, tracking, merged, subject, author, date. */
export function branchTable(list: BranchList): string {
  const lines = [`${describeHead(list.head)}${list.defaultBranch ? ` (default branch: ${list.defaultBranch})` : ''}`];
  if (list.branches.length === 0) return [...lines, 'no branches yet'].join('\n');
  const width = Math.min(48, Math.max(...list.branches.map((branch) => branch.name.length)));
  for (const branch of list.branches) {
    const merged = branch.merged === null || branch.kind === 'remote' ? '' : branch.merged ? ' merged' : '';
    const track = tracking(branch);
    lines.push(
      `${branch.current ? '*' : ' '} ${branch.name.padEnd(width)} ${branch.commit.shortSha} ${track ? `${track} ` : ''}${branch.commit.subject} — ${branch.commit.author}, ${branch.commit.relativeDate}${merged}`,
    );
  }
  return lines.join('\n');
}

/** The line to print after an operation that may have stashed work. */
export function stashNote(stash: StashOutcome | null): string | null {
  if (stash === null) return null;
  return describeStash(stash) ?? 'your uncommitted changes were stashed and re-applied';
}
