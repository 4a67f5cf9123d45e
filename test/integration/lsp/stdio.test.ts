/**
 * The built agent as the editor runs it: `node dist/agent.js agent --stdio`, spoken to by an LSP
 * client connection. A DAG with a cycle and an unknown need gets its diagnostics published at the
 * exact ranges of the offending `needs` entries; an incremental edit that breaks the cycle gets a new
 * set; and everything the agent wrote to stdout parses as Content-Length frames, nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DiagnosticSeverity,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  type Diagnostic,
} from 'vscode-languageserver-protocol/node';
import { parseFrames, startBuiltAgent, stopAgent } from './agent-process';

const CYCLIC_DAG = `version: 1
tasks:
  a:
    run: echo a
    needs: [c]
  b:
    run: echo b
    needs: [a, missing]
  c:
    run: echo c
    needs: [b]
`;

interface Expected {
  readonly code: string;
  readonly severity: DiagnosticSeverity;
  readonly range: readonly [number, number, number, number];
}

function diag(code: string, severity: DiagnosticSeverity, startLine: number, startCol: number, endLine: number, endCol: number): Expected {
  return { code, severity, range: [startLine, startCol, endLine, endCol] };
}

function summarize(diagnostics: readonly Diagnostic[]): Expected[] {
  return diagnostics
    .map((d) => diag(String(d.code), d.severity ?? DiagnosticSeverity.Error, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character))
    .sort((x, y) => x.range[0] - y.range[0] || x.range[1] - y.range[1] || x.code.localeCompare(y.code));
}

void test('the built agent over stdio: exact diagnostics for a cycle and an unknown need, incremental edits, nothing but frames on stdout', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mlw-lsp-stdio-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const file = join(root, 'cycle.dag.yaml');
  writeFileSync(file, CYCLIC_DAG);
  const uri = pathToFileURL(file).href;

  const agent = await startBuiltAgent(t, root);
  assert.deepEqual(agent.ready.workspaceRoots, [root]);

  const opened = agent.nextDiagnostics(uri);
  await agent.connection.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: 'mlw-dag', version: 1, text: CYCLIC_DAG },
  });
  const first = await opened;
  assert.deepEqual(summarize(first), [
    diag('cycle', DiagnosticSeverity.Error, 4, 12, 4, 13), // a needs [c]
    diag('cycle', DiagnosticSeverity.Error, 7, 12, 7, 13), // b needs [a, …]
    diag('unknown-need', DiagnosticSeverity.Error, 7, 15, 7, 22), // … missing]
    diag('cycle', DiagnosticSeverity.Error, 10, 12, 10, 13), // c needs [b]
  ]);
  // The cycle is named in full on each edge, starting at the task whose `needs` entry it marks.
  const cycleMessages = first.filter((d) => d.code === 'cycle').map((d) => [d.range.start.line, d.message]);
  assert.deepEqual(cycleMessages, [
    [4, 'dependency cycle: a → c → b → a'],
    [7, 'dependency cycle: b → a → c → b'],
    [10, 'dependency cycle: c → b → a → c'],
  ]);
  assert.match(first.find((d) => d.code === 'unknown-need')!.message, /missing/);

  // One incremental edit: `needs: [c]` → `needs: []` on line 4 breaks the cycle; the unknown need stays.
  const edited = agent.nextDiagnostics(uri, (diagnostics) => !diagnostics.some((d) => d.code === 'cycle'));
  await agent.connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 4, character: 12 }, end: { line: 4, character: 13 } }, text: '' }],
  });
  assert.deepEqual(summarize(await edited), [diag('unknown-need', DiagnosticSeverity.Error, 7, 15, 7, 22)]);

  assert.equal(await stopAgent(agent), 0, `the agent should exit 0 after shutdown + exit; stderr:\n${agent.stderr()}`);
  const frames = parseFrames(agent.stdout());
  const methods = frames.map((frame) => (frame.body as { method?: string }).method).filter((method) => method !== undefined);
  assert.ok(methods.includes('mlw/agent/ready'));
  assert.ok(methods.filter((method) => method === 'textDocument/publishDiagnostics').length >= 2);
  assert.ok(frames.some((frame) => (frame.body as { id?: unknown; result?: unknown }).id !== undefined && 'result' in (frame.body as object)), 'the initialize response is a frame');
});
