/**
 * The pipeline's run cache: which succeeded run produced which outputs for which fingerprint, and
 * putting those outputs back from the content cache. The outputs themselves live in the artifact
 * cache the runs service fills (`.mlw/cache`, or `.dvc/cache` in a DVC workspace, DVC's layout);
 * this index only maps a fingerprint to the run and its artifacts, one small JSON file each under
 * `.mlw/pipeline/`, written to a temp name and renamed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { RunArtifact } from '../../../schemas/protocol/runs';
import { md5OfFile, md5OfListing, md5OfPath, type FileDigest } from '../runs/content';
import { promoteOutputs, type ProducedOutput } from '../runs/outputs';

const Parts = z.object({
  command: z.string(),
  env: z.record(z.string(), z.string()),
  outputs: z.array(z.string()),
  environment: z.string(),
  inputs: z.record(z.string(), z.string().nullable()),
  params: z.record(z.string(), z.string()),
});

export const CacheEntry = z.object({
  version: z.literal(1),
  fingerprint: z.string(),
  parts: Parts,
  /** The run that produced the outputs. */
  runId: z.string(),
  dagFile: z.string(),
  task: z.string(),
  outputs: z.array(z.object({ path: z.string(), folder: z.boolean() })),
  /** Workspace-relative paths of every output file with its md5 and size. */
  artifacts: z.array(z.object({ path: z.string(), md5: z.string(), size: z.number().int() })),
  at: z.number(),
});
export type CacheEntry = z.output<typeof CacheEntry>;

export class FingerprintIndex {
  constructor(private readonly root: string) {}

  static forWorkspace(workspaceRoot: string): FingerprintIndex {
    return new FingerprintIndex(join(workspaceRoot, '.mlw', 'pipeline'));
  }

  /** The entry of a run whose fingerprint was `digest`, if one succeeded with it. */
  byFingerprint(digest: string): Promise<CacheEntry | undefined> {
    return this.read(join(this.root, 'fingerprints', digest.slice(0, 2), `${digest}.json`));
  }

  /** The last succeeded run of an instance of a DAG file (what explain compares with). */
  latestFor(dagFile: string, task: string): Promise<CacheEntry | undefined> {
    return this.read(this.latestPath(dagFile, task));
  }

  async save(entry: CacheEntry): Promise<void> {
    const text = `${JSON.stringify(entry)}\n`;
    await writeAtomically(join(this.root, 'fingerprints', entry.fingerprint.slice(0, 2), `${entry.fingerprint}.json`), text);
    await writeAtomically(this.latestPath(entry.dagFile, entry.task), text);
  }

  private latestPath(dagFile: string, task: string): string {
    const file = createHash('sha256').update(dagFile).digest('hex').slice(0, 16);
    return join(this.root, 'tasks', file, `${task}.json`);
  }

  private async read(path: string): Promise<CacheEntry | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = CacheEntry.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined; // a damaged entry is a cache miss, never an error
    }
  }
}

/** The artifact cache's folder: DVC's when the workspace uses DVC, as the runs service chooses. */
export function artifactCacheRoot(workspaceRoot: string): string {
  const dvc = join(workspaceRoot, '.dvc');
  return existsSync(dvc) ? join(dvc, 'cache') : join(workspaceRoot, '.mlw', 'cache');
}

export function cachedFilePath(cacheRoot: string, md5: string): string {
  return join(cacheRoot, 'files', 'md5', md5.slice(0, 2), md5.slice(2));
}

/** The declared outputs' files among a run's artifacts (what `$MLW_OUTPUTS` held is not restored). */
export function outputArtifacts(outputs: readonly ProducedOutput[], artifacts: readonly RunArtifact[]): RunArtifact[] {
  return artifacts.filter((artifact) => outputs.some((output) => belongsTo(artifact.path, output)));
}

function belongsTo(path: string, output: ProducedOutput): boolean {
  return output.folder ? path.startsWith(`${output.path}/`) : path === output.path;
}

/** True when every file of the entry is in the content cache. */
export async function allCached(cacheRoot: string, entry: CacheEntry): Promise<boolean> {
  for (const artifact of entry.artifacts) {
    const info = await stat(cachedFilePath(cacheRoot, artifact.md5)).catch(() => undefined);
    if (!info || info.size !== artifact.size) return false;
  }
  return true;
}

/** The md5 an output has when it holds exactly the entry's files (DVC's `.dir` md5 for a folder). */
export function expectedMd5(output: ProducedOutput, artifacts: readonly RunArtifact[]): string | undefined {
  if (!output.folder) return artifacts.find((artifact) => artifact.path === output.path)?.md5;
  const files: FileDigest[] = artifacts
    .filter((artifact) => belongsTo(artifact.path, output))
    .map((artifact) => ({ relpath: artifact.path.slice(output.path.length + 1), md5: artifact.md5, size: artifact.size }))
    .sort((a, b) => (a.relpath < b.relpath ? -1 : a.relpath > b.relpath ? 1 : 0));
  return md5OfListing(files);
}

/**
 * Makes the workspace's outputs hold what the entry's run produced: an output already equal is left
 * alone; the others are assembled from the cache in a staging folder, then swapped in together
 * (the runs service's promoteOutputs), so a failure leaves the workspace as it was.
 * Resolves to the outputs it replaced.
 */
export async function restoreOutputs(workspaceRoot: string, cacheRoot: string, entry: CacheEntry): Promise<string[]> {
  const stale: ProducedOutput[] = [];
  for (const output of entry.outputs) {
    const current = await md5OfPath(join(workspaceRoot, output.path));
    if (current === undefined || current !== expectedMd5(output, entry.artifacts)) stale.push(output);
  }
  if (stale.length === 0) return [];
  const tag = `restore-${randomBytes(4).toString('hex')}`;
  const staging = join(workspaceRoot, '.mlw', 'pipeline', 'staging', tag);
  try {
    for (const output of stale) {
      if (output.folder) await mkdir(join(staging, output.path), { recursive: true });
      for (const artifact of entry.artifacts.filter((item) => belongsTo(item.path, output))) {
        const target = join(staging, artifact.path);
        await mkdir(dirname(target), { recursive: true });
        await copyFile(cachedFilePath(cacheRoot, artifact.md5), target);
        // The cache is trusted only as far as its content matches its name.
        if ((await md5OfFile(target)) !== artifact.md5) {
          throw new Error(`the cached copy of ${artifact.path} (${artifact.md5}) is damaged`);
        }
      }
    }
    await promoteOutputs(stale, staging, workspaceRoot, tag);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return stale.map((output) => output.path);
}

export async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, text);
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}
