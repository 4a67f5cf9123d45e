import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver';
import { documentSymbols } from '../../../agent/src/dag/features/symbols';
import { parseDagModel } from '../../../agent/src/dag/model';
import { PIPELINE, range } from './fixture';

function outline(symbols: readonly DocumentSymbol[]): unknown[] {
  return symbols.map((symbol) => [symbol.name, symbol.kind, ...(symbol.children?.length ? [outline(symbol.children)] : [])]);
}

void test('the outline: params, environments, tasks with matrix expansions as children', () => {
  const symbols = documentSymbols(parseDagModel(PIPELINE));
  assert.deepEqual(outline(symbols), [
    ['params', SymbolKind.Namespace, [['seed', SymbolKind.Constant], ['lr', SymbolKind.Constant]]],
    ['environments', SymbolKind.Namespace, [['sklearn', SymbolKind.Module], ['light', SymbolKind.Module]]],
    [
      'tasks',
      SymbolKind.Namespace,
      [
        ['features', SymbolKind.Function],
        ['train', SymbolKind.Function, [['train@rf', SymbolKind.Event], ['train@gb', SymbolKind.Event]]],
        ['select_best', SymbolKind.Function],
        ['report', SymbolKind.Function],
      ],
    ],
  ]);
});

void test('each symbol spans its entry (without trailing newlines) and selects its key', () => {
  const [params, environments, tasks] = documentSymbols(parseDagModel(PIPELINE));
  assert.deepEqual([params!.range, params!.selectionRange], [range(1, 0, 3, 9), range(1, 0, 1, 6)]);
  assert.deepEqual([environments!.children![0]!.range, environments!.children![0]!.selectionRange], [range(5, 2, 6, 41), range(5, 2, 5, 9)]);
  const train = tasks!.children![1]!;
  assert.deepEqual([train.range, train.selectionRange], [range(15, 2, 20, 29), range(15, 2, 15, 7)]);
  assert.equal(train.detail, 'python train.py --model ${matrix.model}');
  assert.deepEqual(train.children!.map((child) => [child.detail, child.selectionRange]), [
    ['model=rf', range(15, 2, 15, 7)],
    ['model=gb', range(15, 2, 15, 7)],
  ]);
  assert.deepEqual(tasks!.range, range(11, 0, 28, 20));
  assert.equal(params!.children![0]!.detail, '42');
});

void test('a half-typed file still has an outline; an empty one has none', () => {
  const partial = documentSymbols(parseDagModel('version: 1\ntasks:\n  a:\n    run: echo a\n  b:\n    run: [unclosed\n'));
  assert.deepEqual(outline(partial), [['tasks', SymbolKind.Namespace, [['a', SymbolKind.Function], ['b', SymbolKind.Function]]]]);
  assert.deepEqual(documentSymbols(parseDagModel('')), []);
});
