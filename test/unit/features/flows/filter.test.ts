/** The pane's filter text as server-side FlowFilters (hubble observe's flag semantics). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlowAggregate, Ring } from '../../../../src/features/flows/aggregate.js';
import { parseFlowQuery } from '../../../../src/features/flows/filter.js';
import type { FlowRecord } from '../../../../src/features/flows/types.js';

const wl = (text: string) => {
  const r = parseFlowQuery(text);
  if (!r.ok) throw new Error(r.error);
  return r.query.whitelist;
};

describe('parseFlowQuery', () => {
  it('an empty filter sends no whitelist (every flow)', () => {
    expect(wl('')).toEqual([]);
    expect(wl('   ')).toEqual([]);
  });

  it('verdict, reason, node, dir and proto go into every filter', () => {
    expect(wl('verdict:DROPPED reason:POLICY_DENY node:lab/node-* dir:ingress proto:TCP')).toEqual([
      {
        verdict: [2],
        drop_reason_desc: [181],
        node_name: ['lab/node-*'],
        traffic_direction: [1],
        protocol: ['tcp'],
      },
    ]);
    expect(wl('verdict:dropped,forwarded')).toEqual([{ verdict: [2, 1] }]);
  });

  it('ns and pod match either side; pod without a slash takes the ns term', () => {
    expect(wl('ns:shop')).toEqual([{ source_pod: ['shop/'] }, { destination_pod: ['shop/'] }]);
    expect(wl('ns:shop pod:api')).toEqual([
      { source_pod: ['shop/api'] },
      { destination_pod: ['shop/api'] },
    ]);
    expect(wl('pod:kube-system/coredns-')).toEqual([
      { source_pod: ['kube-system/coredns-'] },
      { destination_pod: ['kube-system/coredns-'] },
    ]);
  });

  it('port matches either side (the product with the pod sides)', () => {
    expect(wl('port:53 ns:kube-system')).toHaveLength(4);
    expect(wl('port:53')).toEqual([{ source_port: ['53'] }, { destination_port: ['53'] }]);
  });

  it('bad terms are error values naming the problem', () => {
    for (const [text, msg] of [
      ['verdict:NOPE', 'verdict: unknown'],
      ['color:red', 'unknown filter key'],
      ['frontend', 'expected key:value'],
      ['port:99999', 'not a port'],
      ['pod:a/b/c', 'more than one'],
      ['ns:sh\u001bop', 'invalid value'],
      ['reason:EVIL', 'unknown drop reason'],
    ] as const) {
      const r = parseFlowQuery(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain(msg);
    }
  });

  it('never throws on any text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => void parseFlowQuery(s)));
  });
});

const rec = (i: number, verdict = 'FORWARDED', reason = ''): FlowRecord => ({
  timeMs: 1_000_000 + i * 10,
  nanos: 0,
  node: 'n',
  verdict,
  dropReason: reason,
  src: {
    namespace: 'a',
    pod: `p${i % 7}`,
    ip: '',
    port: 1,
    identity: 0,
    workload: '',
    service: '',
  },
  dst: { namespace: 'b', pod: 'q', ip: '', port: 80, identity: 0, workload: '', service: '' },
  l4: 'TCP',
  l7: '',
  direction: '',
  isReply: undefined,
  info: '',
  raw: new Uint8Array(),
});

describe('aggregate', () => {
  it('the ring keeps the newest items only', () => {
    const r = new Ring<number>(3);
    for (let i = 0; i < 10; i++) r.push(i);
    expect(r.size).toBe(3);
    expect(r.newest(10)).toEqual([9, 8, 7]);
    // before it is full (it grows as items come), after a clear, at every fill level
    const g = new Ring<number>(5);
    expect(g.newest(3)).toEqual([]);
    for (let i = 0; i < 12; i++) {
      g.push(i);
      const want = Array.from({ length: Math.min(i + 1, 5) }, (_, k) => i - k);
      expect(g.newest(10)).toEqual(want);
      expect(g.newest(2)).toEqual(want.slice(0, 2));
      expect(g.size).toBe(want.length);
    }
    g.clear();
    expect([g.size, g.newest(5)]).toEqual([0, []]);
    g.push(42);
    expect(g.newest(5)).toEqual([42]);
  });

  it('counts verdicts, drops by reason, per-second rate and top talkers', () => {
    const a = new FlowAggregate();
    for (let i = 0; i < 300; i++)
      a.add(
        rec(
          i,
          i % 3 === 0 ? 'DROPPED' : 'FORWARDED',
          i % 2 ? 'POLICY_DENY' : 'CT_MISSING_TCP_ACK_FLAG',
        ),
      );
    expect(a.counts()).toMatchObject({
      total: 300,
      byVerdict: { DROPPED: 100, FORWARDED: 200 },
      dropsByReason: { POLICY_DENY: 50, CT_MISSING_TCP_ACK_FLAG: 50 },
    });
    const rate = a.rate();
    expect(rate.reduce((s, p) => s + p.forwarded + p.dropped, 0)).toBe(300);
    expect(rate[0]).toEqual({ sec: 1000, forwarded: 66, dropped: 34, other: 0 });
    expect(a.topTalkers(2)[0]).toMatchObject({ key: 'a/p0 -> b/q:80', flows: 43 });
  });

  it('top talkers stay bounded under a flood of distinct pairs', () => {
    const a = new FlowAggregate();
    for (let i = 0; i < 50_000; i++) {
      const r = rec(i);
      r.src.pod = `pod-${i}`;
      a.add(r);
    }
    for (let i = 0; i < 100; i++) a.add(rec(0));
    expect(a.topTalkers(1)[0]?.key).toBe('a/p0 -> b/q:80');
  });

  it('top talkers are the first n of every talker sorted by flows, then key', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.boolean()), { maxLength: 300 }),
        fc.integer({ min: 0, max: 12 }),
        (adds, n) => {
          const a = new FlowAggregate();
          const all = new Map<string, { key: string; flows: number; drops: number }>();
          for (const [pod, drop] of adds) {
            const r = rec(0, drop ? 'DROPPED' : 'FORWARDED');
            r.src.pod = `p${pod}`;
            a.add(r);
            const key = `a/p${pod} -> b/q:80`;
            const t = all.get(key) ?? { key, flows: 0, drops: 0 };
            t.flows++;
            if (drop) t.drops++;
            all.set(key, t);
          }
          const want = [...all.values()]
            .sort((x, y) => y.flows - x.flows || x.key.localeCompare(y.key))
            .slice(0, n);
          expect(a.topTalkers(n)).toEqual(want);
        },
      ),
    );
  });
});
