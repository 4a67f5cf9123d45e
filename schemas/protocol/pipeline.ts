/**
 * Pipelines: running a DAG file end to end (tasks in dependency order, in parallel, cached, retried)
 * and explaining beforehand what would run and why. Each task instance that runs is a run of the
 * runs service, grouped under the DAG run's id (`dagRunId` on RunSummary).
 */
import { z } from 'zod';
import { defineNotification, defineRequest } from '../rpc';

export const PIPELINE_TASK_STATUSES = [
  'pending',
  'running',
  /** Failed an attempt; waiting out its backoff before the next one. */
  'retrying',
  'succeeded',
  /** Not run: an earlier run with the same fingerprint stood in, its outputs restored. */
  'cached',
  'failed',
  /** Not run: a task it depends on failed (or was cancelled). */
  'upstream-failed',
  'cancelled',
] as const;
export const PipelineTaskStatus = z.enum(PIPELINE_TASK_STATUSES);
export type PipelineTaskStatus = z.output<typeof PipelineTaskStatus>;

export const PipelineTaskState = z.object({
  /** `train` or `train@rf`. */
  name: z.string(),
  task: z.string(),
  status: PipelineTaskStatus,
  /** The run of its latest attempt, or the cached run record; null until there is one. */
  runId: z.string().nullable(),
  /** 1 for the first attempt; 0 before it starts. */
  attempt: z.number().int().min(0),
  /** Why it is in this status (failure reason, cache source, upstream that failed). */
  reason: z.string().nullable(),
  /** Instance names it runs after. */
  dependsOn: z.array(z.string()),
});
export type PipelineTaskState = z.output<typeof PipelineTaskState>;

export const PipelineRunStatus = z.enum(['running', 'succeeded', 'failed', 'cancelled']);
export type PipelineRunStatus = z.output<typeof PipelineRunStatus>;

export const PipelineRunState = z.object({
  dagRunId: z.string(),
  /** The DAG file, relative to the workspace root. */
  dagFile: z.string(),
  status: PipelineRunStatus,
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  /** The selected task instances in dependency order. */
  tasks: z.array(PipelineTaskState),
});
export type PipelineRunState = z.output<typeof PipelineRunState>;

export const TaskExplanation = z.object({
  name: z.string(),
  task: z.string(),
  decision: z.enum(['will-run', 'cached']),
  /** Why, in words: what changed, `no earlier run`, `--force`, `cache: false`, an upstream that will run. */
  reasons: z.array(z.string()),
  /** The run whose outputs would be restored, when cached. */
  cachedFrom: z.string().nullable(),
});
export type TaskExplanation = z.output<typeof TaskExplanation>;

export const PipelineExplanation = z.object({
  dagFile: z.string(),
  tasks: z.array(TaskExplanation),
});
export type PipelineExplanation = z.output<typeof PipelineExplanation>;

/** Which tasks of the file a run or explanation covers, and how. */
const Selection = {
  dagFile: z.string().min(1).describe('The DAG file (absolute, or relative to the workspace root).'),
  task: z.string().min(1).optional().describe('Only this task (or instance) and what it depends on.'),
  from: z.string().min(1).optional().describe('This task (or instance) and everything that depends on it.'),
  force: z.boolean().default(false).describe('Run the selected tasks even when their cached outputs would do.'),
  params: z.record(z.string(), z.string()).default({}).describe('Param overrides (`-p NAME=VALUE`).'),
};

/** Sent by the extension: start running a DAG file; progress arrives as mlw/pipeline/changed. */
export const runPipeline = defineRequest('mlw/pipeline/run', {
  params: z
    .object({
      ...Selection,
      jobs: z.number().int().positive().max(256).optional().describe('At most this many tasks at once (default: the run slots).'),
    })
    .strict(),
  result: z.object({ dagRunId: z.string() }),
});

/** Sent by the extension: what a run would do now, task by task, and why; runs nothing. */
export const explainPipeline = defineRequest('mlw/pipeline/explain', {
  params: z.object(Selection).strict(),
  result: PipelineExplanation,
});

/** Sent by the extension: stop a DAG run: its running tasks are cancelled, nothing more starts. */
export const cancelPipeline = defineRequest('mlw/pipeline/cancel', {
  params: z.object({ dagRunId: z.string().min(1) }).strict(),
  result: z.object({ cancelled: z.boolean() }),
});

/** Sent by the agent whenever a task of a DAG run this agent runs changes status. */
export const pipelineChanged = defineNotification('mlw/pipeline/changed', {
  params: PipelineRunState,
});
