/**
 * Starts git from a small helper process instead of from the agent itself.
 *
 * Why: Node starts every child with fork(), and the cost of fork grows with the parent's memory.
 * In the agent (~190 MB resident, with the large young generation that validation needs) each
 * spawn blocked the event loop for 15–45 ms on the benchmark VM, where page-table work is slow.
 * After the fork, every page the agent then wrote took a copy-on-write fault (~20 µs each there):
 * 3,000–7,000 of them per branch listing. The helper is a bare Node (~40 MB) that sits idle
 * between requests, so its forks are cheap and the agent does not fork at all.
 *
 * The helper is optional: until it is up, and whenever it is gone, calls start git directly as
 * before. It exits when the agent closes its stdin (the agent exiting, for whatever reason).
 *
 * Protocol. Agent → helper: one JSON request per line. Helper → agent: frames of
 * [kind u8][request id u32le][length u32le][payload]; kinds: stdout chunk, stderr chunk, and one
 * final frame per request holding `{ code, signal }` or `{ error }` as JSON.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface SpawnRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly input?: string;
  readonly maxBuffer: number;
}

export interface SpawnResult {
  /** Undefined when the program could not be started (`startError` says why). */
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly startError?: string;
}

const enum FrameKind {
  Stdout = 1,
  Stderr = 2,
  Final = 3,
}
const HEADER_BYTES = 9;

/** The helper's source: plain JavaScript, run with `node -e` (no bundle, no TypeScript). */
const HELPER_SOURCE = String.raw`
'use strict';
const { spawn } = require('node:child_process');
function frame(kind, id, payload) {
  const header = Buffer.allocUnsafe(9);
  header[0] = kind;
  header.writeUInt32LE(id, 1);
  header.writeUInt32LE(payload.length, 5);
  process.stdout.write(header);
  if (payload.length > 0) process.stdout.write(payload);
}
function final(id, value) { frame(3, id, Buffer.from(JSON.stringify(value))); }
function start(request) {
  let finished = false;
  const finish = (value) => { if (!finished) { finished = true; final(request.id, value); } };
  let child;
  try {
    child = spawn(request.file, request.args, {
      cwd: request.cwd, env: request.env, windowsHide: true,
      stdio: [request.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
  } catch (error) { finish({ error: String(error && error.message) }); return; }
  child.on('error', (error) => { if (child.pid === undefined) finish({ error: String(error && error.message) }); });
  child.stdout.on('data', (chunk) => frame(1, request.id, chunk));
  child.stderr.on('data', (chunk) => frame(2, request.id, chunk));
  child.on('close', (code, signal) => finish({ code, signal }));
  if (request.input !== undefined) { child.stdin.on('error', () => {}); child.stdin.end(request.input); }
}
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text) => {
  pending += text;
  for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n')) {
    const line = pending.slice(0, end);
    pending = pending.slice(end + 1);
    start(JSON.parse(line));
  }
});
process.stdin.on('end', () => process.exit(0));
`;

interface Pending {
  readonly resolve: (result: SpawnResult) => void;
  readonly maxBuffer: number;
  readonly stdout: Buffer[];
  readonly stderr: Buffer[];
  bytes: number;
  overflowed: boolean;
}

/** One helper process and the requests it is running. */
class Spawner {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffered: Buffer = Buffer.alloc(0);
  private ready = false;
  private dead = false;

  constructor(private readonly helper: ChildProcess) {
    helper.stdout?.on('data', (chunk: Buffer) => this.onData(chunk));
    helper.once('spawn', () => {
      this.ready = true;
    });
    helper.once('error', () => this.die());
    helper.once('exit', () => this.die());
    helper.stdin?.on('error', () => this.die());
    this.holdEventLoop(false);
  }

  /** Idle, the helper must not keep the agent alive; with requests out, it must, as a child would. */
  private holdEventLoop(hold: boolean): void {
    for (const handle of [this.helper, this.helper.stdout, this.helper.stdin] as Array<{ ref?: () => void; unref?: () => void } | null>) {
      if (hold) handle?.ref?.();
      else handle?.unref?.();
    }
  }

  get usable(): boolean {
    return this.ready && !this.dead;
  }

  run(request: SpawnRequest): Promise<SpawnResult> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (this.pending.size === 0) this.holdEventLoop(true);
      this.pending.set(id, { resolve, maxBuffer: request.maxBuffer, stdout: [], stderr: [], bytes: 0, overflowed: false });
      const { maxBuffer: _unused, ...wire } = request;
      this.helper.stdin?.write(`${JSON.stringify({ id, ...wire })}\n`);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let at = 0;
    while (this.buffered.length - at >= HEADER_BYTES) {
      const length = this.buffered.readUInt32LE(at + 5);
      if (this.buffered.length - at - HEADER_BYTES < length) break;
      const kind = this.buffered[at] as FrameKind;
      const id = this.buffered.readUInt32LE(at + 1);
      const payload = this.buffered.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length);
      at += HEADER_BYTES + length;
      this.onFrame(kind, id, payload);
    }
    this.buffered = at === this.buffered.length ? Buffer.alloc(0) : this.buffered.subarray(at);
  }

  private onFrame(kind: FrameKind, id: number, payload: Buffer): void {
    const request = this.pending.get(id);
    if (request === undefined) return;
    if (kind === FrameKind.Final) {
      this.pending.delete(id);
      if (this.pending.size === 0) this.holdEventLoop(false);
      request.resolve(finalResult(request, payload));
      return;
    }
    request.bytes += payload.length;
    if (request.bytes > request.maxBuffer) request.overflowed = true;
    if (request.overflowed) return;
    // The frame may share memory with the next chunk's concatenation: copy what is kept.
    (kind === FrameKind.Stdout ? request.stdout : request.stderr).push(Buffer.from(payload));
  }

  private die(): void {
    if (this.dead) return;
    this.dead = true;
    for (const request of this.pending.values()) {
      request.resolve({ exitCode: undefined, stdout: '', stderr: '', startError: 'the git helper process exited' });
    }
    this.pending.clear();
    this.holdEventLoop(false);
    if (current === this) current = undefined;
  }
}

function finalResult(request: Pending, payload: Buffer): SpawnResult {
  const stdout = Buffer.concat(request.stdout).toString('utf8');
  const stderr = Buffer.concat(request.stderr).toString('utf8');
  const final = JSON.parse(payload.toString('utf8')) as { code?: number | null; signal?: string | null; error?: string };
  if (final.error !== undefined) return { exitCode: undefined, stdout, stderr, startError: final.error };
  if (request.overflowed) return { exitCode: undefined, stdout: '', stderr: '', startError: `output over ${request.maxBuffer} bytes` };
  if (final.code === null || final.code === undefined) return { exitCode: undefined, stdout, stderr, startError: `git was killed by ${final.signal ?? 'a signal'}` };
  return { exitCode: final.code, stdout, stderr };
}

let current: Spawner | undefined;
let enabled = false;

/** Long-lived processes (the agent's server, the benchmark) turn the helper on; one-shot commands fork little. */
export function enableGitHelper(): void {
  enabled = true;
}

/**
 * The helper when it is up; else undefined, and the helper is started for later calls (the caller
 * starts its program directly meanwhile).
 */
export function gitSpawner(): Pick<Spawner, 'run'> | undefined {
  if (!enabled) return undefined;
  if (current?.usable) return current;
  if (current === undefined) {
    const helper = spawn(process.execPath, ['-e', HELPER_SOURCE], {
      stdio: ['pipe', 'pipe', 'ignore'],
      // Under Electron (desktop VS Code) execPath is Electron itself: run it as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', NODE_OPTIONS: '' },
      windowsHide: true,
    });
    current = new Spawner(helper);
  }
  return undefined;
}
