/** Runs a tool (python, pip, conda) with its output streamed line by line and a clear error on failure. */
import { spawn } from 'node:child_process';
import { EnvError } from './errors';

export interface ToolRun {
  readonly stdout: string;
}

export interface ToolOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly progress?: (line: string) => void;
  readonly signal?: AbortSignal | undefined;
  /** Keep stdout for the caller instead of streaming it (JSON, exported YAML). */
  readonly captureStdout?: boolean;
}

export function runTool(command: string, args: readonly string[], what: string, options: ToolOptions = {}): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const captured: Buffer[] = [];
    const tail: string[] = [];
    const lines = (onLine: (line: string) => void) => {
      let pending = '';
      return (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const parts = pending.split(/\r?\n|\r/);
        pending = parts.pop() ?? '';
        for (const line of parts) if (line.trim() !== '') onLine(line);
      };
    };
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      options.progress?.(line);
    };
    if (options.captureStdout) child.stdout.on('data', (chunk: Buffer) => captured.push(chunk));
    else child.stdout.on('data', lines(onLine));
    child.stderr.on('data', lines(onLine));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (options.signal?.aborted) reject(new EnvError(`${what}: cancelled`));
      else if (error.code === 'ENOENT') reject(new EnvError(`${what}: ${command} was not found (is it installed and on PATH?)`));
      else reject(new EnvError(`${what}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      if (options.signal?.aborted) return reject(new EnvError(`${what}: cancelled`));
      if (code === 0) return resolve({ stdout: Buffer.concat(captured).toString('utf8') });
      const why = code === null ? `killed by ${signal}` : `exit code ${code}`;
      reject(new EnvError(`${what}: \`${[command, ...args].join(' ')}\` failed (${why})${tail.length > 0 ? `:\n${tail.slice(-5).join('\n')}` : ''}`));
    });
  });
}
