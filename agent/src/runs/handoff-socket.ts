/**
 * Where a resident agent listens for `mlw run` hand-offs, shared by the agent and the thin client
 * (agent/src/cli/handoff-client.ts), so it must stay free of heavy imports.
 *
 * One socket per workspace folder, in a folder only this user can enter: `$XDG_RUNTIME_DIR/mlw` or
 * `<tmpdir>/mlw-<uid>`. Anyone who can connect can start containers as this user, so both sides
 * refuse a folder that is not a real directory owned by this user with no access for others. The
 * name is a hash of the folder's path: socket paths are limited to 107 bytes.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export function handOffDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && runtime.startsWith('/')) return join(runtime, 'mlw');
  return join(tmpdir(), `mlw-${currentUid()}`);
}

export function handOffSocketPath(workspaceRoot: string, directory = handOffDirectory()): string {
  const key = createHash('sha256').update(resolve(workspaceRoot)).digest('hex').slice(0, 24);
  return join(directory, `${key}.sock`);
}

/** Why `directory` may not hold hand-off sockets, or undefined when it is private to this user. */
export function directoryProblem(directory: string): string | undefined {
  let stats;
  try {
    stats = lstatSync(directory);
  } catch {
    return `${directory} does not exist`;
  }
  if (!stats.isDirectory()) return `${directory} is not a directory`;
  if (stats.uid !== currentUid()) return `${directory} belongs to another user (uid ${stats.uid})`;
  if ((stats.mode & 0o077) !== 0) return `${directory} can be entered by other users (mode ${(stats.mode & 0o777).toString(8)})`;
  return undefined;
}

/** Creates the private folder if it is missing; returns why it cannot be used, if it cannot. */
export function ensurePrivateDirectory(directory: string): string | undefined {
  try {
    mkdirSync(directory, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return `cannot create ${directory}: ${(error as Error).message}`;
  }
  return directoryProblem(directory);
}

function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}
