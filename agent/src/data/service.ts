/**
 * The datasets service: one entry point per operation, shared by the CLI and the RPC handlers.
 * Each call opens the workspace's DVC layout (config, cache, stat cache) and closes it after.
 */
import { rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CheckoutResult, DatasetFiles, DatasetStatus, DatasetSummary, TransferResult, VerifyResult } from '../../../schemas/protocol/data';
import type { Logger } from '../context';
import { UserError } from '../errors';
import { addPath, type AddResult } from './add';
import { listDatasetFolder } from './browse';
import { temporaryName } from './cache';
import { checkoutPointer } from './checkout';
import { findPointerFiles, selectPointers } from './datasets';
import { FreshFolders } from './fresh-folders';
import { pointerFileFor, readPointer, type Pointer } from './pointer';
import { openRemote, type Remote } from './remotes';
import { findDataRoot, openDataRepo, type DataRepo } from './repo';
import { datasetStatus } from './status';
import { fetch, push, type TransferProgress } from './transfer';
import { VerifiedObjects } from './verified-objects';
import { datasetVersions, diffVersions, pointerAt } from './versions';
import { verifyCache } from './verify';

export interface DataServiceOptions {
  /** Where the workspace is (a folder at or below the one holding .dvc/). */
  readonly cwd: string;
  readonly log: Logger;
}

export interface ProgressSink {
  (progress: TransferProgress & { readonly operation: 'add' | 'push' | 'fetch' | 'pull' | 'checkout' }): void;
}

export class DataService {
  constructor(private readonly options: DataServiceOptions) {}

  private async withRepo<T>(work: (repo: DataRepo) => Promise<T>, create = false): Promise<T> {
    const repo = await openDataRepo(this.options.cwd, { log: this.options.log, create });
    try {
      return await work(repo);
    } finally {
      repo.close();
    }
  }

  private async withRemote<T>(repo: DataRepo, name: string | undefined, work: (remote: Remote) => Promise<T>): Promise<T> {
    const remote = openRemote(repo.config, name, join(repo.dvcDir, 'config'));
    try {
      return await work(remote);
    } finally {
      remote.close();
    }
  }

  private resolvePaths(paths: readonly string[]): string[] {
    return paths.map((path) => resolve(this.options.cwd, path));
  }

  /** Whether this folder or one above it has a `.dvc` folder (anything was ever tracked). */
  async tracksData(): Promise<boolean> {
    return (await findDataRoot(this.options.cwd)) !== undefined;
  }

  async list(): Promise<DatasetSummary[]> {
    return this.withRepo(async (repo) => {
      const pointers = await Promise.all((await findPointerFiles(repo.root)).map(readPointer));
      return pointers.map((pointer) => ({
        path: repo.relative(pointer.dataPath),
        pointerFile: repo.relative(pointer.file),
        md5: pointer.md5,
        size: pointer.size ?? null,
        nfiles: pointer.nfiles ?? null,
        isDirectory: pointer.isDirectory,
      }));
    });
  }

  async add(paths: readonly string[], onProgress?: ProgressSink): Promise<AddResult[]> {
    if (paths.length === 0) throw new UserError('data add: name at least one file or folder');
    return this.withRepo(async (repo) => {
      const results: AddResult[] = [];
      for (const path of this.resolvePaths(paths)) {
        results.push(
          await addPath(repo, path, (event) =>
            onProgress?.({ operation: 'add', files: event.files, totalFiles: event.totalFiles, bytes: 0, totalBytes: null, bytesPerSecond: 0, done: event.done }),
          ),
        );
      }
      return results;
    }, true);
  }

  async status(paths: readonly string[], remoteName?: string, cloud = false): Promise<DatasetStatus[]> {
    return this.withRepo(async (repo) => {
      const pointers = await selectPointers(repo, this.resolvePaths(paths));
      let listed: Promise<Set<string>> | undefined;
      // Listed once, and only if some dataset's answer is not already known from its memo.
      const present = (): Promise<Set<string>> => (listed ??= repo.cache.listAll());
      const compare = async (remote?: Remote): Promise<DatasetStatus[]> => {
        const results: DatasetStatus[] = [];
        for (const pointer of pointers) {
          results.push(await datasetStatus(repo, pointer, present, remote ? { remote: { name: remote.name, has: (ids) => remote.has(ids) } } : {}));
        }
        return results;
      };
      return remoteName || cloud ? this.withRemote(repo, remoteName, compare) : compare();
    });
  }

  async checkout(paths: readonly string[], options: { rev?: string | undefined; force?: boolean; verified?: VerifiedObjects } = {}): Promise<CheckoutResult[]> {
    return this.withRepo(async (repo) => {
      const targets = await this.pointersAt(repo, paths, options.rev);
      const results: CheckoutResult[] = [];
      for (const { pointer, text } of targets) {
        results.push(await checkoutPointer(repo, pointer, { force: options.force ?? false, ...(options.verified ? { verified: options.verified } : {}) }));
        if (text !== undefined) await writeAtomically(pointer.file, text);
      }
      return results;
    });
  }

  /** The pointers named (or all), as in the workspace or as they were at `rev` (with their text then). */
  private async pointersAt(repo: DataRepo, paths: readonly string[], rev: string | undefined): Promise<Array<{ pointer: Pointer; text?: string }>> {
    if (!rev) return (await selectPointers(repo, this.resolvePaths(paths))).map((pointer) => ({ pointer }));
    const files =
      paths.length === 0 ? await findPointerFiles(repo.root) : this.resolvePaths(paths).map((path) => (path.endsWith('.dvc') ? path : pointerFileFor(path.replace(/[/\\]+$/, ''))));
    return Promise.all(files.map((file) => pointerAt(file, rev)));
  }

  async push(paths: readonly string[], remoteName?: string, onProgress?: ProgressSink, signal?: AbortSignal): Promise<TransferResult> {
    return this.withRepo(async (repo) => {
      const pointers = await selectPointers(repo, this.resolvePaths(paths));
      return this.withRemote(repo, remoteName, (remote) =>
        push(repo, remote, pointers, { ...(onProgress ? { onProgress: (progress) => onProgress({ ...progress, operation: 'push' }) } : {}), ...(signal ? { signal } : {}) }),
      );
    });
  }

  async fetch(
    paths: readonly string[],
    options: { remote?: string | undefined; rev?: string | undefined; verified?: VerifiedObjects } = {},
    onProgress?: ProgressSink,
    signal?: AbortSignal,
  ): Promise<TransferResult> {
    return this.withRepo(async (repo) => {
      const pointers = (await this.pointersAt(repo, paths, options.rev)).map((target) => target.pointer);
      return this.withRemote(repo, options.remote, (remote) =>
        fetch(repo, remote, pointers, {
          ...(onProgress ? { onProgress: (progress) => onProgress({ ...progress, operation: 'fetch' }) } : {}),
          ...(signal ? { signal } : {}),
          ...(options.verified ? { verified: options.verified } : {}),
        }),
      );
    });
  }

  /**
   * fetch, then checkout. A folder dataset whose folder does not exist yet is written as its
   * objects arrive and renamed into place whole (fresh-folders.ts); the others are checked out
   * from the bytes the fetch verified.
   */
  async pull(
    paths: readonly string[],
    options: { remote?: string | undefined; rev?: string | undefined; force?: boolean } = {},
    onProgress?: ProgressSink,
    signal?: AbortSignal,
  ): Promise<{ transfer: TransferResult; checkout: CheckoutResult[] }> {
    return this.withRepo(async (repo) => {
      const targets = await this.pointersAt(repo, paths, options.rev);
      const pointers = targets.map((target) => target.pointer);
      const verified = new VerifiedObjects();
      let fresh: FreshFolders | undefined;
      const transfer = await this.withRemote(repo, options.remote, (remote) =>
        fetch(repo, remote, pointers, {
          ...(onProgress ? { onProgress: (progress) => onProgress({ ...progress, operation: 'fetch' }) } : {}),
          ...(signal ? { signal } : {}),
          verified,
          places: async () => (fresh = await FreshFolders.plan(repo, pointers)),
        }),
      ).catch(async (error: unknown) => {
        await fresh?.abandon();
        throw error;
      });
      if (transfer.failed.length > 0) {
        await fresh?.abandon();
        throw new UserError(`data pull: ${transfer.failed.length} object(s) could not be fetched (first: ${transfer.failed[0]!.md5}: ${transfer.failed[0]!.error}); nothing was checked out`, { transfer });
      }
      const checkout: CheckoutResult[] = [];
      for (const { pointer, text } of targets) {
        checkout.push(fresh?.has(pointer) ? await fresh.finish(repo, pointer, verified) : await checkoutPointer(repo, pointer, { force: options.force ?? false, verified }));
        if (text !== undefined) await writeAtomically(pointer.file, text);
      }
      return { transfer, checkout };
    });
  }

  async versions(path: string, limit?: number): Promise<Awaited<ReturnType<typeof datasetVersions>>> {
    return this.withRepo(async (repo) => {
      const [pointer] = await selectPointers(repo, this.resolvePaths([path]));
      return datasetVersions(pointer!.file, limit);
    });
  }

  /** One folder level of a dataset's files, as its pointer in the workspace (or at `rev`) records them. */
  async files(path: string, options: { folder?: string | undefined; rev?: string | undefined; limit?: number | undefined } = {}): Promise<DatasetFiles> {
    return this.withRepo(async (repo) => {
      const [target] = await this.pointersAt(repo, [path], options.rev);
      return listDatasetFolder(repo, target!.pointer, { folder: options.folder ?? '', rev: options.rev, limit: options.limit ?? 1000 });
    });
  }

  async diff(path: string, from: string, to?: string): Promise<Awaited<ReturnType<typeof diffVersions>>> {
    return this.withRepo(async (repo) => {
      const absolute = this.resolvePaths([path])[0]!;
      const file = absolute.endsWith('.dvc') ? absolute : pointerFileFor(absolute.replace(/[/\\]+$/, ''));
      return diffVersions(repo, file, from, to);
    });
  }

  async verify(paths: readonly string[]): Promise<VerifyResult> {
    return this.withRepo(async (repo) => verifyCache(repo, paths.length === 0 ? undefined : await selectPointers(repo, this.resolvePaths(paths))));
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = temporaryName(file);
  await writeFile(temporary, text);
  await rename(temporary, file);
}
