/**
 * Completion in a DAG file: task names inside `needs` (list or scalar form, expansions too),
 * environment names after `environment:`, param names after `${params.`, the task's matrix axes after
 * `${matrix.`, and keys with their documentation from the schema's descriptions.
 */
import { isMap, isScalar, type Node } from 'yaml';
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type Range } from 'vscode-languageserver';
import type { DagModel, TaskDef } from '../model';
import type { Position } from '../types';
import { cursorContext, type CursorContext } from './cursor';
import { docPath, fieldsOf, isNameMap, typeSummary } from './schema-docs';
import { describeEnvironment, describeParam, describeTask } from './describe';

const TEMPLATE_BEFORE_CURSOR = /\$\{(params|matrix)\.([A-Za-z0-9_-]*)$/;
const VALUE_LINE = /^(\s*)(?:-\s+)?([A-Za-z_][\w-]*)\s*:\s+(.*)$/;
const ITEM_LINE = /^\s*-\s+([\w@.-]*)$/;
const KEY_BEING_TYPED = /^(\s*)([A-Za-z_][\w-]*)?$/;

export function completionsAt(model: DagModel, position: Position): CompletionItem[] {
  const cursor = cursorContext(model.document, position);
  return (
    templateCompletions(model, cursor) ??
    valueCompletions(model, cursor) ??
    keyCompletions(model, cursor) ??
    []
  );
}

/** The range of the word being typed: `length` characters before the cursor. */
function replacing(cursor: CursorContext, length: number): Range {
  return { start: { line: cursor.position.line, character: cursor.position.character - length }, end: cursor.position };
}

function enclosingTask(model: DagModel, cursor: CursorContext): TaskDef | undefined {
  return cursor.parents[0] === 'tasks' && cursor.parents[1] !== undefined ? model.tasks.get(cursor.parents[1]) : undefined;
}

function templateCompletions(model: DagModel, cursor: CursorContext): CompletionItem[] | undefined {
  const match = TEMPLATE_BEFORE_CURSOR.exec(cursor.linePrefix);
  if (!match) return undefined;
  const [, kind, partial] = match;
  const range = replacing(cursor, partial!.length);
  const close = cursor.lineSuffix.startsWith('}') ? '' : '}';
  if (kind === 'params') {
    return [...model.params.values()].map((param) => ({
      label: param.name,
      kind: CompletionItemKind.Variable,
      detail: `param = ${param.text}`,
      documentation: { kind: MarkupKind.Markdown, value: describeParam(model, param) },
      textEdit: { range, newText: `${param.name}${close}` },
    }));
  }
  const task = enclosingTask(model, cursor);
  return (task?.matrix ?? []).map((axis) => ({
    label: axis.name,
    kind: CompletionItemKind.EnumMember,
    detail: `matrix axis: ${axis.values.map((value) => value.text).join(', ')}`,
    textEdit: { range, newText: `${axis.name}${close}` },
  }));
}

function valueCompletions(model: DagModel, cursor: CursorContext): CompletionItem[] | undefined {
  const item = ITEM_LINE.exec(cursor.linePrefix);
  if (item && cursor.parents.length === 3 && cursor.parents[0] === 'tasks' && cursor.parents[2] === 'needs') {
    return needCompletions(model, cursor, item[1]!);
  }
  const value = VALUE_LINE.exec(cursor.linePrefix);
  if (!value) return undefined;
  const [, , key, written] = value;
  const inTask = cursor.parents.length === 2 && cursor.parents[0] === 'tasks';
  if (key === 'needs' && inTask) return needCompletions(model, cursor, /([\w@.-]*)$/.exec(written!)![1]!);
  if (key === 'environment' && (inTask || (cursor.parents.length === 1 && cursor.parents[0] === 'defaults'))) {
    const partial = /([\w-]*)$/.exec(written!)![1]!;
    return [...model.environments.values()].map((environment) => ({
      label: environment.name,
      kind: CompletionItemKind.Module,
      detail: environment.kinds.join(', ') || undefined,
      documentation: { kind: MarkupKind.Markdown, value: describeEnvironment(environment) },
      textEdit: { range: replacing(cursor, partial.length), newText: environment.name },
    }));
  }
  // After `key: ` on any other field there is nothing to name (keys are offered at the start of a line).
  return [];
}

/** Task names (then expansions) for a `needs` entry; not the task itself, nor names already listed on the line. */
function needCompletions(model: DagModel, cursor: CursorContext, partial: string): CompletionItem[] {
  const self = cursor.parents[1];
  // Names already needed: on other lines (block list) from the model, on this line from the text.
  const elsewhere = (self !== undefined ? model.tasks.get(self)?.needs ?? [] : [])
    .filter((ref) => ref.range.start.line !== cursor.position.line)
    .map((ref) => ref.name);
  const onThisLine = cursor.linePrefix.slice(0, cursor.linePrefix.length - partial.length).match(/[\w@.-]+/g) ?? [];
  const listed = new Set([...elsewhere, ...onThisLine]);
  const range = replacing(cursor, partial.length);
  const items: CompletionItem[] = [];
  let order = 0;
  for (const task of model.tasks.values()) {
    order += 1;
    if (task.name === self || listed.has(task.name)) continue;
    items.push({
      label: task.name,
      kind: CompletionItemKind.Function,
      detail: task.instances.length > 1 ? `task (${task.instances.length} expansions)` : 'task',
      documentation: { kind: MarkupKind.Markdown, value: describeTask(task) },
      sortText: `0${String(order).padStart(6, '0')}`,
      textEdit: { range, newText: task.name },
    });
    if (task.instances.length > 1) {
      for (const instance of task.instances) {
        if (listed.has(instance.name)) continue;
        items.push({
          label: instance.name,
          kind: CompletionItemKind.Event,
          detail: `one expansion of ${task.name}`,
          sortText: `1${String(order).padStart(6, '0')}${instance.name}`,
          textEdit: { range, newText: instance.name },
        });
      }
    }
  }
  return items;
}

function keyCompletions(model: DagModel, cursor: CursorContext): CompletionItem[] | undefined {
  const match = KEY_BEING_TYPED.exec(cursor.linePrefix);
  if (!match || !/^[\w-]*\s*$/.test(cursor.lineSuffix.replace(/:.*$/, ''))) return undefined;
  const partial = match[2] ?? '';
  if (cursor.parents.length > 0 && isNameMap(cursor.parents)) return [];
  const present = keysPresent(model, cursor);
  const range = replacing(cursor, partial.length);
  const replaceThrough = cursor.lineSuffix.match(/^[\w-]*/)![0].length;
  const fullRange = { start: range.start, end: { line: range.end.line, character: range.end.character + replaceThrough } };
  return fieldsOf(cursor.parents)
    .filter((field) => !present.has(field.name))
    .map((field) => ({
      label: field.name,
      kind: CompletionItemKind.Property,
      detail: typeSummary(field.schema),
      documentation: {
        kind: MarkupKind.Markdown,
        value: `\`${docPath([...cursor.parents, field.name])}\`\n\n${field.description}`,
      },
      insertTextFormat: InsertTextFormat.PlainText,
      textEdit: { range: fullRange, newText: `${field.name}: ` },
    }));
}

/** Keys already written in the mapping the cursor is in, except on the cursor's own line. */
function keysPresent(model: DagModel, cursor: CursorContext): Set<string> {
  const yaml = model.document.yaml;
  const node = (cursor.parents.length === 0 ? yaml?.contents : yaml?.getIn(cursor.parents, true)) as Node | null | undefined;
  const present = new Set<string>();
  if (!isMap(node)) return present;
  for (const pair of node.items) {
    const key = pair.key as Node | null;
    if (!isScalar(key) || !key.range) continue;
    if (model.document.positionAt(key.range[0]).line === cursor.position.line) continue;
    present.add(String(key.value));
  }
  return present;
}
