/**
 * The shared clock (src/store/clock.ts): listeners are called on their granularity's
 * boundaries, all of one boundary in the same tick (a whole second calls the half-second
 * listeners and the seconds' together, so the console draws one frame for both), a finer
 * listener re-sets a coarser timer, and nobody listening leaves no timer.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClock } from '../../../src/store/clock.js';

const T0 = Date.UTC(2026, 11, 7, 1, 0, 0) + 120; // 120 ms after a whole minute

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

describe('createClock', () => {
  it('half-second listeners every 500 ms; on a whole second, in the same tick as the seconds', () => {
    const clock = createClock();
    const calls: string[] = [];
    let ticks = 0;
    clock.subscribe('half-second', () => calls.push(`h${ticks}`));
    clock.subscribe('second', () => calls.push(`s${ticks}`));
    // `ticks` counts the 500 ms steps: a listener's tag says in which step it was called;
    // each step is one timer callback (it sets the next one once).
    const timers = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 1; i <= 4; i++) {
      timers.mockClear();
      vi.advanceTimersByTime(500);
      expect(timers).toHaveBeenCalledTimes(1);
      ticks++;
    }
    // T0+500 → 500 ms boundary (half only); +1000 → whole second (both), and so on.
    expect(calls).toEqual(['h0', 'h1', 's1', 'h2', 'h3', 's3']);
    expect(clock.now('half-second') % 500).toBe(0);
    expect(clock.now('second')).toBe(T0 - 120 + 2000);
    clock.dispose();
  });

  it('a seconds listener added while only minutes are listened to is called within a second', () => {
    const clock = createClock();
    let minutes = 0;
    let seconds = 0;
    clock.subscribe('minute', () => minutes++);
    expect(vi.getTimerCount()).toBe(1);
    clock.subscribe('second', () => seconds++);
    vi.advanceTimersByTime(1000);
    expect(seconds).toBe(1);
    const offHalf = clock.subscribe('half-second', () => {});
    vi.advanceTimersByTime(59_000);
    expect(seconds).toBe(60);
    expect(minutes).toBe(1);
    offHalf();
    clock.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('nobody listening: the timer stops after its tick', () => {
    const clock = createClock();
    const off = clock.subscribe('half-second', () => {});
    off();
    vi.advanceTimersByTime(600);
    expect(vi.getTimerCount()).toBe(0);
    // Read without a subscription: fresh.
    vi.advanceTimersByTime(10_000);
    expect(clock.now('second')).toBe(T0 - 120 + 10_000);
  });
});
