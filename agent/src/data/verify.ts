/**
 * `mlw data verify`: re-hash cache objects (all of them, or those of the named datasets) and report
 * every object whose bytes do not hash to its name, and every object a dataset needs that is absent.
 */
import type { VerifyResult } from '../../../schemas/protocol/data';
import { mapLimit } from './concurrency';
import type { Pointer } from './pointer';
import type { DataRepo } from './repo';

export async function verifyCache(repo: DataRepo, pointers: readonly Pointer[] | undefined): Promise<VerifyResult> {
  const present = await repo.cache.listAll();
  let ids: string[];
  const missing = new Set<string>();
  if (!pointers) ids = [...present];
  else {
    const wanted = new Set<string>();
    for (const pointer of pointers) {
      wanted.add(pointer.md5);
      if (pointer.isDirectory && present.has(pointer.md5)) {
        const listing = await repo.cache.readListing(pointer.md5).catch(() => []);
        for (const entry of listing) wanted.add(entry.md5);
      }
    }
    ids = [...wanted].filter((id) => present.has(id));
    for (const id of wanted) if (!present.has(id)) missing.add(id);
  }
  const corrupt: VerifyResult['corrupt'] = [];
  await mapLimit(ids.sort(), 8, async (md5) => {
    if (!(await repo.cache.verifyObject(md5))) corrupt.push({ md5, path: repo.cache.pathOf(md5) });
  });
  return { checked: ids.length, corrupt: corrupt.sort((a, b) => a.md5.localeCompare(b.md5)), missing: [...missing].sort() };
}
