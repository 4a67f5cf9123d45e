/**
 * The DAG graph page's script (bundled for the browser into dist/webview-dag-graph.js, loaded by
 * nonce). The graph itself arrives drawn (dag-graph-model.ts); this script only recolours nodes from
 * zod-checked status messages and posts a zod-checked `open` when a node is clicked or Enter is
 * pressed on it.
 */
import { FromGraph, ToGraph } from './dag-graph-messages';

// The few browser globals this script touches (the project's tsconfig has no DOM library).
interface PageElement {
  textContent: string | null;
  closest(selector: string): PageElement | null;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  querySelector(selector: string): PageElement | null;
}
interface PageEvent {
  readonly data?: unknown;
  readonly target?: unknown;
  readonly key?: string;
}
declare const acquireVsCodeApi: () => { postMessage(message: unknown): void };
declare const document: {
  getElementById(id: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  addEventListener(type: 'click' | 'keydown', listener: (event: PageEvent) => void): void;
};
declare const window: { addEventListener(type: 'message', listener: (event: PageEvent) => void): void };

const vscode = acquireVsCodeApi();

function post(message: FromGraph): void {
  vscode.postMessage(FromGraph.parse(message));
}

function nodeOf(event: PageEvent): PageElement | null {
  const target = event.target as PageElement | null | undefined;
  return target && typeof target.closest === 'function' ? target.closest('g.node') : null;
}

function openNode(event: PageEvent): void {
  const name = nodeOf(event)?.getAttribute('data-name');
  if (name) post({ type: 'open', name });
}

document.addEventListener('click', openNode);
document.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' || event.key === ' ') openNode(event);
});

window.addEventListener('message', (event) => {
  const parsed = ToGraph.safeParse(event.data);
  if (!parsed.success) return;
  const message = parsed.data;
  const caption = document.getElementById('caption');
  if (caption) caption.textContent = message.caption;
  for (const node of document.querySelectorAll('g.node')) {
    const status = message.statuses[node.getAttribute('data-name') ?? ''] ?? 'idle';
    node.setAttribute('class', `node status-${status}`);
    const label = node.querySelector('text.status');
    if (label) label.textContent = status === 'idle' ? '' : status;
  }
});

post({ type: 'ready' });
