/**
 * A published run's artifacts on the data remote: `mlw push` uploads them (through the datasets
 * service's transfers: existence checked first, so nothing goes up twice, each object renamed into
 * place only when complete) before it pushes any run ref, so a run the team can see never names an
 * object the remote lacks. `mlw pull` fetches the pulled runs' artifacts into the cache, each
 * verified by md5 on arrival.
 *
 * Artifacts live in the workspace's data cache (`.dvc/cache`, runs/content.ts) when the workspace
 * has a `.dvc/` folder, else in `.mlw/cache`; without a data remote they stay local and the caller
 * says so, with how to configure one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { copyFile, rename, rm } from 'node:fs/promises';
import { Cache, temporaryName } from '../data/cache';
import type { Logger } from '../context';
import { UserError } from '../errors';
import type { Pointer } from '../data/pointer';
import { openRemote, type Remote } from '../data/remotes';
import { findDataRoot, openDataRepo, type DataRepo } from '../data/repo';
import { fetch, push } from '../data/transfer';

/** What happened to the artifacts of the runs a push or pull moved. */
export interface ArtifactTransfer {
  /** The data remote's name, or null when the artifacts stayed local. */
  readonly remote: string | null;
  /** Objects copied now. */
  readonly transferred: number;
  /** Objects the destination already had. */
  readonly skipped: number;
  readonly bytes: number;
  /** Why nothing moved and how to change that; null when a data remote was used. */
  readonly localOnly: string | null;
}

export interface ArtifactRef {
  readonly runId: string;
  readonly path: string;
  readonly md5: string;
  /**
   * Of a run the git remote already has (published before a data remote was configured): uploaded
   * if the data remote lacks it; if the object is gone, a warning, not a stop.
   */
  readonly alreadyPublished?: boolean;
}

const NO_DVC =
  'the workspace has no .dvc folder, so run artifacts stay in .mlw/cache on this machine; to share them, configure a data remote: `dvc init && dvc remote add -d storage URL` (or write .dvc/config with `[core] remote = storage` and a `[\'remote "storage"\'] url = PATH-or-s3://…` section)';
const NO_REMOTE = (configFile: string) =>
  `${configFile} names no default data remote, so run artifacts stay in the local cache; add one: \`dvc remote add -d storage URL\` (or \`[core] remote = NAME\` and a \`['remote "NAME"'] url = …\` section)`;

const nothing = (localOnly: string | null, remote: string | null = null): ArtifactTransfer => ({
  remote,
  transferred: 0,
  skipped: 0,
  bytes: 0,
  localOnly,
});

/** An artifact object as a pointer for the transfers (artifacts are single files, never `.dir`). */
function objectPointer(md5: string): Pointer {
  return { file: '', md5, size: undefined, nfiles: undefined, path: md5, dataPath: md5, isDirectory: false };
}

/**
 * Where the runs service keeps artifacts (runs/service.ts defaultArtifactCache): `.dvc/cache` when
 * the workspace folder itself has `.dvc/`, else `.mlw/cache` — also when a `.dvc/` further up
 * supplies the data remote.
 */
function artifactCacheRoot(workspaceRoot: string): string {
  const dvc = join(workspaceRoot, '.dvc');
  return existsSync(dvc) ? join(dvc, 'cache') : join(workspaceRoot, '.mlw', 'cache');
}

/** Runs from before the workspace had `.dvc/` kept their artifacts in `.mlw/cache`. */
function earlierCacheRoot(workspaceRoot: string): string | undefined {
  const earlier = join(workspaceRoot, '.mlw', 'cache');
  return earlier !== artifactCacheRoot(workspaceRoot) && existsSync(earlier) ? earlier : undefined;
}

/** Copies the objects `ids` from `from` into `to` (temp name, then rename); returns those copied. */
async function copyObjects(from: Cache, to: Cache, ids: readonly string[]): Promise<Set<string>> {
  const there = await from.listAll();
  const copied = new Set<string>();
  for (const id of ids) {
    if (!there.has(id)) continue;
    await to.ensureParent(id);
    const temporary = temporaryName(to.pathOf(id));
    try {
      await copyFile(from.pathOf(id), temporary);
      await rename(temporary, to.pathOf(id));
    } finally {
      await rm(temporary, { force: true });
    }
    copied.add(id);
  }
  return copied;
}

/** Opens the workspace's data repo (with the artifact cache as its cache) and default remote, or says why there is none. */
async function withDataRemote<T>(
  workspaceRoot: string,
  log: Logger,
  work: (repo: DataRepo, remote: Remote) => Promise<T>,
  without: (reason: string) => T,
): Promise<T> {
  if (!(await findDataRoot(workspaceRoot))) return without(NO_DVC);
  const repo = await openDataRepo(workspaceRoot, { log });
  try {
    const configFile = join(repo.dvcDir, 'config');
    if (!repo.config.defaultRemote) return without(NO_REMOTE(configFile));
    const remote = openRemote(repo.config, undefined, configFile);
    try {
      return await work({ ...repo, cache: new Cache(artifactCacheRoot(workspaceRoot)) }, remote);
    } finally {
      remote.close();
    }
  } finally {
    repo.close();
  }
}

/**
 * Uploads the objects of `artifacts` the data remote lacks. Throws (before anything is published)
 * when an object is neither in the local cache nor on the remote, or when an upload fails.
 */
export async function uploadArtifacts(
  workspaceRoot: string,
  artifacts: readonly ArtifactRef[],
  log: Logger,
): Promise<ArtifactTransfer> {
  if (artifacts.length === 0) return nothing(null);
  return withDataRemote<ArtifactTransfer>(
    workspaceRoot,
    log,
    async (repo, remote) => {
      const ids = [...new Set(artifacts.map((artifact) => artifact.md5))];
      if (ids.length === 0) return nothing(null, remote.name);
      const [local, onRemote] = await Promise.all([
        repo.cache.listAll(),
        remote.has(ids).catch((error: Error) => {
          throw new UserError(`cannot reach the data remote ${remote.name} (${remote.url}): ${error.message}; no run was published, run \`mlw push\` again once it answers`);
        }),
      ]);
      const absent = ids.filter((id) => !local.has(id) && !onRemote.has(id));
      const earlier = earlierCacheRoot(workspaceRoot);
      const recovered = absent.length > 0 && earlier ? await copyObjects(new Cache(earlier), repo.cache, absent) : new Set<string>();
      const gone = new Set(absent.filter((id) => !recovered.has(id)));
      const lost = artifacts.filter((artifact) => gone.has(artifact.md5) && !artifact.alreadyPublished);
      if (lost.length > 0) {
        const first = lost[0]!;
        throw new UserError(
          `run ${first.runId}: artifact ${first.path} (${first.md5}) is neither in the cache ${repo.cache.root} nor on the data remote ${remote.name}${lost.length > 1 ? ` (and ${lost.length - 1} more)` : ''}; nothing was published — push the other runs by id (mlw push RUN…)`,
        );
      }
      for (const artifact of artifacts.filter((candidate) => gone.has(candidate.md5))) {
        log.warn(`run ${artifact.runId} (already published): artifact ${artifact.path} (${artifact.md5}) is in no cache here and not on ${remote.name}; teammates cannot fetch it`);
      }
      const toSend = ids.filter((id) => !onRemote.has(id) && !gone.has(id));
      const result = await push(repo, remote, toSend.map(objectPointer));
      if (result.failed.length > 0) {
        const first = result.failed[0]!;
        throw new UserError(
          `uploading run artifacts to the data remote ${remote.name} failed (${result.failed.length} object(s); first ${first.md5}: ${first.error}); no run was published, run \`mlw push\` again once the remote is writable`,
        );
      }
      return { remote: remote.name, transferred: result.transferred, skipped: onRemote.size + result.skipped, bytes: result.bytes, localOnly: null };
    },
    (reason) => nothing(reason),
  );
}

/** Fetches the objects of `artifacts` the cache lacks; each is stored only if its bytes hash to its md5. */
export async function fetchArtifacts(
  workspaceRoot: string,
  artifacts: readonly ArtifactRef[],
  log: Logger,
): Promise<ArtifactTransfer & { readonly failed: readonly { md5: string; error: string }[] }> {
  if (artifacts.length === 0) return { ...nothing(null), failed: [] };
  return withDataRemote<ArtifactTransfer & { readonly failed: readonly { md5: string; error: string }[] }>(
    workspaceRoot,
    log,
    async (repo, remote) => {
      const ids = [...new Set(artifacts.map((artifact) => artifact.md5))];
      const result = await fetch(repo, remote, ids.map(objectPointer));
      return { remote: remote.name, transferred: result.transferred, skipped: result.skipped, bytes: result.bytes, localOnly: null, failed: result.failed };
    },
    (reason) => ({ ...nothing(reason), failed: [] }),
  );
}
