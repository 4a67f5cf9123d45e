/**
 * The wait for a free slot. Runs beyond the concurrency limit of their pool (CPU or GPU) stay
 * queued, highest priority first, then oldest. The store decides who goes (claimSlot is one atomic
 * step), so several processes sharing a workspace never run more than the limit together; a
 * waiter tries again whenever the store changes (a run ended, was cancelled, or was deleted).
 */
import type { RunStore, SlotClass } from './store';
import type { StoreWatcher } from './store-watch';

const DEAD_OWNER_CHECK_MS = 5_000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export interface SlotLimits {
  readonly cpu: number;
  readonly gpu: number;
}

export class SlotQueue {
  constructor(
    private readonly store: RunStore,
    private readonly watcher: StoreWatcher,
    private readonly limits: SlotLimits,
    private readonly clock: () => number,
    /** Called while blocked: frees slots held by runs whose supervising process died. */
    private readonly reap: () => Promise<void>,
  ) {}

  /** Resolves true once the run holds a slot (it is then running), false if it left the queue. */
  async acquire(runId: string, slotClass: SlotClass): Promise<boolean> {
    const limit = slotClass === 'gpu' ? this.limits.gpu : this.limits.cpu;
    for (;;) {
      // Listen before looking, so a change between the look and the wait is not missed.
      const changed = this.watcher.next();
      if (await this.store.claimSlot(runId, limit, this.clock())) return true;
      const run = await this.store.get(runId);
      if (!run || run.status !== 'queued') return false;
      await this.reap();
      // A process that dies writes nothing to the store, so no event says its slot is free: while
      // blocked, look again now and then as well.
      await Promise.race([changed, delay(DEAD_OWNER_CHECK_MS)]);
    }
  }
}
