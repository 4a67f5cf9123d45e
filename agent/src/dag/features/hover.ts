/**
 * Hover in a DAG file: on a key, its documentation from the schema's descriptions; on a task, an
 * environment, a param or a matrix axis — defined or referenced — what it is.
 */
import { isScalar } from 'yaml';
import { MarkupKind, type Hover } from 'vscode-languageserver';
import type { DagModel, DagSymbol, Located } from '../model';
import type { Position } from '../types';
import { describeAxis, describeEnvironment, describeParam, describeTask } from './describe';
import { docPath, fieldAt, typeSummary } from './schema-docs';

export function hoverAt(model: DagModel, position: Position): Hover | null {
  const offset = model.document.offsetAt(position);
  const symbol = model.symbolAt(offset);
  const described = symbol ? describeSymbol(model, symbol) : undefined;
  if (described) return { contents: { kind: MarkupKind.Markdown, value: described.markdown }, range: described.at.range };
  return keyHover(model, offset);
}

function describeSymbol(model: DagModel, symbol: DagSymbol): { markdown: string; at: Located } | undefined {
  switch (symbol.kind) {
    case 'task':
      return { markdown: describeTask(symbol.task), at: symbol.task.key };
    case 'need': {
      const { ref } = symbol;
      if (!ref.targetTask) return { markdown: `no task named \`${ref.name}\``, at: ref };
      const one = ref.targets.length === 1 && ref.name !== ref.targetTask.name ? `one expansion of \`${ref.targetTask.name}\`\n\n` : '';
      return { markdown: `${one}${describeTask(ref.targetTask)}`, at: ref };
    }
    case 'environment':
      return { markdown: describeEnvironment(symbol.environment), at: symbol.environment.key };
    case 'environment-ref':
      return {
        markdown: symbol.ref.target ? describeEnvironment(symbol.ref.target) : `no environment named \`${symbol.ref.name}\``,
        at: symbol.ref,
      };
    case 'param':
      return { markdown: describeParam(model, symbol.param), at: symbol.param.key };
    case 'param-ref': {
      const param = model.params.get(symbol.ref.name);
      return { markdown: param ? describeParam(model, param) : `no param named \`${symbol.ref.name}\``, at: symbol.ref };
    }
    case 'matrix-axis':
      return { markdown: describeAxis(symbol.task, symbol.axis), at: symbol.axis.key };
    case 'matrix-ref': {
      const axis = symbol.ref.task.matrix.find((candidate) => candidate.name === symbol.ref.name);
      return {
        markdown: axis ? describeAxis(symbol.ref.task, axis) : `task \`${symbol.ref.task.name}\` has no matrix axis \`${symbol.ref.name}\``,
        at: symbol.ref,
      };
    }
    case 'path':
      return undefined;
  }
}

/** The documentation of the key under the cursor (`needs`, `resources`, `cpus`…). */
function keyHover(model: DagModel, offset: number): Hover | null {
  const found = model.document.nodeAt(offset);
  if (!found || !found.onKey || !isScalar(found.node) || !found.node.range) return null;
  const field = fieldAt(found.path);
  if (!field) return null;
  const span = { start: found.node.range[0], end: found.node.range[1] };
  const markdown = `**${docPath(found.path)}**: ${typeSummary(field.schema)}\n\n${field.description}`;
  return { contents: { kind: MarkupKind.Markdown, value: markdown }, range: model.document.rangeOf(span) };
}
