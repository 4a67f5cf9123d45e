/**
 * The script of the runs webviews (bundled for the browser into dist/webview-runs.js and loaded by
 * nonce): says it is ready, validates each message from the extension with zod, and renders with the
 * same functions the unit tests check. Clicking a run in the comparison asks for its metrics.
 */
import { z } from 'zod';
import type { MetricPoint, MetricSeries } from '../../../schemas/protocol/runs';
import { escapeHtml } from './html';
import { FromWebview, ToWebview, type MetricsRun } from './runs-messages';
import { compareHtml, mergePoints, metricsHtml } from './runs-html';

// The few browser globals this script touches (the project's tsconfig has no DOM library).
interface PageElement {
  innerHTML: string;
  closest(selector: string): PageElement | null;
  getAttribute(name: string): string | null;
}
interface PageEvent {
  readonly data?: unknown;
  readonly target?: unknown;
  preventDefault(): void;
}
declare const acquireVsCodeApi: () => { postMessage(message: unknown): void };
declare const document: {
  getElementById(id: string): PageElement | null;
  addEventListener(type: 'click', listener: (event: PageEvent) => void): void;
};
declare const window: { addEventListener(type: 'message', listener: (event: PageEvent) => void): void };

const vscode = acquireVsCodeApi();
const root = document.getElementById('root');

function post(message: FromWebview): void {
  vscode.postMessage(FromWebview.parse(message));
}

let metricsRun: MetricsRun | undefined;
let series: MetricSeries[] = [];
// Points that arrived live: the series the extension sends may have been read before some of them
// (its answer and the notifications race), so they are merged into it rather than replaced by it.
const livePoints: MetricPoint[] = [];

function render(html: string): void {
  if (root) root.innerHTML = html;
}

function receive(raw: unknown): void {
  const parsed = ToWebview.safeParse(raw);
  if (!parsed.success) {
    render(`<p class="error">Ignored a malformed message: ${escapeHtml(z.prettifyError(parsed.error))}</p>`);
    return;
  }
  const message = parsed.data;
  switch (message.type) {
    case 'compare':
      render(compareHtml(message.comparison));
      return;
    case 'metrics':
      metricsRun = message.run;
      series = mergePoints(message.series, livePoints);
      break;
    case 'points':
      livePoints.push(...message.points);
      series = mergePoints(series, message.points);
      break;
    case 'status':
      if (metricsRun) metricsRun = { ...metricsRun, status: message.status };
      break;
    case 'error':
      render(`<p class="error">${escapeHtml(message.message)}</p>`);
      return;
  }
  if (metricsRun) render(metricsHtml(metricsRun, series));
}

window.addEventListener('message', (event) => receive(event.data));
document.addEventListener('click', (event) => {
  const target = event.target as PageElement | null;
  const link = target && typeof target.closest === 'function' ? target.closest('a.run') : null;
  const id = link?.getAttribute('data-run');
  if (!id) return;
  event.preventDefault();
  post({ type: 'openMetrics', id });
});
post({ type: 'ready' });
