/**
 * A dataset's versions are the git history of its pointer file: each commit that changed it, with
 * the md5, size and file count the pointer held then. `diff` compares two versions' listings.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DatasetVersion, FileChanges } from '../../../schemas/protocol/data';
import { UserError } from '../errors';
import { checkRev, git, gitPathOf, showAt, showAtMany } from './git';
import { parsePointer, type Pointer } from './pointer';
import type { DataRepo } from './repo';
import { compareListings, pointerListing } from './status';

const FIELD = '\x1f';
const RECORD = '\x1e';

export async function datasetVersions(pointerFile: string, limit?: number): Promise<DatasetVersion[]> {
  const cwd = dirname(pointerFile);
  const { top, path } = await gitPathOf(cwd, pointerFile);
  const args = ['log', `--format=%H${FIELD}%aI${FIELD}%an${FIELD}%s${RECORD}`, '--no-textconv', ...(limit ? [`-n${limit}`] : []), '--', path];
  const output = await git(top, args);
  const commits = output
    .split(RECORD)
    .map((record) => record.replace(/^\n/, ''))
    .filter((record) => record.length > 0)
    .map((record) => {
      const [commit = '', date = '', author = '', message = ''] = record.split(FIELD);
      return { commit, date, author, message };
    });
  const contents = await showAtMany(
    top,
    commits.map((commit) => commit.commit),
    path,
  );
  return commits.map((commit, index) => {
    const text = contents[index];
    if (text === undefined) return { ...commit, md5: null, size: null, nfiles: null };
    try {
      const pointer = parsePointer(text, `${commit.commit.slice(0, 12)}:${path}`);
      return { ...commit, md5: pointer.md5, size: pointer.size ?? null, nfiles: pointer.nfiles ?? null };
    } catch {
      return { ...commit, md5: null, size: null, nfiles: null };
    }
  });
}

/** The pointer as it was at `rev` (parsed with the workspace's paths, so it checks out in place). */
export async function pointerAt(pointerFile: string, rev: string): Promise<{ pointer: Pointer; text: string }> {
  checkRev(rev);
  const { top, path } = await gitPathOf(dirname(pointerFile), pointerFile);
  const text = await showAt(top, rev, path);
  if (text === undefined) throw new UserError(`${pointerFile}: not present at revision ${rev}`, { code: 'not-tracked' });
  return { pointer: parsePointer(text, pointerFile), text };
}

export async function diffVersions(repo: DataRepo, pointerFile: string, from: string, to: string | undefined): Promise<FileChanges & { fromMd5: string | null; toMd5: string | null }> {
  const before = await pointerAt(pointerFile, from);
  const after = to ? await pointerAt(pointerFile, to) : { pointer: parsePointer(await readFile(pointerFile, 'utf8'), pointerFile) };
  const listingOf = async (pointer: Pointer, label: string) => {
    const listing = await pointerListing(repo, pointer);
    if (!listing) throw new UserError(`${pointerFile} at ${label}: its listing ${pointer.md5} is not in the cache; fetch it (mlw data fetch --rev ${label})`);
    return listing.map((entry) => (entry.relpath === '' ? { ...entry, relpath: pointer.path } : entry));
  };
  const changes = compareListings(await listingOf(before.pointer, from), await listingOf(after.pointer, to ?? 'the workspace'));
  return { ...changes, fromMd5: before.pointer.md5, toMd5: after.pointer.md5 };
}
