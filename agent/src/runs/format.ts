/** Plain-text renderings of runs for the terminal (the CLI's non-JSON output). */
import type { LogEntry, MetricSeries, RunComparison, RunRecord, RunSummary } from '../../../schemas/protocol/runs';

export function formatDurationBetween(start: number | null, end: number | null, now: number): string {
  if (start === null) return '-';
  const seconds = Math.max(0, Math.round(((end ?? now) - start) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatTime(ms: number): string {
  const date = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
}

export function statusText(run: Pick<RunSummary, 'status' | 'exitCode' | 'oomKilled'>): string {
  if (run.oomKilled) return `${run.status} (OOM)`;
  if (run.status === 'failed' && run.exitCode !== null) return `failed (${run.exitCode})`;
  return run.status;
}

/** Columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function runsTable(runs: readonly RunSummary[], now: number): string {
  if (runs.length === 0) return 'no runs yet: start one with `mlw run TASK` or `mlw run --cmd "…"`';
  return table(
    ['ID', 'NAME', 'STATUS', 'STARTED', 'TIME', 'BRANCH', 'METRICS'],
    runs.map((run) => [
      run.id,
      run.name,
      statusText(run),
      formatTime(run.startedAt ?? run.createdAt),
      formatDurationBetween(run.startedAt, run.endedAt, now),
      run.gitBranch ?? (run.gitCommit?.slice(0, 8) ?? '-'),
      Object.entries(run.latestMetrics)
        .slice(0, 4)
        .map(([name, metric]) => `${name}=${formatNumber(metric.value)}`)
        .join(' '),
    ]),
  );
}

export function runDetails(run: RunRecord, series: readonly MetricSeries[], now: number): string {
  const lines = [
    `run ${run.id}: ${run.name}`,
    `  status       ${statusText(run)}${run.statusReason ? ` — ${run.statusReason}` : ''}`,
    `  command      ${run.command.trimEnd().split('\n').join('\n               ')}`,
    `  folder       ${run.workdir === '' ? '.' : run.workdir}`,
    `  environment  ${run.environment ?? 'host'} (${run.executor}${run.image ? `, ${run.image}` : ''})`,
    ...(run.environmentDigest ? [`  env digest   ${run.environmentDigest}`] : []),
    `  commit       ${run.gitCommit ?? '(no commit)'}${run.gitBranch ? ` on ${run.gitBranch}` : ''}${run.dirty ? ' + uncommitted changes (diff recorded)' : ''}`,
    ...(run.gitTree ? [`  code tree    ${run.gitTree}`] : []),
    ...(run.dagFile ? [`  dag          ${run.dagFile}${run.dagRunId ? ` (DAG run ${run.dagRunId})` : ''}`] : []),
    `  created      ${formatTime(run.createdAt)}`,
    `  time         ${formatDurationBetween(run.startedAt, run.endedAt, now)}`,
    ...(Object.keys(run.resources).length > 0
      ? [`  resources    ${Object.entries(run.resources).map(([key, value]) => `${key}=${value}`).join(' ')}`]
      : []),
  ];
  const section = (title: string, entries: readonly string[]) => {
    if (entries.length > 0) lines.push(`  ${title}:`, ...entries.map((entry) => `    ${entry}`));
  };
  section('params', Object.entries(run.params).map(([name, value]) => `${name} = ${value}`));
  section(
    'metrics',
    series.map((one) => {
      const last = one.points[one.points.length - 1]!;
      return `${one.name} = ${formatNumber(last.value)} (step ${last.step}, ${one.points.length} point${one.points.length === 1 ? '' : 's'})`;
    }),
  );
  section('inputs', run.inputs.map((input) => `${input.path}  md5 ${input.md5}`));
  section('artifacts', run.artifacts.map((artifact) => `${artifact.path}  md5 ${artifact.md5}  ${artifact.size} B`));
  if (run.tags.length > 0) lines.push(`  tags         ${run.tags.join(', ')}`);
  if (run.note) lines.push(`  note         ${run.note}`);
  return lines.join('\n');
}

export function logLine(entry: LogEntry): string {
  return entry.stream === 'system' ? `[mlw] ${entry.text}` : entry.text;
}

export function comparisonTable(comparison: RunComparison): string {
  const header = ['', ...comparison.runs.map((run) => `${run.id.slice(0, 8)} ${run.name}`)];
  const rows: string[][] = [
    ['status', ...comparison.runs.map(statusText)],
    ...comparison.params.map((param) => [
      `${param.differs ? '* ' : '  '}${param.name}`,
      ...param.values.map((value) => value ?? '-'),
    ]),
    ...comparison.metrics.map((metric) => [
      `${metric.differs ? '* ' : '  '}${metric.name}`,
      ...metric.values.map((value) => (value === null ? '-' : formatNumber(value))),
    ]),
  ];
  return `${table(header, rows)}\n(* differs)`;
}
