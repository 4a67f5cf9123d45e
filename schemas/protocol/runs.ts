/**
 * Runs: the records of training runs (one task or ad-hoc command in one environment) and the
 * requests and notifications the extension uses to start, watch and manage them.
 */
import { z } from 'zod';
import { defineNotification, defineRequest } from '../rpc';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'lost'] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.output<typeof RunStatus>;

/** Statuses a run never leaves. */
export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'lost'];

export const RunId = z
  .string()
  .regex(/^[0-9a-f]{4,32}$/, 'a run id (hex), or a unique prefix of one of at least 4 characters');

export const LatestMetric = z.object({ step: z.number().int(), value: z.number() });

export const RunResources = z.object({
  cpus: z.number().positive().optional(),
  memory: z.string().optional(),
  gpus: z.union([z.number().int().min(0), z.literal('all')]).optional(),
});
export type RunResources = z.output<typeof RunResources>;

/** What a listing shows of a run: enough for the Runs view and `mlw runs list`. */
export const RunSummary = z.object({
  id: z.string(),
  /** The task (`train@rf`) or the ad-hoc command's first words. */
  name: z.string(),
  task: z.string().nullable(),
  dagFile: z.string().nullable().describe('The DAG file, relative to the workspace root.'),
  dagRunId: z.string().nullable().describe('Groups the task runs of one pipeline execution.'),
  status: RunStatus,
  statusReason: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  oomKilled: z.boolean(),
  environment: z.string().nullable(),
  executor: z.enum(['docker', 'local']),
  gitCommit: z.string().nullable(),
  gitBranch: z.string().nullable(),
  dirty: z.boolean().describe('True when uncommitted changes were captured as a diff.'),
  priority: z.number().int(),
  createdAt: z.number().describe('Milliseconds since the epoch.'),
  startedAt: z.number().nullable(),
  endedAt: z.number().nullable(),
  params: z.record(z.string(), z.string()),
  latestMetrics: z.record(z.string(), LatestMetric),
  tags: z.array(z.string()),
});
export type RunSummary = z.output<typeof RunSummary>;

export const RunInput = z.object({ path: z.string(), md5: z.string() });
export const RunArtifact = z.object({ path: z.string(), md5: z.string(), size: z.number().int() });
export type RunInput = z.output<typeof RunInput>;
export type RunArtifact = z.output<typeof RunArtifact>;

/** Everything recorded about a run: what `mlw runs show` prints. */
export const RunRecord = RunSummary.extend({
  command: z.string(),
  workdir: z.string().describe('The working directory, relative to the repository root.'),
  image: z.string().nullable(),
  environmentDigest: z.string().nullable(),
  gitTree: z.string().nullable().describe('The git tree of the exact code that ran (commit plus diff).'),
  gitDiff: z.string().nullable().describe('`git diff --binary` from the commit to the code that ran.'),
  resources: RunResources,
  outputs: z.array(z.string()),
  note: z.string().nullable(),
  inputs: z.array(RunInput),
  artifacts: z.array(RunArtifact),
  containerId: z.string().nullable(),
  pid: z.number().int().nullable(),
  owner: z.string().nullable().describe('The process supervising the run (`host:pid`).'),
});
export type RunRecord = z.output<typeof RunRecord>;

export const MetricPoint = z.object({ name: z.string(), step: z.number().int(), value: z.number() });
export type MetricPoint = z.output<typeof MetricPoint>;

export const MetricSeries = z.object({
  name: z.string(),
  points: z.array(z.object({ step: z.number().int(), value: z.number() })),
});
export type MetricSeries = z.output<typeof MetricSeries>;

export const LogStream = z.enum(['stdout', 'stderr', 'system']);
export const LogEntry = z.object({ seq: z.number().int(), stream: LogStream, at: z.number(), text: z.string() });
export type LogEntry = z.output<typeof LogEntry>;

const RunRef = z.object({ id: RunId });

/** Sent by the extension: the workspace's runs, newest first, each with its latest metrics. */
export const listRuns = defineRequest('mlw/runs/list', {
  params: z
    .object({
      status: z.array(RunStatus).optional(),
      dagRunId: z.string().optional(),
      limit: z.number().int().positive().max(100_000).optional(),
    })
    .strict(),
  result: z.array(RunSummary),
});

/** Sent by the extension: one run's full record. */
export const getRun = defineRequest('mlw/runs/get', { params: RunRef.strict(), result: RunRecord });

/** Sent by the extension: every metric series of a run (for the metrics chart). */
export const runMetrics = defineRequest('mlw/runs/metrics', {
  params: RunRef.strict(),
  result: z.array(MetricSeries),
});

/** Sent by the extension: a run's log after `afterSeq` (all of it when absent). */
export const runLogs = defineRequest('mlw/runs/logs', {
  params: RunRef.extend({
    afterSeq: z.number().int().min(0).optional(),
    limit: z.number().int().positive().max(100_000).optional(),
  }).strict(),
  result: z.object({ entries: z.array(LogEntry), status: RunStatus }),
});

/** Sent by the extension: start a run of a DAG task, or of an ad-hoc command in a named environment. */
export const startRun = defineRequest('mlw/runs/start', {
  params: z
    .object({
      task: z.string().min(1).optional().describe('A task (`train` or `train@rf`) of the DAG file.'),
      dagFile: z.string().min(1).optional().describe('The DAG file (absolute, or relative to the workspace root).'),
      command: z.string().min(1).optional().describe('An ad-hoc command line (instead of a task).'),
      environment: z.string().min(1).optional(),
      params: z.record(z.string(), z.string()).default({}),
      priority: z.number().int().default(0),
    })
    .strict()
    .refine((p) => (p.task === undefined) !== (p.command === undefined), {
      message: 'give either task or command, not both',
    })
    .refine((p) => p.task === undefined || p.dagFile !== undefined, {
      message: 'a task needs its dagFile',
      path: ['dagFile'],
    }),
  result: z.object({ ids: z.array(z.string()) }),
});

/** Sent by the extension: cancel a queued or running run (SIGTERM, then a kill after the grace period). */
export const cancelRun = defineRequest('mlw/runs/cancel', {
  params: RunRef.strict(),
  result: z.object({ status: RunStatus }),
});

/** Sent by the extension: run a finished run again with the same task or command, environment and params. */
export const rerunRun = defineRequest('mlw/runs/rerun', {
  params: RunRef.strict(),
  result: z.object({ ids: z.array(z.string()) }),
});

/** Sent by the extension: delete a finished run's record (its artifacts stay in the content cache). */
export const deleteRun = defineRequest('mlw/runs/delete', {
  params: RunRef.strict(),
  result: z.object({ deleted: z.boolean() }),
});

export const RunComparison = z.object({
  runs: z.array(RunSummary),
  params: z.array(z.object({ name: z.string(), values: z.array(z.string().nullable()), differs: z.boolean() })),
  metrics: z.array(z.object({ name: z.string(), values: z.array(z.number().nullable()), differs: z.boolean() })),
});
export type RunComparison = z.output<typeof RunComparison>;

/** Sent by the extension: params and latest metrics of several runs side by side, differences marked. */
export const compareRuns = defineRequest('mlw/runs/compare', {
  params: z.object({ ids: z.array(RunId).min(1).max(50) }).strict(),
  result: RunComparison,
});

/** Sent by the agent whenever a run is created, changes status, or is deleted (`run` null then). */
export const runsChanged = defineNotification('mlw/runs/changed', {
  params: z.object({ id: z.string(), run: RunSummary.nullable() }),
});

/** Sent by the agent as a running run writes log lines. */
export const runLog = defineNotification('mlw/runs/log', {
  params: z.object({ id: z.string(), entries: z.array(LogEntry) }),
});

/** Sent by the agent as a running run reports metric points. */
export const runMetric = defineNotification('mlw/runs/metric', {
  params: z.object({ id: z.string(), points: z.array(MetricPoint) }),
});
