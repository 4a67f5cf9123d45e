/**
 * Runs a command as a local process (venv, conda or the host's own environment), through the shell
 * like a container run, in its own process group so cancelling reaches everything it started.
 * There is no isolation here: resource limits are not enforced and a local run cannot be re-attached
 * after its supervising process dies (recovery marks it lost and ends its process group).
 */
import { LineSplitter } from '../lines';
import type { Execution, ExitOutcome, LineSink, OutputStream, ProcessSpec } from './types';

import type * as Execa from 'execa';

type ExecaModule = typeof Execa;

// execa is ESM-only; a dynamic import loads it from this CommonJS bundle.
let execaModule: Promise<ExecaModule> | undefined;
function loadExeca(): Promise<ExecaModule> {
  execaModule ??= import('execa');
  return execaModule;
}

export class LocalExecutor {
  async start(spec: ProcessSpec, sink: LineSink): Promise<Execution> {
    const { execa } = await loadExeca();
    const subprocess = execa(spec.command, {
      shell: true,
      cwd: spec.cwd,
      env: { ...spec.env },
      extendEnv: false,
      stdin: 'ignore',
      buffer: false,
      reject: false,
      // Its own process group (POSIX), so a cancel signals the whole tree, not just the shell.
      detached: process.platform !== 'win32',
      cleanup: false,
      windowsHide: true,
    });
    const pid = subprocess.pid ?? null;
    const delivered = Promise.all([
      deliver(subprocess.stdout, 'stdout', sink),
      deliver(subprocess.stderr, 'stderr', sink),
    ]);
    const done = (async (): Promise<ExitOutcome> => {
      const result = await subprocess;
      await delivered;
      if (result.failed && result.exitCode === undefined && !result.signal) {
        // The shell itself could not start (cwd missing, shell not found): say why in the log.
        sink('stderr', result.message ?? 'the process could not be started');
      }
      return { exitCode: result.exitCode ?? null, oomKilled: false, signal: result.signal ?? null };
    })();
    return {
      handle: { containerId: null, pid },
      done,
      cancel: async (graceMs) => {
        if (pid === null) return;
        await terminateProcessGroup(pid, graceMs, done);
      },
    };
  }
}

function deliver(stream: NodeJS.ReadableStream | null, kind: OutputStream, sink: LineSink): Promise<void> {
  if (!stream) return Promise.resolve();
  const splitter = new LineSplitter((line) => sink(kind, line));
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => splitter.write(chunk));
    const finish = () => {
      splitter.flush();
      resolve();
    };
    stream.on('end', finish);
    stream.on('error', finish);
  });
}

/** SIGTERM to the process group; SIGKILL when it has not ended within the grace period. */
async function terminateProcessGroup(pid: number, graceMs: number, ended: Promise<unknown>): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace-over'>((resolve) => {
    timer = setTimeout(() => resolve('grace-over'), graceMs);
  });
  const first = await Promise.race([ended.then(() => 'exited' as const), graceOver]);
  clearTimeout(timer);
  if (first === 'grace-over') signalGroup(pid, 'SIGKILL');
}

/** Signals a process group (recovery ends what a dead supervisor left running). */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
