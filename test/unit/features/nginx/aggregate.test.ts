/**
 * The aggregator and its readers: windows and ratios from known lines, the ring read by
 * sequence number (evicted lines counted as missed, nothing counted twice), successive
 * `tail -n` outputs deduplicated, unparseable lines counted and shown, and the NGINX model
 * (hosts, a host that never caches, the sparkline).
 */
import { describe, expect, it } from 'vitest';
import {
  NginxAggregator,
  RingReader,
  TailReader,
  upstreamFailed,
} from '../../../../src/features/nginx/aggregate.js';
import { statsModel } from '../../../../src/features/nginx/model.js';
import { DemoIngressTraffic, timeLocal } from '../../../../src/kube/demo-ingress-log.js';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
let n = 0;
function line(
  t: number,
  host: string,
  cache: string,
  opts: { status?: number; bytes?: number; up?: string } = {},
): string {
  n++;
  return `10.0.0.1 - - [${timeLocal(t)}] "GET /x HTTP/1.1" ${opts.status ?? 200} ${opts.bytes ?? 100} "-" "ua" 70 0.010 [ns-svc-80] [] 10.244.1.5:80 100 ${opts.up ?? '0.010'} 200 ${String(n).padStart(32, '0')} ${cache} ${host}`;
}

describe('NginxAggregator + statsModel', () => {
  it('a snapshot copies only the buckets that changed since the last one (issue 13: idle CPU)', () => {
    let now = NOW;
    const agg = new NginxAggregator({ now: () => now });
    agg.add(line(NOW - 120_000, 'a.test', 'HIT'));
    agg.add(line(NOW - 60_000, 'a.test', 'MISS'));
    const s1 = agg.snapshot();
    expect(s1.buckets).toHaveLength(2);
    // A line in the newest bucket: the older bucket is the same frozen object, the newest
    // is a new one with the new count; the earlier snapshot is unchanged.
    agg.add(line(NOW - 60_000, 'a.test', 'HIT'));
    const s2 = agg.snapshot();
    expect(s2).not.toBe(s1);
    expect(s2.buckets[0]).toBe(s1.buckets[0]);
    expect(s2.buckets[1]).not.toBe(s1.buckets[1]);
    expect(s2.buckets[1]!.hosts['a.test']!.requests).toBe(2);
    expect(s1.buckets[1]!.hosts['a.test']!.requests).toBe(1);
    // A late line in the older bucket copies that one (only).
    agg.add(line(NOW - 120_000, 'b.test', 'MISS'));
    const s3 = agg.snapshot();
    expect(s3.buckets[0]).not.toBe(s2.buckets[0]);
    expect(Object.keys(s3.buckets[0]!.hosts).sort()).toEqual(['a.test', 'b.test']);
    expect(s3.buckets[1]).toBe(s2.buckets[1]);
    // Pruned buckets leave the snapshot (and the kept copies).
    now = NOW + 15 * 60_000 - 90_000;
    agg.add(line(now, 'c.test', 'HIT'));
    const s4 = agg.snapshot();
    expect(s4.buckets.map((x) => Object.keys(x.hosts))).toEqual([['a.test'], ['c.test']]);
    expect(s4.buckets[0]).toBe(s3.buckets[1]);
  });

  it('counts per host and window: hit ratio, bytes from cache, classes, p50/p95', () => {
    const agg = new NginxAggregator({ now: () => NOW });
    // 10 minutes ago: 4 lines of a.test (outside 1 and 5 min, inside 15).
    for (let i = 0; i < 4; i++) agg.add(line(NOW - 10 * 60_000, 'a.test', 'MISS'));
    // 30 s ago: a.test HIT ×3, STALE, MISS; b.test `-` ×25 (never caches), one 503.
    for (let i = 0; i < 3; i++)
      agg.add(line(NOW - 30_000, 'a.test', 'HIT', { bytes: 1000, up: '-' }));
    agg.add(line(NOW - 30_000, 'a.test', 'STALE', { bytes: 500 }));
    agg.add(line(NOW - 30_000, 'a.test', 'MISS', { up: '1.000' }));
    for (let i = 0; i < 25; i++)
      agg.add(line(NOW - 30_000, 'b.test', 'MISS', { status: i === 0 ? 503 : 200 }));
    agg.add('garbage line');
    const s = agg.snapshot();
    expect(s).toMatchObject({ lines: 35, parsed: 34, unparseable: 1, missed: 0 });
    expect(s.samples).toEqual([{ error: expect.any(String), line: 'garbage line' }]);
    const { overall, hosts } = statsModel(s, NOW);
    const a = hosts.find((h) => h.host === 'a.test')!;
    const b = hosts.find((h) => h.host === 'b.test')!;
    expect(a.windows.map((w) => w.requests)).toEqual([5, 5, 9]);
    expect(a.windows[0]!.hitRatio).toBeCloseTo(4 / 5, 10);
    expect(a.windows[2]!.hitRatio).toBeCloseTo(4 / 9, 10);
    expect(a.windows[0]!.cacheBytes).toBe(3500);
    expect(a.windows[0]!.rate).toBeCloseTo(5 / 60, 10);
    // Upstream times: 0.010 (STALE) and 1.000 → p50 in 0.010's bin, p95 in 1.000's.
    expect(a.windows[0]!.upstreamP50!).toBeGreaterThanOrEqual(0.01);
    expect(a.windows[0]!.upstreamP50!).toBeLessThan(0.0125);
    expect(a.windows[0]!.upstreamP95!).toBeGreaterThanOrEqual(1);
    expect(a.windows[0]!.upstreamP95!).toBeLessThan(1.25);
    expect(a.neverCaches).toBe(false);
    // That STALE's upstream answered 200: a background refresh, not a failure.
    expect(a.windows[0]!.staleFailed).toBe(0);
    expect(b.neverCaches).toBe(true);
    expect(b.windows[0]!.classes).toMatchObject({ '2xx': 24, '5xx': 1 });
    expect(overall.windows[2]!.requests).toBe(34);
    expect(overall.spark.reduce((x, y) => x + y, 0)).toBe(34);
    expect(overall.spark.at(-1)).toBe(30);
  });

  it('drops lines older than 15 minutes', () => {
    const agg = new NginxAggregator({ now: () => NOW });
    agg.add(line(NOW - 20 * 60_000, 'a.test', 'HIT'));
    expect(statsModel(agg.snapshot(), NOW).overall.windows[2]!.requests).toBe(0);
  });
});

describe('upstreamFailed', () => {
  it('judges the last upstream tried', () => {
    expect(upstreamFailed('-')).toBe(true);
    expect(upstreamFailed('502')).toBe(true);
    expect(upstreamFailed('200, 502')).toBe(true);
    expect(upstreamFailed('502 : 200')).toBe(false);
    expect(upstreamFailed('304')).toBe(false);
  });
});

describe('RingReader', () => {
  it('reads each line once, by sequence number, and counts evicted ones as missed', () => {
    const agg = new NginxAggregator({ now: () => NOW });
    const r = new RingReader(agg);
    const mk = (seq: number) => ({ seq, text: line(NOW - 1000, 'a.test', 'HIT') });
    expect(r.read({ lines: [mk(1), mk(2)], total: 2 })).toBe(2);
    expect(r.read({ lines: [mk(1), mk(2)], total: 2 })).toBe(0);
    expect(r.read({ lines: [mk(2), mk(3), mk(4)], total: 4 })).toBe(2);
    // Lines 5–7 evicted before this read.
    expect(r.read({ lines: [mk(8), mk(9)], total: 9 })).toBe(2);
    expect(agg.snapshot()).toMatchObject({ lines: 6, missed: 3 });
  });
});

describe('TailReader', () => {
  it('takes only the lines after the previous read', () => {
    const agg = new NginxAggregator({ now: () => NOW });
    const t = new TailReader(agg);
    const ls = Array.from({ length: 8 }, () => line(NOW - 1000, 'a.test', 'HIT'));
    expect(t.read(`${ls.slice(0, 3).join('\n')}\n`, 5)).toBe(3);
    expect(t.read(`${ls.slice(0, 5).join('\n')}\n`, 5)).toBe(2);
    expect(t.read(`${ls.slice(3, 8).join('\n')}\n`, 5)).toBe(3);
    expect(t.read(`${ls.slice(3, 8).join('\n')}\n`, 5)).toBe(0);
    expect(agg.snapshot()).toMatchObject({ lines: 8, missed: 0 });
  });
});

describe('the demo traffic', () => {
  it('parses, with a realistic hit ratio and one host that never caches', () => {
    const agg = new NginxAggregator({ now: () => NOW });
    const tr = new DemoIngressTraffic();
    for (let i = 0; i < 3000; i++) agg.add(tr.line(NOW - 600_000 + i * 200));
    const s = agg.snapshot();
    expect(s.unparseable).toBe(Math.floor(3000 / 400));
    const { overall, hosts } = statsModel(s, NOW);
    expect(overall.windows[2]!.hitRatio!).toBeGreaterThan(0.6);
    expect(overall.windows[2]!.hitRatio!).toBeLessThan(0.9);
    expect(hosts.filter((h) => h.neverCaches).map((h) => h.host)).toEqual(['api.lab.k8ops.test']);
    // Some STALE lines stand in for a failing upstream, most are background refreshes.
    const w = overall.windows[2]!;
    expect(w.staleFailed).toBeGreaterThan(0);
    expect(w.staleFailed).toBeLessThan(w.cache.STALE);
  });
});
