/**
 * Opens a SQLite file with better-sqlite3, loaded on first use so the agent still starts where the
 * native module is missing. The packaged agent (dist/agent.js in the .vsix) carries no node_modules:
 * scripts/build.mjs bundles better-sqlite3's JavaScript and copies its native module next to the
 * bundle, which is used when present. That module is built for the Node ABI of `npm ci` (Node 20,
 * code-server's runtime); VS Code desktop's Electron needs `mlw.agent.nodePath` set to a Node 20.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

export function openSqliteFile(file: string, options: BetterSqlite3.Options = {}): BetterSqlite3.Database {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Driver = require('better-sqlite3') as typeof BetterSqlite3;
  const packaged = join(__dirname, 'better_sqlite3.node');
  return new Driver(file, existsSync(packaged) ? { ...options, nativeBinding: packaged } : options);
}
