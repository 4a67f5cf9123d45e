/**
 * The DAG service: the pipeline files of the workspace, their tasks and their problem counts
 * (what the Pipelines view shows). Diagnostics themselves travel as standard LSP
 * textDocument/publishDiagnostics; these requests add what LSP has no message for.
 */
import { z } from 'zod';
import { defineNotification, defineRequest } from '../rpc';

const ZeroBasedRange = z.object({
  start: z.object({ line: z.number().int().min(0), character: z.number().int().min(0) }),
  end: z.object({ line: z.number().int().min(0), character: z.number().int().min(0) }),
});

export const PipelineTask = z.object({
  /** `train` or, for one expansion of a matrix task, `train@rf`. */
  name: z.string(),
  /** The task's key as written in the file (`train` for every `train@…`). */
  task: z.string(),
  /** Where the task's key is, so clicking it opens the file there. */
  range: ZeroBasedRange,
  /** Instance names this one runs after (needs and data edges, matrix expanded). */
  dependsOn: z.array(z.string()),
});
export type PipelineTask = z.output<typeof PipelineTask>;

export const PipelineSummary = z.object({
  /** Absolute path of the DAG file. */
  path: z.string(),
  /** The file's `name:`, or its file name when it has none. */
  name: z.string(),
  tasks: z.array(PipelineTask),
  errors: z.number().int().min(0),
  warnings: z.number().int().min(0),
});
export type PipelineSummary = z.output<typeof PipelineSummary>;

/** Sent by the extension: every DAG file of the workspace (open editors' unsaved text wins). */
export const listPipelines = defineRequest('mlw/dag/listPipelines', {
  params: z.object({}),
  result: z.array(PipelineSummary),
});

/** Sent by the agent when a DAG file is created, changed (on disk or in an editor) or deleted. */
export const pipelinesChanged = defineNotification('mlw/dag/changed', {
  params: z.object({ paths: z.array(z.string()) }),
});
