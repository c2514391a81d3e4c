/**
 * The demo's Hubble feed re-sends flows it encoded once (issue 13: idle CPU): its frames
 * must be the bytes protobufjs gives for the same flow with that time and uuid, and decode
 * to the same FlowRecords as before (k8ops decodes real wire bytes either way).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demoFlows, FEED_POOL, labPods, nodeFeed } from '../../../src/demo/flows.js';
import * as proto from '../../../src/demo/hubble-proto.js';
import { decodeResponse, T } from '../../../src/features/flows/codec.js';
import { mulberry32 as rng } from '../../../src/store/prng.js';

// biome-ignore lint/suspicious/noExplicitAny: decoded protobufjs messages are dynamic objects
type Msg = any;
const decoded = (b: Uint8Array): Msg => T.GetFlowsResponse.decode(b);
/** What the server encoded before the feed re-sent frames: the whole response, every time. */
const reference = (flow: Record<string, unknown>, node: string, m: Msg): Buffer =>
  proto.encodeResponse({
    flow: { ...flow, time: m.time, uuid: m.flow.uuid },
    node_name: node,
    time: m.time,
  });

describe('demo Hubble feed (pre-encoded frames)', () => {
  it('a frame is byte for byte the GetFlowsResponse protobufjs encodes, for pool draws and re-sends', () => {
    const node = 'demo-lab/worker-1';
    const next = nodeFeed(proto, rng(3), labPods(), node, 32);
    const t0 = Date.UTC(2026, 11, 6, 14, 0, 0);
    const uuids = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const ms = t0 + i * 17;
      const { flow, bytes } = next(ms);
      const m = decoded(bytes);
      expect(Buffer.compare(bytes, reference(flow, node, m))).toBe(0);
      expect(m.node_name).toBe(node);
      expect(m.flow.node_name).toBe(node);
      expect(Number(m.time.seconds)).toBe(Math.floor(ms / 1000));
      expect(Math.floor(m.time.nanos / 1e6)).toBe(ms % 1000);
      expect(m.flow.time.seconds).toEqual(m.time.seconds);
      expect(m.flow.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      uuids.add(m.flow.uuid);
    }
    // Re-sent flows get a uuid of their own.
    expect(uuids.size).toBe(200);
  });

  it('frames decode to the FlowRecords the flows encoded whole decode to (k8ops sees no difference)', () => {
    const node = 'demo-lab/cp-1';
    const next = nodeFeed(proto, rng(11), labPods(), node, 16);
    const t0 = Date.UTC(2026, 11, 6, 14, 0, 0);
    const verdicts = new Set<string>();
    const kinds = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const { flow, bytes } = next(t0 + i * 250);
      const m = decoded(bytes);
      const a = decodeResponse(bytes);
      const b = decodeResponse(reference(flow, node, m));
      expect(a.kind).toBe('flow');
      if (a.kind !== 'flow' || b.kind !== 'flow') throw new Error('not a flow');
      const { raw: _ra, ...ra } = a.flow;
      const { raw: _rb, ...rb } = b.flow;
      expect(ra).toEqual(rb);
      expect(ra.timeMs).toBe(t0 + i * 250);
      verdicts.add(ra.verdict);
      kinds.add(ra.l7 || ra.l4);
    }
    // Still the demo's mix: forwarded and dropped, TCP, UDP and L7.
    expect(verdicts).toEqual(new Set(['FORWARDED', 'DROPPED']));
    expect(kinds.has('TCP') && kinds.has('UDP')).toBe(true);
  });

  it('the pool holds the first draws of demoFlow, then only re-sends them', () => {
    const node = 'demo-lab/worker-2';
    const next = nodeFeed(proto, rng(5), labPods(), node, 8);
    const seen = new Set<unknown>();
    for (let i = 0; i < 8; i++) seen.add(next(1_000_000 + i).flow);
    expect(seen.size).toBe(8);
    for (let i = 0; i < 100; i++) expect(seen.has(next(2_000_000 + i).flow)).toBe(true);
    expect(FEED_POOL).toBeGreaterThanOrEqual(256);
    // The pool is drawn from the same generator as before (demoFlows: benchmarks).
    expect(Object.keys(demoFlows(1, node)(0))).toEqual(expect.arrayContaining(['uuid', 'l4']));
  });

  it('any time (zero fields, 1- to 5-byte varints) is encoded as protobufjs does', () => {
    const t = proto.flowTemplate({ verdict: 'FORWARDED', node_name: 'n', uuid: 'x' }, 'n');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.constantFrom(
          '0123456789abcdef0123456789abcdef0123',
          'ffffffff-ffff-ffff-ffff-ffffffffffff',
        ),
        (seconds, nanos, uuid) => {
          const bytes = proto.flowFrame(t, seconds, nanos, uuid);
          const time = { seconds, nanos };
          const want = proto.encodeResponse({
            flow: { ...t.flow, time, uuid },
            node_name: 'n',
            time,
          });
          return Buffer.compare(bytes, want) === 0;
        },
      ),
      { numRuns: 300 },
    );
    expect(() => proto.flowFrame(t, 1, 1, 'short')).toThrow(/36 characters/);
  });
});
