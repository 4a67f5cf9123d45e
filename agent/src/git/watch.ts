/**
 * Watches a repository's HEAD and refs with fs.watch (never polling) and reports a change once a
 * burst of events has settled: a checkout or fetch rewrites many files (locks, then renames), and
 * the view wants one refresh. Watched: the work tree's git dir (HEAD, MERGE_HEAD…), the common
 * dir (packed-refs, FETCH_HEAD) and its refs/ tree recursively.
 */
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Repo } from './repo';

/** The git-dir entries whose change means HEAD or refs changed (not index, logs or objects). */
const TOP_LEVEL = new Set(['HEAD', 'packed-refs', 'MERGE_HEAD', 'ORIG_HEAD', 'FETCH_HEAD', 'refs']);

export interface RepoWatcher {
  close(): void;
}

export interface WatchOptions {
  readonly debounceMs?: number;
  /** Whether the watch keeps the process alive (the agent: no, its connection does that). */
  readonly persistent?: boolean;
}

export function watchRepo(repo: Repo, onChange: () => void, options: WatchOptions = {}): RepoWatcher {
  const debounceMs = options.debounceMs ?? 150;
  const persistent = options.persistent ?? true;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const schedule = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, debounceMs);
    if (!persistent) timer.unref();
  };
  const onTopLevel = (_event: string, file: string | Buffer | null): void => {
    const name = file === null ? null : file.toString();
    if (name === null || TOP_LEVEL.has(name) || TOP_LEVEL.has(name.replace(/\.lock$/, ''))) schedule();
  };
  const watchers: FSWatcher[] = [watch(repo.gitDir, { persistent }, onTopLevel)];
  if (repo.commonDir !== repo.gitDir) watchers.push(watch(repo.commonDir, { persistent }, onTopLevel));
  watchers.push(watch(join(repo.commonDir, 'refs'), { persistent, recursive: true }, () => schedule()));
  for (const watcher of watchers) watcher.on('error', () => schedule());
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
