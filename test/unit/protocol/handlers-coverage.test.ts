/**
 * The protocol module and the agent stay in step: every request declared in schemas/protocol.ts has
 * exactly one handler in allHandlers(), no handler serves an undeclared method, and every handler
 * answers bad params with InvalidParams (-32602) whose message names the offending field — checked
 * over real JSON-RPC, in-process for every request and through the spawned built agent for a few.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { createConnection } from 'vscode-languageserver/node';
import {
  createMessageConnection,
  ErrorCodes,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import { protocolModules } from '../../../schemas/protocol';
import type { RequestType } from '../../../schemas/rpc';
import { allHandlers } from '../../../agent/src/services';
import { registerHandlers, type HandlerEntry } from '../../../agent/src/rpc/handlers';
import type { AgentContext } from '../../../agent/src/context';
import { startBuiltAgent, stopAgent } from '../../integration/lsp/agent-process';

type AnyRequest = RequestType<z.ZodType, z.ZodType>;

function isRequest(value: unknown): value is AnyRequest {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'request';
}

function declaredRequests(): AnyRequest[] {
  return Object.values(protocolModules).flatMap((module) => Object.values(module).filter(isRequest));
}

function handlers(t: { after: (fn: () => void) => void }): HandlerEntry[] {
  const root = mkdtempSync(join(tmpdir(), 'mlw-protocol-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // No `notify`: nothing is opened or started until a request needs it, so listing is side-effect free.
  const context: AgentContext = { workspaceRoots: [root], log: { info: () => {}, warn: () => {}, error: () => {} } };
  return allHandlers(context);
}

/** A value of no JSON type any field's schema expects. */
const WRONG_VALUE = { 'not a valid value': [] };

/**
 * Params that break the declaration on one named field: a field set to a value of the wrong kind,
 * or, for a strict object with no field that rejects it, a key it does not know. Undefined when the
 * params schema accepts every object (nothing can be wrong).
 */
function badParamsFor(request: AnyRequest): { params: Record<string, unknown>; field: string } | undefined {
  const schema = request.params;
  if (!(schema instanceof z.ZodObject)) throw new Error(`${request.method}: params is not an object schema`);
  for (const field of Object.keys(schema.shape)) {
    const params = { [field]: WRONG_VALUE };
    const parsed = schema.safeParse(params);
    if (!parsed.success && parsed.error.issues.some((issue) => issue.path[0] === field)) return { params, field };
  }
  const unknownKey = { unexpected_field: 1 };
  if (!schema.safeParse(unknownKey).success) return { params: unknownKey, field: 'unexpected_field' };
  return undefined;
}

async function expectInvalidParams(send: Promise<unknown>, method: string, field: string): Promise<void> {
  await assert.rejects(send, (error: unknown) => {
    assert.ok(error instanceof ResponseError, `${method}: expected a JSON-RPC error, got ${String(error)}`);
    assert.equal(error.code, ErrorCodes.InvalidParams, `${method}: ${error.message}`);
    assert.match(error.message, new RegExp(`\\b${field}\\b`), `${method}: the message should name "${field}"`);
    return true;
  });
}

/** The agent's handlers on a real vscode-languageserver connection, talked to over two in-memory streams. */
function connectInProcess(t: { after: (fn: () => void) => void }, entries: readonly HandlerEntry[]): MessageConnection {
  const up = new PassThrough();
  const down = new PassThrough();
  const server = createConnection(new StreamMessageReader(up), new StreamMessageWriter(down));
  registerHandlers(server, entries);
  server.listen();
  const client = createMessageConnection(new StreamMessageReader(down), new StreamMessageWriter(up));
  client.listen();
  t.after(() => {
    client.dispose();
    server.dispose();
  });
  return client;
}

void describe('protocol ↔ handlers', () => {
  void test('every declared request has exactly one handler', (t) => {
    const handled = handlers(t).map((entry) => entry.request.method);
    for (const request of declaredRequests()) {
      const count = handled.filter((method) => method === request.method).length;
      assert.equal(count, 1, `${request.method} is declared in schemas/protocol and has ${count} handler(s) in allHandlers()`);
    }
  });

  void test('no handler serves a method the protocol does not declare', (t) => {
    const declared = new Set(declaredRequests());
    for (const entry of handlers(t)) {
      assert.ok(
        declared.has(entry.request),
        `${entry.request.method} has a handler but no declaration exported from schemas/protocol.ts (protocolModules)`,
      );
    }
  });

  void test('every method is named mlw/<service>/<verb> after its module', () => {
    for (const [service, module] of Object.entries(protocolModules)) {
      for (const declaration of Object.values(module)) {
        if (!isRequest(declaration)) continue;
        assert.match(declaration.method, new RegExp(`^mlw/${service}/[A-Za-z]+$`));
      }
    }
  });

  void test('every handler answers bad params with InvalidParams naming the field (in-process JSON-RPC)', async (t) => {
    const entries = handlers(t);
    const client = connectInProcess(t, entries);
    let checked = 0;
    for (const entry of entries) {
      const bad = badParamsFor(entry.request);
      if (!bad) continue;
      await expectInvalidParams(client.sendRequest(entry.request.method, bad.params), entry.request.method, bad.field);
      checked += 1;
    }
    // The check itself must bite: most requests take at least one field.
    assert.ok(checked >= entries.length / 2, `only ${checked} of ${entries.length} handlers could be given bad params`);
  });

  void test('the built agent answers bad params with InvalidParams naming the field, and keeps serving', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'mlw-protocol-agent-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const agent = await startBuiltAgent(t, root);
    await expectInvalidParams(agent.connection.sendRequest('mlw/runs/get', { id: 42 }), 'mlw/runs/get', 'id');
    await expectInvalidParams(
      agent.connection.sendRequest('mlw/runs/compare', { ids: ['abcd'], colour: 'red' }),
      'mlw/runs/compare',
      'colour',
    );
    await expectInvalidParams(agent.connection.sendRequest('mlw/agent/info', { verbose: true }), 'mlw/agent/info', 'verbose');
    const info = (await agent.connection.sendRequest('mlw/agent/info', {})) as { pid: number };
    assert.equal(info.pid, agent.ready.pid);
    assert.equal(await stopAgent(agent), 0);
  });
});
