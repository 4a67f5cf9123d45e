/** Runs `work` over `items` with at most `limit` in flight; results keep the items' order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Lets the event loop run (I/O callbacks, RPC requests) once every `every` calls. Small-file work
 * is done with synchronous fs calls — several times faster than a libuv round trip per call for
 * files of a few KiB — so long loops call this to stay responsive.
 */
export function yielder(every = 256): () => Promise<void> | undefined {
  let count = 0;
  return () => (++count % every === 0 ? new Promise<void>((resolve) => setImmediate(resolve)) : undefined);
}
