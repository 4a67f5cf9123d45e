/**
 * A line chart of one metric series as an SVG string, drawn by hand (no charting library, nothing
 * remote): steps on x, values on y, both on "nice" ticks. Free of `vscode` and of the DOM, so the
 * scaling is unit tested and the page only swaps the markup in as points arrive.
 */
import { escapeHtml } from './html';

export interface Point {
  readonly step: number;
  readonly value: number;
}

export interface ChartSize {
  readonly width: number;
  readonly height: number;
}

const MARGIN = { top: 12, right: 16, bottom: 28, left: 56 } as const;

/** Round tick values covering [min, max]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return niceTicks(min - pad, max + pad, count);
  }
  const [low, high] = min < max ? [min, max] : [max, min];
  const rough = (high - low) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough) ?? 10 * power;
  const first = Math.floor(low / step) * step;
  const ticks: number[] = [];
  for (let tick = first; tick <= high + step * 1e-9; tick += step) ticks.push(Number(tick.toPrecision(12)));
  if (ticks[ticks.length - 1]! < high) ticks.push(Number((first + ticks.length * step).toPrecision(12)));
  return ticks;
}

/** Maps [domainMin, domainMax] onto [rangeMin, rangeMax]; a zero-width domain maps to the middle. */
export function scaleLinear(
  domain: readonly [number, number],
  range: readonly [number, number],
): (x: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (d0 === d1) return () => (r0 + r1) / 2;
  return (x) => r0 + ((x - d0) / (d1 - d0)) * (r1 - r0);
}

function tickLabel(value: number): string {
  if (value !== 0 && (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3)) return value.toExponential(1);
  return String(Number(value.toPrecision(6)));
}

/** The extent of the points, with the value axis widened to its nice ticks. */
export function chartDomain(points: readonly Point[]): {
  steps: [number, number];
  values: [number, number];
  valueTicks: number[];
  stepTicks: number[];
} {
  const finite = points.filter((point) => Number.isFinite(point.value));
  const steps = finite.map((point) => point.step);
  const values = finite.map((point) => point.value);
  const stepTicks = niceTicks(Math.min(...steps), Math.max(...steps)).filter((tick) => Number.isInteger(tick));
  const valueTicks = niceTicks(Math.min(...values), Math.max(...values));
  return {
    steps: [Math.min(...steps), Math.max(...steps)],
    values: [valueTicks[0]!, valueTicks[valueTicks.length - 1]!],
    valueTicks,
    stepTicks,
  };
}

/** The SVG of one metric's series, sorted by step; an empty chart says it has no points yet. */
export function lineChartSvg(
  name: string,
  series: readonly Point[],
  size: ChartSize = { width: 560, height: 220 },
): string {
  const { width, height } = size;
  const label = escapeHtml(name);
  const points = [...series].filter((point) => Number.isFinite(point.value)).sort((a, b) => a.step - b.step);
  const open = `<svg class="chart" role="img" aria-label="${label}" data-metric="${label}" data-points="${points.length}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">`;
  if (points.length === 0) {
    return `${open}<text class="empty" x="${width / 2}" y="${height / 2}" text-anchor="middle">no points yet</text></svg>`;
  }
  const domain = chartDomain(points);
  const x = scaleLinear(domain.steps, [MARGIN.left, width - MARGIN.right]);
  const y = scaleLinear(domain.values, [height - MARGIN.bottom, MARGIN.top]);
  const round = (n: number) => Number(n.toFixed(2));
  const grid = domain.valueTicks
    .map((tick) => {
      const ty = round(y(tick));
      return `<line class="grid" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${ty}" y2="${ty}"/><text class="tick" x="${MARGIN.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${tickLabel(tick)}</text>`;
    })
    .join('');
  const stepLabels = (domain.stepTicks.length > 0 ? domain.stepTicks : [domain.steps[0]])
    .filter((tick) => tick >= domain.steps[0] && tick <= domain.steps[1])
    .map(
      (tick) =>
        `<text class="tick" x="${round(x(tick))}" y="${height - MARGIN.bottom + 16}" text-anchor="middle">${tick}</text>`,
    )
    .join('');
  const coordinates = points.map((point) => `${round(x(point.step))},${round(y(point.value))}`);
  const last = points[points.length - 1]!;
  return (
    open +
    grid +
    `<line class="axis" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${height - MARGIN.bottom}" y2="${height - MARGIN.bottom}"/>` +
    stepLabels +
    `<polyline class="line" fill="none" points="${coordinates.join(' ')}"/>` +
    `<circle class="last" cx="${round(x(last.step))}" cy="${round(y(last.value))}" r="3"><title>step ${last.step}: ${last.value}</title></circle>` +
    '</svg>'
  );
}
