/**
 * Many small objects bound for an object store (a cache or a directory remote, `<2 hex>/<30 hex>`)
 * are written a folder at a time, in name order. A folder that does not exist yet is written as a
 * staging folder beside it, each object under its final name, and renamed into place once: on the
 * benchmark VM's ext4 a rename per object added 25-35% to creating it, and a first push or a pull
 * into an empty cache finds every folder missing.
 *
 * An object is visible under its final name only when complete either way: a staging folder is
 * renamed only when its writer stops normally (done, cancelled or failed, each file in it then
 * whole; a file that failed midway is removed first). One left by a kill is never renamed and
 * never listed (`has` and `listAll` read only `<2 hex>` folders); its objects are sent again.
 * If the folder appeared meanwhile (another writer), the staged files are moved in one by one.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { sep } from 'node:path';
import { temporaryName } from './cache';
import type { FolderGroups } from './transfer-thread';

export interface ObjectGroup {
  readonly prefix: string;
  readonly ids: readonly string[];
  /** The folder did not exist: write into a staging folder (`staging`), then `settle`. */
  readonly staged: boolean;
}

/**
 * `ids` sorted and cut into runs by `<2 hex>` folder of `root`, each marked staged when its folder
 * does not exist; the runs whose folder exists come first. Why first: a pull into an empty cache
 * stages every folder but the few its listings were just written to, and a writer optimised by V8
 * on staged runs alone was thrown back to the interpreter (and compiled again, ~25 ms of CPU) at the
 * first run that was not.
 */
export function groupByFolder(ids: readonly string[], root: string): ObjectGroup[] {
  const groups: ObjectGroup[] = [];
  let current: string[] = [];
  let prefix = '';
  const close = (): void => {
    if (current.length > 0) groups.push({ prefix, ids: current, staged: !existsSync(`${root}${sep}${prefix}`) });
  };
  for (const id of [...ids].sort()) {
    if (id.slice(0, 2) !== prefix) {
      close();
      current = [];
      prefix = id.slice(0, 2);
    }
    current.push(id);
  }
  close();
  return [...groups.filter((group) => !group.staged), ...groups.filter((group) => group.staged)];
}

/** The groups as a thread's job sees them, items in the order of `groups.flatMap((group) => group.ids)`. */
export function folderGroups(groups: readonly ObjectGroup[], root: string): FolderGroups {
  const starts = new Int32Array(groups.length + 1);
  const staged = new Uint8Array(groups.length);
  groups.forEach((group, index) => {
    starts[index + 1] = starts[index]! + group.ids.length;
    staged[index] = group.staged ? 1 : 0;
  });
  return { root, prefixes: groups.map((group) => group.prefix), starts, staged };
}

/**
 * Runs `write` for the group, then settles its staging folder. `write` gets the folder to write
 * final names into, or undefined to write each object under a temporary name and rename it (also
 * when the staging folder cannot be made).
 */
export async function writeGroup<T>(group: ObjectGroup, root: string, write: (into: string | undefined) => Promise<T>): Promise<T> {
  const folder = `${root}${sep}${group.prefix}`;
  if (!group.staged) return write(undefined);
  const staging = temporaryName(folder);
  try {
    mkdirSync(staging, { recursive: true });
  } catch {
    // The store cannot be written here (read-only, a file in the way): each object's own write
    // fails and is reported with its id, as when the folder exists.
    return write(undefined);
  }
  try {
    return await write(staging);
  } finally {
    settleFolder(staging, folder);
  }
}

/** Renames a staging folder into place; if the folder appeared meanwhile, moves its files in one by one. */
export function settleFolder(staging: string, folder: string): void {
  try {
    renameSync(staging, folder);
    return;
  } catch {
    // another writer made the folder: join it
  }
  mkdirSync(folder, { recursive: true });
  for (const name of readdirSync(staging)) renameSync(`${staging}${sep}${name}`, `${folder}${sep}${name}`);
  rmSync(staging, { recursive: true, force: true });
}
