/**
 * The Runs view: the workspace's runs by branch, then by DAG run, each with a status icon that
 * changes as `mlw/runs/changed` notifications arrive (the view patches its cache from them and never
 * polls); under a run its params, latest metrics, artifacts and log. Teammates' runs (`mlw pull`)
 * are marked remote. The agent is asked for the listing once per connection.
 */
import * as vscode from 'vscode';
import { listModels, type ModelVersion } from '../../../schemas/protocol/results';
import { getRun, listRuns, runsChanged, type RunSummary } from '../../../schemas/protocol/runs';
import { AgentNotReadyError, type AgentClient } from '../agent/client';
import { describeAgentState } from '../agent/state';
import { COMMANDS } from '../command-ids';
import { createRunActions, type RunActions } from './runs-actions';
import {
  groupModels,
  groupRuns,
  modelDescription,
  modelTooltip,
  runContextValue,
  runDescription,
  RunsCache,
  runSections,
  runTooltip,
  sectionChildren,
  statusIcon,
  runOfNode,
  type RunChild,
  type RunNode,
} from './runs-model';
import type { View } from './index';

export const RUNS_VIEW_ID = 'mlw.runs';

/** How many runs the view lists (newest first); older ones stay reachable through `mlw runs list`. */
const LISTED_RUNS = 2_000;

class RunsProvider implements vscode.TreeDataProvider<RunNode> {
  private readonly changed = new vscode.EventEmitter<RunNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly cache = new RunsCache();
  private loaded: Promise<void> | undefined;
  /** Model versions change only through promote and pull (git refs), so they are asked for on reload. */
  private models: ModelVersion[] = [];
  private redrawScheduled = false;
  onMessage: (message: string | undefined) => void = () => undefined;

  constructor(private readonly agent: AgentClient) {}

  /** Lists the runs again (a new connection, a pull) and redraws. */
  reload(): void {
    this.loaded = undefined;
    this.changed.fire(undefined);
  }

  /** Applies a notification to the cache; bursts of them become one redraw. */
  apply(id: string, run: RunSummary | null): void {
    this.cache.apply(id, run);
    if (this.redrawScheduled) return;
    this.redrawScheduled = true;
    setImmediate(() => {
      this.redrawScheduled = false;
      this.changed.fire(undefined);
    });
  }

  dispose(): void {
    this.changed.dispose();
  }

  getTreeItem(node: RunNode): vscode.TreeItem {
    switch (node.kind) {
      case 'models': {
        const item = new vscode.TreeItem('Models', vscode.TreeItemCollapsibleState.Collapsed);
        item.id = 'models';
        item.description = `${node.groups.length}`;
        item.iconPath = new vscode.ThemeIcon('library');
        item.contextValue = 'mlw.runs.models';
        return item;
      }
      case 'model': {
        const item = new vscode.TreeItem(node.group.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `model:${node.group.name}`;
        item.description = node.group.description;
        item.iconPath = new vscode.ThemeIcon('package');
        item.contextValue = 'mlw.model';
        return item;
      }
      case 'modelVersion': {
        const item = new vscode.TreeItem(`v${node.model.version}`, vscode.TreeItemCollapsibleState.None);
        item.id = `model:${node.model.name}:v${node.model.version}`;
        item.description = modelDescription(node.model);
        item.tooltip = modelTooltip(node.model);
        item.iconPath = new vscode.ThemeIcon('tag');
        item.contextValue = 'mlw.modelVersion';
        return item;
      }
      case 'branch': {
        const item = new vscode.TreeItem(node.group.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = node.group.key;
        item.description = node.group.description;
        item.iconPath = new vscode.ThemeIcon('git-branch');
        item.contextValue = 'mlw.runs.branch';
        return item;
      }
      case 'dagRun': {
        const item = new vscode.TreeItem(node.group.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = node.group.key;
        item.description = node.group.description;
        item.tooltip = `DAG run ${node.group.dagRunId}`;
        item.iconPath = new vscode.ThemeIcon('type-hierarchy');
        item.contextValue = 'mlw.runs.dagRun';
        return item;
      }
      case 'run':
        return runItem(node.run);
      case 'child':
        return childItem(node.run, node.child);
    }
  }

  async getChildren(node?: RunNode): Promise<RunNode[]> {
    if (node === undefined) return this.roots();
    switch (node.kind) {
      case 'models':
        return node.groups.map((group) => ({ kind: 'model', group }));
      case 'model':
        return node.group.versions.map((model) => ({ kind: 'modelVersion', model }));
      case 'modelVersion':
        return [];
      case 'branch':
        return node.group.children.map((child) =>
          'kind' in child ? { kind: 'dagRun', group: child } : { kind: 'run', run: child },
        );
      case 'dagRun':
        return node.group.runs.map((run) => ({ kind: 'run', run }));
      case 'run':
        return this.runChildren(node.run);
      case 'child':
        return this.sectionChildren(node.run, node.child);
    }
  }

  private async roots(): Promise<RunNode[]> {
    try {
      if (this.loaded === undefined) this.cache.beginReset();
      this.loaded ??= Promise.all([
        this.agent.request(listRuns, { limit: LISTED_RUNS }),
        // The Models group is an extra: a failure to list models must not hide the runs.
        this.agent.request(listModels, {}).then(
          ({ models }) => models,
          () => [],
        ),
      ]).then(([runs, models]) => {
        this.cache.reset(runs);
        this.models = models;
      });
      await this.loaded;
      this.onMessage(undefined);
    } catch (error) {
      this.loaded = undefined;
      this.onMessage(
        error instanceof AgentNotReadyError
          ? `The MLOps agent is ${describeAgentState(this.agent.state)}.`
          : `Could not list the runs: ${error instanceof Error ? error.message : String(error)}`,
      );
      return [];
    }
    const models = groupModels(this.models);
    const branches: RunNode[] = groupRuns(this.cache.all()).map((group) => ({ kind: 'branch', group }));
    return models.length > 0 ? [{ kind: 'models', groups: models }, ...branches] : branches;
  }

  private async runChildren(run: RunSummary): Promise<RunNode[]> {
    // Artifacts are only in the full record; params and metrics come fresh with it too.
    const record = await this.agent.request(getRun, { id: run.id }).catch(() => undefined);
    const source = record ?? { ...run, artifacts: [] };
    return runSections(source).map((child) => ({ kind: 'child', run, child }));
  }

  private async sectionChildren(run: RunSummary, child: RunChild): Promise<RunNode[]> {
    if (child.kind !== 'section') return [];
    const record =
      child.section === 'artifacts' ? await this.agent.request(getRun, { id: run.id }) : { ...run, artifacts: [] };
    return sectionChildren(record, child.section).map((entry) => ({ kind: 'child', run, child: entry }));
  }
}

function runItem(run: RunSummary): vscode.TreeItem {
  const item = new vscode.TreeItem(run.name, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `run:${run.id}`;
  item.description = runDescription(run, Date.now());
  item.tooltip = runTooltip(run);
  const icon = statusIcon(run.status);
  item.iconPath = new vscode.ThemeIcon(icon.icon, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
  item.contextValue = runContextValue(run);
  // The row's accessible name carries the status, so screen readers (and the e2e test) hear it change.
  item.accessibilityInformation = { label: `run ${run.name} ${run.id.slice(0, 8)} ${run.status}` };
  return item;
}

function childItem(run: RunSummary, child: RunChild): vscode.TreeItem {
  const collapsible =
    child.kind === 'section' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
  const item = new vscode.TreeItem(child.label, collapsible);
  item.description = child.description;
  switch (child.kind) {
    case 'section':
      item.id = `run:${run.id}:${child.section}`;
      item.iconPath = new vscode.ThemeIcon(
        child.section === 'params' ? 'symbol-parameter' : child.section === 'metrics' ? 'graph-line' : 'package',
      );
      item.contextValue = `mlw.run.section.${child.section}`;
      break;
    case 'param':
      item.id = `run:${run.id}:param:${child.label}`;
      item.contextValue = 'mlw.run.param';
      break;
    case 'metric':
      item.id = `run:${run.id}:metric:${child.name}`;
      item.iconPath = new vscode.ThemeIcon('graph-line');
      item.contextValue = 'mlw.run.metric';
      item.command = { title: 'Show Metrics', command: COMMANDS.showRunMetrics, arguments: [{ kind: 'run', run }] };
      break;
    case 'artifact':
      item.id = `run:${run.id}:artifact:${child.path}`;
      item.iconPath = new vscode.ThemeIcon('file-binary');
      item.contextValue = 'mlw.run.artifact';
      break;
    case 'log':
      item.id = `run:${run.id}:log`;
      item.iconPath = new vscode.ThemeIcon('output');
      item.contextValue = 'mlw.run.log';
      item.command = { title: 'Open Log', command: COMMANDS.openRunLog, arguments: [{ kind: 'run', run }] };
      break;
  }
  return item;
}

export interface RunsView extends View {
  readonly actions: RunActions;
}

export function createRunsView(agent: AgentClient): RunsView {
  const provider = new RunsProvider(agent);
  const treeView = vscode.window.createTreeView(RUNS_VIEW_ID, {
    treeDataProvider: provider,
    showCollapseAll: true,
    canSelectMany: true,
  });
  provider.onMessage = (message) => {
    treeView.message = message;
  };
  const actions = createRunActions({
    agent,
    runs: () => provider.cache.all(),
    selection: () => treeView.selection.map(runOfNode).filter((run): run is RunSummary => run !== undefined),
    reload: () => provider.reload(),
  });
  return {
    refresh: () => provider.reload(),
    actions,
    disposable: vscode.Disposable.from(
      treeView,
      provider,
      actions,
      agent.onNotification(runsChanged, ({ id, run }) => provider.apply(id, run)),
      agent.onDidChangeState((state) => {
        if (state.kind === 'ready' || state.kind === 'stopped' || state.kind === 'error') provider.reload();
      }),
    ),
  };
}
