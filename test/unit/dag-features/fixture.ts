/** The DAG the feature tests share, and helpers to place a cursor and read ranges. */
import type { Range } from 'vscode-languageserver';
import { parseDagModel, type DagModel } from '../../../agent/src/dag/model';
import type { Position } from '../../../agent/src/dag/types';

// Line numbers in the comments are 0-based, as in LSP.
export const PIPELINE = [
  'version: 1', // 0
  'params:', // 1
  '  seed: 42', // 2
  '  lr: 0.1', // 3
  'environments:', // 4
  '  sklearn:', // 5
  '    docker: { image: "python:3.11-slim" }', // 6
  '  light:', // 7
  '    venv: { requirements: requirements.txt }', // 8
  'defaults:', // 9
  '  environment: sklearn', // 10
  'tasks:', // 11
  '  features:', // 12
  '    run: python features.py --seed ${params.seed}', // 13
  '    outputs: [build/features/]', // 14
  '  train:', // 15
  '    needs: [features]', // 16
  '    environment: light', // 17
  '    matrix: { model: [rf, gb] }', // 18
  '    run: python train.py --model ${matrix.model}', // 19
  '    inputs: [build/features/]', // 20
  '  select_best:', // 21
  '    needs: train', // 22
  '    run: python select.py', // 23
  '  report:', // 24
  '    needs:', // 25
  '      - train@rf', // 26
  '      - select_best', // 27
  '    run: echo report', // 28
  '',
].join('\n');

export const URI = 'file:///work/pipe.dag.yaml';

export function pos(line: number, character: number): Position {
  return { line, character };
}

export function range(startLine: number, startCol: number, endLine: number, endCol: number): Range {
  return { start: { line: startLine, character: startCol }, end: { line: endLine, character: endCol } };
}

/** Text with one `|` marking the cursor → the model of the text without it, and the cursor's position. */
export function withCursor(textWithCursor: string): { model: DagModel; position: Position } {
  const offset = textWithCursor.indexOf('|');
  if (offset < 0 || textWithCursor.indexOf('|', offset + 1) >= 0) throw new Error('mark exactly one cursor with |');
  const model = parseDagModel(textWithCursor.slice(0, offset) + textWithCursor.slice(offset + 1));
  return { model, position: model.document.positionAt(offset) };
}

/** Applies non-overlapping single-line edits to a text. */
export function applyEdits(text: string, edits: readonly { range: Range; newText: string }[]): string {
  const lines = text.split('\n');
  const sorted = [...edits].sort((a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character);
  for (const edit of sorted) {
    if (edit.range.start.line !== edit.range.end.line) throw new Error('multi-line edit');
    const line = lines[edit.range.start.line]!;
    lines[edit.range.start.line] = line.slice(0, edit.range.start.character) + edit.newText + line.slice(edit.range.end.character);
  }
  return lines.join('\n');
}
