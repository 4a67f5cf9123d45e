/**
 * The DAG graph webview's content, free of `vscode` so it is unit tested: a layered layout of the
 * task instances (longest-path layering: a task sits one layer below the deepest task it needs;
 * within a layer, ordered by the mean position of what it needs, which keeps edges short for the
 * fan-out/fan-in shapes pipelines have), the SVG drawn from it with each node coloured by status,
 * and the page around it (strict CSP, one script by nonce).
 */
import type { PipelineTaskStatus } from '../../../schemas/protocol/pipeline';
import { contentSecurityPolicy, escapeHtml } from './html';

export interface GraphNodeInput {
  /** `train@rf`. */
  readonly name: string;
  /** `train`. */
  readonly task: string;
  readonly dependsOn: readonly string[];
}

export interface PlacedNode extends GraphNodeInput {
  readonly layer: number;
  /** Position within its layer, from the left. */
  readonly index: number;
  readonly x: number;
  readonly y: number;
}

export interface PlacedEdge {
  readonly from: string;
  readonly to: string;
  /** SVG path data, from the bottom of `from` to the top of `to`. */
  readonly path: string;
}

export interface GraphLayout {
  readonly nodes: readonly PlacedNode[];
  readonly edges: readonly PlacedEdge[];
  readonly width: number;
  readonly height: number;
}

export const GRAPH_METRICS = { nodeWidth: 168, nodeHeight: 40, layerGap: 56, nodeGap: 24, margin: 16 } as const;

/**
 * Longest-path layers: 0 for a task that needs nothing, else one more than the deepest task it
 * needs. Names it needs that are not in the graph are ignored; tasks on a cycle (which the agent
 * reports as an error) go one layer below everything else rather than looping.
 */
export function longestPathLayers(nodes: readonly GraphNodeInput[]): Map<string, number> {
  const known = new Set(nodes.map((node) => node.name));
  const needs = new Map(nodes.map((node) => [node.name, node.dependsOn.filter((name) => known.has(name))]));
  const layers = new Map<string, number>();
  let placed = true;
  while (placed) {
    placed = false;
    for (const node of nodes) {
      if (layers.has(node.name)) continue;
      const before = needs.get(node.name)!;
      if (!before.every((name) => layers.has(name))) continue;
      layers.set(node.name, before.length === 0 ? 0 : 1 + Math.max(...before.map((name) => layers.get(name)!)));
      placed = true;
    }
  }
  const below = layers.size === 0 ? 0 : 1 + Math.max(...layers.values());
  for (const node of nodes) if (!layers.has(node.name)) layers.set(node.name, below);
  return layers;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

export function layoutGraph(nodes: readonly GraphNodeInput[], metrics = GRAPH_METRICS): GraphLayout {
  const layers = longestPathLayers(nodes);
  const layerCount = nodes.length === 0 ? 0 : 1 + Math.max(...layers.values());
  const rows: GraphNodeInput[][] = Array.from({ length: layerCount }, () => []);
  for (const node of nodes) rows[layers.get(node.name)!]!.push(node);

  // Each row in the order of its parents' mean position (file order when they tie or have none).
  const position = new Map<string, number>();
  for (const row of rows) {
    const keyed = row.map((node, fileOrder) => {
      const parents = node.dependsOn.map((name) => position.get(name)).filter((index) => index !== undefined);
      return { node, key: parents.length === 0 ? fileOrder : mean(parents), fileOrder };
    });
    keyed.sort((a, b) => a.key - b.key || a.fileOrder - b.fileOrder);
    row.splice(0, row.length, ...keyed.map((entry) => entry.node));
    row.forEach((node, index) => position.set(node.name, index));
  }

  const widest = Math.max(0, ...rows.map((row) => row.length));
  const rowWidth = (count: number): number => count * metrics.nodeWidth + Math.max(0, count - 1) * metrics.nodeGap;
  const width = rowWidth(widest) + 2 * metrics.margin;
  const height = layerCount * metrics.nodeHeight + Math.max(0, layerCount - 1) * metrics.layerGap + 2 * metrics.margin;
  const placed: PlacedNode[] = [];
  rows.forEach((row, layer) => {
    const left = metrics.margin + (rowWidth(widest) - rowWidth(row.length)) / 2;
    row.forEach((node, index) => {
      placed.push({
        ...node,
        layer,
        index,
        x: left + index * (metrics.nodeWidth + metrics.nodeGap),
        y: metrics.margin + layer * (metrics.nodeHeight + metrics.layerGap),
      });
    });
  });

  const byName = new Map(placed.map((node) => [node.name, node]));
  const edges: PlacedEdge[] = [];
  for (const node of placed) {
    for (const name of node.dependsOn) {
      const from = byName.get(name);
      if (!from) continue;
      const x1 = from.x + metrics.nodeWidth / 2;
      const y1 = from.y + metrics.nodeHeight;
      const x2 = node.x + metrics.nodeWidth / 2;
      const y2 = node.y;
      const bend = (y2 - y1) / 2;
      edges.push({
        from: name,
        to: node.name,
        path: `M ${x1} ${y1} C ${x1} ${y1 + bend} ${x2} ${y2 - bend} ${x2} ${y2}`,
      });
    }
  }
  return { nodes: placed, edges, width, height };
}

/** What a node shows before any DAG run of the file is known. */
export type NodeStatus = PipelineTaskStatus | 'idle';

/** A label that fits the node box: long names end in an ellipsis (the full name is the tooltip). */
export function fitLabel(name: string, maxCharacters = 20): string {
  return name.length <= maxCharacters ? name : `${name.slice(0, maxCharacters - 1)}…`;
}

export function graphSvg(
  layout: GraphLayout,
  statuses: ReadonlyMap<string, NodeStatus>,
  metrics = GRAPH_METRICS,
): string {
  const edges = layout.edges
    .map(
      (edge) =>
        `<path class="edge" data-from="${escapeHtml(edge.from)}" data-to="${escapeHtml(edge.to)}" d="${edge.path}" marker-end="url(#arrow)"/>`,
    )
    .join('');
  const nodes = layout.nodes
    .map((node) => {
      const status = statuses.get(node.name) ?? 'idle';
      const name = escapeHtml(node.name);
      return (
        `<g class="node status-${status}" data-name="${name}" tabindex="0" role="button" transform="translate(${node.x} ${node.y})">` +
        `<title>${name}</title>` +
        `<rect width="${metrics.nodeWidth}" height="${metrics.nodeHeight}" rx="6"/>` +
        `<text class="name" x="10" y="17">${escapeHtml(fitLabel(node.name))}</text>` +
        `<text class="status" x="10" y="32">${status === 'idle' ? '' : status}</text>` +
        `</g>`
      );
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}">` +
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>` +
    `<g class="edges">${edges}</g><g class="nodes">${nodes}</g></svg>`
  );
}

export const GRAPH_STYLES = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 8px; }
header { margin-bottom: 8px; color: var(--vscode-descriptionForeground); }
.edge { fill: none; stroke: var(--vscode-editorIndentGuide-activeBackground, #888); stroke-width: 1.5; }
marker path { fill: var(--vscode-editorIndentGuide-activeBackground, #888); }
.node { cursor: pointer; }
.node rect { fill: var(--vscode-editorWidget-background, #252526); stroke: var(--vscode-panel-border, #555); stroke-width: 1.5; }
.node:focus rect, .node:hover rect { stroke: var(--vscode-focusBorder, #007fd4); stroke-width: 2.5; }
.node:focus { outline: none; }
.node text { fill: var(--vscode-foreground); font-size: 12px; }
.node text.status { fill: var(--vscode-descriptionForeground); font-size: 10px; }
.status-pending rect { stroke-dasharray: 4 3; }
.status-running rect, .status-retrying rect { stroke: var(--vscode-charts-blue, #3794ff); fill: color-mix(in srgb, var(--vscode-charts-blue, #3794ff) 18%, transparent); }
.status-retrying rect { stroke-dasharray: 6 3; }
.status-succeeded rect { stroke: var(--vscode-testing-iconPassed, #73c991); fill: color-mix(in srgb, var(--vscode-testing-iconPassed, #73c991) 18%, transparent); }
.status-cached rect { stroke: var(--vscode-charts-green, #89d185); fill: color-mix(in srgb, var(--vscode-charts-green, #89d185) 8%, transparent); }
.status-failed rect { stroke: var(--vscode-testing-iconFailed, #f14c4c); fill: color-mix(in srgb, var(--vscode-testing-iconFailed, #f14c4c) 18%, transparent); }
.status-upstream-failed rect { stroke: var(--vscode-charts-orange, #d18616); }
.status-cancelled rect { stroke: var(--vscode-disabledForeground, #888); }
`;

export interface GraphPage {
  readonly title: string;
  readonly nonce: string;
  /** The webview URI of dist/webview-dag-graph.js. */
  readonly scriptUri: string;
  /** A line above the graph (the DAG run shown, or that none is known). */
  readonly caption: string;
  readonly svg: string;
}

export function graphPage(page: GraphPage): string {
  const nonce = escapeHtml(page.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(page.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(page.title)}</title>
<style nonce="${nonce}">${GRAPH_STYLES}</style>
</head>
<body>
<header id="caption">${escapeHtml(page.caption)}</header>
<main id="graph">${page.svg}</main>
<script nonce="${nonce}" src="${escapeHtml(page.scriptUri)}"></script>
</body>
</html>`;
}
