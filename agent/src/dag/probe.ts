/**
 * The workspace as the validator sees it: does an input exist, or is it a tracked dataset (a
 * DVC-style `PATH.dvc` pointer next to it, or next to a folder holding it)? Answers are cached for
 * the probe's lifetime — create one per validation.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import type { WorkspaceProbe } from './types';

export function fileSystemProbe(dagFolder: string): WorkspaceProbe {
  const exists = new Map<string, boolean>();
  const check = (relativePath: string): boolean => {
    let known = exists.get(relativePath);
    if (known === undefined) {
      known = existsSync(isAbsolute(relativePath) ? relativePath : join(dagFolder, relativePath));
      exists.set(relativePath, known);
    }
    return known;
  };
  return {
    exists: check,
    isTracked(relativePath) {
      // `data/raw/x.csv` is tracked by data/raw/x.csv.dvc, data/raw.dvc or data.dvc.
      let path = posix.normalize(relativePath).replace(/\/+$/, '');
      while (!['.', '..', '', '/'].includes(path)) {
        if (check(`${path}.dvc`)) return true;
        path = posix.dirname(path);
      }
      return false;
    },
  };
}
