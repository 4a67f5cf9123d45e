/**
 * What the Branches commands do: each is one or two RPCs to the git service, with the questions
 * the user must answer in between — confirm a delete (and a second time to force an unmerged one),
 * "Stash and Continue" when the agent refuses a dirty tree, Abort / Open Files after a conflicted
 * merge, Pull after a rejected push. Errors reach the user with the agent's own message.
 * Invoked from the view's context menu a command gets the row's node; from the palette, a quick pick.
 */
import * as vscode from 'vscode';
import {
  checkoutBranch,
  createBranch,
  deleteBranch,
  fetchRemote,
  gitProgress,
  mergeBranch,
  pullBranch,
  pushBranch,
  renameBranch,
  type Branch,
  type HeadState,
  type StashOutcome,
} from '../../../schemas/protocol';
import type { AgentClient } from '../agent/client';
import { COMMANDS, type CommandId } from '../command-ids';
import type { Handler } from '../commands';
import type { BranchListing } from './branches';
import {
  branchNameProblem,
  branchPicks,
  gitFailure,
  headText,
  mergeOutcomeText,
  splitMessage,
  stashOutcomeText,
  type BranchNode,
} from './branches-model';

export interface BranchActions {
  readonly checkout: (node?: unknown) => Promise<void>;
  readonly create: (node?: unknown) => Promise<void>;
  readonly rename: (node?: unknown) => Promise<void>;
  readonly delete: (node?: unknown) => Promise<void>;
  readonly merge: (node?: unknown) => Promise<void>;
  readonly abortMerge: () => Promise<void>;
  readonly fetch: () => Promise<void>;
  readonly pull: (rebase: boolean) => Promise<void>;
  readonly push: () => Promise<void>;
}

const STASH_AND_CONTINUE = 'Stash and Continue';

/** The branch a context-menu command was invoked on (the view passes its node). */
function branchOf(node: unknown): Branch | undefined {
  if (typeof node !== 'object' || node === null || !('kind' in node) || node.kind !== 'branch') return undefined;
  return (node as Extract<BranchNode, { kind: 'branch' }>).branch;
}

function inform(message: string, stash: StashOutcome | null = null): void {
  const stashText = stashOutcomeText(stash);
  const text = stashText === null ? message : `${message} ${stashText}`;
  if (stash !== null && !stash.reapplied) void vscode.window.showWarningMessage(`MLOps: ${text}`);
  else void vscode.window.showInformationMessage(`MLOps: ${text}`);
}

export function createBranchActions(agent: AgentClient, listing: BranchListing): BranchActions {
  const refresh = (): void => void listing.refresh();

  async function pickBranch(placeHolder: string, filter: (branch: Branch) => boolean): Promise<string | undefined> {
    const current = await listing.settled();
    if (current.kind === 'none') throw new Error(current.reason);
    const picks = branchPicks({
      ...current.list,
      branches: current.list.branches.filter(filter),
    });
    const picked = await vscode.window.showQuickPick(picks, {
      placeHolder,
      matchOnDescription: true,
      matchOnDetail: true,
    });
    return picked?.name;
  }

  async function askName(prompt: string, value = ''): Promise<string | undefined> {
    const name = await vscode.window.showInputBox({ prompt, value, validateInput: branchNameProblem });
    return name?.trim();
  }

  /** Runs a work-tree operation; when the agent refuses a dirty tree, offers to stash and run it again. */
  async function withStashOffer<T>(operation: (stash: boolean) => Promise<T>): Promise<T | undefined> {
    try {
      return await operation(false);
    } catch (error) {
      const failure = gitFailure(error);
      if (failure.data?.code !== 'dirty-tree') throw error;
      const { summary } = splitMessage(failure.message);
      const choice = await vscode.window.showWarningMessage(
        summary,
        {
          modal: true,
          detail: `${failure.data.files.join('\n')}\n\n"${STASH_AND_CONTINUE}" stashes them, does it, and re-applies them.`,
        },
        STASH_AND_CONTINUE,
      );
      if (choice !== STASH_AND_CONTINUE) return undefined;
      return await operation(true);
    }
  }

  /** Runs fetch/pull/push with a progress notification fed by the agent's mlw/git/progress lines. */
  async function withGitProgress<T>(title: string, operation: (progressToken: string) => Promise<T>): Promise<T> {
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `MLOps: ${title}` },
      async (progress) => {
        const token = `${title}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
        let reported = 0;
        const subscription = agent.onNotification(gitProgress, (params) => {
          if (params.token !== token) return;
          const increment = params.percent === null ? undefined : Math.max(0, params.percent - reported);
          if (params.percent !== null) reported = Math.max(reported, params.percent);
          progress.report({ message: params.message, ...(increment === undefined ? {} : { increment }) });
        });
        try {
          return await operation(token);
        } finally {
          subscription.dispose();
          refresh();
        }
      },
    );
  }

  async function checkout(name: string): Promise<void> {
    const result = await withStashOffer((stash) => agent.request(checkoutBranch, { name, stash }));
    refresh();
    if (result === undefined) return;
    if (result.created !== null)
      inform(`Created ${result.created} tracking ${name}, and switched to it.`, result.stash);
    else if (result.stash !== null) inform(`Switched to ${headText(result.head)}.`, result.stash);
  }

  async function openFiles(files: readonly string[]): Promise<void> {
    const current = await listing.settled();
    if (current.kind === 'none') return;
    const root = vscode.Uri.file(current.list.root);
    for (const file of files) {
      await vscode.window.showTextDocument(vscode.Uri.joinPath(root, file), { preview: false });
    }
  }

  async function abortMerge(): Promise<void> {
    const result = await agent.request(mergeBranch, { abort: true });
    refresh();
    inform(mergeOutcomeText(result.outcome, 'the branch', result.head));
  }

  async function reportConflicts(
    name: string,
    head: HeadState,
    conflicts: readonly string[],
    stash: StashOutcome | null,
  ): Promise<void> {
    const stashText = stashOutcomeText(stash);
    const choice = await vscode.window.showWarningMessage(
      `MLOps: ${mergeOutcomeText('conflicts', name, head)} Conflicted: ${conflicts.join(', ')}. Resolve them and commit, or abort the merge.${stashText === null ? '' : ` ${stashText}`}`,
      'Open Files',
      'Abort Merge',
    );
    if (choice === 'Open Files') await openFiles(conflicts);
    else if (choice === 'Abort Merge') await abortMerge();
  }

  async function pull(rebase: boolean): Promise<void> {
    const result = await withGitProgress(rebase ? 'Pull (rebase)' : 'Pull', (progressToken) =>
      withStashOffer((stash) => agent.request(pullBranch, { rebase, stash, progressToken })),
    );
    if (result === undefined) return;
    const what =
      result.outcome === 'up-to-date'
        ? `${headText(result.head)} is up to date.`
        : `${result.outcome === 'rebased' ? 'Rebased' : 'Fast-forwarded'} ${headText(result.head)}.`;
    inform(what, result.stash);
  }

  return {
    async checkout(node) {
      const name =
        branchOf(node)?.name ??
        (await pickBranch('Check out a branch (a remote one gets a local tracking branch)', (b) => !b.current));
      if (name !== undefined) await checkout(name);
    },

    async create(node) {
      const from = branchOf(node)?.name ?? (await pickBranch('Create the new branch from…', () => true));
      if (from === undefined) return;
      const name = await askName(`New branch from ${from}`);
      if (name === undefined) return;
      const result = await withStashOffer((stash) =>
        agent.request(createBranch, { name, from, checkout: true, stash }),
      );
      refresh();
      if (result !== undefined) inform(`Created ${result.name} from ${from} and switched to it.`, result.stash);
    },

    async rename(node) {
      const from = branchOf(node)?.name ?? (await pickBranch('Rename which branch?', (b) => b.kind === 'local'));
      if (from === undefined) return;
      const to = await askName(`Rename ${from} to`, from);
      if (to === undefined || to === from) return;
      await agent.request(renameBranch, { from, to });
      refresh();
    },

    async delete(node) {
      const name =
        branchOf(node)?.name ?? (await pickBranch('Delete which branch?', (b) => b.kind === 'local' && !b.current));
      if (name === undefined) return;
      const confirmed = await vscode.window.showWarningMessage(`Delete the branch ${name}?`, { modal: true }, 'Delete');
      if (confirmed !== 'Delete') return;
      let result: { name: string; sha: string };
      try {
        result = await agent.request(deleteBranch, { name, force: false });
      } catch (error) {
        const failure = gitFailure(error);
        if (failure.data?.code !== 'unmerged-branch') throw error;
        const forced = await vscode.window.showWarningMessage(
          `${name} is not merged. Delete it anyway?`,
          { modal: true, detail: `${failure.message}\n\nIts commits will only be reachable by their sha.` },
          'Delete Anyway',
        );
        if (forced !== 'Delete Anyway') return;
        result = await agent.request(deleteBranch, { name, force: true });
      }
      refresh();
      inform(`Deleted ${result.name} (it was at ${result.sha.slice(0, 7)}).`);
    },

    async merge(node) {
      const name =
        branchOf(node)?.name ?? (await pickBranch('Merge which branch into the current one?', (b) => !b.current));
      if (name === undefined) return;
      const result = await withStashOffer((stash) => agent.request(mergeBranch, { name, stash }));
      refresh();
      if (result === undefined) return;
      if (result.outcome === 'conflicts') await reportConflicts(name, result.head, result.conflicts, result.stash);
      else inform(mergeOutcomeText(result.outcome, name, result.head), result.stash);
    },

    abortMerge,

    async fetch() {
      const result = await withGitProgress('Fetch', (progressToken) => agent.request(fetchRemote, { progressToken }));
      inform(`Fetched ${result.remote}.`);
    },

    pull,

    async push() {
      try {
        const result = await withGitProgress('Push', (progressToken) => agent.request(pushBranch, { progressToken }));
        inform(
          `Pushed ${result.branch} to ${result.remote}${result.upstreamSet ? ' (and set it as the upstream)' : ''}.`,
        );
      } catch (error) {
        const failure = gitFailure(error);
        if (failure.data?.code !== 'non-fast-forward') throw error;
        const choice = await vscode.window.showErrorMessage(`MLOps: ${splitMessage(failure.message).summary}`, 'Pull');
        if (choice === 'Pull') await pull(false);
      }
    },
  };
}

/** The Branches commands' entries in the registry's table (commands.ts). */
export const BRANCH_COMMAND_HANDLERS = {
  [COMMANDS.refreshBranches]:
    ({ branches }) =>
    () =>
      branches.refresh(),
  [COMMANDS.checkoutBranch]:
    ({ branches }) =>
    (node) =>
      branches.actions.checkout(node),
  [COMMANDS.createBranch]:
    ({ branches }) =>
    (node) =>
      branches.actions.create(node),
  [COMMANDS.renameBranch]:
    ({ branches }) =>
    (node) =>
      branches.actions.rename(node),
  [COMMANDS.deleteBranch]:
    ({ branches }) =>
    (node) =>
      branches.actions.delete(node),
  [COMMANDS.mergeBranch]:
    ({ branches }) =>
    (node) =>
      branches.actions.merge(node),
  [COMMANDS.abortMerge]:
    ({ branches }) =>
    () =>
      branches.actions.abortMerge(),
  [COMMANDS.fetch]:
    ({ branches }) =>
    () =>
      branches.actions.fetch(),
  [COMMANDS.pull]:
    ({ branches }) =>
    () =>
      branches.actions.pull(false),
  [COMMANDS.pullRebase]:
    ({ branches }) =>
    () =>
      branches.actions.pull(true),
  [COMMANDS.push]:
    ({ branches }) =>
    () =>
      branches.actions.push(),
} satisfies Partial<Record<CommandId, Handler>>;
