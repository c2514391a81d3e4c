/**
 * The BGP parsers on outputs captured from the real daemons (test/fixtures/bgp, made by
 * capture.sh: gobgpd 3.10 and BIRD 2.0.12 in a network namespace; each command beside its
 * fixture in a .cmd file) and on Cilium 1.17 payloads shaped from the agent's models.
 * Garbage never throws (fast-check).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  birdAgeMs,
  parseBirdProtocols,
  parseBirdRoutes,
  parseBirdStatus,
} from '../../../../src/features/bgp/parse/bird.js';
import { parseCiliumPeers, parseCiliumRoutes } from '../../../../src/features/bgp/parse/cilium.js';
import { parseGobgpNeighbors, parseGobgpRib } from '../../../../src/features/bgp/parse/gobgp.js';

const FIX = join(import.meta.dirname, '../../../fixtures/bgp');
const fx = (name: string) => readFileSync(join(FIX, name), 'utf8');

describe('gobgp -j neighbor (captured from gobgp 3.10)', () => {
  it('reads both sessions: one established with counts, one stuck in Active', () => {
    const r = parseGobgpNeighbors(fx('gobgp-neighbor.json'));
    if (!r.ok) throw new Error(r.error);
    expect(r.value.map((s) => [s.peerAddress, s.state, s.localAsn, s.peerAsn])).toEqual([
      ['10.199.16.11', 'established', 65000, 65010],
      ['10.199.16.12', 'active', 65000, 65010],
    ]);
    const up = r.value[0]!;
    expect(up.localAddress).toBe('10.199.16.2');
    expect(up.received).toBe(3);
    expect(up.accepted).toBe(3);
    expect(up.holdTimeSeconds).toBe(9);
    // Absolute unix seconds (gobgp's `uptime` is when the session came up).
    expect(up.upSince).toBeGreaterThan(Date.UTC(2026, 0, 1));
    expect(r.value[1]!.upSince).toBeUndefined();
  });
  it('reads the single-neighbor form (an object, with advertised counted)', () => {
    const r = parseGobgpNeighbors(fx('gobgp-neighbor-one.json'));
    if (!r.ok) throw new Error(r.error);
    expect(r.value).toHaveLength(1);
    expect(r.value[0]!.advertised).toBe(1); // its one local route (10.199.202.0/24)
  });
  it('sees a session leave Established after BIRD stopped', () => {
    const r = parseGobgpNeighbors(fx('gobgp-neighbor-node-after-bird-stop.json'));
    if (!r.ok) throw new Error(r.error);
    const bird = r.value.find((s) => s.peerAddress === '10.199.16.1');
    expect(bird?.state).not.toBe('established');
    expect(r.value.find((s) => s.peerAddress === '10.199.16.2')?.state).toBe('established');
  });
  it('global rib: prefixes by the neighbor they came from; local routes left out', () => {
    const r = parseGobgpRib(fx('gobgp-global-rib.json'));
    if (!r.ok) throw new Error(r.error);
    expect(r.value).toEqual({
      '10.199.16.11': ['10.199.64.0/24', '10.199.96.10/32', '10.199.96.11/32'],
    });
  });
});

describe('birdc (captured from BIRD 2.0.12)', () => {
  const status = parseBirdStatus(fx('birdc-show-status.txt'));
  it('show status: the router clock', () => {
    if (!status.ok) throw new Error(status.error);
    expect(status.value.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(status.value.time).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3}$/);
  });
  it('show protocols all: BGP protocols only, with details', () => {
    const at = Date.UTC(2026, 11, 6, 3, 36, 0);
    const clock = status.ok ? status.value : undefined;
    const r = parseBirdProtocols(fx('birdc-show-protocols-all.txt'), at, (s) =>
      birdAgeMs(s, clock),
    );
    if (!r.ok) throw new Error(r.error);
    expect(r.value.map((p) => [p.name, p.peerAddress, p.state])).toEqual([
      ['k8s_n1', '10.199.16.11', 'established'],
      ['k8s_n2', '10.199.16.12', 'active'],
    ]);
    const n1 = r.value[0]!;
    expect(n1).toMatchObject({
      localAsn: 65000,
      peerAsn: 65010,
      localAddress: '10.199.16.1',
      holdTimeSeconds: 9,
      accepted: 2, // one of the three was filtered (the VIP bird rejects)
      received: 3,
      advertised: 2,
    });
    expect(n1.upSince).toBeDefined();
    // Up a few seconds before `show status` ran (the capture waits for Established, then ~4 s).
    expect(at - n1.upSince!).toBeGreaterThan(0);
    expect(at - n1.upSince!).toBeLessThan(60_000);
    expect(r.value[1]!.lastError).toBe('Socket: Connection refused');
    expect(r.value[1]!.stateText).toBe('Active Socket: Connection refused');
  });
  it('show route all: prefixes with protocol and neighbor', () => {
    const r = parseBirdRoutes(fx('birdc-show-route-all.txt'));
    if (!r.ok) throw new Error(r.error);
    expect(r.value.filter((x) => x.proto === 'k8s_n1')).toEqual([
      { prefix: '10.199.96.10/32', proto: 'k8s_n1', from: '10.199.16.11' },
      { prefix: '10.199.64.0/24', proto: 'k8s_n1', from: '10.199.16.11' },
    ]);
    expect(r.value.filter((x) => x.proto === 'lab_static')).toHaveLength(2);
  });
  it('show route (what k8ops runs): one line per route, protocol and neighbor', () => {
    const r = parseBirdRoutes(fx('birdc-show-route.txt'));
    if (!r.ok) throw new Error(r.error);
    expect(r.value.filter((x) => x.proto === 'k8s_n1').map((x) => [x.prefix, x.from])).toEqual([
      ['10.199.96.10/32', '10.199.16.11'],
      ['10.199.64.0/24', '10.199.16.11'],
    ]);
  });
  it('a stopped BIRD: birdc error text becomes an error value', () => {
    const r = parseBirdProtocols(fx('birdc-stopped.txt'), Date.now());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/Unable to connect to server control socket/);
  });
});

describe('Cilium 1.17 /v1/bgp/peers and /v1/bgp/routes (payloads shaped from the agent models)', () => {
  it('peers: zero values absent default to 0; uptime from nanoseconds', () => {
    const at = 1_800_000_000_000;
    const r = parseCiliumPeers(fx('cilium-bgp-peers.json'), at);
    if (!r.ok) throw new Error(r.error);
    expect(r.value[0]).toMatchObject({
      peerAddress: '10.199.16.1',
      state: 'established',
      localAsn: 65010,
      peerAsn: 65000,
      received: 2,
      accepted: 2,
      advertised: 3,
      holdTimeSeconds: 9,
      upSince: at - 3_723_000,
    });
    expect(r.value[1]).toMatchObject({ state: 'active', received: 0, advertised: 0 });
    expect(r.value[1]!.upSince).toBeUndefined();
  });
  it('routes: the prefixes', () => {
    expect(parseCiliumRoutes(fx('cilium-bgp-routes-adj-rib-out.json'))).toEqual({
      ok: true,
      value: ['10.199.64.0/24', '10.199.96.10/32', '10.199.96.11/32'],
    });
  });
  it('a non-array body is an error value', () => {
    expect(parseCiliumPeers('{"code":501}', 0).ok).toBe(false);
    expect(parseCiliumPeers('', 0).ok).toBe(false);
  });
});

describe('parsers never throw on garbage', () => {
  const parsers: Array<[string, (t: string) => unknown]> = [
    ['cilium peers', (t) => parseCiliumPeers(t, 0)],
    ['cilium routes', parseCiliumRoutes],
    ['gobgp neighbors', parseGobgpNeighbors],
    ['gobgp rib', parseGobgpRib],
    ['bird protocols', (t) => parseBirdProtocols(t, 0, () => 1)],
    ['bird routes', parseBirdRoutes],
    ['bird status', parseBirdStatus],
  ];
  // Text, JSON-ish values, and mutations of the real fixtures.
  const fixtures = [
    'gobgp-neighbor.json',
    'gobgp-global-rib.json',
    'birdc-show-protocols-all.txt',
    'birdc-show-route-all.txt',
    'cilium-bgp-peers.json',
  ].map(fx);
  const mutated = fc
    .tuple(fc.constantFrom(...fixtures), fc.nat(), fc.nat(), fc.string())
    .map(([f, a, b, ins]) => {
      const i = a % (f.length + 1);
      const j = Math.min(f.length, i + (b % 200));
      return f.slice(0, i) + ins + f.slice(j);
    });
  const garbage = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    mutated,
  );
  for (const [name, parse] of parsers) {
    it(`${name}`, () => {
      fc.assert(
        fc.property(garbage, (t) => {
          const r = parse(t) as { ok: boolean };
          expect(typeof r.ok).toBe('boolean');
        }),
        { numRuns: 300 },
      );
    });
  }
  it('non-string input', () => {
    for (const [, parse] of parsers)
      for (const v of [undefined, null, 42, {}, []])
        expect((parse as (x: unknown) => { ok: boolean })(v).ok).toBe(false);
  });
});
