/**
 * What the Runs view shows, free of `vscode` so it is unit tested: the runs the agent listed, kept
 * up to date from `mlw/runs/changed` notifications, grouped by branch and then by DAG run; each
 * run's label, description and status icon; and the children of a run (params, latest metrics,
 * artifacts, log).
 */
import type { ModelVersion } from '../../../schemas/protocol/results';
import type { RunRecord, RunStatus, RunSummary } from '../../../schemas/protocol/runs';

/** The tag `mlw pull` gives teammates' runs (agent/src/results/record.ts). */
export const REMOTE_TAG = 'remote';

export function isRemote(run: Pick<RunSummary, 'tags'>): boolean {
  return run.tags.includes(REMOTE_TAG);
}

/** The runs known to the view, by id; patched by notifications instead of asking the agent again. */
export class RunsCache {
  private readonly runs = new Map<string, RunSummary>();
  /** Notifications received while a listing is on its way: it may have been read before them. */
  private pending: Array<[string, RunSummary | null]> | undefined;

  /** Call when asking for a fresh listing, so changes announced meanwhile survive `reset`. */
  beginReset(): void {
    this.pending = [];
  }

  /** Replaces everything with a fresh listing, then replays the changes announced since it was asked for. */
  reset(runs: readonly RunSummary[]): void {
    this.runs.clear();
    for (const run of runs) this.runs.set(run.id, run);
    for (const [id, run] of this.pending ?? []) this.store(id, run);
    this.pending = undefined;
  }

  /** Applies one `mlw/runs/changed`: a new or changed run (summary), or a deleted one (null). */
  apply(id: string, run: RunSummary | null): void {
    this.pending?.push([id, run]);
    this.store(id, run);
  }

  private store(id: string, run: RunSummary | null): void {
    if (run === null) this.runs.delete(id);
    else this.runs.set(id, run);
  }

  get(id: string): RunSummary | undefined {
    return this.runs.get(id);
  }

  /** Newest first; ties broken by id so the order is stable between redraws. */
  all(): RunSummary[] {
    return [...this.runs.values()].sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
  }
}

export interface DagRunGroup {
  readonly kind: 'dagRun';
  readonly key: string;
  readonly dagRunId: string;
  readonly label: string;
  readonly description: string;
  readonly runs: readonly RunSummary[];
}

export interface BranchGroup {
  readonly kind: 'branch';
  readonly key: string;
  readonly label: string;
  readonly description: string;
  /** DAG runs (several task runs of one pipeline execution) first, then single runs, newest first. */
  readonly children: ReadonlyArray<DagRunGroup | RunSummary>;
}

export const NO_BRANCH = '(no branch)';

/** Runs by branch; inside a branch, the task runs of one DAG run are gathered under it. */
export function groupRuns(runs: readonly RunSummary[]): BranchGroup[] {
  const byBranch = new Map<string, RunSummary[]>();
  for (const run of runs) {
    const branch = run.gitBranch ?? NO_BRANCH;
    byBranch.set(branch, [...(byBranch.get(branch) ?? []), run]);
  }
  const newest = (group: readonly RunSummary[]) => Math.max(...group.map((run) => run.createdAt));
  return [...byBranch.entries()]
    .sort(([a, runsA], [b, runsB]) => newest(runsB) - newest(runsA) || a.localeCompare(b))
    .map(([branch, branchRuns]) => ({
      kind: 'branch' as const,
      key: `branch:${branch}`,
      label: branch,
      description: countText(branchRuns),
      children: branchChildren(branch, branchRuns),
    }));
}

function branchChildren(branch: string, runs: readonly RunSummary[]): Array<DagRunGroup | RunSummary> {
  const byDagRun = new Map<string, RunSummary[]>();
  const children: Array<{ at: number; child: DagRunGroup | RunSummary }> = [];
  for (const run of runs) {
    if (run.dagRunId === null) children.push({ at: run.createdAt, child: run });
    else byDagRun.set(run.dagRunId, [...(byDagRun.get(run.dagRunId) ?? []), run]);
  }
  for (const [dagRunId, group] of byDagRun) {
    const first = group.reduce((a, b) => (a.createdAt <= b.createdAt ? a : b));
    children.push({
      at: Math.max(...group.map((run) => run.createdAt)),
      child: {
        kind: 'dagRun',
        key: `dagRun:${branch}:${dagRunId}`,
        dagRunId,
        label: first.dagFile ?? `DAG run ${dagRunId.slice(0, 8)}`,
        description: `${dagRunStatus(group)} · ${countText(group)}`,
        runs: group,
      },
    });
  }
  return children.sort((a, b) => b.at - a.at).map((entry) => entry.child);
}

function countText(runs: readonly RunSummary[]): string {
  const running = runs.filter((run) => run.status === 'running').length;
  const base = `${runs.length} run${runs.length === 1 ? '' : 's'}`;
  return running > 0 ? `${base}, ${running} running` : base;
}

/** A DAG run is as far as its least finished task: running while any runs, failed if any failed. */
export function dagRunStatus(runs: readonly Pick<RunSummary, 'status'>[]): RunStatus {
  const has = (status: RunStatus) => runs.some((run) => run.status === status);
  if (has('running')) return 'running';
  if (has('queued')) return 'queued';
  if (has('failed')) return 'failed';
  if (has('lost')) return 'lost';
  if (has('cancelled')) return 'cancelled';
  return 'succeeded';
}

export interface StatusIcon {
  /** A codicon id (`sync~spin` spins). */
  readonly icon: string;
  /** A theme color id, when the status has one. */
  readonly color: string | undefined;
}

const STATUS_ICONS: Record<RunStatus, StatusIcon> = {
  queued: { icon: 'clock', color: undefined },
  running: { icon: 'sync~spin', color: 'charts.blue' },
  succeeded: { icon: 'pass-filled', color: 'testing.iconPassed' },
  failed: { icon: 'error', color: 'testing.iconFailed' },
  cancelled: { icon: 'circle-slash', color: 'disabledForeground' },
  lost: { icon: 'question', color: 'problemsWarningIcon.foreground' },
};

export function statusIcon(status: RunStatus): StatusIcon {
  return STATUS_ICONS[status];
}

/** "succeeded · 12s · loss 0.3" — the status (with OOM), how long it took, then its latest metrics. */
export function runDescription(run: RunSummary, now: number): string {
  const parts: string[] = [run.oomKilled ? `${run.status} (OOM-killed)` : run.status];
  if (isRemote(run)) parts.unshift('remote');
  if (run.startedAt !== null) parts.push(formatDuration((run.endedAt ?? now) - run.startedAt));
  const metrics = Object.entries(run.latestMetrics)
    .sort(([a], [b]) => a.localeCompare(b))
    .slice(0, 3)
    .map(([name, metric]) => `${name} ${formatNumber(metric.value)}`);
  if (metrics.length > 0) parts.push(metrics.join(', '));
  return parts.join(' · ');
}

export function runTooltip(run: RunSummary): string {
  const lines = [
    `${run.name} (${run.id})`,
    `status: ${run.status}${run.statusReason ? ` — ${run.statusReason}` : ''}`,
    ...(run.exitCode !== null ? [`exit code: ${run.exitCode}`] : []),
    `environment: ${run.environment ?? 'none'} (${run.executor})`,
    `commit: ${run.gitCommit?.slice(0, 12) ?? 'none'}${run.dirty ? ' + uncommitted changes' : ''}`,
    `created: ${new Date(run.createdAt).toISOString()}`,
  ];
  if (isRemote(run)) lines.push("a teammate's run (mlw pull)");
  return lines.join('\n');
}

/** What the context menus key on: finished runs can be re-run and deleted, live ones cancelled. */
export function runContextValue(run: Pick<RunSummary, 'status' | 'tags'>): string {
  const state = run.status === 'queued' || run.status === 'running' ? 'live' : 'finished';
  return `mlw.run.${state}${isRemote(run) ? '.remote' : ''}`;
}

export type RunChild =
  | {
      readonly kind: 'section';
      readonly section: 'params' | 'metrics' | 'artifacts';
      readonly label: string;
      readonly description: string;
    }
  | { readonly kind: 'param'; readonly label: string; readonly description: string }
  | { readonly kind: 'metric'; readonly name: string; readonly label: string; readonly description: string }
  | { readonly kind: 'artifact'; readonly path: string; readonly label: string; readonly description: string }
  | { readonly kind: 'log'; readonly label: string; readonly description: string };

/** The sections under a run: params, latest metrics and artifacts when it has any, and always its log. */
export function runSections(run: Pick<RunRecord, 'params' | 'latestMetrics' | 'artifacts' | 'status'>): RunChild[] {
  const sections: RunChild[] = [];
  const params = Object.keys(run.params).length;
  const metrics = Object.keys(run.latestMetrics).length;
  if (params > 0) sections.push({ kind: 'section', section: 'params', label: 'Params', description: String(params) });
  if (metrics > 0)
    sections.push({ kind: 'section', section: 'metrics', label: 'Metrics', description: String(metrics) });
  if (run.artifacts.length > 0)
    sections.push({
      kind: 'section',
      section: 'artifacts',
      label: 'Artifacts',
      description: String(run.artifacts.length),
    });
  sections.push({ kind: 'log', label: 'Log', description: run.status === 'running' ? 'live' : '' });
  return sections;
}

export function sectionChildren(
  run: Pick<RunRecord, 'params' | 'latestMetrics' | 'artifacts'>,
  section: 'params' | 'metrics' | 'artifacts',
): RunChild[] {
  const byName = <T>(entries: Array<[string, T]>) => entries.sort(([a], [b]) => a.localeCompare(b));
  switch (section) {
    case 'params':
      return byName(Object.entries(run.params)).map(([name, value]) => ({
        kind: 'param',
        label: name,
        description: value,
      }));
    case 'metrics':
      return byName(Object.entries(run.latestMetrics)).map(([name, metric]) => ({
        kind: 'metric',
        name,
        label: name,
        description: `${formatNumber(metric.value)} (step ${metric.step})`,
      }));
    case 'artifacts':
      return [...run.artifacts]
        .sort((a, b) => a.path.localeCompare(b.path))
        .map((artifact) => ({
          kind: 'artifact',
          path: artifact.path,
          label: artifact.path,
          description: `${formatBytes(artifact.size)} · md5 ${artifact.md5.slice(0, 8)}`,
        }));
  }
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** Four significant digits, without trailing zeros: 0.41, 1234, 1.235e+6. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) >= 1e6 || Math.abs(value) < 1e-4)) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

export function formatBytes(size: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${size} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Every task of the workspace's DAG files, as Quick Pick entries for "Start Run"; a matrix task also
 * by its key, which starts all of its expansions.
 */
export function taskChoices(
  pipelines: ReadonlyArray<{ path: string; tasks: ReadonlyArray<{ name: string; task: string }> }>,
  relative: (path: string) => string,
): Array<{ label: string; description: string; dagFile: string; task: string }> {
  return pipelines.flatMap((pipeline) => {
    const file = relative(pipeline.path);
    const choices: Array<{ label: string; description: string; dagFile: string; task: string }> = [];
    for (const task of pipeline.tasks) {
      const expansions = pipeline.tasks.filter((other) => other.task === task.task && other.name !== other.task);
      if (expansions[0] === task) {
        choices.push({
          label: task.task,
          description: `${file} · all ${expansions.length} expansions`,
          dagFile: pipeline.path,
          task: task.task,
        });
      }
      choices.push({ label: task.name, description: file, dagFile: pipeline.path, task: task.name });
    }
    return choices;
  });
}

export type RunNode =
  | { readonly kind: 'models'; readonly groups: readonly ModelGroup[] }
  | { readonly kind: 'model'; readonly group: ModelGroup }
  | { readonly kind: 'modelVersion'; readonly model: ModelVersion }
  | { readonly kind: 'branch'; readonly group: BranchGroup }
  | { readonly kind: 'dagRun'; readonly group: DagRunGroup }
  | { readonly kind: 'run'; readonly run: RunSummary }
  | { readonly kind: 'child'; readonly run: RunSummary; readonly child: RunChild };

/** The run a command was invoked on: its row, or any row under it. */
export function runOfNode(node: unknown): RunSummary | undefined {
  if (typeof node !== 'object' || node === null || !('kind' in node)) return undefined;
  const typed = node as RunNode;
  return typed.kind === 'run' || typed.kind === 'child' ? typed.run : undefined;
}

/** One model name and its versions, newest first (the Runs view's Models group). */
export interface ModelGroup {
  readonly name: string;
  readonly description: string;
  readonly versions: readonly ModelVersion[];
}

export function groupModels(models: readonly ModelVersion[]): ModelGroup[] {
  const byName = new Map<string, ModelVersion[]>();
  for (const model of models) byName.set(model.name, [...(byName.get(model.name) ?? []), model]);
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, versions]) => {
      const sorted = [...versions].sort((a, b) => b.version - a.version);
      return {
        name,
        description: `latest v${sorted[0]!.version} · ${sorted.length} version${sorted.length === 1 ? '' : 's'}`,
        versions: sorted,
      };
    });
}

/** "acc 0.93 · run abcd1234 · model.pkl" — its metrics first: what one compares versions by. */
export function modelDescription(model: ModelVersion): string {
  const metrics = Object.entries(model.metrics)
    .sort(([a], [b]) => a.localeCompare(b))
    .slice(0, 3)
    .map(([name, value]) => `${name} ${formatNumber(value)}`);
  return [
    ...(metrics.length > 0 ? [metrics.join(', ')] : []),
    `run ${model.runId.slice(0, 8)}`,
    model.artifact.path,
  ].join(' · ');
}

export function modelTooltip(model: ModelVersion): string {
  return [
    `${model.name} v${model.version}`,
    `artifact: ${model.artifact.path} (${formatBytes(model.artifact.size)}, md5 ${model.artifact.md5})`,
    `run: ${model.runId}`,
    `commit: ${model.gitCommit?.slice(0, 12) ?? 'none'}`,
    `promoted by ${model.promotedBy} on ${new Date(model.promotedAt).toISOString()}`,
    ...Object.entries(model.params).map(([name, value]) => `param ${name} = ${value}`),
  ].join('\n');
}
