/**
 * Content hashes of files keyed by what `stat` says of them (inode, size, mtime), so deciding that
 * an unchanged build context is unchanged reads no file: a JSON file in `.mlw/` holds the entries
 * across processes. Kept as JSON rather than SQLite: it is read whole on every decision (a few
 * hundred kilobytes for thousands of files parse in a millisecond or two) and needs no native module.
 *
 * A file modified in the same clock tick as it was hashed could keep its (size, mtime): entries for
 * files changed less than RACY_MS before hashing are used once and never written (git's "racy
 * clean" problem, solved the same way).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

const RACY_MS = 100;
const FORMAT_VERSION = 1;

/** [inode, size, mtimeMs, sha256 hex] */
const Entry = z.tuple([z.number(), z.number(), z.number(), z.string()]);
const CacheFile = z.object({ version: z.literal(FORMAT_VERSION), entries: z.record(z.string(), Entry) });
type Entry = z.output<typeof Entry>;

export class HashCache {
  private readonly entries = new Map<string, Entry>();
  private dirty = false;

  private constructor(private readonly file: string | undefined) {}

  /** Loads the cache at `file`; a missing or unreadable file starts an empty cache (it is only a cache). */
  static load(file: string): HashCache {
    const cache = new HashCache(file);
    try {
      const parsed = CacheFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (parsed.success) for (const [path, entry] of Object.entries(parsed.data.entries)) cache.entries.set(path, entry);
    } catch {
      // absent or torn: rebuilt by hashing
    }
    return cache;
  }

  static inMemory(): HashCache {
    return new HashCache(undefined);
  }

  /** The sha256 of the file at `path` whose stats are `stats`, read only when the stats changed. */
  hashOf(path: string, stats: Stats): string {
    const known = this.entries.get(path);
    if (known && known[0] === stats.ino && known[1] === stats.size && known[2] === stats.mtimeMs) return known[3];
    const hashedAt = Date.now();
    const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    if (stats.mtimeMs < hashedAt - RACY_MS) {
      this.entries.set(path, [stats.ino, stats.size, stats.mtimeMs, sha256]);
      this.dirty = true;
    } else if (known) {
      this.entries.delete(path);
      this.dirty = true;
    }
    return sha256;
  }

  /** Writes the entries when any changed (temp file + rename: a reader never sees half a file). */
  save(): void {
    if (!this.file || !this.dirty) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ version: FORMAT_VERSION, entries: Object.fromEntries(this.entries) }));
    renameSync(temp, this.file);
    this.dirty = false;
  }

  /** Forgets entries of files under `prefix` that were not seen in the last walk (deleted files). */
  retainUnder(prefix: string, seen: ReadonlySet<string>): void {
    for (const path of this.entries.keys()) {
      if (path.startsWith(prefix) && !seen.has(path)) {
        this.entries.delete(path);
        this.dirty = true;
      }
    }
  }
}
