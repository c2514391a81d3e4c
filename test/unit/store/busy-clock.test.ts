/**
 * Lag-aware timeouts (src/store/busy-clock.ts): time the event loop is blocked does not count
 * against a pending timeout (up to its cap); without a blocked loop it fires as setTimeout
 * does. Only lower bounds are asserted (no timing windows under load).
 */
import { describe, expect, it } from 'vitest';
import { busyMs, lagAwareTimeout } from '../../../src/store/busy-clock.js';

const block = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // the event loop is busy: no timer, no I/O callback runs
  }
};

describe('lagAwareTimeout', () => {
  it('fires when nothing blocked the loop, and cancels', async () => {
    const fired: string[] = [];
    lagAwareTimeout(() => fired.push('a'), 20);
    const cancel = lagAwareTimeout(() => fired.push('b'), 20);
    cancel();
    await new Promise((r) => setTimeout(r, 500));
    expect(fired).toEqual(['a']);
  });

  it('a loop blocked for 600 ms while a 200 ms timeout is pending does not use it up', async () => {
    const t0 = performance.now();
    const lag0 = busyMs();
    const firedAt = new Promise<number>((resolve) =>
      lagAwareTimeout(() => resolve(performance.now() - t0), 200),
    );
    await new Promise((r) => setTimeout(r, 60)); // the heartbeat runs once
    block(600);
    const at = await firedAt;
    expect(busyMs() - lag0).toBeGreaterThanOrEqual(400);
    // a plain setTimeout would have fired at ~660 ms, right after the block
    expect(at).toBeGreaterThanOrEqual(660 + 150);
  });

  it('the extension is capped: a loop that never catches up still times out', async () => {
    const t0 = performance.now();
    const firedAt = new Promise<number>((resolve) =>
      lagAwareTimeout(() => resolve(performance.now() - t0), 100, 200),
    );
    block(1500);
    const at = await firedAt;
    expect(at).toBeGreaterThanOrEqual(1500);
    expect(at).toBeLessThan(1500 + 200 + 5000); // bounded (generous: a busy machine)
  });
});
