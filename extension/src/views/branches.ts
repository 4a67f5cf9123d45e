/**
 * The Branches view and the status bar's branch item. Both show one listing (mlw/git/listBranches),
 * asked again when the agent says refs or HEAD changed (mlw/git/changed, from its watch on `.git`),
 * when the agent becomes ready, and after an action — never on a timer. The actions behind the
 * context menu, the view title and the palette are in branches-actions.ts.
 */
import * as vscode from 'vscode';
import { gitChanged, listBranches, type BranchList } from '../../../schemas/protocol';
import { AgentNotReadyError, type AgentClient } from '../agent/client';
import { describeAgentState } from '../agent/state';
import { COMMANDS } from '../command-ids';
import { createBranchActions, type BranchActions } from './branches-actions';
import {
  branchAccessibilityLabel,
  branchContextValue,
  branchDescription,
  branchGroups,
  branchIconId,
  branchTooltip,
  gitFailure,
  groupLabel,
  statusBarText,
  statusBarTooltip,
  type BranchNode,
} from './branches-model';
import type { View } from './index';

export const BRANCHES_VIEW_ID = 'mlw.branches';

/** The last answer to listBranches: the list, or why there is none. */
export type Listing =
  { readonly kind: 'list'; readonly list: BranchList } | { readonly kind: 'none'; readonly reason: string };

/** One listing shared by the view and the status bar; a refresh while one is in flight runs once more after it. */
export class BranchListing implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Listing>();
  readonly onDidChange = this.changed.event;
  private latest: Listing = { kind: 'none', reason: 'Listing branches…' };
  private loading: Promise<Listing> | undefined;
  private stale = false;

  constructor(private readonly agent: AgentClient) {}

  get current(): Listing {
    return this.latest;
  }

  /** The listing once any load in flight has finished. */
  async settled(): Promise<Listing> {
    return this.loading ?? this.latest;
  }

  refresh(): Promise<Listing> {
    if (this.loading !== undefined) {
      this.stale = true;
      return this.loading;
    }
    this.loading = this.load().finally(() => {
      this.loading = undefined;
      if (this.stale) {
        this.stale = false;
        void this.refresh();
      }
    });
    return this.loading;
  }

  dispose(): void {
    this.changed.dispose();
  }

  private async load(): Promise<Listing> {
    let listing: Listing;
    try {
      listing = { kind: 'list', list: await this.agent.request(listBranches, { includeRemote: true }) };
    } catch (error) {
      listing = {
        kind: 'none',
        reason:
          error instanceof AgentNotReadyError
            ? `The MLOps agent is ${describeAgentState(this.agent.state)}.`
            : gitFailure(error).message,
      };
    }
    // An unchanged answer (a .git event that changed nothing listed) must not redraw: a redraw
    // replaces the rows under an open context menu, whose command then arrives without its row.
    // Relative dates ("3 minutes ago") move with the clock alone, so they do not count as a change.
    const same = listingKey(listing) === listingKey(this.latest);
    this.latest = listing;
    if (!same) this.changed.fire(listing);
    return listing;
  }
}

function listingKey(listing: Listing): string {
  return JSON.stringify(listing, (key, value: unknown) => (key === 'relativeDate' ? undefined : value));
}

class BranchesProvider implements vscode.TreeDataProvider<BranchNode> {
  private readonly changed = new vscode.EventEmitter<BranchNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly listing: BranchListing) {}

  redraw(): void {
    this.changed.fire(undefined);
  }

  dispose(): void {
    this.changed.dispose();
  }

  getTreeItem(node: BranchNode): vscode.TreeItem {
    if (node.kind === 'group') {
      const expanded =
        node.group === 'local' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
      const item = new vscode.TreeItem(groupLabel(node.group), expanded);
      item.id = `group:${node.group}`;
      item.description = String(node.branches.length);
      item.iconPath = new vscode.ThemeIcon(node.group === 'local' ? 'repo' : 'cloud');
      item.contextValue = `mlw.branchGroup.${node.group}`;
      return item;
    }
    const { branch } = node;
    const item = new vscode.TreeItem(branch.name, vscode.TreeItemCollapsibleState.None);
    item.id = `branch:${branch.ref}`;
    item.description = branchDescription(branch);
    const list = this.listing.current;
    item.tooltip = branchTooltip(branch, list.kind === 'list' ? list.list.defaultBranch : null);
    item.iconPath = new vscode.ThemeIcon(
      branchIconId(branch),
      branch.current ? new vscode.ThemeColor('gitDecoration.addedResourceForeground') : undefined,
    );
    item.contextValue = branchContextValue(branch);
    item.accessibilityInformation = { label: branchAccessibilityLabel(branch) };
    return item;
  }

  async getChildren(node?: BranchNode): Promise<BranchNode[]> {
    if (node?.kind === 'group') return node.branches.map((branch) => ({ kind: 'branch', branch }));
    if (node !== undefined) return [];
    const listing = await this.listing.settled();
    return listing.kind === 'list' ? branchGroups(listing.list) : [];
  }
}

function createBranchStatusItem(listing: BranchListing): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('mlw.branchStatus', vscode.StatusBarAlignment.Left, 1);
  item.name = 'MLOps branch';
  item.command = COMMANDS.checkoutBranch;
  const show = (current: Listing): void => {
    if (current.kind === 'none') {
      item.hide();
      return;
    }
    item.text = statusBarText(current.list);
    item.tooltip = statusBarTooltip(current.list);
    item.accessibilityInformation = { label: `MLOps branch: ${item.text.replace(/^\$\([\w-]+\) /, '')}` };
    item.show();
  };
  show(listing.current);
  return vscode.Disposable.from(item, listing.onDidChange(show));
}

export interface BranchesView extends View {
  readonly actions: BranchActions;
}

export function createBranchesView(agent: AgentClient): BranchesView {
  const listing = new BranchListing(agent);
  const provider = new BranchesProvider(listing);
  const treeView = vscode.window.createTreeView(BRANCHES_VIEW_ID, { treeDataProvider: provider });
  const refresh = (): void => void listing.refresh();
  const disposable = vscode.Disposable.from(
    treeView,
    provider,
    listing.onDidChange((current) => {
      treeView.message = current.kind === 'none' ? current.reason : undefined;
      provider.redraw();
    }),
    createBranchStatusItem(listing),
    listing,
    agent.onNotification(gitChanged, refresh),
    // Not ready: the view says why; ready: the new agent is asked.
    agent.onDidChangeState(() => refresh()),
  );
  refresh();
  return { refresh, disposable, actions: createBranchActions(agent, listing) };
}
