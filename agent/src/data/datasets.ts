/**
 * The tracked datasets of a workspace: every `*.dvc` pointer file (not `.dvc/` itself), found by a
 * walk that skips `.git`, `.dvc`, `node_modules` and the tracked data folders themselves (so a
 * 100,000-file dataset costs nothing here). PATH arguments name data or pointer files.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../errors';
import { pointerFileFor, readPointer, type Pointer } from './pointer';
import type { DataRepo } from './repo';

const SKIPPED = new Set(['.git', '.dvc', 'node_modules', '.mlw']);

export async function findPointerFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const names = new Set(entries.map((entry) => entry.name));
    const subdirs: string[] = [];
    for (const entry of entries) {
      if (entry.isFile() && entry.name.endsWith('.dvc') && entry.name !== '.dvc') found.push(join(dir, entry.name));
      else if (entry.isDirectory() && !SKIPPED.has(entry.name) && !names.has(`${entry.name}.dvc`)) subdirs.push(join(dir, entry.name));
    }
    await Promise.all(subdirs.map(visit));
  };
  await visit(root);
  return found.sort();
}

/** The pointers named by `paths` (data paths or pointer files), or every pointer when none is named. */
export async function selectPointers(repo: DataRepo, paths: readonly string[]): Promise<Pointer[]> {
  if (paths.length === 0) return Promise.all((await findPointerFiles(repo.root)).map(readPointer));
  const pointers: Pointer[] = [];
  for (const path of paths) {
    const absolute = resolve(path.replace(/[/\\]+$/, ''));
    const candidates = absolute.endsWith('.dvc') ? [absolute] : [pointerFileFor(absolute)];
    const file = candidates[0]!;
    const exists = await stat(file).then(
      (stats) => stats.isFile(),
      () => false,
    );
    if (!exists) throw new UserError(`${path}: not tracked (no ${file}); track it with mlw data add ${path}`, { code: 'not-tracked' });
    pointers.push(await readPointer(file));
  }
  return pointers;
}
