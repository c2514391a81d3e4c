/**
 * The BGP model with the kube API's configuration (features/bgp/crds.ts): each session tied
 * to its CiliumBGPPeerConfig through the node's CiliumBGPNodeConfig (or a
 * CiliumBGPClusterConfig), the CiliumBGPAdvertisements its families select, the Services
 * those select — and one test per finding. Kube objects are the real-shaped fixtures of
 * test/fixtures/kube read by the product's parsers, changed per case; both BGP sides come
 * from the captured gobgp / Cilium outputs (test/fixtures/bgp).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../../../src/config/types.js';
import { type BgpRow, buildBgpModel } from '../../../../src/features/bgp/model.js';
import { parseCiliumPeers, parseCiliumRoutes } from '../../../../src/features/bgp/parse/cilium.js';
import { parseGobgpNeighbors, parseGobgpRib } from '../../../../src/features/bgp/parse/gobgp.js';
import type { CiliumBgpValue, RouterBgpResult } from '../../../../src/features/bgp/types.js';
import { parseBgpNodeConfig } from '../../../../src/kube/parse/bgp.js';
import {
  parseBgpAdvertisement,
  parseBgpClusterConfig,
  parseBgpPeerConfig,
} from '../../../../src/kube/parse/bgp-config.js';
import { parseServiceVips } from '../../../../src/kube/parse/service.js';
import type { KubeServiceVips } from '../../../../src/kube/types.js';
import type { Snapshot } from '../../../../src/store/types.js';

const BGP_FIX = join(import.meta.dirname, '../../../fixtures/bgp');
const KUBE_FIX = join(import.meta.dirname, '../../../fixtures/kube');
const text = (name: string) => readFileSync(join(BGP_FIX, name), 'utf8');
// biome-ignore lint/suspicious/noExplicitAny: raw JSON fixtures, changed field by field per case
type Raw = Record<string, any>;
const kubeFx = (name: string): Raw => JSON.parse(readFileSync(join(KUBE_FIX, name), 'utf8'));
const ok = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

const NOW = Date.UTC(2026, 11, 6, 4, 0, 0);
/** n1's peer in the captured outputs: the gobgp router, hold time 9 s negotiated. */
const PEER = '10.199.16.2';
const LB_VIPS = ['10.199.96.10/32', '10.199.96.11/32'];

const inventory = (): Inventory => ({
  source: '<test>',
  cluster: 'lab',
  nodes: [{ name: 'n1', index: 0, host: 'n1', addresses: ['10.199.16.11'], roles: ['worker'] }],
  ssh: { jump: [], connectTimeoutMs: 5000 },
  kube: { tunnel: false },
  pki: { dir: '/etc/kubernetes/pki', rootOffline: true },
  rotation: { spreadMs: 1, cpGapMs: 1, minRemainingMs: 1 },
  network: { targetMtu: 9216, bgpRouters: [{ name: 'tor-gobgp', kind: 'gobgp', host: 'r' }] },
  ingress: { namespace: 'x', cacheZone: 'y' },
  addons: {},
});

function cilium(advertised = ok(parseCiliumRoutes(text('cilium-bgp-routes-adj-rib-out.json')))) {
  const peers = ok(parseCiliumPeers(text('cilium-bgp-peers.json'), NOW)).filter(
    (p) => p.peerAddress === PEER,
  );
  peers[0] = { ...peers[0]!, state: 'established', upSince: NOW - 60_000 };
  return { peers, advertised: { [PEER]: advertised }, routeErrors: {} } as CiliumBgpValue;
}

const router = (): RouterBgpResult => ({
  router: 'tor-gobgp',
  kind: 'gobgp',
  at: NOW,
  sessions: ok(parseGobgpNeighbors(text('gobgp-neighbor.json'))),
  received: ok(parseGobgpRib(text('gobgp-global-rib.json'))),
  addresses: [PEER],
});

/** The kube objects of a healthy configuration for n1 → PEER, as raw JSON to change per case. */
function kube() {
  const node = kubeFx('ciliumbgpnodeconfig-v2.json');
  node.metadata.name = 'n1';
  node.spec.bgpInstances[0].peers[0].peerAddress = PEER;
  node.status.bgpInstances[0].peers[0].peerAddress = PEER;
  const peer = kubeFx('ciliumbgppeerconfig-v2.json'); // hold 9 s: the router negotiated 9 s
  const advert = kubeFx('ciliumbgpadvertisement-v2.json'); // PodCIDR + Service LB (bgp in (blue))
  const cluster = kubeFx('ciliumbgpclusterconfig-v2.json');
  cluster.spec.bgpInstances[0].peers[0].peerAddress = PEER;
  const svc = (name: string, ip: string, patch: Raw = {}): Raw => {
    const s = kubeFx('service-loadbalancer.json');
    s.metadata.name = name;
    s.status.loadBalancer.ingress[0].ip = ip;
    Object.assign(s.spec, patch);
    return s;
  };
  const services = [
    svc('web', LB_VIPS[0]!.replace('/32', '')),
    svc('api', LB_VIPS[1]!.replace('/32', '')),
  ];
  return { node, peer, advert, cluster, services };
}

type Kube = ReturnType<typeof kube>;

const snap = <T>(value?: T, error?: string): Snapshot<T> => ({
  ...(value !== undefined ? { value } : {}),
  ...(error ? { error: { kind: 'forbidden', message: error } } : {}),
  stale: false,
  loading: false,
});

function model(
  k: Kube,
  opts: { cilium?: CiliumBgpValue; servicesError?: string; peerConfigsAbsent?: boolean } = {},
) {
  const list = <T>(items: Raw[], parse: (o: unknown) => T | undefined) => ({
    apiVersion: 'cilium.io/v2',
    items: items.map(parse).filter((x): x is T => x !== undefined),
  });
  const sections: Record<string, unknown> = {
    'kube.bgp': { apiVersion: 'cilium.io/v2', nodes: [parseBgpNodeConfig(k.node)] },
    'kube.bgp-peer-configs': opts.peerConfigsAbsent
      ? { absent: 'ciliumbgppeerconfigs.cilium.io is not served', items: [] }
      : list([k.peer], parseBgpPeerConfig),
    'kube.bgp-advertisements': list([k.advert], parseBgpAdvertisement),
    'kube.bgp-cluster-configs': list([k.cluster], parseBgpClusterConfig),
  };
  const services = k.services.map(parseServiceVips) as KubeServiceVips[];
  return buildBgpModel({
    inventory: inventory(),
    now: NOW,
    hasKube: true,
    read: <T>(scope: string, source: string): Snapshot<T> => {
      if (source === 'bgp-cilium' && scope === 'n1')
        return snap(opts.cilium ?? cilium()) as Snapshot<T>;
      if (source === 'bgp-routers') return snap([router()]) as Snapshot<T>;
      if (source === 'kube.services')
        return (
          opts.servicesError ? snap(undefined, opts.servicesError) : snap(services)
        ) as Snapshot<T>;
      if (source in sections) return snap(sections[source]) as Snapshot<T>;
      return snap<T>();
    },
  });
}

const row = (m: ReturnType<typeof model>): BgpRow => m.rows.find((r) => r.node === 'n1')!;
const labelBlue = (k: Kube) => {
  for (const s of k.services) s.metadata.labels.bgp = 'blue';
};

describe('BGP model: the kube configuration of a session', () => {
  it('healthy: PeerConfig via the NodeConfig spec, the family and its advertisements, the Services, the VIPs agree', () => {
    const k = kube();
    labelBlue(k);
    const m = model(k);
    const r = row(m);
    expect(r.severity).toBe('ok');
    expect(r.problems).toEqual([]);
    expect(r.config).toMatchObject({
      from: 'CiliumBGPNodeConfig n1',
      instance: 'instance-65001',
      peer: 'tor-1',
      peerConfig: 'cilium-peer',
      state: 'found',
      timers: {
        holdTimeSeconds: 9,
        keepAliveTimeSeconds: 3,
        connectRetryTimeSeconds: 5,
        defaulted: [],
      },
      peerPort: 179,
      ebgpMultihop: 1,
      gracefulRestart: { enabled: true, restartTimeSeconds: 15 },
      authSecretRef: 'bgp-auth-secret',
    });
    expect(r.config!.families).toEqual([
      {
        afi: 'ipv4',
        safi: 'unicast',
        selector: 'advertise=bgp',
        advertisements: [
          expect.objectContaining({ advertisement: 'bgp-advertisements[0]', type: 'PodCIDR' }),
          expect.objectContaining({
            advertisement: 'bgp-advertisements[1]',
            type: 'Service',
            addresses: ['LoadBalancerIP'],
            selector: 'bgp in (blue)',
            services: ['shop/api', 'shop/web'],
          }),
        ],
      },
    ]);
    expect(r.config!.loadBalancerVips).toEqual({
      expected: [
        { prefix: LB_VIPS[0], services: ['shop/web'], optional: false },
        { prefix: LB_VIPS[1], services: ['shop/api'], optional: false },
      ],
      advertised: LB_VIPS,
      missing: [],
      unexpected: [],
    });
    expect(m.kube).toMatchObject({
      peerConfigs: { apiVersion: 'cilium.io/v2', count: 1 },
      advertisements: { count: 1 },
      clusterConfigs: { count: 1 },
      services: { count: 2 },
    });
    // The auth Secret is named, its content is nowhere (k8ops never reads it).
    expect(JSON.stringify(m)).not.toMatch(/password/i);
  });

  it('LoadBalancer VIPs disagree: a selected Service VIP not advertised, an advertised one no Service holds', () => {
    const k = kube();
    labelBlue(k);
    k.services[1]!.status.loadBalancer.ingress[0].ip = '10.199.96.12'; // api moved to .12
    const r = row(model(k));
    expect(r.config!.loadBalancerVips).toMatchObject({
      missing: ['10.199.96.12/32'],
      unexpected: ['10.199.96.11/32'],
    });
    expect(r.severity).toBe('warning');
    expect(r.problems).toEqual([
      "LoadBalancer VIPs disagree with the selected Services' status.loadBalancer.ingress: not advertised: 10.199.96.12/32 (shop/api); advertised but held by no selected Service: 10.199.96.11/32",
    ]);
  });

  it('a Service the selector does not pick is not expected, and its VIP advertised anyway is flagged', () => {
    const k = kube();
    delete k.services[1]!.metadata.labels.bgp; // only web is selected
    const r = row(model(k));
    expect(r.config!.loadBalancerVips?.expected.map((e) => e.prefix)).toEqual([LB_VIPS[0]]);
    expect(r.config!.loadBalancerVips?.unexpected).toEqual([LB_VIPS[1]]);
    expect(r.severity).toBe('warning');
  });

  it('what Cilium rightly leaves out is not flagged: externalTrafficPolicy Local, another loadBalancerClass, ClusterIP entries', () => {
    const k = kube();
    labelBlue(k);
    // web: eTP Local (advertised only where it has a local endpoint): expected but optional.
    Object.assign(k.services[0]!.spec, { externalTrafficPolicy: 'Local' });
    // a third LB Service managed by another controller: never advertised by Cilium.
    const other = kubeFx('service-loadbalancer.json');
    other.metadata.name = 'metallb-svc';
    other.metadata.labels.bgp = 'blue';
    other.spec.loadBalancerClass = 'metallb.io/metallb';
    other.status.loadBalancer.ingress[0].ip = '10.199.96.30';
    k.services.push(other);
    // The agent advertises only api's VIP (web has no local endpoint here).
    const adv = ['10.199.64.0/24', LB_VIPS[1]!];
    let r = row(model(k, { cilium: cilium(adv) }));
    expect(r.config!.loadBalancerVips).toMatchObject({
      expected: [
        { prefix: LB_VIPS[0], optional: true },
        { prefix: LB_VIPS[1], optional: false },
      ],
      missing: [],
      unexpected: [],
    });
    expect(r.severity).toBe('ok');
    // A ClusterIP entry explains the cluster IPs the agent advertises.
    k.advert.spec.advertisements[1].service.addresses = ['LoadBalancerIP', 'ClusterIP'];
    r = row(model(k, { cilium: cilium([...adv, '10.96.40.12/32']) }));
    expect(r.config!.loadBalancerVips?.unexpected).toEqual([]);
    // (The router's RIB lacks that route: the existing RIB check says so, not this one.)
    expect(r.config!.problems).toEqual([]);
  });

  it('the referenced CiliumBGPPeerConfig does not exist: flagged (Cilium advertises nothing to the peer)', () => {
    const k = kube();
    labelBlue(k);
    k.node.spec.bgpInstances[0].peers[0].peerConfigRef.name = 'cilium-peer-rack1';
    const r = row(model(k));
    expect(r.config).toMatchObject({ state: 'missing', peerConfig: 'cilium-peer-rack1' });
    expect(r.config!.timers).toBeUndefined();
    expect(r.severity).toBe('warning');
    expect(r.problems).toEqual([
      'CiliumBGPPeerConfig "cilium-peer-rack1" (referenced by peer tor-1 of CiliumBGPNodeConfig n1) does not exist: Cilium advertises nothing to this peer',
    ]);
  });

  it('no peerConfigRef: Cilium defaults (90 s hold, against the router 9 s), flagged', () => {
    const k = kube();
    delete k.node.spec.bgpInstances[0].peers[0].peerConfigRef;
    const r = row(model(k));
    expect(r.config).toMatchObject({
      state: 'none',
      timers: {
        holdTimeSeconds: 90,
        defaulted: ['holdTimeSeconds', 'keepAliveTimeSeconds', 'connectRetryTimeSeconds'],
      },
    });
    expect(r.problems).toEqual([
      "peer tor-1 of CiliumBGPNodeConfig n1 references no CiliumBGPPeerConfig: Cilium's default timers, nothing advertised to this peer",
      "hold time: Cilium's default is 90 s, router tor-gobgp negotiated 9 s",
    ]);
  });

  it('a family whose selector matches no CiliumBGPAdvertisement, and one that has none', () => {
    const k = kube();
    labelBlue(k);
    k.peer.spec.families = [
      { afi: 'ipv4', safi: 'unicast', advertisements: { matchLabels: { advertise: 'bgp-typo' } } },
      { afi: 'ipv6', safi: 'unicast' },
    ];
    const r = row(model(k));
    expect(r.config!.families.map((f) => [f.afi, f.selector, f.advertisements.length])).toEqual([
      ['ipv4', 'advertise=bgp-typo', 0],
      ['ipv6', 'none', 0],
    ]);
    expect(r.problems).toEqual([
      'family ipv4/unicast of CiliumBGPPeerConfig "cilium-peer": its advertisements selector (advertise=bgp-typo) matches no CiliumBGPAdvertisement',
      'family ipv6/unicast of CiliumBGPPeerConfig "cilium-peer" selects no advertisements: nothing is advertised in it',
    ]);
    // No Service advertisement applies any more: no VIP comparison.
    expect(r.config!.loadBalancerVips).toBeUndefined();
  });

  it("the PeerConfig's hold time differs from the one the router negotiated", () => {
    const k = kube();
    labelBlue(k);
    k.peer.spec.timers.holdTimeSeconds = 30;
    const r = row(model(k));
    expect(r.severity).toBe('warning');
    expect(r.problems).toEqual([
      'hold time: CiliumBGPPeerConfig "cilium-peer" asks 30 s, router tor-gobgp negotiated 9 s',
    ]);
  });

  it("the PeerConfig's auth Secret is missing (its condition), an unreadable field: flagged", () => {
    const k = kube();
    labelBlue(k);
    k.peer.status.conditions[0].status = 'True';
    k.peer.status.conditions[0].message = 'Secret "bgp-auth-secret" not found';
    k.peer.spec.ebgpMultihop = 'four';
    const r = row(model(k));
    expect(r.problems).toEqual([
      'auth Secret "bgp-auth-secret" of CiliumBGPPeerConfig "cilium-peer" is missing (cilium.io/MissingAuthSecret: Secret "bgp-auth-secret" not found): the session uses no password',
      'CiliumBGPPeerConfig "cilium-peer": spec.ebgpMultihop: "four" is not an integer in 1…255',
    ]);
  });

  it('Services not readable (RBAC): the VIPs are not compared, and the detail says why; no finding', () => {
    const k = kube();
    labelBlue(k);
    k.services[1]!.status.loadBalancer.ingress[0].ip = '10.199.96.12';
    const m = model(k, {
      servicesError: 'services is forbidden: User "viewer" cannot list resource "services"',
    });
    const r = row(m);
    expect(r.config!.loadBalancerVips).toBeUndefined();
    expect(r.severity).toBe('ok');
    expect(r.config!.notes).toEqual([
      'Services not read: services is forbidden: User "viewer" cannot list resource "services"',
      'LoadBalancer VIPs not compared: Services not read: services is forbidden: User "viewer" cannot list resource "services"',
    ]);
    expect(m.kube.services.error).toMatch(/forbidden/);
  });

  it('PeerConfig CRD not served: state unknown, said in the notes, no finding', () => {
    const r = row(model(kube(), { peerConfigsAbsent: true }));
    expect(r.config).toMatchObject({ state: 'unknown', peerConfig: 'cilium-peer' });
    expect(r.config!.notes).toEqual([
      'CiliumBGPPeerConfig not read: ciliumbgppeerconfigs.cilium.io is not served',
    ]);
    expect(r.severity).toBe('ok');
  });

  it('no spec peer in the NodeConfig: tied through the CiliumBGPClusterConfig instead', () => {
    const k = kube();
    labelBlue(k);
    delete k.node.spec;
    const r = row(model(k));
    expect(r.config).toMatchObject({
      from: 'CiliumBGPClusterConfig lab-bgp',
      peer: 'tor-1',
      peerConfig: 'cilium-peer',
      state: 'found',
    });
    expect(r.severity).toBe('ok');
  });

  it('a session no BGP CRD names: no configuration view, no finding', () => {
    const k = kube();
    delete k.node.spec;
    k.cluster.spec.bgpInstances[0].peers = [];
    const r = row(model(k));
    expect(r.config).toBeUndefined();
    expect(r.severity).toBe('ok');
  });
});
