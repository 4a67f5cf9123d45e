/**
 * A DAG file is checked with the editor's validator before anything of it runs: a file with errors
 * is refused with every error as FILE:LINE:COL (1-based), the same lines `mlw validate` prints.
 */
import { relative } from 'node:path';
import { validateDagFile } from '../dag/files';
import { PipelineError } from './errors';

export async function checkDagFile(path: string, displayFrom: string = process.cwd()): Promise<void> {
  const validation = await validateDagFile(path);
  const errors = validation.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
  if (errors.length === 0) return;
  const file = relative(displayFrom, path) || path;
  const lines = errors.map(
    (diagnostic) => `${file}:${diagnostic.range.start.line + 1}:${diagnostic.range.start.character + 1}: error: ${diagnostic.message}`,
  );
  throw new PipelineError(`${file} has ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was run:\n${lines.join('\n')}`);
}
