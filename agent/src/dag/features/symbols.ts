/**
 * The outline of a DAG file: its params, environments and tasks (each matrix task with its
 * expansions as children), in sections as they appear in the file.
 */
import { isMap, isScalar, type Node, type Pair } from 'yaml';
import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver';
import { keyText, type Span } from '../document';
import type { DagModel } from '../model';

const MAX_DETAIL = 60;

function short(text: string): string {
  const line = text.split('\n', 1)[0]!.trim();
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL - 1)}…` : line;
}

/** A pair's span: its key's start to its value's end. */
function pairSpan(pair: Pair): Span | undefined {
  const key = pair.key as Node | null;
  const value = pair.value as Node | null;
  if (!key?.range) return undefined;
  return { start: key.range[0], end: Math.max(key.range[1], value?.range?.[1] ?? key.range[1]) };
}

function sectionPairs(model: DagModel): Map<string, Pair> {
  const root = model.document.yaml?.contents;
  const pairs = new Map<string, Pair>();
  if (!isMap(root)) return pairs;
  for (const pair of root.items) {
    const name = keyText(pair);
    if (name !== null && !pairs.has(name)) pairs.set(name, pair);
  }
  return pairs;
}

function entryPairs(section: Pair | undefined): Map<string, Pair> {
  const pairs = new Map<string, Pair>();
  const value = section?.value as Node | null | undefined;
  if (!isMap(value)) return pairs;
  for (const pair of value.items) {
    const name = keyText(pair);
    if (name !== null && !pairs.has(name)) pairs.set(name, pair);
  }
  return pairs;
}

export function documentSymbols(model: DagModel): DocumentSymbol[] {
  const document = model.document;
  const sections = sectionPairs(model);
  const symbolOf = (name: string, kind: SymbolKind, span: Span, selection: Span, children: DocumentSymbol[], detail?: string): DocumentSymbol => ({
    name,
    kind,
    range: document.rangeOf(withoutTrailingSpace(document.text, span)),
    selectionRange: document.rangeOf(selection),
    children,
    ...(detail ? { detail } : {}),
  });
  const section = (name: string, kind: SymbolKind, children: DocumentSymbol[]): DocumentSymbol | undefined => {
    const pair = sections.get(name);
    const span = pair && pairSpan(pair);
    const key = pair?.key as Node | null | undefined;
    if (!span || !isScalar(key) || !key.range) return undefined;
    return symbolOf(name, kind, span, { start: key.range[0], end: key.range[1] }, children);
  };

  const paramPairs = entryPairs(sections.get('params'));
  const params = [...model.params.values()].map((param) =>
    symbolOf(param.name, SymbolKind.Constant, spanOr(paramPairs.get(param.name), param.key.span), param.key.span, [], short(param.text)),
  );
  const environmentPairs = entryPairs(sections.get('environments'));
  const environments = [...model.environments.values()].map((environment) =>
    symbolOf(
      environment.name,
      SymbolKind.Module,
      spanOr(environmentPairs.get(environment.name), environment.key.span),
      environment.key.span,
      [],
      environment.kinds.join(', ') || undefined,
    ),
  );
  const tasks = [...model.tasks.values()].map((task) => {
    const expansions =
      task.matrix.length > 0 && task.instances.length > 0 && task.instances[0]!.name !== task.name
        ? task.instances.map((instance) =>
            symbolOf(instance.name, SymbolKind.Event, task.whole.span, task.key.span, [], Object.entries(instance.matrix).map(([axis, value]) => `${axis}=${value}`).join(' ')),
          )
        : [];
    return symbolOf(task.name, SymbolKind.Function, task.whole.span, task.key.span, expansions, task.run ? short(task.run.text) : undefined);
  });

  return [
    section('params', SymbolKind.Namespace, params),
    section('environments', SymbolKind.Namespace, environments),
    section('tasks', SymbolKind.Namespace, tasks),
  ]
    .filter((symbol): symbol is DocumentSymbol => symbol !== undefined)
    .sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}

/** A block value's span runs to the next line; the outline's ranges end where the text does. */
function withoutTrailingSpace(text: string, span: Span): Span {
  let end = span.end;
  while (end > span.start && /\s/.test(text[end - 1]!)) end -= 1;
  return { start: span.start, end };
}

function spanOr(pair: Pair | undefined, fallback: Span): Span {
  return (pair && pairSpan(pair)) ?? fallback;
}
