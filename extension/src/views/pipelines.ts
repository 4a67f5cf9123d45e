/**
 * The Pipelines view: each DAG file of the workspace with its problem count, and its tasks (matrix
 * expansions included). Data from mlw/dag/listPipelines, refreshed on mlw/dag/changed and whenever
 * the agent becomes ready. Clicking a task opens the file at the task's key.
 */
import * as vscode from 'vscode';
import { listPipelines, pipelinesChanged, type PipelineSummary, type PipelineTask } from '../../../schemas/protocol';
import { AgentNotReadyError, type AgentClient } from '../agent/client';
import { describeAgentState } from '../agent/state';
import {
  isMatrixInstance,
  pipelineDescription,
  problemCountText,
  sortedPipelines,
  taskDescription,
} from './pipelines-model';
import type { View } from './index';

export const PIPELINES_VIEW_ID = 'mlw.pipelines';

type Node =
  | { readonly kind: 'pipeline'; readonly summary: PipelineSummary }
  | { readonly kind: 'task'; readonly summary: PipelineSummary; readonly task: PipelineTask };

class PipelinesProvider implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Shown above the tree when there is nothing to list (agent down, request failed). */
  message: string | undefined;
  onMessage: (message: string | undefined) => void = () => undefined;

  constructor(private readonly agent: AgentClient) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  dispose(): void {
    this.changed.dispose();
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return node.kind === 'pipeline' ? pipelineItem(node.summary) : taskItem(node.summary, node.task);
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node?.kind === 'pipeline')
      return node.summary.tasks.map((task) => ({ kind: 'task', summary: node.summary, task }));
    if (node !== undefined) return [];
    try {
      const summaries = await this.agent.request(listPipelines, {});
      this.setMessage(undefined);
      return sortedPipelines(summaries).map((summary) => ({ kind: 'pipeline', summary }));
    } catch (error) {
      this.setMessage(
        error instanceof AgentNotReadyError
          ? `The MLOps agent is ${describeAgentState(this.agent.state)}.`
          : `Could not list the pipelines: ${error instanceof Error ? error.message : String(error)}`,
      );
      return [];
    }
  }

  private setMessage(message: string | undefined): void {
    this.message = message;
    this.onMessage(message);
  }
}

function pipelineItem(summary: PipelineSummary): vscode.TreeItem {
  const uri = vscode.Uri.file(summary.path);
  const item = new vscode.TreeItem(summary.name, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `pipeline:${summary.path}`;
  item.resourceUri = uri; // file icon, and the editor's own problem decorations
  item.description = pipelineDescription(summary, vscode.workspace.asRelativePath(uri));
  const problems = problemCountText(summary);
  item.tooltip = `${summary.path}\n${summary.tasks.length} tasks${problems === '' ? '' : ` · ${problems}`}`;
  item.contextValue = 'mlw.pipeline';
  item.command = { title: 'Open', command: 'vscode.open', arguments: [uri] };
  return item;
}

function taskItem(summary: PipelineSummary, task: PipelineTask): vscode.TreeItem {
  const uri = vscode.Uri.file(summary.path);
  const item = new vscode.TreeItem(task.name, vscode.TreeItemCollapsibleState.None);
  item.id = `task:${summary.path}#${task.name}`;
  item.description = taskDescription(task);
  item.iconPath = new vscode.ThemeIcon(isMatrixInstance(task) ? 'symbol-array' : 'symbol-event');
  item.tooltip = isMatrixInstance(task) ? `${task.name}: one expansion of the matrix task ${task.task}` : task.name;
  item.contextValue = isMatrixInstance(task) ? 'mlw.task.matrixInstance' : 'mlw.task';
  const { start, end } = task.range;
  const selection = new vscode.Range(start.line, start.character, end.line, end.character);
  const options: vscode.TextDocumentShowOptions = { selection };
  item.command = { title: 'Open Task', command: 'vscode.open', arguments: [uri, options] };
  return item;
}

export function createPipelinesView(agent: AgentClient): View {
  const provider = new PipelinesProvider(agent);
  const treeView = vscode.window.createTreeView(PIPELINES_VIEW_ID, {
    treeDataProvider: provider,
    showCollapseAll: true,
  });
  provider.onMessage = (message) => {
    treeView.message = message;
  };
  return {
    refresh: () => provider.refresh(),
    disposable: vscode.Disposable.from(
      treeView,
      provider,
      agent.onNotification(pipelinesChanged, () => provider.refresh()),
      agent.onDidChangeState(() => provider.refresh()),
    ),
  };
}
