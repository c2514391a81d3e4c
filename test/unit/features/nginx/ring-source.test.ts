/**
 * The ingress-log ring source writes its snapshot at most once a second: with the session's
 * clock, on the clock's second (the same tick as the countdowns, so the NGINX pane redraws
 * once a second, not twice); without one (no clock given), at once and then throttled.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Inventory } from '../../../../src/config/types.js';
import { nginxRingSource } from '../../../../src/features/nginx/sources.js';
import type { LiveKubeSource } from '../../../../src/kube/types.js';
import type { Clock } from '../../../../src/store/clock.js';

function lab() {
  const ticks = new Set<() => void>();
  const clock: Clock = {
    now: () => 0,
    subscribe: (_g, l) => {
      ticks.add(l);
      return () => {
        ticks.delete(l);
      };
    },
    dispose: () => {},
  };
  let view = { lines: [] as { seq: number; text: string }[], total: 0, dropped: 0, following: [] };
  let changed: (() => void) | undefined;
  const kube = {
    snapshot: () => ({ ingressLog: view }),
    onChange: (cb: () => void) => {
      changed = cb;
      return () => {
        changed = undefined;
      };
    },
    contexts: () => [],
  } as unknown as LiveKubeSource;
  const writes: unknown[] = [];
  const store = {
    succeed: (...a: unknown[]) => void writes.push(a),
    fail: () => {},
  };
  const lines = (n: number) => {
    const from = view.total;
    const more = Array.from({ length: n }, (_, i) => ({ seq: from + i + 1, text: `line ${i}` }));
    view = { ...view, lines: [...view.lines, ...more], total: from + n };
    changed?.();
  };
  const tick = () => {
    for (const l of [...ticks]) l();
  };
  const inventory = { ingress: {} } as unknown as Inventory;
  return { clock, kube, store, writes, lines, tick, ticks, inventory };
}

describe('nginx ring source', () => {
  it('with the clock: new lines are written on its next second, once; nothing new, no write', () => {
    const l = lab();
    const unbind = nginxRingSource.bind!(
      { inventory: l.inventory, kube: l.kube, clock: l.clock },
      l.store,
    );
    expect(l.writes).toHaveLength(1);
    l.lines(3);
    l.lines(2);
    expect(l.writes).toHaveLength(1);
    l.tick();
    expect(l.writes).toHaveLength(2);
    l.tick();
    expect(l.writes).toHaveLength(2);
    l.lines(1);
    l.tick();
    expect(l.writes).toHaveLength(3);
    unbind!();
    expect(l.ticks.size).toBe(0);
  });

  it('without a clock: throttled to one write a second', () => {
    vi.useFakeTimers();
    try {
      const l = lab();
      const unbind = nginxRingSource.bind!({ inventory: l.inventory, kube: l.kube }, l.store);
      expect(l.writes).toHaveLength(1);
      l.lines(1);
      l.lines(1);
      expect(l.writes).toHaveLength(1);
      vi.advanceTimersByTime(1000);
      expect(l.writes).toHaveLength(2);
      vi.advanceTimersByTime(1500);
      l.lines(1);
      expect(l.writes).toHaveLength(3);
      unbind!();
    } finally {
      vi.useRealTimers();
    }
  });
});
