/**
 * Content addressing for runs: the md5 of each input (as DVC computes it, so a dataset's md5 from
 * its `.dvc` pointer and one computed here agree) and the artifact cache, laid out like DVC's
 * (`files/md5/<2 hex>/<30 hex>`). Symlinks are never followed: a run's output cannot make mlw read
 * or copy a file outside it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

export interface FileDigest {
  /** Relative to the hashed root, with forward slashes. */
  readonly relpath: string;
  readonly md5: string;
  readonly size: number;
}

/** Files up to this size are read whole: a stream's set-up costs more than reading them. */
const WHOLE_READ_LIMIT = 1 << 20;

/** `size`, when the caller has just stat'ed the file, picks the whole-read path for small files. */
export async function md5OfFile(path: string, size?: number): Promise<string> {
  if (size !== undefined && size <= WHOLE_READ_LIMIT) return createHash('md5').update(await readFile(path)).digest('hex');
  const hash = createHash('md5');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Every regular file under `root` (symlinks skipped), sorted by path. */
export async function digestTree(root: string): Promise<{ files: FileDigest[]; skipped: string[] }> {
  const files: FileDigest[] = [];
  const skipped: string[] = [];
  async function walk(dir: string, prefix: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const relpath = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full, relpath);
      else if (entry.isFile()) {
        const { size } = await stat(full);
        files.push({ relpath, md5: await md5OfFile(full, size), size });
      }
      else skipped.push(relpath);
    }
  }
  await walk(root, '');
  files.sort((a, b) => (a.relpath < b.relpath ? -1 : a.relpath > b.relpath ? 1 : 0));
  return { files, skipped };
}

/** DVC's md5 of a directory: of its listing, as Python's json.dumps(sort_keys=True) writes it. */
export function md5OfListing(files: readonly FileDigest[]): string {
  const listing = `[${files.map((file) => `{"md5": "${file.md5}", "relpath": ${pythonJsonString(file.relpath)}}`).join(', ')}]`;
  return `${createHash('md5').update(listing).digest('hex')}.dir`;
}

/** The md5 of a file, or DVC's `<md5>.dir` of a directory; undefined when the path does not exist. */
export async function md5OfPath(path: string): Promise<string | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return undefined;
  if (info.isFile()) return md5OfFile(path, info.size);
  if (info.isDirectory()) return md5OfListing((await digestTree(path)).files);
  return undefined;
}

/** json.dumps's string form: non-ASCII escaped as \uXXXX (ensure_ascii), like DVC. */
function pythonJsonString(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Where artifacts are kept by content. */
export interface ArtifactCache {
  /** Stores a file (if not already there) and returns its md5. */
  store(path: string): Promise<string>;
}

/** A DVC-layout cache folder: `<root>/files/md5/ab/cdef…`; files are written to a temp name, then renamed. */
export class DirectoryArtifactCache implements ArtifactCache {
  constructor(readonly root: string) {}

  async store(path: string): Promise<string> {
    const md5 = await md5OfFile(path);
    const target = join(this.root, 'files', 'md5', md5.slice(0, 2), md5.slice(2));
    if (await stat(target).then(() => true, () => false)) return md5;
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await copyFile(path, temp);
      await rename(temp, target);
    } finally {
      await rm(temp, { force: true });
    }
    return md5;
  }
}
