/**
 * Issue 2 benchmark, DAG validation over LSP, side by side in one run:
 *   (b) our agent (`node dist/agent.js agent --stdio`): a one-line incremental didChange on a
 *       generated 5,000-task DAG (matrix expansions, data edges) → the publishDiagnostics that answers
 *       it; median over the edits.
 *   (c) yaml-language-server (npm) validating the same file against schemas/dag.schema.json (schema
 *       checks only), same edits, same measurement; the ratio ours/theirs (goal ≤ 1.0).
 * The two servers get their edits alternately, so machine load falls on both alike. Before timing,
 * each must report a schema error an edit introduces (so neither is timed doing nothing).
 * Needs a built dist/ (node scripts/build.mjs). Run: npx tsx bench/validate-lsp.ts [--edits N] [--tasks N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  PublishDiagnosticsNotification,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import { parseDocument } from 'yaml';
import { validateDag } from '../agent/src/dag/validate';
import { median } from './measure';
import { AGENT_V8_FLAGS } from '../extension/src/agent/launch';

const repoRoot = resolve(__dirname, '..');
const AGENT = join(repoRoot, 'dist', 'agent.js');
const YAML_LANGUAGE_SERVER = join(repoRoot, 'node_modules', 'yaml-language-server', 'bin', 'yaml-language-server');
const SCHEMA_URI = pathToFileURL(join(repoRoot, 'schemas', 'dag.schema.json')).href;

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const taskName = (index: number) => `t${String(index).padStart(5, '0')}`;
const MATRIX_EVERY = 10;
const RUN_LINE_OFFSET = 1; // the `run:` line is the line after the task's key

/**
 * A valid DAG of `taskCount` tasks: every 10th task is a matrix task (`model: [rf, gb, lr]`, three
 * expansions); every task needs one or two earlier tasks, and reads an earlier plain task's output
 * (a data edge). Returns the text and, per task, the 0-based line of its key.
 */
export function generateDag(taskCount: number): { text: string; taskLines: number[] } {
  const lines = [
    'version: 1',
    'name: bench',
    'params:',
    '  seed: 42',
    '  lr: 0.1',
    'environments:',
    '  py:',
    '    docker: { image: "python:3.11-slim" }',
    'defaults:',
    '  environment: py',
    'tasks:',
  ];
  const taskLines: number[] = [];
  for (let index = 0; index < taskCount; index += 1) {
    const name = taskName(index);
    const isMatrix = index % MATRIX_EVERY === MATRIX_EVERY - 1;
    taskLines.push(lines.length);
    lines.push(`  ${name}:`);
    lines.push(`    run: python step.py --task ${name} --seed \${params.seed} --lr \${params.lr}${isMatrix ? ' --model ${matrix.model}' : ''}`);
    if (index > 0) {
      const needs = [taskName(index - 1)];
      if (index > 7) needs.push(taskName(index - 7));
      lines.push(`    needs: [${needs.join(', ')}]`);
    }
    // A data edge from an earlier plain task (its single output file).
    let producer = index - 3;
    while (producer >= 0 && producer % MATRIX_EVERY === MATRIX_EVERY - 1) producer -= 1;
    if (producer >= 0) lines.push('    inputs:', `      - build/${taskName(producer)}/out.bin`);
    if (isMatrix) {
      lines.push('    matrix: { model: [rf, gb, lr] }');
      lines.push('    outputs:', `      - build/${name}/\${matrix.model}.bin`);
    } else {
      lines.push('    outputs:', `      - build/${name}/out.bin`);
    }
  }
  return { text: `${lines.join('\n')}\n`, taskLines };
}

interface Peer {
  readonly name: string;
  readonly process: ChildProcess;
  readonly connection: ProtocolConnection;
  /** Resolves with the next publishDiagnostics for `uri` (after this call) that `accept` takes. */
  next(uri: string, accept?: (diagnostics: Diagnostic[]) => boolean): Promise<Diagnostic[]>;
  stop(): Promise<void>;
}

function connect(name: string, command: string, args: string[], cwd: string, runtimeFlags: readonly string[] = []): Omit<Peer, 'stop'> & { stopped: Promise<void> } {
  const child = spawn(process.execPath, [...runtimeFlags, command, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.resume();
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const waiters: { uri: string; accept: (d: Diagnostic[]) => boolean; resolve: (d: Diagnostic[]) => void }[] = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
    for (const waiter of [...waiters]) {
      if (waiter.uri === params.uri && waiter.accept(params.diagnostics)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(params.diagnostics);
      }
    }
  });
  const stopped = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  return {
    name,
    process: child,
    connection,
    stopped,
    next: (uri, accept = () => true) => new Promise((resolveNext) => waiters.push({ uri, accept, resolve: resolveNext })),
  };
}

async function initialize(peer: Omit<Peer, 'stop'>, root: string, configuration: boolean): Promise<void> {
  peer.connection.listen();
  await peer.connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(root).href,
    workspaceFolders: [{ uri: pathToFileURL(root).href, name: 'bench' }],
    capabilities: {
      textDocument: { synchronization: { dynamicRegistration: false }, publishDiagnostics: { relatedInformation: true } },
      workspace: { configuration, workspaceFolders: true, didChangeConfiguration: { dynamicRegistration: false } },
    },
  });
  await peer.connection.sendNotification('initialized', {});
}

export async function startOurs(root: string): Promise<Peer> {
  if (!existsSync(AGENT)) throw new Error(`${AGENT} is missing: run node scripts/build.mjs first`);
  // Started as the extension starts it (agentLaunch), runtime flags included.
  const peer = connect('mlw agent', AGENT, ['agent', '--stdio'], root, AGENT_V8_FLAGS);
  const ready = new Promise<void>((resolveReady) => peer.connection.onNotification('mlw/agent/ready', () => resolveReady()));
  await initialize(peer, root, false);
  await ready;
  return { ...peer, stop: () => shutdown(peer) };
}

export async function startYamlLanguageServer(root: string): Promise<Peer> {
  const peer = connect('yaml-language-server', YAML_LANGUAGE_SERVER, ['--stdio'], root);
  const yamlSettings = { schemas: { [SCHEMA_URI]: '*.dag.yaml' }, validate: true, hover: false, completion: false, format: { enable: false } };
  // It pulls its settings (workspace/configuration for `yaml`, `http`, `[yaml]`, `editor`) when told they changed.
  peer.connection.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) =>
    params.items.map((item) => (item.section === 'yaml' ? yamlSettings : {})),
  );
  peer.connection.onRequest('client/registerCapability', () => null);
  peer.connection.onRequest('window/workDoneProgress/create', () => null);
  await initialize(peer, root, true);
  await peer.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { yaml: yamlSettings } });
  return { ...peer, stop: () => shutdown(peer) };
}

async function shutdown(peer: Omit<Peer, 'stop'> & { stopped: Promise<void> }): Promise<void> {
  await peer.connection.sendRequest('shutdown');
  await peer.connection.sendNotification('exit');
  await peer.stopped;
  peer.connection.dispose();
}

/** One document open in one server, with its version counter. */
export class OpenDocument {
  private version = 1;

  constructor(
    private readonly peer: Peer,
    readonly uri: string,
  ) {}

  async open(text: string): Promise<Diagnostic[]> {
    const published = this.peer.next(this.uri);
    await this.peer.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: this.uri, languageId: 'yaml', version: this.version, text },
    });
    return published;
  }

  /** Replaces line `line` (whole, without its newline) and times didChange → publishDiagnostics. */
  async replaceLine(line: number, oldLength: number, text: string, accept?: (d: Diagnostic[]) => boolean): Promise<{ ms: number; diagnostics: Diagnostic[] }> {
    this.version += 1;
    const published = this.peer.next(this.uri, accept);
    const started = process.hrtime.bigint();
    await this.peer.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: this.uri, version: this.version },
      contentChanges: [{ range: { start: { line, character: 0 }, end: { line, character: oldLength } }, text }],
    });
    const diagnostics = await published;
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, diagnostics };
  }
}

/** Median wall-clock of `fn` over `rounds` calls, in ms. */
function medianOf(rounds: number, fn: () => unknown): number {
  const times: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const started = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(times);
}

const hasSchemaError = (diagnostics: readonly Diagnostic[], line: number) =>
  diagnostics.some((d) => d.range.start.line === line && (d.severity ?? 1) === 1);

async function main(): Promise<void> {
  const taskCount = option('--tasks', 5_000);
  const edits = option('--edits', 40);
  const root = mkdtempSync(join(tmpdir(), 'mlw-bench-lsp-'));
  const { text, taskLines } = generateDag(taskCount);
  const file = join(root, 'bench.dag.yaml');
  writeFileSync(file, text);
  const uri = pathToFileURL(file).href;
  const lines = text.split('\n');
  process.stderr.write(`generated ${taskCount} tasks (${lines.length} lines, ${(text.length / 1e6).toFixed(2)} MB)\n`);

  const ours = await startOurs(root);
  const theirs = await startYamlLanguageServer(root);
  try {
    const documents = { ours: new OpenDocument(ours, uri), theirs: new OpenDocument(theirs, uri) };
    const openedOurs = await documents.ours.open(text);
    const openedTheirs = await documents.theirs.open(text);
    process.stderr.write(`on open: ours ${openedOurs.length} diagnostic(s), theirs ${openedTheirs.length}\n`);

    // Honesty check: a schema error introduced by a one-line edit is reported by both, then cleared.
    const middle = taskLines[Math.floor(taskCount / 2)]! + RUN_LINE_OFFSET;
    const original = lines[middle]!;
    const broken = '    run: 42';
    for (const [name, document] of Object.entries(documents)) {
      const withError = await document.replaceLine(middle, original.length, broken, (d) => hasSchemaError(d, middle));
      process.stderr.write(`${name}: schema error reported in ${withError.ms.toFixed(1)} ms: ${withError.diagnostics.find((d) => d.range.start.line === middle)?.message}\n`);
      await document.replaceLine(middle, broken.length, original, (d) => !hasSchemaError(d, middle));
    }

    // The timed edits: a one-line change to a `run:` line, alternating servers, a different task each time.
    const times = { ours: [] as number[], theirs: [] as number[] };
    for (let edit = 0; edit < edits; edit += 1) {
      const line = taskLines[(edit * 997) % taskCount]! + RUN_LINE_OFFSET;
      const before = lines[line]!;
      const after = `${before} --edit ${edit}`;
      lines[line] = after;
      for (const name of edit % 2 === 0 ? (['ours', 'theirs'] as const) : (['theirs', 'ours'] as const)) {
        const { ms } = await documents[name].replaceLine(line, before.length, after);
        times[name].push(ms);
      }
    }
    // Where the time goes, in-process on the same text: the YAML parse every yaml-based server pays, and our whole validation.
    const yamlParseMs = medianOf(5, () => parseDocument(text));
    const validateInProcessMs = medianOf(5, () => validateDag(text));
    const oursMedian = median(times.ours);
    const theirsMedian = median(times.theirs);
    const report = {
      tasks: taskCount,
      lines: lines.length,
      bytes: text.length,
      edits,
      oursMedianMs: Number(oursMedian.toFixed(1)),
      oursP90Ms: Number(percentile(times.ours, 90).toFixed(1)),
      theirsMedianMs: Number(theirsMedian.toFixed(1)),
      theirsP90Ms: Number(percentile(times.theirs, 90).toFixed(1)),
      ratio: Number((oursMedian / theirsMedian).toFixed(2)),
      yamlParseInProcessMs: Number(yamlParseMs.toFixed(1)),
      validateInProcessMs: Number(validateInProcessMs.toFixed(1)),
      loadAverage: loadavg().map((load) => Number(load.toFixed(2))),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await ours.stop();
    await theirs.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  void main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
