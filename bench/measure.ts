/** What every benchmark here shares: the median of its samples, and the wall time of a command. */
import { spawnSync } from 'node:child_process';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Milliseconds the command took; throws with its exit code or signal and stderr's tail when it fails. */
export function timeCommand(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal ?? result.error?.message}): ${result.stderr.slice(-2000)}`);
  }
  return elapsed;
}

const RUNTIME_MARK = 'MLW_BENCH_RUNTIME_FLAGS';

/** True in a run that `inRuntime` started (whatever its flags). */
export function isRuntimeRun(): boolean {
  return process.env[RUNTIME_MARK] !== undefined;
}

/**
 * In-process benchmarks of agent code measure it in a Node started as the agent is
 * (extension/src/agent/launch.ts): if this process is not that run, runs this script again with
 * `flags` (output inherited, exit code passed on) and returns false; returns true in that run.
 */
export function inRuntime(flags: readonly string[]): boolean {
  if (process.env[RUNTIME_MARK] === flags.join(' ')) return true;
  const child = spawnSync(process.execPath, [...flags, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [RUNTIME_MARK]: flags.join(' ') },
  });
  if (child.status !== 0) process.exitCode = child.status ?? 1;
  return false;
}
