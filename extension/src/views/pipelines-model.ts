/**
 * What the Pipelines view shows for the agent's pipeline summaries, free of `vscode` so it is unit
 * tested: labels, descriptions and the problem count of a file.
 */
import type { PipelineSummary, PipelineTask } from '../../../schemas/protocol';

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** "2 errors, 1 warning"; empty when the file has no problems. */
export function problemCountText(summary: Pick<PipelineSummary, 'errors' | 'warnings'>): string {
  const parts: string[] = [];
  if (summary.errors > 0) parts.push(plural(summary.errors, 'error'));
  if (summary.warnings > 0) parts.push(plural(summary.warnings, 'warning'));
  return parts.join(', ');
}

/** The pipeline row's description: its path relative to the workspace, then its problem count. */
export function pipelineDescription(summary: PipelineSummary, relativePath: string): string {
  const problems = problemCountText(summary);
  return problems === '' ? relativePath : `${relativePath} · ${problems}`;
}

/** A matrix expansion (`train@rf`) is one instance of the key written in the file (`train`). */
export function isMatrixInstance(task: PipelineTask): boolean {
  return task.name !== task.task;
}

export function taskDescription(task: PipelineTask): string {
  return task.dependsOn.length === 0 ? '' : `after ${task.dependsOn.join(', ')}`;
}

/** Files sorted by path so the view is stable between refreshes. */
export function sortedPipelines(summaries: readonly PipelineSummary[]): PipelineSummary[] {
  return [...summaries].sort((a, b) => a.path.localeCompare(b.path));
}
