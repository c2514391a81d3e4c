/**
 * statsModel's memo (issue 13: idle CPU): the NGINX pane folds only what is new each
 * second onto the sums of the settled buckets. Whatever the snapshots do — lines in the
 * newest bucket, late lines in old ones, new buckets, pruning, the minute moving on, a
 * snapshot of merged documents — the answer is the one computed from nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NginxAggregator } from '../../../../src/features/nginx/aggregate.js';
import { createStatsMemo, statsModel } from '../../../../src/features/nginx/model.js';
import { timeLocal } from '../../../../src/kube/demo-ingress-log.js';

const START = Date.UTC(2026, 11, 6, 12, 0, 0);
const CACHE = ['HIT', 'MISS', 'EXPIRED', 'STALE', 'UPDATING', 'REVALIDATED', 'BYPASS', '-'];
let n = 0;
const line = (t: number, host: string, cache: string, up: string) =>
  `10.0.0.1 - - [${timeLocal(t)}] "GET /x HTTP/1.1" 200 ${100 + (n % 7)} "-" "ua" 70 0.010 [ns-svc-80] [] 10.244.1.5:80 100 ${up} 200 ${String(++n).padStart(32, '0')} ${cache} ${host}`;

const step = fc.record({
  advance: fc.integer({ min: 0, max: 25_000 }),
  lines: fc.array(
    fc.record({
      ago: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 17 * 60_000 })),
      host: fc.constantFrom('a.test', 'b.test', 'c.test'),
      cache: fc.constantFrom(...CACHE),
      up: fc.constantFrom('-', '0.004', '0.120', '1.500'),
    }),
    { maxLength: 6 },
  ),
  minute: fc.boolean(),
});

describe('statsModel with its memo', () => {
  it('equals the model computed from nothing, second after second', () => {
    let reused = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        let now = START;
        const agg = new NginxAggregator({ now: () => now });
        const memo = createStatsMemo();
        for (const s of steps) {
          now += s.advance;
          for (const l of s.lines) agg.add(line(now - l.ago, l.host, l.cache, l.up));
          const snap = agg.snapshot();
          // The pane passes the minute; `k8ops nginx` the time itself.
          const at = s.minute ? now - (now % 60_000) : now;
          const before = memo.buckets.length;
          const got = statsModel(snap, at, memo);
          if (before > 0 && memo.now === at && memo.buckets[0] === snap.buckets[0]) reused++;
          expect(got).toEqual(statsModel(snap, at, createStatsMemo()));
        }
      }),
      { numRuns: 150 },
    );
    // The memo was used, not rebuilt every time (else this test proves nothing).
    expect(reused).toBeGreaterThan(100);
  });

  it('does not change what it returned before, nor keep what it is handed', () => {
    let now = START;
    const agg = new NginxAggregator({ now: () => now });
    const memo = createStatsMemo();
    for (let i = 0; i < 30; i++) agg.add(line(now - i * 20_000, 'a.test', 'HIT', '0.004'));
    const first = statsModel(agg.snapshot(), START, memo);
    const copy = structuredClone(first);
    now += 1000;
    agg.add(line(now, 'a.test', 'MISS', '0.120'));
    const second = statsModel(agg.snapshot(), START, memo);
    expect(first).toEqual(copy);
    expect(second.overall.windows[0]!.requests).toBe(first.overall.windows[0]!.requests + 1);
    second.overall.spark[29] = -1;
    second.hosts[0]!.windows[2]!.cache.HIT = -1;
    expect(statsModel(agg.snapshot(), START, memo)).toEqual(
      statsModel(agg.snapshot(), START, createStatsMemo()),
    );
  });

  it('a fold that throws halfway leaves nothing half-counted for the next call', () => {
    let now = START;
    const agg = new NginxAggregator({ now: () => now });
    for (let i = 0; i < 40; i++) agg.add(line(now - i * 20_000, 'a.test', 'HIT', '0.004'));
    const snap = agg.snapshot();
    expect(snap.buckets.length).toBeGreaterThan(4);
    // The third bucket's hosts throw once when read (after two buckets were folded).
    let armed = true;
    const third = snap.buckets[2]!;
    const hosts = third.hosts;
    const trap = { ...snap, buckets: [...snap.buckets] };
    trap.buckets[2] = {
      start: third.start,
      get hosts() {
        if (armed) {
          armed = false;
          throw new Error('boom');
        }
        return hosts;
      },
    };
    const memo = createStatsMemo();
    expect(() => statsModel(trap, START, memo)).toThrow('boom');
    now += 1000;
    expect(statsModel(trap, START, memo)).toEqual(statsModel(trap, START, createStatsMemo()));
  });
});
