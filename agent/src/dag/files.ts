/**
 * DAG files on disk: validate one with the workspace probe of its folder, and summarise it for the
 * Pipelines view (mlw/dag/listPipelines). Shared by the CLI and the language server.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { PipelineSummary } from '../../../schemas/protocol/dag';
import { UserError } from '../errors';
import { fileSystemProbe } from './probe';
import type { DagDiagnostic } from './types';
import { validateDag, type ValidationResult } from './validate';

export interface FileValidation extends ValidationResult {
  /** Absolute path of the DAG file. */
  readonly path: string;
}

/** Validates text as the file at `path` (its folder answers "does this input exist?"). */
export function validateDagText(path: string, text: string): FileValidation {
  return { path, ...validateDag(text, { probe: fileSystemProbe(dirname(path)) }) };
}

/** Reads and validates a DAG file; a file that cannot be read is a UserError naming it. */
export async function validateDagFile(path: string): Promise<FileValidation> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new UserError(`cannot read ${path}: ${reason}`);
  }
  return validateDagText(path, text);
}

/** The file's `name:`, or its file name without `.dag.yaml` / `.yaml`. */
export function pipelineName(validation: FileValidation): string {
  return validation.model.name ?? basename(validation.path).replace(/\.dag\.yaml$|\.yaml$/, '');
}

export function countBySeverity(diagnostics: readonly DagDiagnostic[]): { errors: number; warnings: number; hints: number } {
  let errors = 0;
  let warnings = 0;
  let hints = 0;
  for (const diagnostic of diagnostics) {
    if (diagnostic.severity === 'error') errors++;
    else if (diagnostic.severity === 'warning') warnings++;
    else hints++;
  }
  return { errors, warnings, hints };
}

export function pipelineSummary(validation: FileValidation): PipelineSummary {
  const { model, graph } = validation;
  const { errors, warnings } = countBySeverity(validation.diagnostics);
  return {
    path: validation.path,
    name: pipelineName(validation),
    tasks: model.instances.map((instance) => ({
      name: instance.name,
      task: instance.task.name,
      range: instance.task.key.range,
      dependsOn: (graph.dependencies[instance.index] ?? []).map((index) => graph.instances[index]!.name),
    })),
    errors,
    warnings,
  };
}
