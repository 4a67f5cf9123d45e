/** A small git runner for the runs service: arguments as an array (no shell), stdin, extra env. */
import { spawn } from 'node:child_process';
import { LaunchError } from './errors';

export interface GitOptions {
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string | Buffer;
  /** Exit codes that are answers rather than failures (e.g. 1 from `symbolic-ref -q`). */
  readonly okCodes?: readonly number[];
}

export interface GitResult {
  readonly code: number;
  readonly stdout: string;
}

export function git(args: readonly string[], options: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, GIT_TERMINAL_PROMPT: '0' },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) =>
      reject(new LaunchError(`git ${args[0]} could not run (${error.message}): is git installed and on PATH?`)),
    );
    child.on('close', (code) => {
      const exitCode = code ?? -1;
      if (exitCode === 0 || options.okCodes?.includes(exitCode)) {
        resolve({ code: exitCode, stdout: Buffer.concat(stdout).toString('utf8') });
      } else {
        const message = Buffer.concat(stderr).toString('utf8').trim();
        reject(new LaunchError(`git ${args.join(' ')} failed in ${options.cwd} (exit ${exitCode}): ${message}`));
      }
    });
    if (options.input !== undefined && child.stdin) {
      // git may exit before reading everything (it failed): its exit code says why, not EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
  });
}
