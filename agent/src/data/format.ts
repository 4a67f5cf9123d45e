/** Human-readable output of the data commands (the --json forms print the protocol types as they are). */
import type { DatasetFiles, DatasetStatus } from '../../../schemas/protocol/data';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  // Whole bytes (a rate of 41.1 bytes a second prints as 41 B).
  let value = Math.round(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function statusLines(statuses: readonly DatasetStatus[]): string[] {
  if (statuses.length === 0) return ['no tracked datasets (track one: mlw data add PATH)'];
  const lines: string[] = [];
  for (const status of statuses) {
    const notes: string[] = [status.workspace];
    if (status.cache === 'incomplete') notes.push(`missing from the cache: ${status.missingObjects} object(s)`);
    if (status.cache === 'unknown') notes.push('listing not in the cache');
    if (status.notPushed) notes.push(`not pushed to ${status.remote}: ${status.notPushed} object(s)`);
    else if (status.remote) notes.push(`pushed to ${status.remote}`);
    lines.push(`${status.path}: ${notes.join(', ')}`);
    const changes = status.changes;
    if (changes) {
      for (const relpath of changes.added) lines.push(`  added:    ${relpath}`);
      for (const relpath of changes.removed) lines.push(`  removed:  ${relpath}`);
      for (const relpath of changes.modified) lines.push(`  modified: ${relpath}`);
    }
  }
  return lines;
}

/** `mlw data ls`: a row per entry — size (a folder: its file count), the workspace state, the name (a folder ends in '/'). */
export function filesLines(files: DatasetFiles): string[] {
  const rows = files.entries.map((entry) => {
    const size = entry.isDirectory ? `${entry.nfiles ?? 0} file${entry.nfiles === 1 ? '' : 's'}` : entry.size === null ? '?' : formatBytes(entry.size);
    return `${size.padStart(11)}  ${(entry.workspace ?? '').padEnd(8)}  ${entry.name}${entry.isDirectory ? '/' : ''}`;
  });
  if (files.total > files.entries.length) rows.push(`… ${files.total - files.entries.length} more (--limit)`);
  return rows;
}
