/**
 * The Environments view: the workspace's environments from mlw/env/list, grouped by kind (Docker
 * images, conda, venv), each with its state (ready, stale, missing, building, unknown, invalid).
 * Actions: build, rebuild, remove, open a terminal inside the environment, containerize. A build's
 * log streams live into the "MLOps: Environments" output channel (mlw/env/buildLog for its token),
 * and the progress notification's Cancel cancels the request, which stops the build in the agent.
 * Asked again on mlw/env/changed, on saves of spec and DAG files, and when the agent restarts.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import {
  buildEnvironment,
  containerizeEnvironment,
  environmentBuildLog,
  environmentsChanged,
  listEnvironments,
  removeEnvironment,
  type EnvironmentInfo,
  type EnvironmentList,
} from '../../../schemas/protocol/env';
import { AgentNotReadyError, type AgentClient } from '../agent/client';
import { describeAgentState } from '../agent/state';
import { COMMANDS, type CommandId } from '../command-ids';
import type { Handler } from '../commands';
import {
  contextValue,
  environmentDescription,
  environmentTooltip,
  groupEnvironments,
  stateIcon,
  terminalSpec,
  type EnvironmentGroup,
} from './environments-model';
import type { View } from './index';
import { CoalescedReload } from './reload';

export const ENVIRONMENTS_VIEW_ID = 'mlw.environments';

type Node =
  | { readonly kind: 'group'; readonly group: EnvironmentGroup }
  | { readonly kind: 'environment'; readonly info: EnvironmentInfo }
  | { readonly kind: 'message'; readonly text: string };

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class EnvironmentsProvider implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  list: EnvironmentList | undefined;
  readonly building = new Set<string>();
  private readonly reloads = new CoalescedReload(() => this.load());
  onMessage: (message: string | undefined) => void = () => undefined;

  constructor(private readonly agent: AgentClient) {}

  /** Asks the agent again; a call while a refresh runs makes exactly one more afterwards. */
  reload(): void {
    this.reloads.request();
  }

  redraw(): void {
    this.changed.fire(undefined);
  }

  dispose(): void {
    this.changed.dispose();
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'message') return new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(node.group.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `env-group:${node.group.kind}`;
      item.description = String(node.group.environments.length);
      item.contextValue = 'mlw.env.group';
      return item;
    }
    return environmentItem(node.info);
  }

  getChildren(node?: Node): Node[] {
    if (!this.list) return [];
    if (node === undefined)
      return groupEnvironments(this.list.environments, this.building).map((group) => ({ kind: 'group', group }));
    if (node.kind !== 'group') return [];
    if (node.group.environments.length > 0)
      return node.group.environments.map((info) => ({ kind: 'environment', info }));
    return [{ kind: 'message', text: emptyGroupText(node.group.kind, this.list) }];
  }

  private async load(): Promise<void> {
    try {
      this.list = await this.agent.request(listEnvironments, {});
      const docker = this.list.tools.docker;
      this.onMessage(
        docker.reachable || !this.list.environments.some((info) => info.kind === 'docker')
          ? undefined
          : (docker.error ?? undefined),
      );
    } catch (error) {
      this.list = undefined;
      this.onMessage(
        error instanceof AgentNotReadyError
          ? `The MLOps agent is ${describeAgentState(this.agent.state)}.`
          : `Could not list the environments: ${errorText(error)}`,
      );
    }
    this.redraw();
  }
}

function emptyGroupText(kind: EnvironmentGroup['kind'], list: EnvironmentList): string {
  if (kind === 'conda' && !list.tools.conda) return 'None (no conda, mamba or micromamba found)';
  return kind === 'docker'
    ? 'None (no Dockerfile or docker environment)'
    : kind === 'venv'
      ? 'None (no requirements.txt or venv environment)'
      : 'None';
}

function environmentItem(info: EnvironmentInfo): vscode.TreeItem {
  const item = new vscode.TreeItem(info.name, vscode.TreeItemCollapsibleState.None);
  item.id = `env:${info.kind}:${info.name}`;
  const icon = stateIcon(info.state);
  item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
  item.description = environmentDescription(info);
  item.tooltip = environmentTooltip(info, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
  item.contextValue = contextValue(info);
  item.accessibilityInformation = { label: `${info.name}, ${info.kind} environment, ${info.state}` };
  const file = info.specFile ?? info.file;
  const root = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (root) {
    const uri = vscode.Uri.joinPath(root, info.line === null ? file : info.file);
    const line = Math.max(0, (info.line ?? 1) - 1);
    item.command = {
      title: 'Open Definition',
      command: 'vscode.open',
      arguments: [uri, { selection: new vscode.Range(line, 0, line, 0) }],
    };
  }
  return item;
}

export interface EnvironmentActions {
  readonly build: (node?: unknown) => Promise<void>;
  readonly rebuild: (node?: unknown) => Promise<void>;
  readonly remove: (node?: unknown) => Promise<void>;
  readonly openTerminal: (node?: unknown) => Promise<void>;
  readonly containerize: (node?: unknown) => Promise<void>;
}

export interface EnvironmentsView extends View {
  readonly actions: EnvironmentActions;
}

function infoOf(node: unknown): EnvironmentInfo | undefined {
  if (
    typeof node !== 'object' ||
    node === null ||
    !('kind' in node) ||
    node.kind !== 'environment' ||
    !('info' in node)
  )
    return undefined;
  return node.info as EnvironmentInfo;
}

function createActions(
  agent: AgentClient,
  provider: EnvironmentsProvider,
  log: vscode.OutputChannel,
): EnvironmentActions {
  async function pick(
    node: unknown,
    title: string,
    accept: (info: EnvironmentInfo) => boolean,
  ): Promise<EnvironmentInfo | undefined> {
    const chosen = infoOf(node);
    if (chosen) return chosen;
    const candidates = (provider.list?.environments ?? []).filter(accept);
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(`MLOps: no environment to ${title.toLowerCase()}.`);
      return undefined;
    }
    const picks = candidates.map((info) => ({ label: info.name, description: `${info.kind} · ${info.state}`, info }));
    return (await vscode.window.showQuickPick(picks, { title: `${title}: which environment?` }))?.info;
  }

  async function build(info: EnvironmentInfo, force: boolean): Promise<void> {
    const token = randomUUID();
    log.appendLine(`── ${force ? 'rebuilding' : 'building'} ${info.name} (${info.kind}) ──`);
    log.show(true);
    const subscription = agent.onNotification(environmentBuildLog, (event) => {
      if (event.token === token) for (const line of event.lines) log.appendLine(line);
    });
    provider.building.add(info.name);
    provider.redraw();
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `MLOps: building ${info.name}`, cancellable: true },
        async (_progress, cancel) => {
          try {
            const result = await agent.request(buildEnvironment, { name: info.name, force, token }, cancel);
            const what = result.image ?? result.path ?? info.name;
            log.appendLine(result.reused ? `${info.name}: up to date, reused ${what}` : `${info.name}: built ${what}`);
            void vscode.window.setStatusBarMessage(
              `MLOps: ${info.name} ${result.reused ? 'is up to date' : 'built'}`,
              5_000,
            );
          } catch (error) {
            if (!cancel.isCancellationRequested) throw error;
            log.appendLine(`${info.name}: build cancelled`);
          }
        },
      );
    } catch (error) {
      log.appendLine(`${info.name}: ${errorText(error)}`);
      throw error;
    } finally {
      subscription.dispose();
      provider.building.delete(info.name);
      provider.reload();
    }
  }

  return {
    build: async (node) => {
      const info = await pick(
        node,
        'Build',
        (candidate) => candidate.state === 'missing' || candidate.state === 'stale',
      );
      if (info) await build(info, false);
    },
    rebuild: async (node) => {
      const info = await pick(
        node,
        'Rebuild',
        (candidate) => candidate.state === 'ready' && candidate.kind !== 'local',
      );
      if (info) await build(info, true);
    },
    remove: async (node) => {
      const info = await pick(
        node,
        'Remove',
        (candidate) => candidate.state === 'ready' || candidate.state === 'stale',
      );
      if (!info) return;
      const what =
        info.kind === 'docker'
          ? 'every image built for it'
          : info.kind === 'venv'
            ? 'every venv built for it'
            : 'the conda environment';
      const answer = await vscode.window.showWarningMessage(
        `Remove ${what} (${info.name})?`,
        { modal: true },
        'Remove',
      );
      if (answer !== 'Remove') return;
      const result = await agent.request(removeEnvironment, { name: info.name, which: 'all' });
      void vscode.window.showInformationMessage(
        result.removed.length > 0
          ? `MLOps: removed ${result.removed.join(', ')}`
          : `MLOps: nothing to remove for ${info.name}`,
      );
      provider.reload();
    },
    openTerminal: async (node) => {
      const info = await pick(
        node,
        'Open Terminal',
        (candidate) => candidate.state === 'ready' && candidate.kind !== 'local',
      );
      const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      if (!info || !root) return;
      const spec = terminalSpec(info, root, process.env.PATH);
      if (!spec) {
        void vscode.window.showInformationMessage(`MLOps: ${info.name} is ${info.state}: build it first.`);
        return;
      }
      const terminal = vscode.window.createTerminal({
        name: spec.name,
        cwd: spec.cwd,
        ...(spec.shellPath ? { shellPath: spec.shellPath, shellArgs: [...(spec.shellArgs ?? [])] } : {}),
        ...(spec.env ? { env: { ...spec.env } } : {}),
      });
      terminal.show();
    },
    containerize: async (node) => {
      const info = await pick(
        node,
        'Containerize',
        (candidate) => candidate.kind === 'venv' || candidate.kind === 'conda',
      );
      if (!info) return;
      const base = await vscode.window.showInputBox({
        title: `Containerize ${info.name}: base image`,
        prompt: 'Leave empty for the default (python:3.11-slim for a venv, a micromamba image for conda)',
      });
      if (base === undefined) return;
      const request = (force: boolean) =>
        agent.request(containerizeEnvironment, {
          name: info.name,
          ...(base.trim() ? { base: base.trim() } : {}),
          force,
        });
      let result;
      try {
        result = await request(false);
      } catch (error) {
        if (!/exists: pass --force/.test(errorText(error))) throw error;
        const answer = await vscode.window.showWarningMessage(
          `${errorText(error).replace(': pass --force to overwrite it', '')}. Overwrite it?`,
          { modal: true },
          'Overwrite',
        );
        if (answer !== 'Overwrite') return;
        result = await request(true);
      }
      const root = vscode.workspace.workspaceFolders?.[0]?.uri;
      if (root) await vscode.window.showTextDocument(vscode.Uri.joinPath(root, result.dockerfile));
      provider.reload();
    },
  };
}

/** Spec and DAG files: a save or a new one may change the environments or their states. */
function watchSpecs(provider: EnvironmentsProvider): vscode.Disposable {
  const root = vscode.workspace.workspaceFolders?.[0];
  if (!root) return new vscode.Disposable(() => undefined);
  const watcher = vscode.workspace.createFileSystemWatcher(
    new vscode.RelativePattern(
      root,
      '**/{Dockerfile,*.Dockerfile,.dockerignore,requirements*.txt,environment.yml,environment.yaml,conda.yaml,conda.yml,*.dag.yaml,*.dag.yml}',
    ),
  );
  const reload = (): void => provider.reload();
  return vscode.Disposable.from(
    watcher,
    watcher.onDidCreate(reload),
    watcher.onDidChange(reload),
    watcher.onDidDelete(reload),
  );
}

export function createEnvironmentsView(agent: AgentClient): EnvironmentsView {
  const provider = new EnvironmentsProvider(agent);
  const treeView = vscode.window.createTreeView(ENVIRONMENTS_VIEW_ID, {
    treeDataProvider: provider,
    showCollapseAll: true,
  });
  const log = vscode.window.createOutputChannel('MLOps: Environments');
  provider.onMessage = (message) => {
    treeView.message = message;
  };
  return {
    refresh: () => provider.reload(),
    actions: createActions(agent, provider, log),
    disposable: vscode.Disposable.from(
      treeView,
      provider,
      log,
      watchSpecs(provider),
      agent.onNotification(environmentsChanged, () => provider.reload()),
      agent.onDidChangeState((state) => {
        if (state.kind === 'ready' || state.kind === 'stopped' || state.kind === 'error') provider.reload();
      }),
    ),
  };
}

export const ENVIRONMENT_COMMAND_HANDLERS = {
  [COMMANDS.refreshEnvironments]:
    ({ environments }) =>
    () =>
      environments.refresh(),
  [COMMANDS.buildEnvironment]:
    ({ environments }) =>
    (node) =>
      environments.actions.build(node),
  [COMMANDS.rebuildEnvironment]:
    ({ environments }) =>
    (node) =>
      environments.actions.rebuild(node),
  [COMMANDS.removeEnvironment]:
    ({ environments }) =>
    (node) =>
      environments.actions.remove(node),
  [COMMANDS.openEnvironmentTerminal]:
    ({ environments }) =>
    (node) =>
      environments.actions.openTerminal(node),
  [COMMANDS.containerizeEnvironment]:
    ({ environments }) =>
    (node) =>
      environments.actions.containerize(node),
} satisfies Partial<Record<CommandId, Handler>>;
