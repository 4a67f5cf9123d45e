/**
 * Batches what a running run reports — log lines and metric points — into the store, a few
 * transactions a second rather than one per line, and hands each committed batch on (to RPC
 * notifications and terminals). Batches are written in order; `flush` waits for all of them.
 */
import type { LogEntry, MetricPoint } from '../../../schemas/protocol/runs';
import type { NewLogEntry, RunStore } from './store';

/** How long a line may wait for others to share its transaction. */
const BATCH_DELAY_MS = 20;
const BATCH_SIZE = 500;

abstract class Batcher<Item> {
  private items: Item[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly onError: (error: Error) => void) {}

  protected push(item: Item): void {
    this.items.push(item);
    if (this.items.length >= BATCH_SIZE) this.schedule(0);
    else this.schedule(BATCH_DELAY_MS);
  }

  /** Writes everything added so far; resolves when it is committed. */
  flush(): Promise<void> {
    this.write();
    return this.writing;
  }

  protected abstract commit(items: Item[]): Promise<void>;

  private schedule(delay: number): void {
    if (this.timer && delay > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.write(), delay);
  }

  private write(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    this.writing = this.writing.then(() => this.commit(batch)).catch((error: Error) => this.onError(error));
  }
}

export class LogRecorder extends Batcher<NewLogEntry> {
  constructor(
    private readonly store: RunStore,
    private readonly runId: string,
    private readonly onCommitted: (entries: LogEntry[]) => void,
    onError: (error: Error) => void,
    private readonly clock: () => number = Date.now,
  ) {
    super(onError);
  }

  add(stream: LogEntry['stream'], text: string): void {
    this.push({ stream, text, at: this.clock() });
  }

  protected async commit(entries: NewLogEntry[]): Promise<void> {
    this.onCommitted(await this.store.appendLog(this.runId, entries));
  }
}

export class MetricsRecorder extends Batcher<MetricPoint> {
  constructor(
    private readonly store: RunStore,
    private readonly runId: string,
    private readonly onCommitted: (points: MetricPoint[]) => void,
    onError: (error: Error) => void,
    private readonly clock: () => number = Date.now,
  ) {
    super(onError);
  }

  add(points: readonly MetricPoint[]): void {
    for (const point of points) this.push(point);
  }

  protected async commit(points: MetricPoint[]): Promise<void> {
    await this.store.appendMetrics(this.runId, points, this.clock());
    this.onCommitted(points);
  }
}
