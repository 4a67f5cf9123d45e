/**
 * Go to definition in a DAG file: a `needs` entry → the task's key, `environment:` → the
 * environment's key, `${params.x}` → the param's key, `${matrix.x}` → the task's matrix axis.
 */
import type { Location } from 'vscode-languageserver';
import type { DagModel } from '../model';
import type { Position } from '../types';

export function definitionAt(model: DagModel, uri: string, position: Position): Location | null {
  const symbol = model.symbolAt(model.document.offsetAt(position));
  if (!symbol) return null;
  const target = model.definitionOf(symbol);
  return target ? { uri, range: target.range } : null;
}
