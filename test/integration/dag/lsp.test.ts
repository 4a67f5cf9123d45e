/**
 * The DAG service through the real agent (`mlw agent --stdio`, from the sources) over LSP:
 * diagnostics published for a cycle with exact ranges, updated on an incremental edit and cleared
 * on close; mlw/dag/listPipelines and mlw/dag/changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver';
import type { PipelineSummary } from '../../../schemas/protocol/dag';

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
