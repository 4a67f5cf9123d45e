/**
 * The runs webviews' vscode-free parts: the strict CSP page, the comparison's highlighting of
 * differences, the chart's scaling and ticks, live points merged into series, escaping of whatever
 * a run name or param holds, and the zod checks on messages both ways.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RunComparison, RunSummary } from '../../../schemas/protocol/runs';
import { chartDomain, lineChartSvg, niceTicks, scaleLinear } from '../../../extension/src/webviews/chart';
import { contentSecurityPolicy, escapeHtml, makeNonce, webviewPage } from '../../../extension/src/webviews/html';
import { compareHtml, compareRows, mergePoints, metricsHtml } from '../../../extension/src/webviews/runs-html';
import { FromWebview, ToWebview } from '../../../extension/src/webviews/runs-messages';

function summary(id: string, name: string): RunSummary {
  return {
    id,
    name,
    task: name,
    dagFile: null,
    dagRunId: null,
    status: 'succeeded',
    statusReason: null,
    exitCode: 0,
    oomKilled: false,
    environment: null,
    executor: 'local',
    gitCommit: null,
    gitBranch: 'main',
    dirty: false,
    priority: 0,
    createdAt: 0,
    startedAt: 0,
    endedAt: 1,
    params: {},
    latestMetrics: {},
    tags: [],
  };
}

const comparison: RunComparison = {
  runs: [summary('aaaa1111', 'train@rf'), summary('bbbb2222', 'train@gb'), summary('cccc3333', '<b>x</b>')],
  params: [
    { name: 'seed', values: ['1', '1', '1'], differs: false },
    { name: 'model', values: ['rf', 'gb', 'rf'], differs: true },
  ],
  metrics: [
    { name: 'accuracy', values: [0.9, 0.95, null], differs: true },
    { name: 'loss', values: [0.1, 0.1, 0.1], differs: false },
  ],
};

void describe('webview page', () => {
  void test('the CSP allows nothing by default and scripts and styles only by nonce', () => {
    const nonce = makeNonce();
    assert.match(nonce, /^[A-Za-z0-9]{32}$/);
    assert.notEqual(makeNonce(), nonce);
    const csp = contentSecurityPolicy(nonce);
    assert.match(csp, /^default-src 'none'; /);
    assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'`));
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/);
    const html = webviewPage({
      title: 'T',
      nonce,
      scriptUri: 'vscode-resource://x/dist/webview-runs.js',
      view: 'compare',
      styles: 'body{}',
    });
    assert.ok(html.includes(`<script nonce="${nonce}" src="vscode-resource://x/dist/webview-runs.js">`));
    assert.ok(html.includes(`<style nonce="${nonce}">`));
    assert.equal((html.match(/<script/g) ?? []).length, 1);
  });

  void test('escapes markup', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

void describe('compare', () => {
  void test('rows: params then metrics by name; differing rows marked, cells that differ from the first run highlighted', () => {
    const rows = compareRows(comparison);
    assert.deepEqual(
      rows.map((row) => `${row.kind}:${row.name}:${row.differs}`),
      ['param:model:true', 'param:seed:false', 'metric:accuracy:true', 'metric:loss:false'],
    );
    assert.deepEqual(
      rows[0]!.cells.map((cell) => cell.changed),
      [false, true, false],
    );
    assert.deepEqual(
      rows[2]!.cells.map((cell) => `${cell.text}:${cell.changed}`),
      ['0.9:false', '0.95:true', '—:true'],
    );
    assert.ok(rows[1]!.cells.every((cell) => !cell.changed));
  });

  void test('the table marks differences and escapes run names', () => {
    const html = compareHtml(comparison);
    assert.equal((html.match(/<tr class="differs"/g) ?? []).length, 2);
    assert.equal((html.match(/<td class="changed">/g) ?? []).length, 3);
    assert.ok(html.includes('&lt;b&gt;x&lt;/b&gt;'));
    assert.ok(!html.includes('<b>x</b>'));
    assert.ok(html.includes('data-run="bbbb2222"'));
    assert.match(html, /2 of 4 values differ/);
  });
});

void describe('chart', () => {
  void test('nice ticks cover the range in steps of 1, 2 or 5 times a power of ten', () => {
    assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0.31, 0.74), [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    assert.deepEqual(niceTicks(0, 97), [0, 20, 40, 60, 80, 100]);
    const flat = niceTicks(5, 5);
    assert.ok(flat[0]! < 5 && flat[flat.length - 1]! > 5, `a flat series gets room around it: ${flat.join(',')}`);
  });

  void test('linear scale maps the domain onto the range, inverted for y', () => {
    const y = scaleLinear([0, 10], [200, 0]);
    assert.equal(y(0), 200);
    assert.equal(y(10), 0);
    assert.equal(y(2.5), 150);
    assert.equal(scaleLinear([3, 3], [0, 100])(3), 50);
  });

  void test('the domain spans the steps, the value axis widened to its ticks', () => {
    const domain = chartDomain([
      { step: 0, value: 0.72 },
      { step: 4, value: 0.31 },
      { step: 2, value: Number.NaN },
    ]);
    assert.deepEqual(domain.steps, [0, 4]);
    assert.deepEqual(domain.values, [0.3, 0.8]);
  });

  void test('one polyline point per step in step order, the highest value at the top', () => {
    const svg = lineChartSvg(
      'loss',
      [
        { step: 2, value: 0.2 },
        { step: 0, value: 1 },
        { step: 1, value: 0.5 },
      ],
      { width: 200, height: 100 },
    );
    const points = /<polyline[^>]* points="([^"]+)"/
      .exec(svg)![1]!
      .split(' ')
      .map((pair) => pair.split(',').map(Number));
    assert.equal(points.length, 3);
    assert.deepEqual(
      points.map(([x]) => x),
      [...points.map(([x]) => x!)].sort((a, b) => a - b),
    );
    assert.ok(points[0]![1]! < points[2]![1]!, 'value 1 (step 0) is drawn above value 0.2 (step 2)');
    assert.ok(points.every(([x, y]) => x! >= 0 && x! <= 200 && y! >= 0 && y! <= 100));
    assert.match(svg, /data-points="3"/);
    assert.match(lineChartSvg('x', []), /no points yet/);
  });

  void test('live points extend the series; a repeated step replaces its value', () => {
    const merged = mergePoints(
      [{ name: 'loss', points: [{ step: 0, value: 1 }] }],
      [
        { name: 'loss', step: 1, value: 0.5 },
        { name: 'acc', step: 0, value: 0.3 },
        { name: 'loss', step: 0, value: 0.9 },
      ],
    );
    assert.deepEqual(merged, [
      { name: 'acc', points: [{ step: 0, value: 0.3 }] },
      {
        name: 'loss',
        points: [
          { step: 0, value: 0.9 },
          { step: 1, value: 0.5 },
        ],
      },
    ]);
    const html = metricsHtml({ id: 'aaaa', name: 'train', status: 'running' }, merged);
    assert.equal((html.match(/<svg class="chart"/g) ?? []).length, 2);
    assert.match(html, /data-status="running"/);
  });
});

void describe('messages', () => {
  void test('both directions are validated: unknown types and bad fields are refused', () => {
    assert.ok(FromWebview.safeParse({ type: 'ready' }).success);
    assert.ok(FromWebview.safeParse({ type: 'openMetrics', id: 'abcd1234' }).success);
    assert.ok(!FromWebview.safeParse({ type: 'openMetrics', id: '../../etc' }).success);
    assert.ok(!FromWebview.safeParse({ type: 'runShell', command: 'rm -rf /' }).success);
    assert.ok(ToWebview.safeParse({ type: 'points', points: [{ name: 'loss', step: 1, value: 0.5 }] }).success);
    assert.ok(!ToWebview.safeParse({ type: 'points', points: [{ name: 'loss', step: 1.5, value: 0.5 }] }).success);
    assert.ok(ToWebview.safeParse({ type: 'compare', comparison }).success);
  });
});
