/**
 * What a pull has just downloaded and verified: the ids (checkout copies them without hashing them
 * again) and, up to a budget, their bytes, so that checkout writes the workspace files from memory
 * instead of reading each cache object back (a 15,000-file pull: one read per file instead of two).
 */
export class VerifiedObjects {
  private readonly ids = new Set<string>();
  private readonly kept = new Map<string, Uint8Array>();
  private keptBytes = 0;

  /** `budget`: how many bytes to keep in memory in all; past it only the ids are remembered. */
  constructor(private readonly budget = DEFAULT_BUDGET) {}

  add(id: string, bytes?: Uint8Array): void {
    this.ids.add(id);
    if (bytes === undefined || this.kept.has(id) || this.keptBytes + bytes.length > this.budget) return;
    this.kept.set(id, bytes);
    this.keptBytes += bytes.length;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** The verified bytes of `id`, when they were kept. */
  bytesOf(id: string): Uint8Array | undefined {
    return this.kept.get(id);
  }
}

const DEFAULT_BUDGET = 256 << 20;
