/**
 * The BGP model's join and verdicts, from snapshots built with the real parsers over the
 * captured fixtures (test/fixtures/bgp) and Cilium payloads shaped like the agent's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../../../src/config/types.js';
import { FlapTracker } from '../../../../src/features/bgp/flaps.js';
import { buildBgpModel } from '../../../../src/features/bgp/model.js';
import { parseCiliumPeers, parseCiliumRoutes } from '../../../../src/features/bgp/parse/cilium.js';
import { parseGobgpNeighbors, parseGobgpRib } from '../../../../src/features/bgp/parse/gobgp.js';
import type {
  CiliumBgpValue,
  RouterBgpResult,
  SideSession,
} from '../../../../src/features/bgp/types.js';
import type { Snapshot } from '../../../../src/store/types.js';

const FIX = join(import.meta.dirname, '../../../fixtures/bgp');
const fx = (name: string) => readFileSync(join(FIX, name), 'utf8');
const ok = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

const NOW = Date.UTC(2026, 11, 6, 4, 0, 0);

function inventory(): Inventory {
  return {
    source: '<test>',
    cluster: 'lab',
    nodes: [
      { name: 'n1', index: 0, host: 'n1', addresses: ['10.199.16.11'], roles: ['worker'] },
      { name: 'n2', index: 1, host: 'n2', addresses: ['10.199.16.12'], roles: ['worker'] },
    ],
    ssh: { jump: [], connectTimeoutMs: 5000 },
    kube: { tunnel: false },
    pki: { dir: '/etc/kubernetes/pki', rootOffline: true },
    rotation: { spreadMs: 1, cpGapMs: 1, minRemainingMs: 1 },
    network: { targetMtu: 9216, bgpRouters: [{ name: 'tor-gobgp', kind: 'gobgp', host: 'r' }] },
    ingress: { namespace: 'x', cacheZone: 'y' },
    addons: {},
  };
}

/** n1's Cilium side: one peer (the gobgp router at .2), advertising the capture lab's routes. */
function n1Cilium(patch: Partial<SideSession> = {}): CiliumBgpValue {
  const peers = ok(parseCiliumPeers(fx('cilium-bgp-peers.json'), NOW)).filter(
    (p) => p.peerAddress === '10.199.16.2',
  );
  peers[0] = { ...peers[0]!, state: 'established', upSince: NOW - 60_000, ...patch };
  return {
    peers,
    advertised: { '10.199.16.2': ok(parseCiliumRoutes(fx('cilium-bgp-routes-adj-rib-out.json'))) },
    routeErrors: {},
  };
}

function router(patch: Partial<RouterBgpResult> = {}): RouterBgpResult {
  return {
    router: 'tor-gobgp',
    kind: 'gobgp',
    at: NOW,
    sessions: ok(parseGobgpNeighbors(fx('gobgp-neighbor.json'))),
    received: ok(parseGobgpRib(fx('gobgp-global-rib.json'))),
    addresses: ['10.199.16.2'],
    ...patch,
  };
}

const snap = <T>(value?: T, error?: string): Snapshot<T> => ({
  ...(value !== undefined ? { value } : {}),
  ...(error ? { error: { kind: 'error', message: error } } : {}),
  stale: false,
  loading: false,
});

function model(opts: {
  n1?: CiliumBgpValue;
  n2?: CiliumBgpValue;
  routers?: RouterBgpResult[];
  n2Unreachable?: boolean;
}) {
  return buildBgpModel({
    inventory: inventory(),
    now: NOW,
    hasKube: false,
    read: <T>(scope: string, source: string): Snapshot<T> => {
      if (source === 'bgp-cilium' && scope === 'n1') return snap(opts.n1) as Snapshot<T>;
      if (source === 'bgp-cilium' && scope === 'n2') return snap(opts.n2) as Snapshot<T>;
      if (source === 'reach' && scope === 'n2' && opts.n2Unreachable)
        return snap<T>(undefined, 'connect ETIMEDOUT');
      if (source === 'bgp-routers') return snap(opts.routers) as Snapshot<T>;
      return snap<T>();
    },
  });
}

describe('BGP model', () => {
  it('joins both sides on one row by addresses; all VIPs in the RIB → ok for that row', () => {
    const m = model({
      n1: n1Cilium(),
      n2: { peers: [], advertised: {}, routeErrors: {} },
      routers: [router()],
    });
    const r = m.rows.find((x) => x.node === 'n1')!;
    expect(r).toMatchObject({
      peerAddress: '10.199.16.2',
      nodeAddress: '10.199.16.11',
      router: 'tor-gobgp',
      state: 'established',
      established: true,
      localAsn: 65010,
      peerAsn: 65000,
      vips: ['10.199.96.10/32', '10.199.96.11/32'],
      vipsMissing: [],
      severity: 'ok',
    });
    expect(r.routerRoutes).toEqual(['10.199.64.0/24', '10.199.96.10/32', '10.199.96.11/32']);
    expect(r.uptimeMs).toBe(60_000);
    // n2: the router has a session (Active) but Cilium has no peer for it.
    const n2 = m.rows.find((x) => x.node === 'n2')!;
    expect(n2.cilium).toBeUndefined();
    expect(n2.severity).toBe('critical');
    expect(n2.problems.join('\n')).toMatch(/Cilium has no peer for this router session/);
    expect(m.exitCode).toBe(2);
  });

  it('one side Established, the other not: flagged as a disagreement', () => {
    const m = model({ n1: n1Cilium({ state: 'active', upSince: undefined }), routers: [router()] });
    const r = m.rows.find((x) => x.node === 'n1')!;
    expect(r.state).toBe('active/established');
    expect(r.established).toBe(false);
    expect(r.problems[0]).toMatch(/^disagree: Cilium active, router tor-gobgp Establ/);
    expect(r.severity).toBe('critical');
  });

  it('ASN mismatch between the sides', () => {
    const m = model({ n1: n1Cilium({ localAsn: 65099 }), routers: [router()] });
    const r = m.rows.find((x) => x.node === 'n1')!;
    expect(r.problems.join('\n')).toMatch(
      /ASN mismatch: Cilium local AS 65099, router tor-gobgp expects 65010/,
    );
    expect(r.severity).toBe('critical');
  });

  it('a VIP advertised by Cilium but absent from the router RIB: a warning naming it', () => {
    const rib = ok(parseGobgpRib(fx('gobgp-global-rib.json')));
    rib['10.199.16.11'] = rib['10.199.16.11']!.filter((p) => p !== '10.199.96.11/32');
    const m = model({ n1: n1Cilium(), routers: [router({ received: rib })] });
    const r = m.rows.find((x) => x.node === 'n1')!;
    expect(r.vipsMissing).toEqual(['10.199.96.11/32']);
    expect(r.severity).toBe('warning');
    expect(r.problems.join('\n')).toMatch(
      /absent from router tor-gobgp's RIB: 10\.199\.96\.11\/32/,
    );
  });

  it('a router that times out is its own state, on the rows it is known to own', () => {
    const m = model({
      n1: n1Cilium(),
      routers: [
        router({ sessions: [], received: {}, timedOut: true, error: 'no answer in 6000 ms' }),
      ],
    });
    const r = m.rows.find((x) => x.node === 'n1')!;
    expect(r.router).toBe('tor-gobgp');
    expect(r.routerRead).toBe('timeout');
    expect(r.state).toBe('established');
    expect(r.severity).toBe('warning');
    expect(m.routers[0]).toMatchObject({ read: 'timeout' });
  });

  it('a node unreachable: exit code 3', () => {
    const m = model({ n1: n1Cilium(), routers: [router()], n2Unreachable: true });
    expect(m.nodes.find((n) => n.node === 'n2')?.unreachable).toMatch(/ETIMEDOUT/);
    expect(m.exitCode).toBe(3);
  });

  it('a router neighbor that is no node of the inventory is shown, not dropped', () => {
    const inv = inventory();
    const m = buildBgpModel({
      inventory: { ...inv, nodes: [inv.nodes[0]!] },
      now: NOW,
      hasKube: false,
      read: <T>(scope: string, source: string): Snapshot<T> =>
        (source === 'bgp-routers'
          ? snap([router()])
          : source === 'bgp-cilium' && scope === 'n1'
            ? snap(n1Cilium())
            : snap()) as Snapshot<T>,
    });
    const stray = m.rows.find((x) => x.node === '?');
    expect(stray?.problems.join('\n')).toMatch(
      /neighbor 10\.199\.16\.12 is no node of the inventory/,
    );
  });
});

describe('flap counter', () => {
  const s = (state: SideSession['state'], upSince?: number): SideSession => ({
    peerAddress: '10.0.0.1',
    state,
    flaps: 0,
    ...(upSince !== undefined ? { upSince } : {}),
  });
  it('counts Established → down, and a new up-since between two reads', () => {
    const t = new FlapTracker();
    const seq: SideSession[] = [
      s('established', 1_000_000),
      s('established', 1_000_500), // same session (jitter)
      s('active'),
      s('established', 2_000_000),
      s('established', 3_000_000), // went down and up between reads
    ];
    const flaps = seq.map((x) => {
      t.observe([x]);
      return x.flaps;
    });
    expect(flaps).toEqual([0, 0, 1, 1, 2]);
  });
});

describe('BGP model: Cilium side unreadable', () => {
  it('a router session of a node whose agent cannot be read is flagged, not shown as fine', () => {
    const m = buildBgpModel({
      inventory: inventory(),
      now: NOW,
      hasKube: false,
      read: <T>(scope: string, source: string): Snapshot<T> => {
        if (source === 'bgp-routers') return snap([router()]) as Snapshot<T>;
        if (source === 'bgp-cilium' && scope === 'n1')
          return snap<T>(
            undefined,
            'n1:/var/run/cilium/cilium.sock: GET /v1/bgp/peers: no answer on the socket (agent not running?)',
          );
        return snap<T>();
      },
    });
    const r = m.rows.find((x) => x.node === 'n1')!;
    expect(r.routerSide?.state).toBe('established');
    expect(r.severity).toBe('warning');
    expect(r.problems.join('\n')).toMatch(/Cilium's side unreadable: .*agent not running/);
  });
});
