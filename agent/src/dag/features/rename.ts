/**
 * Rename a task: its key and every `needs` entry naming it (list and scalar forms; the `train` of
 * `train@rf` too). Only tasks rename here: prepareRename refuses every other position with a reason.
 */
import type { Range, WorkspaceEdit } from 'vscode-languageserver';
import { NAME_PATTERN } from '../../../../schemas/dag';
import type { DagModel, TaskDef } from '../model';
import type { Position } from '../types';

export type RenameCheck = { readonly ok: true; readonly range: Range; readonly placeholder: string } | { readonly ok: false; readonly reason: string };

/** The task at a position (its key, or a `needs` entry naming it) and the range of its name there. */
function taskAt(model: DagModel, position: Position): { task: TaskDef; range: Range } | { reason: string } {
  const offset = model.document.offsetAt(position);
  const symbol = model.symbolAt(offset);
  if (symbol?.kind === 'task') return { task: symbol.task, range: symbol.task.key.range };
  if (symbol?.kind === 'need') {
    const task = symbol.ref.targetTask;
    if (!task) return { reason: `no task named "${symbol.ref.name}" to rename` };
    const nameSpan = { start: symbol.ref.span.start, end: symbol.ref.span.start + task.name.length };
    if (offset > nameSpan.end) return { reason: `rename the task "${task.name}", not the expansion suffix` };
    return { task, range: model.document.rangeOf(nameSpan) };
  }
  return { reason: 'only a task can be renamed: put the cursor on a task name (its key or a `needs` entry)' };
}

export function prepareRenameAt(model: DagModel, position: Position): RenameCheck {
  const found = taskAt(model, position);
  if ('reason' in found) return { ok: false, reason: found.reason };
  return { ok: true, range: found.range, placeholder: found.task.name };
}

export type RenameResult = { readonly ok: true; readonly edit: WorkspaceEdit } | { readonly ok: false; readonly reason: string };

export function renameAt(model: DagModel, uri: string, position: Position, newName: string): RenameResult {
  const found = taskAt(model, position);
  if ('reason' in found) return { ok: false, reason: found.reason };
  if (!NAME_PATTERN.test(newName)) {
    return { ok: false, reason: `"${newName}" is not a task name: letters, digits, _ or -, starting with a letter or _ (no @)` };
  }
  if (newName !== found.task.name && model.tasks.has(newName)) return { ok: false, reason: `a task named "${newName}" already exists` };
  const seen = new Set<number>();
  const edits = model
    .referencesOf({ kind: 'task', task: found.task })
    .filter((located) => !seen.has(located.span.start) && seen.add(located.span.start))
    .map((located) => ({ range: located.range, newText: newName }));
  return { ok: true, edit: { changes: { [uri]: edits } } };
}
