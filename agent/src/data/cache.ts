/**
 * DVC 3's local cache: `<cache>/files/md5/<first 2 hex>/<other 30 hex>` (a directory listing as
 * `….dir`). Objects are written under a temporary name in the same folder and renamed, so an object
 * under its final name is always complete. Files enter by reflink where the filesystem has it (libuv
 * falls back to a copy), or by copy; the hardlink and symlink modes then link the workspace to it.
 */
import { randomBytes } from 'node:crypto';
import { constants, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { UserError } from '../errors';
import { DIR_MD5_PATTERN, MD5_PATTERN, md5OfBytes, md5OfFile, type ListingEntry } from './hashing';
import { checkRelpath } from './safety';
import type { SmallFileCopier } from './small-copy';
import { z } from 'zod';

/** An object's file name inside its two-hex-digit folder (a 100,000-object cache is listed in one test each). */
const OBJECT_NAME = /^[0-9a-f]{30}(?:\.dir)?$/;

export function isObjectId(md5: string): boolean {
  return MD5_PATTERN.test(md5) || DIR_MD5_PATTERN.test(md5);
}

/** A name for a temporary file next to `path` that no other writer picks. */
export function temporaryName(path: string): string {
  return `${path}.${processTag}${(temporaryCount++).toString(36)}.tmp`;
}
const processTag = randomBytes(4).toString('hex');
let temporaryCount = 0;

const ListingSchema = z.array(z.object({ md5: z.string().regex(MD5_PATTERN), relpath: z.string() }).passthrough());

export class Cache {
  private readonly madeDirs = new Set<string>();
  private readonly listings = new Map<string, readonly ListingEntry[]>();

  readonly objectsRoot: string;

  constructor(readonly root: string) {
    this.objectsRoot = join(root, 'files', 'md5');
  }

  pathOf(md5: string): string {
    if (!isObjectId(md5)) throw new UserError(`not a DVC md5: ${JSON.stringify(md5)}`);
    // Called per file: concatenation, not path.join (objectsRoot is already normal).
    return `${this.objectsRoot}${sep}${md5.slice(0, 2)}${sep}${md5.slice(2)}`;
  }

  async has(md5: string): Promise<boolean> {
    try {
      await stat(this.pathOf(md5));
      return true;
    } catch {
      return false;
    }
  }

  /** Every object id present, from 256 directory listings rather than one stat per object. */
  async listAll(): Promise<Set<string>> {
    const present = new Set<string>();
    let prefixes: string[];
    try {
      prefixes = await readdir(this.objectsRoot);
    } catch {
      return present;
    }
    await Promise.all(
      prefixes
        .filter((prefix) => /^[0-9a-f]{2}$/.test(prefix))
        .map(async (prefix) => {
          for (const name of await readdir(join(this.objectsRoot, prefix))) {
            if (OBJECT_NAME.test(name)) present.add(prefix + name);
          }
        }),
    );
    return present;
  }

  /**
   * Changes whenever an object is added to or removed from the cache: a digest of the 256 object
   * folders' modification times (a folder's mtime moves with every entry created, renamed or
   * deleted in it). 257 syscalls instead of listing every object. Undefined while a folder was
   * modified in the last two seconds: on a filesystem with coarse timestamps a second change in the
   * same tick would not move its mtime (git's "racy" case), so such a stamp proves nothing.
   */
  async stamp(now = Date.now()): Promise<string | undefined> {
    let prefixes: string[];
    try {
      prefixes = (await readdir(this.objectsRoot)).sort();
    } catch {
      return 'no cache';
    }
    const times = await Promise.all(prefixes.map(async (prefix) => (await stat(join(this.objectsRoot, prefix), { bigint: true })).mtimeNs));
    if (times.some((mtimeNs) => Number(mtimeNs / 1_000_000n) > now - 2_000)) return undefined;
    return md5OfBytes(prefixes.map((prefix, index) => `${prefix}:${times[index]}`).join('\n'));
  }

  async ensureParent(md5: string): Promise<string> {
    const dir = `${this.objectsRoot}${sep}${md5.slice(0, 2)}`;
    if (!this.madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    return dir;
  }

  private ensureParentSync(md5: string): void {
    const dir = `${this.objectsRoot}${sep}${md5.slice(0, 2)}`;
    if (!this.madeDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
  }

  /**
   * Writes `bytes` as object `md5` (under a temporary name, then renamed), synchronously: for files
   * of a few KiB a libuv round trip per call costs more than the calls themselves.
   */
  writeObjectSync(md5: string, bytes: Uint8Array): void {
    this.placeObjectSync(md5, (temporary) => writeFileSync(temporary, bytes));
  }

  /**
   * Copies a small file into the cache as `md5` (under a temporary name, then renamed),
   * synchronously, through `copier` (small-copy.ts: not copyFile). The caller knows it is missing.
   */
  copyObjectSync(source: string, md5: string, copier: SmallFileCopier): void {
    this.placeObjectSync(md5, (temporary) => copier.copySync(source, temporary));
  }

  /** `write` fills a temporary name beside object `md5`, which is then renamed into place (or removed on failure). */
  private placeObjectSync(md5: string, write: (temporary: string) => void): void {
    this.ensureParentSync(md5);
    const target = this.pathOf(md5);
    const temporary = temporaryName(target);
    try {
      write(temporary);
      renameSync(temporary, target);
    } catch (error) {
      try {
        rmSync(temporary, { force: true });
      } catch {
        // the error that matters is the one thrown below
      }
      throw error;
    }
  }

  /** Puts a copy (reflink where possible) of `source` into the cache as `md5`, unless it is there. */
  async insertFile(source: string, md5: string, present?: Set<string>): Promise<void> {
    if (present ? present.has(md5) : await this.has(md5)) return;
    await this.ensureParent(md5);
    const target = this.pathOf(md5);
    const temporary = temporaryName(target);
    try {
      await copyFile(source, temporary, constants.COPYFILE_FICLONE);
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    present?.add(md5);
  }

  /**
   * A temporary name for an object whose md5 is not known yet (a large file hashed while copied, a
   * download): in the cache's own folder (same filesystem, so the final rename is atomic) but outside
   * `files/`, where DVC would take it for an object.
   */
  async stagingName(): Promise<string> {
    const dir = join(this.root, 'mlw-staging');
    if (!this.madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    return temporaryName(join(dir, 'object'));
  }

  /** Moves a staged file into place as `md5` (or drops it when the object is already there). */
  async adopt(staged: string, md5: string, present?: Set<string>): Promise<void> {
    if (present ? present.has(md5) : await this.has(md5)) {
      await rm(staged, { force: true });
      return;
    }
    await this.ensureParent(md5);
    renameSync(staged, this.pathOf(md5));
    present?.add(md5);
  }

  async insertBytes(md5: string, bytes: Uint8Array): Promise<void> {
    if (await this.has(md5)) return;
    await this.ensureParent(md5);
    const target = this.pathOf(md5);
    const temporary = temporaryName(target);
    await writeFile(temporary, bytes);
    await rename(temporary, target);
  }

  /** Makes an object read-only, as DVC protects the cache when the workspace links to it. */
  async protect(md5: string): Promise<void> {
    await chmod(this.pathOf(md5), 0o444);
  }

  /**
   * Reads and checks a directory listing: its md5 must match, every relpath must stay inside. Kept
   * once read (an object's content never changes under its name): a pull reads a 15,000-entry
   * listing up to three times, at ~50 ms a parse.
   */
  async readListing(dirMd5: string): Promise<readonly ListingEntry[]> {
    const listing = await this.readListingIfPresent(dirMd5);
    if (listing === undefined) throw new UserError(`${dirMd5} (a directory listing) is not in the cache ${this.root}: fetch it from a remote (mlw data fetch)`);
    return listing;
  }

  /** readListing, or undefined when the listing is not in the cache. */
  async readListingIfPresent(dirMd5: string): Promise<readonly ListingEntry[] | undefined> {
    const known = this.listings.get(dirMd5);
    if (known !== undefined) return known;
    const path = this.pathOf(dirMd5);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const listing = parseListing(bytes, path);
    this.listings.set(dirMd5, listing);
    return listing;
  }

  /** Whether the object's bytes hash to its name (a .dir listing: the listing's own bytes). */
  async verifyObject(md5: string): Promise<boolean> {
    const path = this.pathOf(md5);
    if (md5.endsWith('.dir')) return `${md5OfBytes(await readFile(path))}.dir` === md5;
    return (await md5OfFile(path)).md5 === md5;
  }
}

function isListingEntry(entry: unknown): boolean {
  if (typeof entry !== 'object' || entry === null) return false;
  const { md5, relpath } = entry as { md5?: unknown; relpath?: unknown };
  return typeof md5 === 'string' && MD5_PATTERN.test(md5) && typeof relpath === 'string';
}

export function parseListing(bytes: Buffer, where: string): ListingEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new UserError(`${where}: not a DVC directory listing (${(error as Error).message})`);
  }
  // The shape is checked by hand, in the same single pass as the relpaths: zod's parse of a
  // 15,000-entry listing cost ~40 ms per command (a push or pull reads one). Its schema stays the
  // reference for the message on a bad one.
  if (!Array.isArray(json)) throw badShape(json, where);
  const listing: ListingEntry[] = new Array<ListingEntry>(json.length);
  // A listing sorted by relpath (DVC writes them so) has no duplicate if each relpath is greater
  // than the one before; from the first that is not, every relpath goes into a set.
  let seen: Set<string> | undefined;
  let previous = '';
  for (let index = 0; index < json.length; index++) {
    const entry: unknown = json[index];
    if (!isListingEntry(entry)) throw badShape(json, where);
    const { md5, relpath } = entry as ListingEntry;
    checkRelpath(relpath, where);
    if (seen === undefined && index > 0 && !(previous < relpath)) seen = new Set(listing.slice(0, index).map((earlier) => earlier.relpath));
    if (seen !== undefined) {
      if (seen.has(relpath)) throw new UserError(`${where}: ${JSON.stringify(relpath)} is listed twice`);
      seen.add(relpath);
    }
    previous = relpath;
    listing[index] = { md5, relpath };
  }
  return listing;
}

function badShape(json: unknown, where: string): UserError {
  const parsed = ListingSchema.safeParse(json);
  return new UserError(`${where}: not a DVC directory listing (${parsed.success ? 'bad shape' : (parsed.error.issues[0]?.message ?? 'bad shape')})`);
}
