/** Which workspace folder a command started in `cwd` acts on (kept light: the thin client uses it). */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The nearest folder from `cwd` up that has a `.mlw/` folder (where the run store lives), so a
 * command run in a subfolder finds the workspace's runs; `cwd` itself when there is none yet.
 */
export function findWorkspaceRoot(cwd: string): string {
  let folder = resolve(cwd);
  for (;;) {
    if (existsSync(join(folder, '.mlw', 'runs.db'))) return folder;
    const parent = dirname(folder);
    if (parent === folder) return resolve(cwd);
    folder = parent;
  }
}
