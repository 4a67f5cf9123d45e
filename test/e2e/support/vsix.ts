/**
 * The .vsix under test: packaged from the current dist/ (rebuilt first only when a source is newer)
 * into a temp dir, so the test never rewrites files other tests are using.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestMtime(join(path, entry))), stat.mtimeMs);
}

function bundlesAreFresh(): boolean {
  const bundles = ['dist/agent.js', 'dist/extension.js'].map((file) => join(REPO_ROOT, file));
  if (!bundles.every((file) => existsSync(file))) return false;
  const oldestBundle = Math.min(...bundles.map((file) => statSync(file).mtimeMs));
  const sources = ['agent/src', 'extension/src', 'schemas', 'package.json'].map((path) => join(REPO_ROOT, path));
  return sources.every((source) => newestMtime(source) <= oldestBundle);
}

/** Returns the path of a freshly packaged .vsix in `outDir`. */
export async function packageVsix(outDir: string): Promise<string> {
  if (!bundlesAreFresh()) await run(process.execPath, ['scripts/build.mjs'], { cwd: REPO_ROOT });
  const out = join(outDir, 'mlops-workbench.vsix');
  const vsce = join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  await run(process.execPath, [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', out], {
    cwd: REPO_ROOT,
  });
  return out;
}
