/**
 * The Datasets view: each tracked dataset (its .dvc pointer) with its state from mlw/data/status —
 * clean, modified, not in the workspace, not in the cache, not pushed (compared with the default
 * remote in a trusted workspace) — and, under it, a browser of its files (mlw/data/files, one folder
 * per request as the user expands it) and its versions from mlw/data/versions. Actions: add
 * (file/folder picker, or the Explorer's context menu), checkout, push, pull (progress from
 * mlw/data/progress; Cancel cancels the request, which the agent stops between objects), checkout of
 * a version. Asked again on mlw/data/changed and on file events of *.dvc files and the tracked data
 * (never on a timer); events that arrive while a refresh is under way cause one more, not many.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import {
  addDatasets,
  checkoutDatasets,
  dataProgress,
  datasetFiles,
  datasetsChanged,
  datasetStatus,
  datasetVersions,
  diffDatasets,
  pullDatasets,
  pushDatasets,
  type DatasetStatus,
  type DatasetVersion,
} from '../../../schemas/protocol/data';
import { AgentNotReadyError, type AgentClient } from '../agent/client';
import { describeAgentState } from '../agent/state';
import { COMMANDS, type CommandId } from '../command-ids';
import type { Handler } from '../commands';
import {
  concernsDatasets,
  datasetDescription,
  datasetStates,
  datasetTooltip,
  diffRows,
  fileRows,
  FILES_PER_FOLDER,
  isForceable,
  isNotCached,
  stateIcon,
  transferProgressText,
  transferSummary,
  versionLabel,
  type EntryRow,
} from './datasets-model';
import type { View } from './index';
import { CoalescedReload } from './reload';

export const DATASETS_VIEW_ID = 'mlw.datasets';

type Node =
  | { readonly kind: 'dataset'; readonly status: DatasetStatus }
  | { readonly kind: 'files' | 'versions'; readonly status: DatasetStatus }
  | { readonly kind: 'folder' | 'file'; readonly status: DatasetStatus; readonly row: EntryRow }
  | { readonly kind: 'version'; readonly status: DatasetStatus; readonly version: DatasetVersion }
  | { readonly kind: 'message'; readonly text: string; readonly tooltip?: string };

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class DatasetsProvider implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  statuses: DatasetStatus[] = [];
  private readonly reloads = new CoalescedReload(() => this.load());
  onMessage: (message: string | undefined) => void = () => undefined;
  onLoaded: () => void = () => undefined;

  constructor(private readonly agent: AgentClient) {}

  /** Asks the agent again; a call while a refresh runs makes exactly one more afterwards. */
  reload(): void {
    this.reloads.request();
  }

  dispose(): void {
    this.changed.dispose();
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'dataset':
        return datasetItem(node.status);
      case 'files':
      case 'versions':
        return groupItem(node.kind, node.status);
      case 'folder':
      case 'file':
        return entryItem(node.status, node.row);
      case 'version':
        return versionItem(node.status, node.version);
      case 'message': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        if (node.tooltip !== undefined) item.tooltip = node.tooltip;
        return item;
      }
    }
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node === undefined) return this.statuses.map((status) => ({ kind: 'dataset', status }));
    switch (node.kind) {
      case 'dataset':
        return [
          { kind: 'files', status: node.status },
          { kind: 'versions', status: node.status },
        ];
      case 'files':
        return this.files(node.status, '');
      case 'folder':
        return this.files(node.status, node.row.entry.relpath);
      case 'versions':
        return this.versions(node.status);
      default:
        return [];
    }
  }

  /** One folder of the dataset as its pointer in the workspace records it, asked for when the row is expanded. */
  private async files(status: DatasetStatus, folder: string): Promise<Node[]> {
    try {
      const files = await this.agent.request(datasetFiles, { path: status.path, folder, limit: FILES_PER_FOLDER });
      if (files.entries.length === 0) return [{ kind: 'message', text: 'No files' }];
      return fileRows(files).map((row): Node =>
        row.kind === 'more'
          ? { kind: 'message', text: row.label, tooltip: row.tooltip }
          : { kind: row.kind, status, row },
      );
    } catch (error) {
      return [{ kind: 'message', text: `Files: ${errorText(error)}` }];
    }
  }

  private async versions(status: DatasetStatus): Promise<Node[]> {
    try {
      const versions = await this.agent.request(datasetVersions, { path: status.path, limit: 50 });
      if (versions.length === 0) return [{ kind: 'message', text: 'No committed versions yet' }];
      return versions.map((version) => ({ kind: 'version', status, version }));
    } catch (error) {
      return [{ kind: 'message', text: `Versions: ${errorText(error)}` }];
    }
  }

  private async load(): Promise<void> {
    try {
      const local = await this.agent.request(datasetStatus, {});
      this.show(local);
      // The remote comparison can take a while (and reads credentials as DVC does, which may run
      // a credential_process): only in a trusted workspace, and after the local answer is shown.
      if (vscode.workspace.isTrusted && local.length > 0) {
        try {
          this.show(await this.agent.request(datasetStatus, { cloud: true }));
        } catch {
          // No default remote, or it cannot be reached: the local states stand.
        }
      }
      this.onMessage(undefined);
    } catch (error) {
      this.show([]);
      this.onMessage(
        error instanceof AgentNotReadyError
          ? `The MLOps agent is ${describeAgentState(this.agent.state)}.`
          : `Could not read the datasets: ${errorText(error)}`,
      );
    }
  }

  private show(statuses: DatasetStatus[]): void {
    const sorted = [...statuses].sort((a, b) => a.path.localeCompare(b.path));
    // An answer equal to what is shown (a file event that changed nothing, the remote comparison
    // agreeing) must not redraw the tree: a redraw refetches every expanded row's versions and
    // replaces the rows under an open context menu or a pending click.
    const same = JSON.stringify(sorted) === JSON.stringify(this.statuses);
    this.statuses = sorted;
    if (!same) this.changed.fire(undefined);
    this.onLoaded();
  }
}

function datasetItem(status: DatasetStatus): vscode.TreeItem {
  const item = new vscode.TreeItem(status.path, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `dataset:${status.path}`;
  const [first] = datasetStates(status);
  const icon = stateIcon(first ?? 'clean');
  item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
  item.description = datasetDescription(status);
  item.tooltip = datasetTooltip(status);
  item.contextValue = 'mlw.dataset';
  // No click command: a click expands the row to its files and versions.
  return item;
}

function groupItem(kind: 'files' | 'versions', status: DatasetStatus): vscode.TreeItem {
  // Versions open with the dataset (one click shows them, as before the file browser); the files
  // wait to be asked for, since listing them reads the dataset's .dir object.
  const item = new vscode.TreeItem(
    kind === 'files' ? 'Files' : 'Versions',
    kind === 'files' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded,
  );
  item.id = `dataset:${status.path}#${kind}`;
  item.iconPath = new vscode.ThemeIcon(kind === 'files' ? 'files' : 'history');
  item.accessibilityInformation = { label: `${kind === 'files' ? 'Files' : 'Versions'} of ${status.path}` };
  item.contextValue = `mlw.dataset.${kind}`;
  return item;
}

function entryItem(status: DatasetStatus, row: EntryRow): vscode.TreeItem {
  const folder = row.kind === 'folder';
  const item = new vscode.TreeItem(
    row.label,
    folder ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  item.id = `dataset:${status.path}#files/${row.entry.relpath}`;
  const root = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = root ? vscode.Uri.joinPath(root, ...row.entry.path.split('/')) : undefined;
  // With a resourceUri the user's file icon theme picks the icon by name.
  if (uri) item.resourceUri = uri;
  item.iconPath = folder ? vscode.ThemeIcon.Folder : vscode.ThemeIcon.File;
  item.description = row.description;
  item.tooltip = row.tooltip;
  item.accessibilityInformation = { label: row.accessibilityLabel };
  if (row.opens && uri) item.command = { command: 'vscode.open', title: 'Open File', arguments: [uri] };
  item.contextValue = folder ? 'mlw.dataset.folder' : 'mlw.dataset.file';
  return item;
}

function versionItem(status: DatasetStatus, version: DatasetVersion): vscode.TreeItem {
  const { label, description } = versionLabel(version);
  const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
  item.id = `dataset:${status.path}@${version.commit}`;
  item.description = description;
  item.tooltip = `${version.commit}\n${version.author}, ${version.date}\n\n${version.message}`;
  item.iconPath = new vscode.ThemeIcon(version.md5 === status.md5 ? 'pass-filled' : 'git-commit');
  item.contextValue = version.md5 === null ? 'mlw.dataset.version.deleted' : 'mlw.dataset.version';
  return item;
}

export interface DatasetActions {
  readonly add: (uri?: unknown, uris?: unknown) => Promise<void>;
  readonly checkout: (node?: unknown) => Promise<void>;
  readonly checkoutVersion: (node?: unknown) => Promise<void>;
  readonly diffVersion: (node?: unknown) => Promise<void>;
  readonly push: (node?: unknown) => Promise<void>;
  readonly pull: (node?: unknown) => Promise<void>;
}

export interface DatasetsView extends View {
  readonly actions: DatasetActions;
}

/** A node of this view (commands from its menus get one; from the palette, nothing). */
function isNode(node: unknown): node is Node {
  return (
    typeof node === 'object' &&
    node !== null &&
    'kind' in node &&
    ['dataset', 'files', 'versions', 'folder', 'file', 'version', 'message'].includes(String(node.kind))
  );
}

function datasetOf(node: unknown): DatasetStatus | undefined {
  return isNode(node) && node.kind !== 'message' ? node.status : undefined;
}

function versionOf(node: unknown): Extract<Node, { kind: 'version' }> | undefined {
  return isNode(node) && node.kind === 'version' ? node : undefined;
}

function relativeToWorkspace(uri: vscode.Uri): string {
  return vscode.workspace.asRelativePath(uri, false);
}

function createActions(agent: AgentClient, provider: DatasetsProvider): DatasetActions {
  /** Runs a transfer with a cancellable notification fed by mlw/data/progress for its token. */
  async function transfer<T>(
    title: string,
    work: (progressToken: string, token: vscode.CancellationToken) => Promise<T>,
    /** Add cannot be stopped half-way (the agent takes no cancellation for it): no Cancel button. */
    cancellable = true,
  ): Promise<T> {
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `MLOps: ${title}`, cancellable },
      async (progress, token) => {
        const progressToken = randomUUID();
        let percent = 0;
        const subscription = agent.onNotification(dataProgress, (event) => {
          if (event.token !== progressToken) return;
          const now = event.totalFiles > 0 ? (100 * event.files) / event.totalFiles : 0;
          progress.report({ message: transferProgressText(event), increment: Math.max(0, now - percent) });
          percent = Math.max(percent, now);
        });
        try {
          return await work(progressToken, token);
        } finally {
          subscription.dispose();
        }
      },
    );
  }

  async function pickDataset(node: unknown, title: string): Promise<DatasetStatus | 'all' | undefined> {
    const chosen = datasetOf(node);
    if (chosen) return chosen;
    const all = { label: '$(database) Every dataset', status: 'all' as const };
    const picks = [
      all,
      ...provider.statuses.map((status) => ({ label: status.path, description: datasetDescription(status), status })),
    ];
    return (await vscode.window.showQuickPick(picks, { title }))?.status;
  }

  const pathsOf = (target: DatasetStatus | 'all'): string[] => (target === 'all' ? [] : [target.path]);

  async function checkout(paths: string[], rev: string | undefined, what: string): Promise<void> {
    const request = (force: boolean) =>
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `MLOps: checking out ${what}…` },
        () => agent.request(checkoutDatasets, { paths, ...(rev ? { rev } : {}), force }),
      );
    try {
      await request(false);
    } catch (error) {
      const message = errorText(error);
      if (!isForceable(message)) throw error;
      const answer = await vscode.window.showWarningMessage(
        `${message}\n\nOverwrite them? Their content is not in the cache and will be lost.`,
        { modal: true },
        'Overwrite',
      );
      if (answer !== 'Overwrite') return;
      await request(true);
    }
    void vscode.window.setStatusBarMessage(`MLOps: checked out ${what}`, 5_000);
  }

  function cancelledOr(error: unknown, token: vscode.CancellationToken): never | void {
    if (token.isCancellationRequested) {
      void vscode.window.showInformationMessage(
        'MLOps: cancelled; what was transferred stays (verified), the rest goes next time.',
      );
      return;
    }
    throw error;
  }

  return {
    add: async (uri, uris) => {
      let targets = (Array.isArray(uris) ? uris : [uri]).filter(
        (entry): entry is vscode.Uri => entry instanceof vscode.Uri,
      );
      if (targets.length === 0) {
        targets =
          (await vscode.window.showOpenDialog({
            canSelectFiles: true,
            canSelectFolders: true,
            canSelectMany: true,
            defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
            openLabel: 'Track as Dataset',
            title: 'Add Dataset: pick files or folders to track',
          })) ?? [];
      }
      if (targets.length === 0) return;
      const paths = targets.map(relativeToWorkspace);
      const results = await transfer(
        `adding ${paths.join(', ')}`,
        (progressToken) => agent.request(addDatasets, { paths, progressToken }),
        false,
      );
      void vscode.window.showInformationMessage(
        `MLOps: tracking ${results.map((result) => result.pointerFile).join(', ')} (commit the .dvc file${results.length === 1 ? '' : 's'} and .gitignore).`,
      );
    },
    checkout: async (node) => {
      const target = await pickDataset(node, 'Checkout: which dataset?');
      if (target) await checkout(pathsOf(target), undefined, target === 'all' ? 'every dataset' : target.path);
    },
    checkoutVersion: async (node) => {
      const chosen = versionOf(node);
      if (!chosen) {
        void vscode.window.showInformationMessage('MLOps: pick a version under a dataset in the Datasets view.');
        return;
      }
      const { status, version } = chosen;
      const what = `${status.path} at ${version.commit.slice(0, 8)}`;
      try {
        await checkout([status.path], version.commit, what);
      } catch (error) {
        // An older version's objects are often only on the remote: offer to pull them (as pull does, trusted only).
        if (!isNotCached(errorText(error)) || !vscode.workspace.isTrusted) throw error;
        const answer = await vscode.window.showWarningMessage(
          `${errorText(error)}\n\nPull ${what} from the remote?`,
          { modal: true },
          'Pull',
        );
        if (answer !== 'Pull') return;
        await transfer(`pulling ${what}`, (progressToken, token) =>
          agent.request(pullDatasets, { paths: [status.path], rev: version.commit, progressToken }, token),
        );
      }
    },
    diffVersion: async (node) => {
      const chosen = versionOf(node);
      if (!chosen) {
        void vscode.window.showInformationMessage('MLOps: pick a version under a dataset in the Datasets view.');
        return;
      }
      const { status, version } = chosen;
      const result = await agent.request(diffDatasets, { path: status.path, from: version.commit });
      const rows = diffRows(result);
      const short = version.commit.slice(0, 8);
      if (rows.length === 0) {
        void vscode.window.showInformationMessage(
          `MLOps: ${status.path} at ${short} has the same files as the workspace's pointer.`,
        );
        return;
      }
      await vscode.window.showQuickPick(rows, {
        title: `${status.path}: ${rows.length} file(s) differ between ${short} and the workspace's pointer`,
        matchOnDescription: true,
      });
    },
    push: async (node) => {
      const target = await pickDataset(node, 'Push: which dataset?');
      if (!target) return;
      const what = target === 'all' ? 'every dataset' : target.path;
      await transfer(`pushing ${what}`, async (progressToken, token) => {
        try {
          const result = await agent.request(pushDatasets, { paths: pathsOf(target), progressToken }, token);
          void vscode.window.showInformationMessage(`MLOps: ${transferSummary('pushed', result)}`);
        } catch (error) {
          cancelledOr(error, token);
        }
      });
      provider.reload();
    },
    pull: async (node) => {
      const target = await pickDataset(node, 'Pull: which dataset?');
      if (!target) return;
      const what = target === 'all' ? 'every dataset' : target.path;
      await transfer(`pulling ${what}`, async (progressToken, token) => {
        try {
          const result = await agent.request(pullDatasets, { paths: pathsOf(target), progressToken }, token);
          void vscode.window.showInformationMessage(`MLOps: ${transferSummary('pulled', result.transfer)}`);
        } catch (error) {
          cancelledOr(error, token);
        }
      });
    },
  };
}

/** Watches the pointer files always, and the tracked paths as the last listing names them. */
function watchDatasets(provider: DatasetsProvider): vscode.Disposable {
  const root = vscode.workspace.workspaceFolders?.[0];
  if (!root) return new vscode.Disposable(() => undefined);
  const onEvent = (uri: vscode.Uri): void => {
    const relative = vscode.workspace.asRelativePath(uri, false);
    if (
      concernsDatasets(
        relative,
        provider.statuses.map((status) => status.path),
      )
    )
      provider.reload();
  };
  const watch = (pattern: string): vscode.Disposable => {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(root, pattern));
    return vscode.Disposable.from(
      watcher,
      watcher.onDidCreate(onEvent),
      watcher.onDidChange(onEvent),
      watcher.onDidDelete(onEvent),
    );
  };
  const pointers = watch('**/*.dvc');
  let dataWatchers: vscode.Disposable[] = [];
  let watched = '';
  const previous = provider.onLoaded;
  provider.onLoaded = () => {
    previous();
    const paths = provider.statuses.map((status) => status.path);
    if (paths.join('\n') === watched) return;
    watched = paths.join('\n');
    for (const watcher of dataWatchers) watcher.dispose();
    dataWatchers = paths.flatMap((path) => [watch(path), watch(`${path}/**`)]);
  };
  return new vscode.Disposable(() => {
    pointers.dispose();
    for (const watcher of dataWatchers) watcher.dispose();
  });
}

export function createDatasetsView(agent: AgentClient): DatasetsView {
  const provider = new DatasetsProvider(agent);
  const treeView = vscode.window.createTreeView(DATASETS_VIEW_ID, {
    treeDataProvider: provider,
    showCollapseAll: true,
  });
  provider.onMessage = (message) => {
    treeView.message = message;
  };
  const actions = createActions(agent, provider);
  return {
    refresh: () => provider.reload(),
    actions,
    disposable: vscode.Disposable.from(
      treeView,
      provider,
      watchDatasets(provider),
      agent.onNotification(datasetsChanged, () => provider.reload()),
      agent.onDidChangeState((state) => {
        if (state.kind === 'ready' || state.kind === 'stopped' || state.kind === 'error') provider.reload();
      }),
    ),
  };
}

export const DATASET_COMMAND_HANDLERS = {
  [COMMANDS.refreshDatasets]:
    ({ datasets }) =>
    () =>
      datasets.refresh(),
  [COMMANDS.addDataset]:
    ({ datasets }) =>
    (uri, uris) =>
      datasets.actions.add(uri, uris),
  [COMMANDS.checkoutDataset]:
    ({ datasets }) =>
    (node) =>
      datasets.actions.checkout(node),
  [COMMANDS.checkoutDatasetVersion]:
    ({ datasets }) =>
    (node) =>
      datasets.actions.checkoutVersion(node),
  [COMMANDS.diffDatasetVersion]:
    ({ datasets }) =>
    (node) =>
      datasets.actions.diffVersion(node),
  [COMMANDS.pushDataset]:
    ({ datasets }) =>
    (node) =>
      datasets.actions.push(node),
  [COMMANDS.pullDataset]:
    ({ datasets }) =>
    (node) =>
      datasets.actions.pull(node),
} satisfies Partial<Record<CommandId, Handler>>;
