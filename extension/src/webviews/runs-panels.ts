/**
 * The runs webview panels (the `vscode` glue around runs-html.ts and runs-client.ts):
 * - Compare runs: one panel, redrawn when any compared run changes;
 * - Metrics of one run: one panel per run; metric points from `mlw/runs/metric` notifications are
 *   posted to it as they arrive, so its charts grow while the run goes on.
 * Pages load only dist/webview-runs.js (by nonce, strict CSP); every message is checked with zod.
 */
import * as vscode from 'vscode';
import { z } from 'zod';
import {
  compareRuns,
  getRun,
  runMetric,
  runMetrics,
  runsChanged,
  type RunSummary,
} from '../../../schemas/protocol/runs';
import type { AgentClient } from '../agent/client';
import { makeNonce, webviewPage } from './html';
import { RUNS_STYLES } from './runs-html';
import { FromWebview, ToWebview } from './runs-messages';

export const COMPARE_PANEL_TYPE = 'mlw.runs.compare';
export const METRICS_PANEL_TYPE = 'mlw.runs.metrics';

/** Where the extension is installed (for the bundled page script); its id is publisher.name. */
function extensionUri(): vscode.Uri {
  const extension = vscode.extensions.getExtension('mlops-workbench.mlops-workbench');
  if (extension === undefined) throw new Error('the MLOps Workbench extension is not installed');
  return extension.extensionUri;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface Page {
  readonly panel: vscode.WebviewPanel;
  readonly post: (message: ToWebview) => void;
}

function createPage(
  type: string,
  title: string,
  view: 'compare' | 'metrics',
  onMessage: (message: FromWebview) => void,
  log: (message: string) => void,
): Page {
  const dist = vscode.Uri.joinPath(extensionUri(), 'dist');
  const panel = vscode.window.createWebviewPanel(type, title, vscode.ViewColumn.Active, {
    enableScripts: true,
    localResourceRoots: [dist],
  });
  panel.webview.html = webviewPage({
    title,
    nonce: makeNonce(),
    scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview-runs.js')).toString(),
    view,
    styles: RUNS_STYLES,
  });
  panel.webview.onDidReceiveMessage((raw: unknown) => {
    const parsed = FromWebview.safeParse(raw);
    if (parsed.success) onMessage(parsed.data);
    else log(`ignored a malformed message from the ${title} page:\n${z.prettifyError(parsed.error)}`);
  });
  return { panel, post: (message) => void panel.webview.postMessage(ToWebview.parse(message)) };
}

export class RunPanels implements vscode.Disposable {
  private compare: { page: Page; ids: string[] } | undefined;
  private readonly metrics = new Map<string, Page>();
  private readonly disposables: vscode.Disposable[];
  private compareRefresh: Promise<void> | undefined;

  constructor(
    private readonly agent: AgentClient,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.disposables = [
      agent.onNotification(runMetric, ({ id, points }) => this.metrics.get(id)?.post({ type: 'points', points })),
      agent.onNotification(runsChanged, ({ id, run }) => this.onRunChanged(id, run)),
    ];
  }

  /** Opens (or refocuses) the comparison of these runs. */
  showComparison(ids: readonly string[]): void {
    if (this.compare) {
      this.compare.ids = [...ids];
      this.compare.page.panel.reveal();
      void this.sendComparison();
      return;
    }
    const page = createPage(
      COMPARE_PANEL_TYPE,
      'Compare Runs',
      'compare',
      (message) => {
        if (message.type === 'ready') void this.sendComparison();
        else this.showMetrics(message.id);
      },
      this.log,
    );
    this.compare = { page, ids: [...ids] };
    page.panel.onDidDispose(() => {
      this.compare = undefined;
    });
  }

  /** Opens (or refocuses) the metrics charts of one run. */
  showMetrics(id: string): void {
    const existing = this.metrics.get(id);
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const page = createPage(
      METRICS_PANEL_TYPE,
      `Metrics ${id.slice(0, 8)}`,
      'metrics',
      (message) => {
        if (message.type === 'ready') void this.sendMetrics(id, page);
        else this.showMetrics(message.id);
      },
      this.log,
    );
    this.metrics.set(id, page);
    page.panel.onDidDispose(() => this.metrics.delete(id));
  }

  private async sendMetrics(id: string, page: Page): Promise<void> {
    try {
      const [run, series] = await Promise.all([
        this.agent.request(getRun, { id }),
        this.agent.request(runMetrics, { id }),
      ]);
      page.panel.title = `Metrics: ${run.name}`;
      page.post({ type: 'metrics', run: { id: run.id, name: run.name, status: run.status }, series });
    } catch (error) {
      page.post({ type: 'error', message: `Could not read the run's metrics: ${errorText(error)}` });
    }
  }

  private sendComparison(): Promise<void> {
    // A burst of changes asks the agent once more after the request in flight, not once per change.
    this.compareRefresh ??= (async () => {
      const compare = this.compare;
      if (!compare) return;
      try {
        compare.page.post({ type: 'compare', comparison: await this.agent.request(compareRuns, { ids: compare.ids }) });
      } catch (error) {
        compare.page.post({ type: 'error', message: `Could not compare the runs: ${errorText(error)}` });
      }
    })().finally(() => {
      this.compareRefresh = undefined;
    });
    return this.compareRefresh;
  }

  private onRunChanged(id: string, run: RunSummary | null): void {
    const metricsPage = this.metrics.get(id);
    if (metricsPage && run) metricsPage.post({ type: 'status', status: run.status });
    if (this.compare?.ids.includes(id) && run) void this.sendComparison();
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
    this.compare?.page.panel.dispose();
    for (const page of this.metrics.values()) page.panel.dispose();
  }
}
