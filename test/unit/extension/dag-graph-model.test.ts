/** The DAG graph webview's vscode-free pieces: longest-path layers, the layout, the SVG, the page, the messages. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  fitLabel,
  GRAPH_METRICS,
  graphPage,
  graphSvg,
  layoutGraph,
  longestPathLayers,
  type GraphNodeInput,
} from '../../../extension/src/webviews/dag-graph-model';
import { FromGraph, ToGraph } from '../../../extension/src/webviews/dag-graph-messages';

const node = (name: string, ...dependsOn: string[]): GraphNodeInput => ({ name, task: name.split('@')[0]!, dependsOn });

// The iris example, with an extra edge that skips a layer (report needs features and select_best).
const iris = [
  node('report', 'features', 'select_best'),
  node('features'),
  node('train@rf', 'features'),
  node('train@gb', 'features'),
  node('select_best', 'train@gb', 'train@rf'),
];

void describe('longest-path layering', () => {
  void test('a task sits one layer below the deepest task it needs', () => {
    assert.deepEqual(Object.fromEntries(longestPathLayers(iris)), {
      features: 0,
      'train@rf': 1,
      'train@gb': 1,
      select_best: 2,
      report: 3,
    });
  });

  void test('unknown names are ignored and a cycle goes below the rest instead of looping', () => {
    const layers = longestPathLayers([node('a', 'missing'), node('b', 'c'), node('c', 'b'), node('d', 'a')]);
    assert.deepEqual(Object.fromEntries(layers), { a: 0, d: 1, b: 2, c: 2 });
  });
});

void describe('layout', () => {
  const { nodeWidth, nodeHeight, layerGap, nodeGap, margin } = GRAPH_METRICS;

  void test('layers top to bottom, rows centred on the widest, ordered by their parents', () => {
    const layout = layoutGraph(iris);
    const byName = new Map(layout.nodes.map((placed) => [placed.name, placed]));
    assert.equal(layout.width, 2 * nodeWidth + nodeGap + 2 * margin);
    assert.equal(layout.height, 4 * nodeHeight + 3 * layerGap + 2 * margin);
    assert.deepEqual(
      ['features', 'train@rf', 'train@gb', 'select_best', 'report'].map((name) => {
        const placed = byName.get(name)!;
        return [name, placed.layer, placed.index, placed.x, placed.y];
      }),
      [
        ['features', 0, 0, margin + (nodeWidth + nodeGap) / 2, margin],
        ['train@rf', 1, 0, margin, margin + nodeHeight + layerGap],
        ['train@gb', 1, 1, margin + nodeWidth + nodeGap, margin + nodeHeight + layerGap],
        ['select_best', 2, 0, margin + (nodeWidth + nodeGap) / 2, margin + 2 * (nodeHeight + layerGap)],
        ['report', 3, 0, margin + (nodeWidth + nodeGap) / 2, margin + 3 * (nodeHeight + layerGap)],
      ],
    );
  });

  void test('a row follows the order of what it needs, not the file order', () => {
    const layout = layoutGraph([node('a'), node('b'), node('after-b', 'b'), node('after-a', 'a')]);
    const second = layout.nodes.filter((placed) => placed.layer === 1).sort((x, y) => x.index - y.index);
    assert.deepEqual(
      second.map((placed) => placed.name),
      ['after-a', 'after-b'],
    );
  });

  void test('one edge per dependency, from the bottom middle of the needed task to the top middle of the task', () => {
    const layout = layoutGraph([node('a'), node('b', 'a')]);
    assert.equal(layout.edges.length, 1);
    const x = margin + nodeWidth / 2;
    const y1 = margin + nodeHeight;
    const y2 = margin + nodeHeight + layerGap;
    assert.deepEqual(layout.edges[0], {
      from: 'a',
      to: 'b',
      path: `M ${x} ${y1} C ${x} ${y1 + layerGap / 2} ${x} ${y2 - layerGap / 2} ${x} ${y2}`,
    });
  });

  void test('an empty file lays out as nothing', () => {
    assert.deepEqual(layoutGraph([]), { nodes: [], edges: [], width: 2 * margin, height: 2 * margin });
  });
});

void describe('SVG and page', () => {
  void test('each node carries its status class and escaped name; long names are shortened with the full name as title', () => {
    const svg = graphSvg(
      layoutGraph([node('a<b>'), node('a_very_long_task_name@with_matrix', 'a<b>')]),
      new Map([['a<b>', 'failed' as const]]),
    );
    assert.match(svg, /<g class="node status-failed" data-name="a&lt;b&gt;"/);
    assert.match(svg, /<g class="node status-idle" data-name="a_very_long_task_name@with_matrix"/);
    assert.match(svg, /<title>a_very_long_task_name@with_matrix<\/title>/);
    assert.match(svg, /<text class="name" x="10" y="17">a_very_long_task_na…<\/text>/);
    assert.match(svg, /<text class="status" x="10" y="32">failed<\/text>/);
    assert.doesNotMatch(svg, /<b>/);
    assert.match(svg, /<path class="edge" data-from="a&lt;b&gt;" data-to="a_very_long_task_name@with_matrix"/);
    assert.equal(fitLabel('short'), 'short');
  });

  void test('the page allows nothing but its own nonce-d style and script', () => {
    const html = graphPage({
      title: 'Graph: "x"',
      nonce: 'N0nce',
      scriptUri: 'vscode-resource://dist/webview-dag-graph.js',
      caption: '<none>',
      svg: '<svg></svg>',
    });
    assert.match(
      html,
      /content="default-src &#39;none&#39;; style-src &#39;nonce-N0nce&#39;; script-src &#39;nonce-N0nce&#39;;/,
    );
    assert.match(html, /<script nonce="N0nce" src="vscode-resource:\/\/dist\/webview-dag-graph.js"><\/script>/);
    assert.match(html, /<style nonce="N0nce">/);
    assert.match(html, /<header id="caption">&lt;none&gt;<\/header>/);
    assert.match(html, /<title>Graph: &quot;x&quot;<\/title>/);
    assert.equal(html.match(/<script/g)?.length, 1);
  });

  void test('messages are checked both ways', () => {
    assert.ok(ToGraph.safeParse({ type: 'statuses', caption: '', statuses: { a: 'running', b: 'idle' } }).success);
    assert.ok(!ToGraph.safeParse({ type: 'statuses', caption: '', statuses: { a: 'exploded' } }).success);
    assert.ok(FromGraph.safeParse({ type: 'open', name: 'train@rf' }).success);
    assert.ok(!FromGraph.safeParse({ type: 'open', name: '' }).success);
    assert.ok(!FromGraph.safeParse({ type: 'run', command: 'rm -rf /' }).success);
  });
});
