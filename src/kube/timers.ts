/** A sleep that can be cut short (close, reconnect), and capped exponential backoff with jitter. */

export class Sleeper {
  #pending: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  #closed = false;

  /** Resolves after `ms`, on `wake()`, or at once when closed. Timers never hold the process open. */
  wait(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.wake();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(
        () => {
          this.#pending = undefined;
          resolve();
        },
        Math.max(0, ms),
      );
      timer.unref?.();
      this.#pending = { timer, resolve };
    });
  }

  wake(): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    clearTimeout(p.timer);
    p.resolve();
  }

  close(): void {
    this.#closed = true;
    this.wake();
  }
}

/** `initial · 2^(attempt−1)`, capped, ±20 % jitter. */
export function backoffMs(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
