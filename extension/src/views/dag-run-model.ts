/**
 * What the DAG file's code lenses and the run progress show, free of `vscode` so it is unit tested:
 * one lens row per task key (matrix instances share their key's line), the progress line of a DAG
 * run from its mlw/pipeline/changed states, and an explanation as lines and quick-pick rows.
 */
import { z } from 'zod';
import type { PipelineSummary } from '../../../schemas/protocol/dag';
import type {
  PipelineExplanation,
  PipelineRunState,
  PipelineTaskStatus,
  TaskExplanation,
} from '../../../schemas/protocol/pipeline';

type Range = PipelineSummary['tasks'][number]['range'];

export interface TaskLens {
  /** The task's key as written (`train`); running it selects every instance. */
  readonly task: string;
  readonly range: Range;
  /** `train@rf`, `train@gb`; just `[task]` for a task without a matrix. */
  readonly instances: readonly string[];
}

/** One lens row per task key, in file order, at the key's range. */
export function taskLenses(summary: Pick<PipelineSummary, 'tasks'>): TaskLens[] {
  const byTask = new Map<string, { range: Range; instances: string[] }>();
  for (const task of summary.tasks) {
    const entry = byTask.get(task.task);
    if (entry) entry.instances.push(task.name);
    else byTask.set(task.task, { range: task.range, instances: [task.name] });
  }
  return [...byTask.entries()]
    .map(([task, { range, instances }]) => ({ task, range, instances }))
    .sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}

/** A row of the Pipelines view, as its context menu passes it: a file, or one task (instance) of it. */
const PipelinesViewNode = z.union([
  z.object({ kind: z.literal('pipeline'), summary: z.object({ path: z.string().min(1) }) }),
  z.object({
    kind: z.literal('task'),
    summary: z.object({ path: z.string().min(1) }),
    task: z.object({ name: z.string().min(1) }),
  }),
]);

/** The DAG file (and task) a Pipelines-view row stands for; undefined for anything else. */
export function pipelinesViewTarget(argument: unknown): { dagFile: string; task?: string } | undefined {
  const parsed = PipelinesViewNode.safeParse(argument);
  if (!parsed.success) return undefined;
  const node = parsed.data;
  return node.kind === 'task' ? { dagFile: node.summary.path, task: node.task.name } : { dagFile: node.summary.path };
}

/** The summary of the file at `path` (the agent's paths are absolute). */
export function summaryFor(summaries: readonly PipelineSummary[], path: string): PipelineSummary | undefined {
  return summaries.find((summary) => summary.path === path);
}

const FINISHED: ReadonlySet<PipelineTaskStatus> = new Set([
  'succeeded',
  'cached',
  'failed',
  'upstream-failed',
  'cancelled',
]);

export function isFinished(status: PipelineTaskStatus): boolean {
  return FINISHED.has(status);
}

/** "3/6 done · running train@rf, train@gb · 1 failed" for the progress notification. */
export function progressMessage(state: PipelineRunState): string {
  const done = state.tasks.filter((task) => isFinished(task.status)).length;
  const parts = [`${done}/${state.tasks.length} done`];
  const running = state.tasks.filter((task) => task.status === 'running' || task.status === 'retrying');
  if (running.length > 0) parts.push(`running ${running.map((task) => task.name).join(', ')}`);
  const failed = state.tasks.filter((task) => task.status === 'failed').length;
  if (failed > 0) parts.push(`${failed} failed`);
  return parts.join(' · ');
}

/** Percent of the tasks finished (what withProgress's increments add up to). */
export function percentDone(state: PipelineRunState): number {
  if (state.tasks.length === 0) return 100;
  return (100 * state.tasks.filter((task) => isFinished(task.status)).length) / state.tasks.length;
}

/** The message shown when a DAG run ends: counts by status, and the failures with their reasons. */
export function outcomeMessage(state: PipelineRunState): string {
  const counts = new Map<PipelineTaskStatus, number>();
  for (const task of state.tasks) counts.set(task.status, (counts.get(task.status) ?? 0) + 1);
  const tally = [...counts.entries()].map(([status, count]) => `${count} ${status}`).join(', ');
  const failures = state.tasks
    .filter((task) => task.status === 'failed')
    .map((task) => `${task.name}${task.reason ? `: ${task.reason}` : ''}`);
  return `${state.dagFile} ${state.status} (${tally})${failures.length > 0 ? ` — ${failures.join('; ')}` : ''}`;
}

function explanationDetail(task: TaskExplanation): string {
  const reasons = task.reasons.join('; ');
  if (task.decision !== 'cached') return reasons || 'will run';
  // The agent's reason usually names the run already ("unchanged since run …"): say it once.
  const from = task.cachedFrom ?? '?';
  return reasons.includes(from) ? reasons : `cached from run ${from}${reasons ? ` — ${reasons}` : ''}`;
}

/** The Output channel's text for an explanation: one line per task instance. */
export function explanationLines(explanation: PipelineExplanation): string[] {
  const width = Math.max(0, ...explanation.tasks.map((task) => task.name.length));
  return [
    `Explain ${explanation.dagFile}:`,
    ...explanation.tasks.map(
      (task) => `  ${task.name.padEnd(width)}  ${task.decision.padEnd(8)}  ${explanationDetail(task)}`,
    ),
  ];
}

export interface ExplanationPick {
  readonly label: string;
  readonly description: string;
  readonly detail: string;
  readonly name: string;
}

/** Quick-pick rows, in the agent's (dependency) order. */
export function explanationPicks(explanation: PipelineExplanation): ExplanationPick[] {
  return explanation.tasks.map((task) => ({
    label: `${task.decision === 'cached' ? '$(check)' : '$(play)'} ${task.name}`,
    description: task.decision,
    detail: explanationDetail(task),
    name: task.name,
  }));
}

type StateListener = (state: PipelineRunState) => void;

/**
 * The latest state of every DAG run seen in mlw/pipeline/changed. A run's first notifications can
 * arrive before the answer to mlw/pipeline/run that names it, so the states are kept from the
 * start and a waiter for a DAG run sees what came before it subscribed.
 */
export class PipelineRunStates {
  private readonly byId = new Map<string, PipelineRunState>();
  private readonly listeners = new Set<StateListener>();

  apply(state: PipelineRunState): void {
    this.byId.delete(state.dagRunId); // re-insert: the map's order is the order of last change
    this.byId.set(state.dagRunId, state);
    for (const listener of [...this.listeners]) listener(state);
  }

  get(dagRunId: string): PipelineRunState | undefined {
    return this.byId.get(dagRunId);
  }

  /** The most recently changed DAG run of a file (`dagFile` as the agent writes it: workspace-relative). */
  latestOf(dagFile: string): PipelineRunState | undefined {
    let latest: PipelineRunState | undefined;
    for (const state of this.byId.values()) if (state.dagFile === dagFile) latest = state;
    return latest;
  }

  /** Calls `listener` with every later state; returns the unsubscribe. */
  subscribe(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Follows one DAG run: `onState` with its current and later states until it ends. */
  follow(dagRunId: string, onState: StateListener): Promise<PipelineRunState> {
    return new Promise((resolve) => {
      const seen = (state: PipelineRunState): boolean => {
        onState(state);
        if (state.status === 'running') return false;
        resolve(state);
        return true;
      };
      const current = this.byId.get(dagRunId);
      if (current && seen(current)) return;
      const unsubscribe = this.subscribe((state) => {
        if (state.dagRunId === dagRunId && seen(state)) unsubscribe();
      });
    });
  }
}
