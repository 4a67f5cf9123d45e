/**
 * The markup of the runs webviews, generated from protocol data (free of `vscode` and the DOM, so it
 * is unit tested and shared by the extension and the page's script):
 * - Compare: one column per run, a row per param and per latest metric; a row whose values differ is
 *   marked, and so is each cell that differs from the first run's.
 * - Metrics: one line chart per metric of one run; `mergePoints` adds points as they arrive.
 */
import type { MetricPoint, MetricSeries, RunComparison } from '../../../schemas/protocol/runs';
import { lineChartSvg } from './chart';
import { escapeHtml } from './html';
import type { MetricsRun } from './runs-messages';

export interface CompareCell {
  readonly text: string;
  /** Not equal to the first run's value (the reference column). */
  readonly changed: boolean;
}

export interface CompareRow {
  readonly kind: 'param' | 'metric';
  readonly name: string;
  readonly differs: boolean;
  readonly cells: readonly CompareCell[];
}

const MISSING = '—';

function formatMetric(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

/** The table's rows: params first, then metrics, each by name; which cells differ from the first run. */
export function compareRows(comparison: RunComparison): CompareRow[] {
  const row = <T>(
    kind: 'param' | 'metric',
    name: string,
    values: readonly (T | null)[],
    text: (value: T) => string,
    differs: boolean,
  ) => {
    const reference = values[0] ?? null;
    return {
      kind,
      name,
      differs,
      cells: values.map((value) => ({
        text: value === null ? MISSING : text(value),
        changed: differs && value !== reference,
      })),
    };
  };
  const byName = <T extends { name: string }>(entries: readonly T[]) =>
    [...entries].sort((a, b) => a.name.localeCompare(b.name));
  return [
    ...byName(comparison.params).map((param) =>
      row('param', param.name, param.values, (value: string) => value, param.differs),
    ),
    ...byName(comparison.metrics).map((metric) =>
      row('metric', metric.name, metric.values, formatMetric, metric.differs),
    ),
  ];
}

export function compareHtml(comparison: RunComparison): string {
  const rows = compareRows(comparison);
  const differing = rows.filter((row) => row.differs).length;
  const header = comparison.runs
    .map(
      (run) =>
        `<th scope="col"><a href="#" class="run" data-run="${escapeHtml(run.id)}" title="Open the metrics of ${escapeHtml(run.id)}">${escapeHtml(run.name)}</a><div class="sub">${escapeHtml(run.id.slice(0, 8))} · ${escapeHtml(run.status)}${run.tags.includes('remote') ? ' · remote' : ''}</div></th>`,
    )
    .join('');
  const section = (kind: 'param' | 'metric', title: string) => {
    const selected = rows.filter((row) => row.kind === kind);
    if (selected.length === 0)
      return `<tr class="section"><th colspan="${comparison.runs.length + 1}">${title}: none</th></tr>`;
    return (
      `<tr class="section"><th colspan="${comparison.runs.length + 1}">${title}</th></tr>` +
      selected
        .map(
          (row) =>
            `<tr class="${row.differs ? 'differs' : 'same'}" data-kind="${kind}" data-name="${escapeHtml(row.name)}"><th scope="row">${escapeHtml(row.name)}</th>${row.cells
              .map((cell) => `<td${cell.changed ? ' class="changed"' : ''}>${escapeHtml(cell.text)}</td>`)
              .join('')}</tr>`,
        )
        .join('')
    );
  };
  return (
    `<h1>Compare ${comparison.runs.length} runs</h1>` +
    `<p class="summary">${differing} of ${rows.length} values differ between runs; highlighted cells differ from the first run.</p>` +
    `<table class="compare"><thead><tr><th></th>${header}</tr></thead><tbody>${section('param', 'Params')}${section('metric', 'Latest metrics')}</tbody></table>`
  );
}

/** Adds live points to the series (a point at a step already present replaces it), keeping step order. */
export function mergePoints(series: readonly MetricSeries[], points: readonly MetricPoint[]): MetricSeries[] {
  const byName = new Map(
    series.map((entry) => [entry.name, new Map(entry.points.map((point) => [point.step, point.value]))]),
  );
  for (const point of points) {
    const existing = byName.get(point.name) ?? new Map<number, number>();
    existing.set(point.step, point.value);
    byName.set(point.name, existing);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, steps]) => ({
      name,
      points: [...steps.entries()].sort(([a], [b]) => a - b).map(([step, value]) => ({ step, value })),
    }));
}

export function metricsHtml(run: MetricsRun, series: readonly MetricSeries[]): string {
  const charts = series
    .map((entry) => {
      const last = entry.points[entry.points.length - 1];
      const latest =
        last === undefined ? '' : ` <span class="sub">${formatMetric(last.value)} at step ${last.step}</span>`;
      return `<section class="metric"><h2>${escapeHtml(entry.name)}${latest}</h2>${lineChartSvg(entry.name, entry.points)}</section>`;
    })
    .join('');
  const live = run.status === 'running' || run.status === 'queued';
  return (
    `<h1>${escapeHtml(run.name)} <span class="status status-${escapeHtml(run.status)}" data-status="${escapeHtml(run.status)}">${escapeHtml(run.status)}</span></h1>` +
    `<p class="summary">Run ${escapeHtml(run.id)}${live ? ' — the charts grow as the run reports points.' : ''}</p>` +
    (charts === ''
      ? '<p class="empty">This run has reported no metrics yet.</p>'
      : `<div class="charts">${charts}</div>`)
  );
}

/** Styles for both views; colours from the editor's theme variables. */
export const RUNS_STYLES = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 16px 16px; }
h1 { font-size: 1.3em; font-weight: 600; }
h2 { font-size: 1.05em; font-weight: 600; margin: 0 0 4px; }
.sub, .summary { color: var(--vscode-descriptionForeground); font-weight: normal; font-size: 0.9em; }
table.compare { border-collapse: collapse; }
table.compare th, table.compare td { border: 1px solid var(--vscode-panel-border, #8884); padding: 4px 10px; text-align: left; vertical-align: top; }
table.compare tr.section th { background: var(--vscode-editorWidget-background); }
tr.differs th[scope=row] { font-weight: 700; }
tr.differs th[scope=row] { border-left: 3px solid var(--vscode-editorWarning-foreground, #cca700); }
td.changed { background: var(--vscode-editor-findMatchHighlightBackground, #ea5c0055); font-weight: 600; }
a.run { color: var(--vscode-textLink-foreground); }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
section.metric { border: 1px solid var(--vscode-panel-border, #8884); padding: 8px; }
svg.chart .grid { stroke: var(--vscode-panel-border, #8884); stroke-width: 1; }
svg.chart .axis { stroke: var(--vscode-foreground); stroke-width: 1; }
svg.chart .tick, svg.chart .empty { fill: var(--vscode-descriptionForeground); font-size: 10px; }
svg.chart .line { stroke: var(--vscode-charts-blue, #3794ff); stroke-width: 2; }
svg.chart .last { fill: var(--vscode-charts-blue, #3794ff); }
.status { font-size: 0.75em; padding: 1px 6px; border-radius: 8px; border: 1px solid currentColor; }
.status-succeeded { color: var(--vscode-testing-iconPassed, #73c991); }
.status-failed, .status-lost { color: var(--vscode-testing-iconFailed, #f14c4c); }
.status-running { color: var(--vscode-charts-blue, #3794ff); }
.error { color: var(--vscode-errorForeground); }
`;
