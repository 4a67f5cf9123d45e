/**
 * The DAG service through the real agent (`mlw agent --stdio`, from the sources) over LSP:
 * diagnostics published for a cycle with exact ranges, updated on an incremental edit and cleared
 * on close; after each of a series of one-line edits (the incremental path) equal to a full
 * validation of the same text; mlw/dag/listPipelines and mlw/dag/changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { Diagnostic, PublishDiagnosticsParams, TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { PipelineSummary } from '../../../schemas/protocol/dag';
import { toLspDiagnostic } from '../../../agent/src/dag/lsp/diagnostics';
import { fileSystemProbe } from '../../../agent/src/dag/probe';
import { validateDag } from '../../../agent/src/dag/validate';

const repoRoot = join(__dirname, '..', '..', '..');
const tsxLoader = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

interface Agent {
  readonly connection: MessageConnection;
  /** Resolves with the next diagnostics published for the uri that satisfy the predicate. */
  diagnostics(uri: string, predicate: (params: PublishDiagnosticsParams) => boolean): Promise<Diagnostic[]>;
  /** Resolves when a mlw/dag/changed notification names the path. */
  changed(path: string): Promise<void>;
}

async function startAgent(t: { after: (fn: () => unknown) => void }, root: string): Promise<Agent> {
  const child = spawn(process.execPath, ['--import', tsxLoader, join(repoRoot, 'agent', 'src', 'main.ts'), 'agent', '--stdio'], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const published: PublishDiagnosticsParams[] = [];
  const waiters: { uri: string; predicate: (params: PublishDiagnosticsParams) => boolean; resolve: (d: Diagnostic[]) => void }[] = [];
  connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
    published.push(params);
    for (const waiter of [...waiters]) {
      if (waiter.uri === params.uri && waiter.predicate(params)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(params.diagnostics);
      }
    }
  });
  const changedPaths = new Set<string>();
  const changeWaiters: { path: string; resolve: () => void }[] = [];
  connection.onNotification('mlw/dag/changed', (params: { paths: string[] }) => {
    for (const path of params.paths) changedPaths.add(path);
    for (const waiter of [...changeWaiters]) {
      if (changedPaths.has(waiter.path)) {
        changeWaiters.splice(changeWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  const ready = new Promise<void>((resolve) => connection.onNotification('mlw/agent/ready', () => resolve()));
  connection.listen();
  t.after(() => {
    connection.dispose();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(root).href,
    workspaceFolders: [{ uri: pathToFileURL(root).href, name: 'ws' }],
    capabilities: {},
  });
  await connection.sendNotification('initialized', {});
  await ready;
  return {
    connection,
    diagnostics: (uri, predicate) => {
      const seen = published.find((params) => params.uri === uri && predicate(params));
      if (seen) return Promise.resolve(seen.diagnostics);
      return new Promise((resolve) => waiters.push({ uri, predicate, resolve }));
    },
    changed: (path) => (changedPaths.has(path) ? Promise.resolve() : new Promise((resolve) => changeWaiters.push({ path, resolve }))),
  };
}

const CYCLE = `version: 1
tasks:
  a: { run: x, needs: [b] }
  b: { run: x, needs: [c] }
  c: { run: x, needs: [a] }
`;

void test('the agent publishes a cycle on each edge, updates on an edit, lists pipelines and clears on close', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mlw-dag-lsp-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const path = join(root, 'cycle.dag.yaml');
  writeFileSync(path, CYCLE);
  const uri = pathToFileURL(path).href;
  const agent = await startAgent(t, root);

  await agent.connection.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'mlw-dag', version: 1, text: CYCLE },
  });
  const opened = await agent.diagnostics(uri, (params) => params.version === 1);
  assert.deepEqual(
    opened.map((d) => [d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, d.code, d.source, d.severity]),
    [
      [2, 23, 2, 24, 'cycle', 'mlw', 1],
      [3, 23, 3, 24, 'cycle', 'mlw', 1],
      [4, 23, 4, 24, 'cycle', 'mlw', 1],
    ],
  );
  assert.equal(opened[0]!.message, 'dependency cycle: a → b → c → a');
  assert.deepEqual(
    opened[0]!.relatedInformation!.map((related) => [related.location.uri, related.location.range.start.line, related.message]),
    [
      [uri, 3, 'b needs c'],
      [uri, 4, 'c needs a'],
    ],
  );
  await agent.changed(path);

  const [summary] = (await agent.connection.sendRequest('mlw/dag/listPipelines', {})) as PipelineSummary[];
  assert.equal(summary!.path, path);
  assert.equal(summary!.name, 'cycle');
  assert.equal(summary!.errors, 3);
  assert.deepEqual(
    summary!.tasks.map((task) => [task.name, task.dependsOn]),
    [
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
    ],
  );

  // Break the cycle with an incremental edit: c no longer needs a (line 4, `[a]` → `[]`).
  await agent.connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 4, character: 23 }, end: { line: 4, character: 24 } }, text: '' }],
  });
  assert.deepEqual(await agent.diagnostics(uri, (params) => params.version === 2), []);
  const [edited] = (await agent.connection.sendRequest('mlw/dag/listPipelines', {})) as PipelineSummary[];
  assert.equal(edited!.errors, 0, 'the open document’s unsaved text wins over the file on disk');

  await agent.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  assert.deepEqual(await agent.diagnostics(uri, (params) => params.version === undefined), []);
});

void test('listPipelines rejects bad params with InvalidParams', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mlw-dag-lsp-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const agent = await startAgent(t, root);
  await assert.rejects(agent.connection.sendRequest('mlw/dag/listPipelines', 42), (error: { code?: number }) => error.code === -32602);
});

void test('after each one-line edit, the published diagnostics are those of a full validation of the text', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mlw-dag-lsp-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const lines = ['version: 1', 'params:', '  seed: 1', 'tasks:'];
  for (let index = 0; index < 30; index++) {
    lines.push(`  t${index}:`, `    run: echo \${params.seed} ${index}`, `    needs: [t${Math.max(0, index - 1)}]`, '    outputs:', `      - out/t${index}.csv`);
  }
  const text = `${lines.join('\n')}\n`;
  const path = join(root, 'many.dag.yaml');
  writeFileSync(path, text);
  const uri = pathToFileURL(path).href;
  const agent = await startAgent(t, root);
  let document = TextDocument.create(uri, 'mlw-dag', 1, text);
  await agent.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'mlw-dag', version: 1, text } });
  await agent.diagnostics(uri, (params) => params.version === 1);

  const line = (task: number, field: number) => 4 + task * 5 + field;
  const edits: TextDocumentContentChangeEvent[] = [
    // A run line changed, a need that closes a cycle (t3 → t12 → … → t3), an output written twice,
    // a line inserted, a line deleted, an unknown param, a schema error, then the cycle broken again.
    { range: { start: { line: line(7, 1), character: 9 }, end: { line: line(7, 1), character: 13 } }, text: 'python' },
    { range: { start: { line: line(3, 2), character: 12 }, end: { line: line(3, 2), character: 14 } }, text: 't12' },
    { range: { start: { line: line(20, 4), character: 12 }, end: { line: line(20, 4), character: 15 } }, text: 't9' },
    { range: { start: { line: line(15, 1), character: 0 }, end: { line: line(15, 1), character: 0 } }, text: '    retries: 2\n' },
    { range: { start: { line: line(25, 2), character: 0 }, end: { line: line(25, 3), character: 0 } }, text: '' },
    { range: { start: { line: line(10, 1), character: 9 }, end: { line: line(10, 1), character: 9 } }, text: '${params.nope} ' },
    { range: { start: { line: line(12, 1), character: 9 }, end: { line: line(12, 1), character: 100 } }, text: '42' },
    { range: { start: { line: line(3, 2), character: 12 }, end: { line: line(3, 2), character: 15 } }, text: 't2' },
  ];
  let version = 1;
  for (const change of edits) {
    version++;
    document = TextDocument.update(document, [change], version);
    await agent.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [change] });
    const published = await agent.diagnostics(uri, (params) => params.version === version);
    const full = validateDag(document.getText(), { probe: fileSystemProbe(root) }).diagnostics.map((diagnostic) => toLspDiagnostic(diagnostic, uri));
    assert.deepEqual(published, full, `after edit ${version - 1}`);
    if (version === 3) assert.ok(published.some((diagnostic) => diagnostic.code === 'cycle'), 'the edit closed a cycle');
  }
});
