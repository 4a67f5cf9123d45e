/**
 * Runs a view's load one at a time: a request while one runs makes exactly one more afterwards, so
 * a burst of file events costs two loads at most and the last change is never missed.
 */
export class CoalescedReload {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly load: () => Promise<void>) {}

  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.load().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.request();
      }
    });
  }
}
