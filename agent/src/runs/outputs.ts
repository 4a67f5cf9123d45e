/**
 * After a run succeeds: its declared outputs are stored in the artifact cache and put in the
 * workspace at their paths. Every output is first staged next to its target (a temp name in the
 * same folder), and only when all are staged is each swapped in by rename, so a failure leaves the
 * workspace's previous outputs as they were. A failed or cancelled run never gets here.
 */
import { randomBytes } from 'node:crypto';
import { cp, lstat, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { RunArtifact } from '../../../schemas/protocol/runs';
import { digestTree, type ArtifactCache } from './content';
import { LaunchError } from './errors';
import { assertInsideWorkspace } from './layout';

export interface ProducedOutput {
  /** Workspace-relative, forward slashes, no trailing slash. */
  readonly path: string;
  readonly folder: boolean;
}

export class MissingOutputError extends LaunchError {}

/** Stores every file of the outputs (and of `$MLW_OUTPUTS`) in the cache; symlinks are left out. */
export async function collectArtifacts(
  outputs: readonly ProducedOutput[],
  outputsRoot: string,
  adhocOutputsDir: string,
  cache: ArtifactCache,
): Promise<{ artifacts: RunArtifact[]; warnings: string[] }> {
  const artifacts: RunArtifact[] = [];
  const warnings: string[] = [];
  for (const output of outputs) {
    const source = join(outputsRoot, output.path);
    const info = await lstat(source).catch(() => undefined);
    if (!info || (output.folder ? !info.isDirectory() : !info.isFile())) {
      throw new MissingOutputError(
        `the run did not write its declared output ${output.path}${output.folder ? '/' : ''} (${info ? 'wrong kind of file' : 'missing'})`,
      );
    }
    if (output.folder) {
      const { files, skipped } = await digestTree(source);
      for (const file of files) {
        await cache.store(join(source, file.relpath));
        artifacts.push({ path: posix.join(output.path, file.relpath), md5: file.md5, size: file.size });
      }
      if (skipped.length > 0) warnings.push(`not kept (links or special files): ${skipped.map((s) => posix.join(output.path, s)).join(', ')}`);
    } else {
      artifacts.push({ path: output.path, md5: await cache.store(source), size: info.size });
    }
  }
  const adhoc = await lstat(adhocOutputsDir).catch(() => undefined);
  if (adhoc?.isDirectory()) {
    const { files, skipped } = await digestTree(adhocOutputsDir);
    for (const file of files) {
      await cache.store(join(adhocOutputsDir, file.relpath));
      artifacts.push({ path: posix.join('$MLW_OUTPUTS', file.relpath), md5: file.md5, size: file.size });
    }
    if (skipped.length > 0) warnings.push(`not kept from $MLW_OUTPUTS (links or special files): ${skipped.join(', ')}`);
  }
  return { artifacts, warnings };
}

/** Puts the outputs into the workspace: all staged first, then each swapped in by rename. */
export async function promoteOutputs(
  outputs: readonly ProducedOutput[],
  outputsRoot: string,
  workspaceRoot: string,
  runId: string,
): Promise<void> {
  const tag = `${runId}-${randomBytes(3).toString('hex')}`;
  const staged: { target: string; temp: string }[] = [];
  try {
    for (const output of outputs) {
      const target = join(workspaceRoot, output.path);
      await mkdir(dirname(target), { recursive: true });
      await assertInsideWorkspace(workspaceRoot, dirname(target), `output ${output.path}`);
      const temp = join(dirname(target), `.${posix.basename(output.path)}.mlw-${tag}.tmp`);
      await moveOrCopy(join(outputsRoot, output.path), temp);
      staged.push({ target, temp });
    }
  } catch (error) {
    await Promise.all(staged.map(({ temp }) => rm(temp, { recursive: true, force: true })));
    throw error;
  }
  for (const { target, temp } of staged) await swapIn(temp, target, tag);
}

async function moveOrCopy(source: string, destination: string): Promise<void> {
  try {
    await rename(source, destination);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    // Links are copied as links, never followed; collectArtifacts already warned about them.
    await cp(source, destination, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false });
  }
}

/** Replaces target with temp; a folder cannot be renamed over a folder, so the old one steps aside first. */
async function swapIn(temp: string, target: string, tag: string): Promise<void> {
  const existing = await lstat(target).catch(() => undefined);
  if (!existing) {
    await rename(temp, target);
    return;
  }
  if (!existing.isDirectory() && !(await lstat(temp)).isDirectory()) {
    await rename(temp, target);
    return;
  }
  const aside = `${target}.mlw-${tag}.old`;
  await rename(target, aside);
  try {
    await rename(temp, target);
  } catch (error) {
    await rename(aside, target);
    throw error;
  }
  await rm(aside, { recursive: true, force: true });
}
