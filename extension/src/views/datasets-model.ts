/**
 * What the Datasets view shows for the data service's answers, free of `vscode` so it is unit
 * tested: a dataset's state (clean, modified, not in the workspace, not in the cache, not pushed),
 * its description and tooltip, a version's row, the rows of its file browser, the progress line of
 * a transfer, and which paths a file-system event concerns.
 */
import type {
  DatasetFileEntry,
  DatasetFiles,
  DatasetStatus,
  DatasetVersion,
  FileChanges,
  TransferResult,
} from '../../../schemas/protocol/data';

export type DatasetState = 'modified' | 'not-in-workspace' | 'not-in-cache' | 'not-pushed' | 'clean';

const STATE_LABELS: Record<DatasetState, string> = {
  modified: 'modified',
  'not-in-workspace': 'not in workspace',
  'not-in-cache': 'not in cache',
  'not-pushed': 'not pushed',
  clean: 'clean',
};

/** Every state that applies, most pressing first (what the user should act on). */
export function datasetStates(status: DatasetStatus): DatasetState[] {
  const states: DatasetState[] = [];
  if (status.workspace === 'modified') states.push('modified');
  if (status.workspace === 'missing') states.push('not-in-workspace');
  if (status.cache !== 'complete') states.push('not-in-cache');
  if ((status.notPushed ?? 0) > 0) states.push('not-pushed');
  return states.length === 0 ? ['clean'] : states;
}

export function stateLabel(state: DatasetState): string {
  return STATE_LABELS[state];
}

/** The ThemeIcon id and colour id of a dataset's first state. */
export function stateIcon(state: DatasetState): { id: string; color: string | undefined } {
  switch (state) {
    case 'modified':
      return { id: 'diff-modified', color: 'gitDecoration.modifiedResourceForeground' };
    case 'not-in-workspace':
      return { id: 'cloud-download', color: 'gitDecoration.deletedResourceForeground' };
    case 'not-in-cache':
      return { id: 'warning', color: 'list.warningForeground' };
    case 'not-pushed':
      return { id: 'cloud-upload', color: 'gitDecoration.untrackedResourceForeground' };
    case 'clean':
      return { id: 'database', color: undefined };
  }
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1536 → "1.5 KB" (powers of 1024, as DVC and file managers show sizes). */
export function formatSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Size and file count as the pointer records them: "1.5 MB · 1,200 files". */
export function sizeText(status: Pick<DatasetStatus, 'size' | 'nfiles'>): string {
  const parts: string[] = [];
  if (status.size !== null) parts.push(formatSize(status.size));
  if (status.nfiles !== null)
    parts.push(`${status.nfiles.toLocaleString('en-US')} ${status.nfiles === 1 ? 'file' : 'files'}`);
  return parts.join(' · ');
}

export function datasetDescription(status: DatasetStatus): string {
  const states = datasetStates(status).map(stateLabel).join(', ');
  const size = sizeText(status);
  return size === '' ? states : `${states} · ${size}`;
}

export function datasetTooltip(status: DatasetStatus): string {
  const lines = [`${status.path} (${status.pointerFile}, md5 ${status.md5})`, datasetDescription(status)];
  if (status.changes) {
    const { added, removed, modified } = status.changes;
    const counts = [
      added.length > 0 ? `${added.length} added` : '',
      removed.length > 0 ? `${removed.length} removed` : '',
      modified.length > 0 ? `${modified.length} changed` : '',
    ].filter((part) => part !== '');
    if (counts.length > 0) lines.push(`Files: ${counts.join(', ')}`);
    const shown = [...added.map((p) => `+ ${p}`), ...removed.map((p) => `- ${p}`), ...modified.map((p) => `~ ${p}`)];
    lines.push(...shown.slice(0, 10), ...(shown.length > 10 ? [`… and ${shown.length - 10} more`] : []));
  }
  if (status.missingObjects) lines.push(`${plural(status.missingObjects, 'object')} missing from the cache`);
  if (status.notPushed)
    lines.push(`${plural(status.notPushed, 'object')} not on remote ${status.remote ?? ''}`.trimEnd());
  return lines.join('\n');
}

/** A version row: the commit's subject, then short hash · date · author · size. */
export function versionLabel(version: DatasetVersion): { label: string; description: string } {
  const subject = version.message.split('\n')[0] ?? '';
  const size = version.md5 === null ? 'deleted' : sizeText(version);
  const date = version.date.slice(0, 10);
  return {
    label: subject === '' ? version.commit.slice(0, 8) : subject,
    description: [version.commit.slice(0, 8), date, version.author, size].filter((part) => part !== '').join(' · '),
  };
}

/** "1,200/15,000 files · 12 MB of 80 MB · 4.1 MB/s" for a progress notification. */
export function transferProgressText(progress: {
  files: number;
  totalFiles: number;
  bytes: number;
  totalBytes: number | null;
  bytesPerSecond: number;
}): string {
  const files = `${progress.files.toLocaleString('en-US')}/${progress.totalFiles.toLocaleString('en-US')} files`;
  const bytes =
    progress.totalBytes === null
      ? formatSize(progress.bytes)
      : `${formatSize(progress.bytes)} of ${formatSize(progress.totalBytes)}`;
  const rate = progress.bytesPerSecond > 0 ? ` · ${formatSize(progress.bytesPerSecond)}/s` : '';
  return `${files} · ${bytes}${rate}`;
}

export function transferSummary(verb: 'pushed' | 'pulled', result: TransferResult): string {
  const failed = result.failed.length > 0 ? `; ${result.failed.length} failed (first: ${result.failed[0]!.error})` : '';
  return `${plural(result.transferred, 'object')} ${verb} (${formatSize(result.bytes)}), ${result.skipped} already there, remote ${result.remote}${failed}`;
}

/**
 * Whether a changed file (workspace-relative, '/'-separated) concerns the datasets: a pointer file,
 * or something inside a tracked path. Cache and git internals never do.
 */
export function concernsDatasets(relativePath: string, datasetPaths: readonly string[]): boolean {
  if (relativePath.startsWith('.dvc/') || relativePath.startsWith('.git/') || relativePath === '.git') return false;
  if (relativePath.endsWith('.dvc')) return true;
  return datasetPaths.some((path) => relativePath === path || relativePath.startsWith(`${path}/`));
}

/** A refusal the user can override: the agent's message tells them to use --force. */
export function isForceable(message: string): boolean {
  return /--force\b/.test(message);
}

/** A checkout refused because objects are not in the cache (the agent says to fetch them first). */
export function isNotCached(message: string): boolean {
  return /is not in the cache|are not in the cache/.test(message) && /fetch (it|them) first/.test(message);
}

/** Rows for the files that differ between a version and the workspace's pointer: added, removed, changed. */
export function diffRows(changes: FileChanges): { label: string; description: string }[] {
  return [
    ...changes.added.map((path) => ({ label: `$(diff-added) ${path}`, description: 'added since' })),
    ...changes.removed.map((path) => ({ label: `$(diff-removed) ${path}`, description: 'removed since' })),
    ...changes.modified.map((path) => ({ label: `$(diff-modified) ${path}`, description: 'changed since' })),
  ];
}

/** Entries asked for per folder of the file browser: a bigger folder ends in a "… N more" row, so the tree never hangs. */
export const FILES_PER_FOLDER = 1000;

const WORKSPACE_NOTES: Record<NonNullable<DatasetFileEntry['workspace']>, { short: string; long: string }> = {
  clean: { short: '', long: 'the workspace file matches' },
  modified: { short: 'modified', long: 'the workspace file differs' },
  missing: { short: 'not in workspace', long: 'not in the workspace (checkout or pull)' },
  unknown: {
    short: '',
    long: 'the workspace file changed since it was last hashed (Refresh tells whether its content did)',
  },
};

export interface EntryRow {
  readonly kind: 'folder' | 'file';
  readonly entry: DatasetFileEntry;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  /** For screen readers, and a stable handle for the end-to-end tests. */
  readonly accessibilityLabel: string;
  /** A file whose workspace copy exists: a click opens it. */
  readonly opens: boolean;
}

export type FileRow = EntryRow | { readonly kind: 'more'; readonly label: string; readonly tooltip: string };

function folderRow(entry: DatasetFileEntry): EntryRow {
  const count = plural(entry.nfiles ?? 0, 'file');
  return {
    kind: 'folder',
    entry,
    label: entry.name,
    description: count,
    tooltip: `${entry.path}\n${count}`,
    accessibilityLabel: `folder ${entry.name}, ${count}`,
    opens: false,
  };
}

function fileRow(entry: DatasetFileEntry): EntryRow {
  const size = entry.size === null ? 'size unknown (not in the cache)' : formatSize(entry.size);
  const note = entry.workspace === null ? undefined : WORKSPACE_NOTES[entry.workspace];
  const description = [entry.size === null ? '' : formatSize(entry.size), note?.short ?? '']
    .filter((part) => part !== '')
    .join(' · ');
  const tooltip = [
    entry.path,
    `md5 ${entry.md5 ?? '?'}`,
    entry.size === null ? size : `${entry.size.toLocaleString('en-US')} bytes`,
    ...(note ? [`Workspace: ${note.long}`] : []),
  ].join('\n');
  return {
    kind: 'file',
    entry,
    label: entry.name,
    description,
    tooltip,
    accessibilityLabel: `file ${entry.name}, ${[size, note?.short ?? ''].filter((part) => part !== '').join(', ')}`,
    opens: entry.workspace !== null && entry.workspace !== 'missing',
  };
}

/** The rows of one folder of the file browser: its folders, its files, then "… N more" when the agent capped it. */
export function fileRows(files: DatasetFiles): FileRow[] {
  const rows: FileRow[] = files.entries.map((entry) => (entry.isDirectory ? folderRow(entry) : fileRow(entry)));
  const rest = files.total - files.entries.length;
  if (rest > 0) {
    const where = files.folder === '' ? files.path : `${files.path} ${JSON.stringify(files.folder)}`;
    rows.push({
      kind: 'more',
      label: `… ${rest.toLocaleString('en-US')} more`,
      tooltip: `Only the first ${files.entries.length.toLocaleString('en-US')} of ${files.total.toLocaleString('en-US')} entries are shown; mlw data ls ${where} --limit ${files.total} lists them all.`,
    });
  }
  return rows;
}
