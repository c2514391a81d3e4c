/**
 * One shared clock for every countdown. Subscribers are called on whole-second (or
 * whole-minute) boundaries only; a component that shows seconds subscribes to `seconds`,
 * one that shows minutes to `minutes`, so most of the screen re-renders once a minute.
 */
export type Granularity = 'second' | 'minute';

export interface Clock {
  /** Current time floored to the granularity (stable between ticks, for useSyncExternalStore). */
  now(granularity: Granularity): number;
  subscribe(granularity: Granularity, listener: () => void): () => void;
  dispose(): void;
}

export function createClock(opts: { now?: () => number } = {}): Clock {
  const read = opts.now ?? Date.now;
  const listeners: Record<Granularity, Set<() => void>> = { second: new Set(), minute: new Set() };
  const current: Record<Granularity, number> = {
    second: floor(read(), 1000),
    minute: floor(read(), 60_000),
  };
  let timer: NodeJS.Timeout | undefined;

  const schedule = () => {
    if (timer || (listeners.second.size === 0 && listeners.minute.size === 0)) return;
    const t = read();
    const step = listeners.second.size > 0 ? 1000 : 60_000;
    timer = setTimeout(tick, step - (t % step) + 5);
    timer.unref?.();
  };
  const tick = () => {
    timer = undefined;
    const t = read();
    const s = floor(t, 1000);
    const m = floor(t, 60_000);
    const fire: Array<() => void> = [];
    if (s !== current.second) {
      current.second = s;
      fire.push(...listeners.second);
    }
    if (m !== current.minute) {
      current.minute = m;
      fire.push(...listeners.minute);
    }
    for (const l of fire) l();
    schedule();
  };

  return {
    now: (g) => {
      // Keep the value fresh for readers that render without subscribing yet.
      if (!timer) {
        const t = read();
        current.second = floor(t, 1000);
        current.minute = floor(t, 60_000);
      }
      return current[g];
    },
    subscribe(g, listener) {
      listeners[g].add(listener);
      if (timer && g === 'second' && listeners.second.size === 1) {
        clearTimeout(timer);
        timer = undefined;
      }
      schedule();
      return () => {
        listeners[g].delete(listener);
      };
    },
    dispose() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      listeners.second.clear();
      listeners.minute.clear();
    },
  };
}

function floor(t: number, step: number): number {
  return t - (t % step);
}
