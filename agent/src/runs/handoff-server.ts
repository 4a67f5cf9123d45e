/**
 * A resident agent's side of the `mlw run` hand-off (schemas/protocol/handoff.ts): it listens on
 * the workspace's socket and carries out each client's command line with the runs service it
 * already has open — no Node start-up, no module loading, no store opening per run — writing to
 * the client's terminal and cancelling on its Ctrl-C. A client that disconnects leaves its runs
 * running under this agent, as a second Ctrl-C does in-process.
 *
 * It declines (and the client runs the command itself) what needs the client's own process: runs
 * on the host, in a venv or conda (they inherit its environment variables) and `--detach` (a
 * supervisor process of its own).
 */
import { existsSync, statSync, unlinkSync, chmodSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { HandOffClientMessage, type HandOffAgentMessage, type HandOffRequest } from '../../../schemas/protocol/handoff';
import { registerRunCommand, type RunCommandHost } from '../cli/run';
import { EXIT_USAGE, exitCodeFor } from '../cli/program';
import type { Logger } from '../context';
import { ensurePrivateDirectory, handOffDirectory, handOffSocketPath } from './handoff-socket';
import type { LaunchPlan } from './plan';
import type { RunService } from './service';
import { findWorkspaceRoot } from './workspace-root';

export interface HandOffServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

/** Thrown by the agent's host to hand a command line back to the client, before anything started. */
class HandOffDeclined extends Error {}

/**
 * Listens for hand-offs to `service`'s workspace; undefined (and a warning logged) when the socket
 * folder is not private or another live agent already serves this workspace.
 */
export async function serveRunHandOffs(options: { service: RunService; log: Logger; directory?: string }): Promise<HandOffServer | undefined> {
  const { service, log } = options;
  const directory = options.directory ?? handOffDirectory();
  const problem = ensurePrivateDirectory(directory);
  if (problem) {
    log.warn(`runs: not accepting \`mlw run\` hand-offs: ${problem}`);
    return undefined;
  }
  const socketPath = handOffSocketPath(service.workspaceRoot, directory);
  if (existsSync(socketPath)) {
    if (await isAnswering(socketPath)) {
      log.warn(`runs: another agent already accepts \`mlw run\` hand-offs for ${service.workspaceRoot}`);
      return undefined;
    }
    unlinkSync(socketPath);
  }
  const server = createServer((socket) => void serveConnection(socket, service, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  const inode = statSync(socketPath).ino;
  server.on('error', (error) => log.warn(`runs: hand-off socket: ${error.message}`));
  // An agent that ends without close() (the editor closing) still leaves no socket behind.
  const removeAtExit = () => removeSocket(socketPath, inode);
  process.once('exit', removeAtExit);
  return {
    socketPath,
    close: async () => {
      process.off('exit', removeAtExit);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      removeSocket(socketPath, inode);
    },
  };
}

/** Removes our own socket only: a later agent may have replaced a socket it found unanswered. */
function removeSocket(socketPath: string, inode: number): void {
  try {
    if (statSync(socketPath).ino === inode) unlinkSync(socketPath);
  } catch {
    // already gone
  }
}

function isAnswering(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

async function serveConnection(socket: Socket, service: RunService, log: Logger): Promise<void> {
  socket.on('error', () => undefined); // a client that went away: its runs go on
  const send = (message: HandOffAgentMessage) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
  };
  const interruptHandlers = new Set<() => void>();
  let awaitingRequest = true;
  const lines = createInterface({ input: socket, crlfDelay: Infinity });
  const first = new Promise<string | undefined>((resolve) => {
    lines.on('line', (line) => {
      if (awaitingRequest) {
        awaitingRequest = false;
        return resolve(line);
      }
      const parsed = parseMessage(line);
      if (parsed.ok && parsed.message.type === 'interrupt') for (const handler of interruptHandlers) handler();
    });
    lines.once('close', () => resolve(undefined));
  });
  const line = await first;
  if (line === undefined) return;
  const parsed = parseMessage(line);
  if (!parsed.ok || parsed.message.type !== 'run') {
    send({ type: 'stderr', text: `mlw: the agent could not read the hand-off: ${parsed.ok ? 'expected a run request first' : parsed.error}\n` });
    send({ type: 'exit', code: EXIT_USAGE });
    socket.end();
    return;
  }
  const request = parsed.message;
  const startedAt = performance.now();
  const code = await carryOut(request, service, { send, interruptHandlers });
  if (code !== undefined) send({ type: 'exit', code });
  socket.end();
  lines.close();
  log.info(`runs: handed-off \`mlw ${request.argv.join(' ')}\` ${code === undefined ? 'was declined' : `exited ${code}`} after ${Math.round(performance.now() - startedAt)} ms`);
}

function parseMessage(line: string): { ok: true; message: HandOffClientMessage } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const result = HandOffClientMessage.safeParse(json);
  if (result.success) return { ok: true, message: result.data };
  const issue = result.error.issues[0];
  return { ok: false, error: `${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}` };
}

/** Runs the command line; its exit code, or undefined when declined (the client was told). */
async function carryOut(
  request: HandOffRequest,
  service: RunService,
  client: { send: (message: HandOffAgentMessage) => void; interruptHandlers: Set<() => void> },
): Promise<number | undefined> {
  const { send, interruptHandlers } = client;
  if (request.argv[0] !== 'run') return decline(send, 'only `mlw run` is handed off');
  if (findWorkspaceRoot(request.cwd) !== service.workspaceRoot) return decline(send, `${request.cwd} is not in this agent's workspace`);
  const host: RunCommandHost = {
    cwd: request.cwd,
    write: (stream, text) => send({ type: stream, text }),
    onInterrupt(handler) {
      interruptHandlers.add(handler);
      return () => interruptHandlers.delete(handler);
    },
    withService: (work) => work(service),
    admit: (plans, { detach }) => admitPlans(service, plans, detach),
  };
  const program = new Command('mlw')
    .exitOverride()
    .configureOutput({ writeOut: (text) => send({ type: 'stdout', text }), writeErr: (text) => send({ type: 'stderr', text }) });
  registerRunCommand(program, host);
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync([...request.argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof HandOffDeclined) return decline(send, error.message);
    return exitCodeFor(error, (text) => send({ type: 'stderr', text }));
  }
}

function admitPlans(service: RunService, plans: readonly LaunchPlan[], detach: boolean): void {
  if (detach) throw new HandOffDeclined('--detach starts a supervisor process of its own');
  const local = plans.find((plan) => service.executorOf(plan) !== 'docker');
  if (local) throw new HandOffDeclined(`${local.name} runs as a local process, with the environment variables of the terminal`);
}

function decline(send: (message: HandOffAgentMessage) => void, reason: string): undefined {
  send({ type: 'declined', reason });
  return undefined;
}
