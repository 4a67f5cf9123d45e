/**
 * The DAG graph panels (the `vscode` glue around dag-graph-model.ts and dag-graph-client.ts): one
 * panel per DAG file, drawn from mlw/dag/listPipelines (matrix instances as their own nodes),
 * redrawn on mlw/dag/changed for its file, recoloured from mlw/pipeline/changed of the file's latest
 * DAG run. Clicking a node opens that task's run log (a live document served by the Runs view).
 * The page loads only dist/webview-dag-graph.js (by nonce, strict CSP); every message is checked.
 */
import * as vscode from 'vscode';
import { z } from 'zod';
import { listPipelines, pipelinesChanged, type PipelineSummary } from '../../../schemas/protocol/dag';
import type { PipelineRunState } from '../../../schemas/protocol/pipeline';
import type { AgentClient } from '../agent/client';
import type { PipelineRunStates } from '../views/dag-run-model';
import { summaryFor } from '../views/dag-run-model';
import { runLogUri } from '../views/run-logs';
import { graphPage, graphSvg, layoutGraph, type NodeStatus } from './dag-graph-model';
import { FromGraph, ToGraph } from './dag-graph-messages';
import { makeNonce } from './html';

export const GRAPH_PANEL_TYPE = 'mlw.pipeline.graph';

function extensionUri(): vscode.Uri {
  const extension = vscode.extensions.getExtension('mlops-workbench.mlops-workbench');
  if (extension === undefined) throw new Error('the MLOps Workbench extension is not installed');
  return extension.extensionUri;
}

/** The agent names DAG files relative to the workspace root, '/'-separated. */
export function workspaceRelative(path: string): string {
  return vscode.workspace.asRelativePath(vscode.Uri.file(path), false);
}

function statusesOf(state: PipelineRunState | undefined): Map<string, NodeStatus> {
  return new Map((state?.tasks ?? []).map((task) => [task.name, task.status]));
}

function captionOf(state: PipelineRunState | undefined): string {
  if (!state) return 'No run of this file in this session yet: Run Pipeline to see each task’s status here.';
  const when = new Date(state.startedAt).toLocaleTimeString();
  return `DAG run ${state.dagRunId.slice(0, 8)} (started ${when}): ${state.status}. Click a task to open its run.`;
}

interface GraphPanel {
  readonly panel: vscode.WebviewPanel;
  readonly path: string;
}

export class DagGraphPanels implements vscode.Disposable {
  private readonly panels = new Map<string, GraphPanel>();
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly agent: AgentClient,
    private readonly states: PipelineRunStates,
    private readonly log: (message: string) => void,
  ) {
    const unsubscribe = states.subscribe((state) => this.onState(state));
    this.disposables = [
      { dispose: unsubscribe },
      agent.onNotification(pipelinesChanged, ({ paths }) => {
        for (const path of paths) {
          const open = this.panels.get(path);
          if (open) void this.draw(open);
        }
      }),
    ];
  }

  /** Opens (or reveals) the graph of the DAG file at this absolute path. */
  async show(path: string): Promise<void> {
    const existing = this.panels.get(path);
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const dist = vscode.Uri.joinPath(extensionUri(), 'dist');
    const panel = vscode.window.createWebviewPanel(
      GRAPH_PANEL_TYPE,
      `Graph: ${workspaceRelative(path)}`,
      vscode.ViewColumn.Beside,
      { enableScripts: true, localResourceRoots: [dist] },
    );
    const open: GraphPanel = { panel, path };
    this.panels.set(path, open);
    panel.onDidDispose(() => this.panels.delete(path));
    panel.webview.onDidReceiveMessage((raw: unknown) => {
      const parsed = FromGraph.safeParse(raw);
      if (!parsed.success) {
        this.log(`ignored a malformed message from the graph page:\n${z.prettifyError(parsed.error)}`);
        return;
      }
      if (parsed.data.type === 'ready') this.post(open);
      else void this.openRun(path, parsed.data.name).catch((error: unknown) => this.report(error));
    });
    await this.draw(open);
  }

  dispose(): void {
    for (const open of this.panels.values()) open.panel.dispose();
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
  }

  private async draw(open: GraphPanel): Promise<void> {
    let summary: PipelineSummary | undefined;
    try {
      summary = summaryFor(await this.agent.request(listPipelines, {}), open.path);
    } catch (error) {
      this.report(error);
      return;
    }
    const state = this.states.latestOf(workspaceRelative(open.path));
    const webview = open.panel.webview;
    const svg = graphSvg(layoutGraph(summary?.tasks ?? []), statusesOf(state));
    webview.html = graphPage({
      title: open.panel.title,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri(), 'dist', 'webview-dag-graph.js')).toString(),
      caption: summary ? captionOf(state) : `${workspaceRelative(open.path)} is not a DAG file the agent knows.`,
      svg,
    });
  }

  private post(open: GraphPanel): void {
    const state = this.states.latestOf(workspaceRelative(open.path));
    const message: ToGraph = {
      type: 'statuses',
      caption: captionOf(state),
      statuses: Object.fromEntries(statusesOf(state)),
    };
    void open.panel.webview.postMessage(ToGraph.parse(message));
  }

  private onState(state: PipelineRunState): void {
    for (const open of this.panels.values()) if (workspaceRelative(open.path) === state.dagFile) this.post(open);
  }

  /** A node's run: its latest attempt in the file's latest DAG run (or the run it was cached from). */
  private async openRun(path: string, name: string): Promise<void> {
    const task = this.states.latestOf(workspaceRelative(path))?.tasks.find((candidate) => candidate.name === name);
    if (!task?.runId) {
      void vscode.window.showInformationMessage(`MLOps: ${name} has no run in this session yet.`);
      return;
    }
    const document = await vscode.workspace.openTextDocument(runLogUri(task.runId, name));
    await vscode.window.showTextDocument(document, { preview: false, viewColumn: vscode.ViewColumn.Active });
  }

  private report(error: unknown): void {
    void vscode.window.showErrorMessage(`MLOps: ${error instanceof Error ? error.message : String(error)}`);
  }
}
