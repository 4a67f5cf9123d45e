/**
 * Metrics without a library: a training script appends JSON lines such as `{"step": 3, "loss": 0.41}`
 * to `$MLW_METRICS`, and may write JSON files named under its task's `metrics:`. Every finite number
 * in them (nested objects flattened as `a.b`) is a metric; `step` says where on the series it goes.
 */
import { readFile } from 'node:fs/promises';
import type { MetricPoint } from '../../../schemas/protocol/runs';

export interface ParsedMetricsLine {
  readonly points: MetricPoint[];
  /** Why (part of) the line was not recorded, for the run's log. */
  readonly warning?: string;
}

const MAX_METRIC_NAME = 200;

/** Parses `$MLW_METRICS` lines, remembering the last step of each metric for lines that give none. */
export class MetricsLineParser {
  private readonly lastStep = new Map<string, number>();
  private lineNumber = 0;

  parse(line: string): ParsedMetricsLine {
    this.lineNumber++;
    const text = line.trim();
    if (text === '') return { points: [] };
    const value = parseJsonAllowingNonFinite(text);
    if (value === undefined) {
      return { points: [], warning: `metrics line ${this.lineNumber} is not JSON, skipped: ${text.slice(0, 120)}` };
    }
    if (!isPlainObject(value)) {
      return { points: [], warning: `metrics line ${this.lineNumber} is not a JSON object, skipped: ${text.slice(0, 120)}` };
    }
    const { step, ...rest } = value;
    if (step !== undefined && !(typeof step === 'number' && Number.isInteger(step))) {
      return { points: [], warning: `metrics line ${this.lineNumber}: "step" must be an integer, line skipped` };
    }
    const { values, skipped } = flattenNumbers(rest);
    const points = values.map(([name, metric]) => {
      const at = step ?? (this.lastStep.get(name) ?? -1) + 1;
      this.lastStep.set(name, Math.max(at, this.lastStep.get(name) ?? at));
      return { name, step: at, value: metric };
    });
    const warning =
      skipped.length > 0 ? `metrics line ${this.lineNumber}: not finite numbers, not recorded: ${skipped.join(', ')}` : undefined;
    return warning ? { points, warning } : { points };
  }

  /** The highest step seen of a metric, if any. */
  stepOf(name: string): number | undefined {
    return this.lastStep.get(name);
  }
}

/**
 * Reads a task's metrics file (a JSON object) at the end of a run. Its values go on the step the
 * live series reached (so a final accuracy lands on the last epoch), or step 0.
 */
export async function readMetricsFile(
  path: string,
  stepOf: (name: string) => number | undefined,
): Promise<ParsedMetricsLine> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it was not written' : (error as Error).message;
    return { points: [], warning: `metrics file ${path}: ${reason}` };
  }
  if (!isPlainObject(value)) return { points: [], warning: `metrics file ${path} is not a JSON object` };
  const { step, ...rest } = value;
  const { values, skipped } = flattenNumbers(rest);
  const points = values.map(([name, metric]) => ({
    name,
    step: typeof step === 'number' && Number.isInteger(step) ? step : (stepOf(name) ?? 0),
    value: metric,
  }));
  return skipped.length > 0
    ? { points, warning: `metrics file ${path}: not finite numbers, not recorded: ${skipped.join(', ')}` }
    : { points };
}

/**
 * JSON.parse, but also accepting the NaN and Infinity that Python's json.dumps writes by default;
 * they become null (and are then reported as not recorded). undefined when the text is not JSON.
 */
function parseJsonAllowingNonFinite(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    try {
      return JSON.parse(text.replace(/(?<=[:[,]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g, 'null'));
    } catch {
      return undefined;
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function flattenNumbers(object: Record<string, unknown>, prefix = ''): { values: [string, number][]; skipped: string[] } {
  const values: [string, number][] = [];
  const skipped: string[] = [];
  for (const [key, value] of Object.entries(object)) {
    const name = `${prefix}${key}`.slice(0, MAX_METRIC_NAME);
    if (typeof value === 'number') {
      if (Number.isFinite(value)) values.push([name, value]);
      else skipped.push(name);
    } else if (typeof value === 'boolean') {
      values.push([name, value ? 1 : 0]);
    } else if (value === null) {
      skipped.push(name);
    } else if (isPlainObject(value)) {
      const nested = flattenNumbers(value, `${name}.`);
      values.push(...nested.values);
      skipped.push(...nested.skipped);
    }
    // Strings and arrays are labels, not metrics: ignored without a warning.
  }
  return { values, skipped };
}
