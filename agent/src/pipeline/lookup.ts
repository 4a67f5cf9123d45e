/** Whether an earlier run can stand in for a task: same fingerprint, still recorded as succeeded, outputs still cached. */
import type { RunStore } from '../runs/store';
import { allCached, type CacheEntry, type FingerprintIndex } from './cache';

export type CacheLookup = { readonly hit: CacheEntry } | { readonly miss: string };

export async function lookUpCache(store: RunStore, index: FingerprintIndex, cacheRoot: string, digest: string): Promise<CacheLookup> {
  const entry = await index.byFingerprint(digest);
  if (!entry) return { miss: 'no earlier run with this fingerprint' };
  const run = await store.get(entry.runId);
  if (!run) return { miss: `run ${entry.runId}, which had this fingerprint, was deleted` };
  if (run.status !== 'succeeded') return { miss: `run ${entry.runId} is ${run.status}` };
  if (!(await allCached(cacheRoot, entry))) return { miss: `the outputs of run ${entry.runId} are no longer in the cache` };
  return { hit: entry };
}
