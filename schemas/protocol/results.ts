/**
 * Results: publishing finished runs to the team through the branch's git remote, and bringing the
 * team's runs in (the same operations as `mlw push` and `mlw pull`).
 */
import { z } from 'zod';
import { defineRequest } from '../rpc';
import { RunId } from './runs';

const RemoteName = z.string().min(1).describe('A git remote (default: the branch upstream, else origin).');

/** The runs' artifacts on the data remote of `.dvc/config`. */
export const ArtifactTransfer = z.object({
  remote: z.string().nullable().describe('The data remote; null when the artifacts stayed local.'),
  transferred: z.number().int(),
  skipped: z.number().int().describe('Objects the destination already had.'),
  bytes: z.number().int(),
  localOnly: z.string().nullable().describe('Why the artifacts stayed local and how to configure a data remote.'),
});

/** Sent by the extension ("Push results"): publish finished runs (default: every one not pushed yet). */
export const pushResults = defineRequest('mlw/results/push', {
  params: z.object({ ids: z.array(RunId).optional(), remote: RemoteName.optional() }).strict(),
  result: z.object({
    remote: z.string(),
    recorded: z.array(z.string()).describe('Runs whose record was written now.'),
    published: z.array(z.string()).describe('Runs the remote did not have before.'),
    artifacts: ArtifactTransfer.describe('Uploaded before any run ref was pushed.'),
    models: z.array(z.string()).describe('Model versions (`name v2`) the remote did not have before.'),
    unpushedCommits: z
      .array(z.string())
      .describe("Commits of published runs the remote's branches lack: teammates cannot reproduce them until they are pushed."),
  }),
});

/** Sent by the extension ("Pull team runs"): fetch teammates' runs; they are listed tagged `remote`. */
export const pullResults = defineRequest('mlw/results/pull', {
  params: z.object({ remote: RemoteName.optional() }).strict(),
  result: z.object({
    remote: z.string(),
    imported: z.array(z.string()),
    models: z.array(z.string()).describe('Model versions (`name v2`) new here.'),
    artifacts: ArtifactTransfer.extend({ failed: z.array(z.object({ md5: z.string(), error: z.string() })) }),
  }),
});

/** A model name: one git ref component (letters, digits, `.`, `_`, `-`; not starting with `.` or `-`). */
export const ModelName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" or "-", not starting with "." or "-"')
  .max(100)
  .refine((name) => !name.includes('..') && !name.endsWith('.lock') && !name.endsWith('.'), 'not a valid git ref component');

/** One version of a named model: a run's artifact, recorded under refs/mlw/models/<name>/v<version>. */
export const ModelVersion = z.object({
  format: z.literal(1),
  name: ModelName,
  version: z.number().int().min(1),
  runId: z.string(),
  artifact: z.object({ path: z.string(), md5: z.string(), size: z.number().int() }),
  metrics: z.record(z.string(), z.number()).describe("The run's latest value of each metric."),
  params: z.record(z.string(), z.string()),
  gitCommit: z.string().nullable().describe('The commit the run ran at.'),
  promotedBy: z.string().describe('git user.name <user.email> of whoever promoted it.'),
  promotedAt: z.number().int().describe('Milliseconds since the epoch.'),
});
export type ModelVersion = z.output<typeof ModelVersion>;

/** Sent by the extension (the Runs view's Models group): every model version, promoted here or pulled. */
export const listModels = defineRequest('mlw/results/listModels', {
  params: z.object({}).strict(),
  result: z.object({ models: z.array(ModelVersion).describe('By name, then version.') }),
});

/** Sent by the extension ("Promote model"): record a run's artifact as the next version of a named model. */
export const promoteModel = defineRequest('mlw/results/promoteModel', {
  params: z
    .object({
      id: RunId,
      name: ModelName,
      artifact: z.string().min(1).optional().describe("The artifact's path as the run recorded it (default: its only one)."),
    })
    .strict(),
  result: ModelVersion,
});

/**
 * Sent by the extension ("Reproduce"): a git worktree at the run's commit (its recorded uncommitted
 * changes applied) under .mlw/reproduce/<id>, its datasets checked out there, and the same task
 * with the same params started again; the new run is tagged `reproduces=<id>` and is followed like
 * any other through mlw/runs/changed.
 */
export const reproduceRun = defineRequest('mlw/results/reproduce', {
  params: z.object({ id: RunId }).strict(),
  result: z.object({
    original: z.string(),
    ids: z.array(z.string()).describe('The reproduction run(s).'),
    worktree: z.string().describe('Absolute path of the worktree it runs in.'),
    datasets: z.array(z.string()).describe('Datasets checked out in the worktree.'),
  }),
});
