/**
 * One shared clock for every countdown. Subscribers are called on whole-second (or
 * whole-minute) boundaries only; a component that shows seconds subscribes to `seconds`,
 * one that shows minutes to `minutes`, so most of the screen re-renders once a minute.
 * `half-second` is for a live pane that would draw twice a second (none does since
 * 2026-12-07: the flows draw on the seconds): on a whole second its listeners are called in
 * the same tick as the seconds' ones, so React renders both in one pass and Ink draws one
 * frame, not two.
 */
export type Granularity = 'half-second' | 'second' | 'minute';

const STEP: Record<Granularity, number> = { 'half-second': 500, second: 1000, minute: 60_000 };

export interface Clock {
  /** Current time floored to the granularity (stable between ticks, for useSyncExternalStore). */
  now(granularity: Granularity): number;
  subscribe(granularity: Granularity, listener: () => void): () => void;
  dispose(): void;
}

export function createClock(opts: { now?: () => number } = {}): Clock {
  const read = opts.now ?? Date.now;
  const listeners: Record<Granularity, Set<() => void>> = {
    'half-second': new Set(),
    second: new Set(),
    minute: new Set(),
  };
  const current: Record<Granularity, number> = {
    'half-second': floor(read(), 500),
    second: floor(read(), 1000),
    minute: floor(read(), 60_000),
  };
  const GRANULARITIES = Object.keys(STEP) as Granularity[];
  /** The finest granularity anyone listens to (undefined: nobody). */
  const finest = () => GRANULARITIES.find((g) => listeners[g].size > 0);
  let timer: NodeJS.Timeout | undefined;

  let timerStep = 0;
  const schedule = () => {
    const g = finest();
    if (timer || !g) return;
    const t = read();
    timerStep = STEP[g];
    timer = setTimeout(tick, timerStep - (t % timerStep) + 5);
    timer.unref?.();
  };
  const tick = () => {
    timer = undefined;
    const t = read();
    const fire: Array<() => void> = [];
    for (const g of GRANULARITIES) {
      const v = floor(t, STEP[g]);
      if (v !== current[g]) {
        current[g] = v;
        fire.push(...listeners[g]);
      }
    }
    for (const l of fire) l();
    schedule();
  };

  return {
    now: (g) => {
      // Keep the value fresh for readers that render without subscribing yet.
      if (!timer) {
        const t = read();
        for (const k of GRANULARITIES) current[k] = floor(t, STEP[k]);
      }
      return current[g];
    },
    subscribe(g, listener) {
      listeners[g].add(listener);
      // A finer listener than the timer was set for: re-set it (a minute's timer would call
      // a new seconds' listener up to a minute late).
      if (timer && STEP[g] < timerStep) {
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
      for (const g of GRANULARITIES) listeners[g].clear();
    },
  };
}

function floor(t: number, step: number): number {
  return t - (t % step);
}
