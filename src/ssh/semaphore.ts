/** A counting semaphore with a FIFO queue and abortable waits. */
export class Semaphore {
  private active = 0;
  private readonly queue: Array<{ grant: () => void; reject: (e: unknown) => void }> = [];
  /** Highest number of holders seen at once (for tests and stats). */
  peak = 0;

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError('semaphore limit must be ≥ 1');
  }

  get inUse(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves with a release function (idempotent). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    if (this.active < this.limit) {
      this.take();
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          this.take();
          resolve(this.releaser());
        },
        reject,
      };
      const onAbort = () => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
    });
  }

  private take(): void {
    this.active++;
    if (this.active > this.peak) this.peak = this.active;
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active--;
      const next = this.queue.shift();
      if (next) next.grant();
    };
  }
}
