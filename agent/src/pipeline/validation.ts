/**
 * A DAG file is checked with the editor's validator before anything of it runs: a file with errors
 * is refused with every error as FILE:LINE:COL (1-based), the same lines `mlw validate` prints.
 * Errors depend on the text alone (a missing input is only a warning), so a text that passed once
 * is remembered by its sha256 under `.mlw/pipeline/valid/` and not parsed twice: validating a
 * 200-task file costs more than re-running it from the cache.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { validateDagText } from '../dag/files';
import { writeAtomically } from './cache';
import { PipelineError } from './errors';

/** Bump when the validator learns new errors, so texts that passed before are checked again. */
const VALIDATOR_GENERATION = 1;

export async function checkDagFile(path: string, workspaceRoot: string, displayFrom: string = process.cwd()): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new PipelineError(`cannot read the DAG file ${path}: ${reason}`);
  }
  const marker = join(workspaceRoot, '.mlw', 'pipeline', 'valid', createHash('sha256').update(`${VALIDATOR_GENERATION}\0${text}`).digest('hex'));
  if (existsSync(marker)) return;
  const errors = validateDagText(path, text).diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
  if (errors.length === 0) {
    await writeAtomically(marker, '');
    return;
  }
  const file = relative(displayFrom, path) || path;
  const lines = errors.map(
    (diagnostic) => `${file}:${diagnostic.range.start.line + 1}:${diagnostic.range.start.character + 1}: error: ${diagnostic.message}`,
  );
  throw new PipelineError(`${file} has ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was run:\n${lines.join('\n')}`);
}
