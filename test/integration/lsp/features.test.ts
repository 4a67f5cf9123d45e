/**
 * The DAG language features through the built agent over stdio, as the editor asks for them:
 * capabilities declared at initialize, then completion, hover, definition, outline and rename on an
 * open DAG file, at exact positions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CompletionRequest,
  DefinitionRequest,
  DidOpenTextDocumentNotification,
  DocumentSymbolRequest,
  HoverRequest,
  PrepareRenameRequest,
  RenameRequest,
  type CompletionItem,
  type CompletionList,
  type DocumentSymbol,
  type MarkupContent,
} from 'vscode-languageserver-protocol/node';
import { startBuiltAgent, stopAgent } from './agent-process';

const DAG = `version: 1
params:
  seed: 42
tasks:
  train:
    matrix: { model: [rf, gb] }
    run: python train.py --seed \${params.seed} --model \${matrix.model}
  report:
    needs: [train]
    run: echo report
`;

const at = (line: number, character: number) => ({ line, character });
const range = (sl: number, sc: number, el: number, ec: number) => ({ start: at(sl, sc), end: at(el, ec) });

void test('completion, hover, definition, outline and rename through the built agent over stdio', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mlw-lsp-features-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const file = join(root, 'pipe.dag.yaml');
  writeFileSync(file, DAG);
  const uri = pathToFileURL(file).href;
  const textDocument = { uri };

  const agent = await startBuiltAgent(t, root);
  await agent.connection.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: 'mlw-dag', version: 1, text: DAG },
  });

  const hover = await agent.connection.sendRequest(HoverRequest.type, { textDocument, position: at(8, 13) });
  assert.deepEqual(hover?.range, range(8, 12, 8, 17));
  assert.match((hover?.contents as MarkupContent).value, /^\*\*task\*\* `train`[\s\S]*expands to `train@rf`, `train@gb`/);

  const definition = await agent.connection.sendRequest(DefinitionRequest.type, { textDocument, position: at(6, 36) });
  assert.deepEqual(definition, { uri, range: range(2, 2, 2, 6) });

  const completion = await agent.connection.sendRequest(CompletionRequest.type, { textDocument, position: at(8, 17) });
  const items = Array.isArray(completion) ? completion : ((completion as CompletionList | null)?.items ?? []);
  assert.deepEqual(items.map((item: CompletionItem) => item.label), ['train', 'train@rf', 'train@gb']);
  assert.deepEqual(items[0]!.textEdit, { range: range(8, 12, 8, 17), newText: 'train' });

  const symbols = (await agent.connection.sendRequest(DocumentSymbolRequest.type, { textDocument })) as DocumentSymbol[];
  const tasks = symbols.find((symbol) => symbol.name === 'tasks');
  assert.deepEqual(tasks?.children?.map((task) => [task.name, task.children?.map((child) => child.name) ?? []]), [
    ['train', ['train@rf', 'train@gb']],
    ['report', []],
  ]);

  const prepared = await agent.connection.sendRequest(PrepareRenameRequest.type, { textDocument, position: at(8, 14) });
  assert.deepEqual(prepared, { range: range(8, 12, 8, 17), placeholder: 'train' });
  await assert.rejects(
    agent.connection.sendRequest(PrepareRenameRequest.type, { textDocument, position: at(2, 3) }),
    /only a task can be renamed/,
  );
  const rename = await agent.connection.sendRequest(RenameRequest.type, { textDocument, position: at(4, 3), newName: 'fit' });
  assert.deepEqual(rename, {
    changes: { [uri]: [{ range: range(4, 2, 4, 7), newText: 'fit' }, { range: range(8, 12, 8, 17), newText: 'fit' }] },
  });

  assert.equal(await stopAgent(agent), 0);
});

void test('the agent declares the feature capabilities at initialize', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mlw-lsp-capabilities-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const agent = await startBuiltAgent(t, root);
  const capabilities = agent.capabilities;
  assert.ok(capabilities.completionProvider?.triggerCharacters?.includes('.'));
  assert.equal(capabilities.hoverProvider, true);
  assert.equal(capabilities.definitionProvider, true);
  assert.ok(capabilities.documentSymbolProvider);
  assert.deepEqual(capabilities.renameProvider, { prepareProvider: true });
  assert.equal(capabilities.textDocumentSync, 2, 'incremental sync');
  assert.equal(await stopAgent(agent), 0);
});
