/**
 * The built agent (`node dist/agent.js agent --stdio`) spawned as the editor spawns it, with an LSP
 * client-side connection on its stdio. Every byte the agent writes to stdout is also kept, so a test
 * can check that nothing but protocol frames went out. Waits for events (mlw/agent/ready,
 * publishDiagnostics), never for time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AGENT_V8_FLAGS } from '../../../extension/src/agent/launch';
import {
  createProtocolConnection,
  PublishDiagnosticsNotification,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type InitializeResult,
  type ServerCapabilities,
} from 'vscode-languageserver-protocol/node';

export const repoRoot = join(__dirname, '..', '..', '..');
export const builtAgent = join(repoRoot, 'dist', 'agent.js');

interface TestContext {
  after: (fn: () => unknown) => void;
}

/** Builds dist/agent.js when it is missing (`npm test` builds it before any test runs). */
export function ensureBuilt(): void {
  if (existsSync(builtAgent)) return;
  const result = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`node scripts/build.mjs failed (exit ${result.status})`);
}

export interface AgentReadyParams {
  readonly version: string;
  readonly pid: number;
  readonly workspaceRoots: readonly string[];
}

export interface SpawnedAgent {
  readonly process: ChildProcess;
  readonly connection: ProtocolConnection;
  readonly ready: AgentReadyParams;
  /** What the agent answered to initialize. */
  readonly capabilities: ServerCapabilities;
  /** Everything the agent wrote to stdout so far. */
  stdout(): Buffer;
  /** Everything the agent wrote to stderr so far (its log). */
  stderr(): string;
  /** Resolves with the first publishDiagnostics for `uri` (from now on) that satisfies `accept`. */
  nextDiagnostics(uri: string, accept?: (diagnostics: Diagnostic[]) => boolean): Promise<Diagnostic[]>;
}

export interface AgentOptions {
  /** What the editor sends as initializationOptions (the extension: `{ workspaceTrusted }`). */
  readonly initializationOptions?: unknown;
  readonly env?: NodeJS.ProcessEnv;
}

/** Spawns the built agent in `root`, initializes it with `root` as the workspace and awaits mlw/agent/ready. */
export async function startBuiltAgent(t: TestContext, root: string, options: AgentOptions = {}): Promise<SpawnedAgent> {
  ensureBuilt();
  const child = spawn(process.execPath, [...AGENT_V8_FLAGS, builtAgent, 'agent', '--stdio'], { cwd: root, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdoutChunks: Buffer[] = [];
  const stderrChunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdoutChunks.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderrChunks.push(chunk));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const waiters: { uri: string; accept: (diagnostics: Diagnostic[]) => boolean; resolve: (d: Diagnostic[]) => void }[] = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (params: PublishDiagnosticsParams) => {
    for (const waiter of [...waiters]) {
      if (waiter.uri === params.uri && waiter.accept(params.diagnostics)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(params.diagnostics);
      }
    }
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(new Error(`the agent exited (code ${code}, signal ${signal}) before it was ready; stderr:\n${Buffer.concat(stderrChunks).toString()}`)),
    ),
  );
  exited.catch(() => {});
  const ready = new Promise<AgentReadyParams>((resolve) =>
    connection.onNotification('mlw/agent/ready', (params: AgentReadyParams) => resolve(params)),
  );
  connection.listen();
  t.after(() => {
    connection.dispose();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const initialized = await Promise.race([
    connection.sendRequest<InitializeResult>('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(root).href,
      workspaceFolders: [{ uri: pathToFileURL(root).href, name: 'ws' }],
      capabilities: {
        textDocument: {
          synchronization: { dynamicRegistration: false },
          publishDiagnostics: { relatedInformation: true },
          completion: { completionItem: { documentationFormat: ['markdown', 'plaintext'], snippetSupport: true } },
          hover: { contentFormat: ['markdown', 'plaintext'] },
          rename: { prepareSupport: true },
          documentSymbol: { hierarchicalDocumentSymbolSupport: true },
        },
        workspace: { workspaceFolders: true },
      },
      ...(options.initializationOptions !== undefined ? { initializationOptions: options.initializationOptions } : {}),
    }),
    exited,
  ]);
  await connection.sendNotification('initialized', {});
  const readyParams = await Promise.race([ready, exited]);
  return {
    process: child,
    connection,
    ready: readyParams,
    capabilities: initialized.capabilities,
    stdout: () => Buffer.concat(stdoutChunks),
    stderr: () => Buffer.concat(stderrChunks).toString(),
    nextDiagnostics: (uri, accept = () => true) =>
      new Promise<Diagnostic[]>((resolve) => waiters.push({ uri, accept, resolve })),
  };
}

/** Politely ends the agent (shutdown, exit) and resolves with its exit code. */
export async function stopAgent(agent: SpawnedAgent): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => agent.process.once('exit', (code) => resolve(code)));
  await agent.connection.sendRequest('shutdown');
  await agent.connection.sendNotification('exit');
  return exited;
}

export interface Frame {
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/**
 * Splits raw bytes into LSP base-protocol frames (`Content-Length: N\r\n…\r\n\r\n` + N bytes of JSON).
 * Throws on anything else: a stray log line on stdout fails the test that calls this.
 */
export function parseFrames(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const headerEnd = bytes.indexOf('\r\n\r\n', offset, 'ascii');
    if (headerEnd < 0) throw new Error(`stdout byte ${offset}: not a frame header: ${JSON.stringify(bytes.subarray(offset, offset + 80).toString())}`);
    const headers: Record<string, string> = {};
    for (const line of bytes.subarray(offset, headerEnd).toString('ascii').split('\r\n')) {
      const match = /^([A-Za-z-]+): (.+)$/.exec(line);
      if (!match) throw new Error(`stdout byte ${offset}: not a header line: ${JSON.stringify(line)}`);
      headers[match[1]!.toLowerCase()] = match[2]!;
    }
    const length = Number(headers['content-length']);
    if (!Number.isInteger(length) || length < 0) throw new Error(`stdout byte ${offset}: frame without a Content-Length`);
    const bodyStart = headerEnd + 4;
    if (bodyStart + length > bytes.length) throw new Error(`stdout byte ${offset}: truncated frame`);
    const body: unknown = JSON.parse(bytes.subarray(bodyStart, bodyStart + length).toString('utf8'));
    if (typeof body !== 'object' || body === null || (body as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
      throw new Error(`stdout byte ${offset}: frame body is not a JSON-RPC 2.0 message`);
    }
    frames.push({ headers, body });
    offset = bodyStart + length;
  }
  return frames;
}
