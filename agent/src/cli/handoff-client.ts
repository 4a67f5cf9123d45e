/**
 * The thin `mlw run`: when a resident agent serves this workspace (`mlw agent --serve`, see
 * agent/src/runs/handoff-server.ts), give it the command line and relay its output, instead of
 * loading and initialising the whole agent here. bin/mlw.js calls this before loading the bundle,
 * so it is bundled on its own (dist/mlw-client.js) and imports nothing heavy.
 *
 * Resolves to the exit code, or undefined when the command is to run in this process: no agent,
 * an agent that does not answer, or one that declined (it had started nothing).
 */
import { existsSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { HandOffRequest } from '../../../schemas/protocol/handoff';
import { HAND_OFF_VERSION, type HandOffAgentMessage } from '../../../schemas/protocol/handoff-messages';
import { directoryProblem, handOffDirectory, handOffSocketPath } from '../runs/handoff-socket';
import { findWorkspaceRoot } from '../runs/workspace-root';

export async function tryHandOff(argv: readonly string[], cwd = process.cwd()): Promise<number | undefined> {
  if (process.env.MLW_NO_HAND_OFF) return undefined;
  const directory = handOffDirectory();
  if (directoryProblem(directory) !== undefined) return undefined;
  const socketPath = handOffSocketPath(findWorkspaceRoot(cwd), directory);
  if (!existsSync(socketPath)) return undefined;
  const socket = await connect(socketPath);
  if (!socket) return undefined;
  const request: HandOffRequest = { type: 'run', version: HAND_OFF_VERSION, cwd, argv: [...argv] };
  socket.write(`${JSON.stringify(request)}\n`);
  return relay(socket);
}

function connect(socketPath: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', () => resolve(undefined));
  });
}

/** Writes the agent's output here and passes Ctrl-C on until the agent says how the command ended. */
function relay(socket: Socket): Promise<number | undefined> {
  return new Promise((resolve) => {
    let interrupts = 0;
    const onInterrupt = () => {
      interrupts++;
      if (interrupts > 1) process.exit(130); // the runs go on in the agent
      socket.write(`${JSON.stringify({ type: 'interrupt' })}\n`);
    };
    process.on('SIGINT', onInterrupt);
    let finished = false;
    const finish = (code: number | undefined) => {
      if (finished) return;
      finished = true;
      process.off('SIGINT', onInterrupt);
      socket.destroy();
      resolve(code);
    };
    socket.on('error', () => undefined); // reported by 'close' below
    const lines = createInterface({ input: socket, crlfDelay: Infinity });
    lines.on('line', (line) => {
      const message = agentMessage(line);
      if (message === undefined) return;
      if (message.type === 'stdout') process.stdout.write(message.text);
      else if (message.type === 'stderr') process.stderr.write(message.text);
      else if (message.type === 'declined') finish(undefined);
      else finish(message.code);
    });
    lines.once('close', () => {
      if (finished) return;
      process.stderr.write('mlw: the agent stopped before the command finished; see `mlw runs list` for what it started\n');
      finish(1);
    });
  });
}

/** The agent's message, checked by hand (no zod here: see schemas/protocol/handoff-messages.ts). */
function agentMessage(line: string): HandOffAgentMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'stdout':
    case 'stderr':
      return typeof message.text === 'string' ? { type: message.type, text: message.text } : undefined;
    case 'declined':
      return typeof message.reason === 'string' ? { type: 'declined', reason: message.reason } : undefined;
    case 'exit':
      return Number.isInteger(message.code) ? { type: 'exit', code: message.code as number } : undefined;
    default:
      return undefined;
  }
}
