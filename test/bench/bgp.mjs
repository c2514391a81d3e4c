#!/usr/bin/env node
// BGP benchmark (npm run bench bgp): 50 nodes × 4 sessions (two gobgp routers and two
// BIRD routers, each peering with every node). The inputs are the real outputs captured
// in test/fixtures/bgp (gobgp 3.10, BIRD 2.0.12, Cilium 1.17-shaped payloads) multiplied
// out with each node's addresses:
//   - k8ops: every parser over every text (50 × /v1/bgp/peers, 200 × /v1/bgp/routes,
//     2 × gobgp -j neighbor + global rib, 2 × birdc show protocols all + show route +
//     show status) and the model joining the 200 rows — median of N runs after a warm-up;
//     then the same with the kube API's BGP configuration in the store (50
//     CiliumBGPNodeConfigs, the PeerConfig, Advertisement and ClusterConfig fixtures, 500
//     Services of which 2 LoadBalancers are selected), which the model joins per row
//     (features/bgp/crds.ts); the kube objects are parsed once, as the watches do on events;
//   - beside it, what a user would otherwise run: `jq` over one router's `gobgp -j neighbor`
//     (one whole process: neighbor, state, received), and the floor of any JS approach:
//     JSON.parse of the same JSON texts with a loop over the peers.
// Env: BENCH_RUNS (default 25), BENCH_BGP_NODES (50).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'test', 'fixtures', 'bgp');
const load = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const RUNS = Number(process.env.BENCH_RUNS ?? 25);
const NODES = Number(process.env.BENCH_BGP_NODES ?? 50);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fx = (n) => readFileSync(join(FIX, n), 'utf8');

const { parseCiliumPeers, parseCiliumRoutes } = await load('src/features/bgp/parse/cilium.js');
const { parseGobgpNeighbors, parseGobgpRib } = await load('src/features/bgp/parse/gobgp.js');
const { parseBirdProtocols, parseBirdRoutes, parseBirdStatus, birdAgeMs } = await load(
  'src/features/bgp/parse/bird.js',
);
const { buildBgpModel } = await load('src/features/bgp/model.js');
const { parseBgpNodeConfig } = await load('src/kube/parse/bgp.js');
const { parseBgpPeerConfig, parseBgpAdvertisement, parseBgpClusterConfig } = await load(
  'src/kube/parse/bgp-config.js',
);
const { parseServiceVips } = await load('src/kube/parse/service.js');

const NOW = Date.UTC(2026, 11, 6, 4, 0, 0);
const nodeAddr = (i) => `10.200.${Math.floor(i / 250)}.${(i % 250) + 1}`;
const ROUTERS = [
  { name: 'tor-a', kind: 'gobgp', host: 'tor-a', addr: '10.201.0.1' },
  { name: 'tor-b', kind: 'gobgp', host: 'tor-b', addr: '10.201.0.2' },
  { name: 'tor-c', kind: 'bird', host: 'tor-c', addr: '10.201.0.3' },
  { name: 'tor-d', kind: 'bird', host: 'tor-d', addr: '10.201.0.4' },
];
const VIPS = ['10.199.96.10/32', '10.199.96.11/32'];

// --- inputs: the captured outputs, one entry per node ---
const gobgpTemplate = JSON.parse(fx('gobgp-neighbor.json'))[0];
const ribTemplate = JSON.parse(fx('gobgp-global-rib.json'))['10.199.96.10/32'][0];
function gobgpTexts(r) {
  const peers = [];
  const rib = {};
  for (let i = 0; i < NODES; i++) {
    const p = structuredClone(gobgpTemplate);
    p.conf.neighbor_address = p.state.neighbor_address = nodeAddr(i);
    p.transport.local_address = r.addr;
    peers.push(p);
    for (const prefix of [`10.244.${i}.0/24`, ...VIPS]) {
      const path = {
        ...ribTemplate,
        nlri: { prefix },
        'neighbor-ip': nodeAddr(i),
        'source-id': nodeAddr(i),
      };
      rib[prefix] = [...(rib[prefix] ?? []), path];
    }
  }
  return { neighbors: JSON.stringify(peers), rib: JSON.stringify(rib) };
}
const protoText = fx('birdc-show-protocols-all.txt');
const n1Block = protoText.slice(protoText.indexOf('k8s_n1 '), protoText.indexOf('k8s_n2 '));
const routeLines = fx('birdc-show-route-all.txt')
  .split('\n')
  .filter((l) => /^10\.199\.96\.10\/32|^\t/.test(l))
  .slice(0, 6);
function birdTexts(r) {
  let protos = protoText.slice(0, protoText.indexOf('k8s_n1 '));
  let routes = 'BIRD 2.0.12 ready.\nTable master4:\n';
  for (let i = 0; i < NODES; i++) {
    const name = `k8s_${i}`.padEnd(10);
    protos += n1Block
      .replace('k8s_n1    ', name)
      .replaceAll('10.199.16.11', nodeAddr(i))
      .replaceAll('10.199.16.1\n', `${r.addr}\n`);
    for (const prefix of [`10.244.${i}.0/24`, ...VIPS])
      routes += `${prefix.padEnd(20)} unreachable [k8s_${i} 03:33:25.975 from ${nodeAddr(i)}] * (100) [AS65010?]\n${routeLines.slice(1).join('\n')}\n`;
  }
  return { protocols: protos, routes, status: fx('birdc-show-status.txt') };
}
const ciliumPeer = JSON.parse(fx('cilium-bgp-peers.json'))[0];
const ciliumPeers = JSON.stringify(
  ROUTERS.map((r) => ({ ...ciliumPeer, 'peer-address': r.addr, name: r.name })),
);
const ciliumRoutes = JSON.stringify(
  JSON.parse(fx('cilium-bgp-routes-adj-rib-out.json')).map((x, i) =>
    i === 0 ? { ...x, prefix: '10.244.0.0/24' } : x,
  ),
);
const routerTexts = ROUTERS.map((r) => ({
  r,
  t: r.kind === 'gobgp' ? gobgpTexts(r) : birdTexts(r),
}));
const inventory = {
  source: '<bench>',
  cluster: 'bench',
  nodes: Array.from({ length: NODES }, (_, i) => ({
    name: `node-${i}`,
    index: i,
    host: `node-${i}`,
    addresses: [nodeAddr(i)],
    roles: ['worker'],
  })),
  ssh: { jump: [], connectTimeoutMs: 5000 },
  kube: { tunnel: false },
  pki: { dir: '/etc/kubernetes/pki', rootOffline: true },
  rotation: { spreadMs: 1, cpGapMs: 1, minRemainingMs: 1 },
  network: { targetMtu: 9216, bgpRouters: ROUTERS.map(({ addr, ...r }) => r) },
  ingress: { namespace: 'x', cacheZone: 'y' },
  addons: {},
};

// --- the kube API's BGP configuration (test/fixtures/kube), per node and router ---
const KFIX = join(ROOT, 'test', 'fixtures', 'kube');
const kfx = (n) => JSON.parse(readFileSync(join(KFIX, n), 'utf8'));
const nodeConfigs = inventory.nodes.map((n) => {
  const o = kfx('ciliumbgpnodeconfig-v2.json');
  o.metadata.name = n.name;
  o.spec.bgpInstances[0].peers = ROUTERS.map((r) => ({
    name: r.name,
    peerAddress: r.addr,
    peerASN: 65000,
    peerConfigRef: { name: 'cilium-peer' },
  }));
  return parseBgpNodeConfig(o);
});
const services = Array.from({ length: 500 }, (_, i) => {
  const o = kfx('service-loadbalancer.json');
  o.metadata.name = `svc-${i}`;
  o.spec.clusterIP = o.spec.clusterIPs[0] = `10.96.${Math.floor(i / 250)}.${(i % 250) + 1}`;
  if (i < VIPS.length) o.status.loadBalancer.ingress[0].ip = VIPS[i].replace('/32', '');
  else {
    o.spec.type = 'ClusterIP';
    o.status = {};
    delete o.metadata.labels.bgp;
  }
  return parseServiceVips(o);
});
const kubeStore = {
  'kube.bgp': { apiVersion: 'cilium.io/v2', nodes: nodeConfigs },
  'kube.bgp-peer-configs': {
    apiVersion: 'cilium.io/v2',
    items: [parseBgpPeerConfig(kfx('ciliumbgppeerconfig-v2.json'))],
  },
  'kube.bgp-advertisements': {
    apiVersion: 'cilium.io/v2',
    items: [parseBgpAdvertisement(kfx('ciliumbgpadvertisement-v2.json'))],
  },
  'kube.bgp-cluster-configs': {
    apiVersion: 'cilium.io/v2',
    items: [parseBgpClusterConfig(kfx('ciliumbgpclusterconfig-v2.json'))],
  },
  'kube.services': services,
};

// --- k8ops: parse everything, then the model ---
function refresh(withKube = false) {
  const cilium = new Map();
  for (const n of inventory.nodes) {
    const peers = parseCiliumPeers(ciliumPeers, NOW);
    const advertised = {};
    for (const p of peers.value) advertised[p.peerAddress] = parseCiliumRoutes(ciliumRoutes).value;
    cilium.set(n.name, { peers: peers.value, advertised, routeErrors: {} });
  }
  const routers = routerTexts.map(({ r, t }) => {
    if (r.kind === 'gobgp')
      return {
        router: r.name,
        kind: r.kind,
        at: NOW,
        sessions: parseGobgpNeighbors(t.neighbors).value,
        received: parseGobgpRib(t.rib).value,
        addresses: [r.addr],
      };
    const clock = parseBirdStatus(t.status);
    const protos = parseBirdProtocols(t.protocols, NOW, (s) => birdAgeMs(s, clock.value)).value;
    const received = {};
    for (const x of parseBirdRoutes(t.routes).value) {
      const list = received[x.from] ?? [];
      list.push(x.prefix);
      received[x.from] = list;
    }
    return {
      router: r.name,
      kind: r.kind,
      at: NOW,
      sessions: protos,
      received,
      addresses: [r.addr],
    };
  });
  const snap = (value) => ({ value, stale: false, loading: false });
  return buildBgpModel({
    inventory,
    now: NOW,
    hasKube: false,
    read: (scope, source) =>
      source === 'bgp-cilium'
        ? snap(cilium.get(scope))
        : source === 'bgp-routers'
          ? snap(routers)
          : source === 'reach'
            ? snap({ rttMs: 1, route: 'direct' })
            : withKube && source in kubeStore
              ? snap(kubeStore[source])
              : { stale: false, loading: false },
  });
}

const check = refresh();
const established = check.rows.filter((r) => r.established && r.routerSide).length;
if (check.rows.length !== NODES * ROUTERS.length || established !== NODES * ROUTERS.length) {
  console.error(
    `bench inputs did not join: ${check.rows.length} rows, ${established} established on both sides`,
  );
  process.exit(1);
}
const withKube = refresh(true);
const configured = withKube.rows.filter(
  (r) => r.config?.state === 'found' && r.config.loadBalancerVips && r.problems.length === 0,
).length;
if (configured !== NODES * ROUTERS.length) {
  console.error(`bench kube inputs did not join: ${configured} rows with a clean configuration`);
  process.exit(1);
}
for (let i = 0; i < 5; i++) refresh();
const times = [];
const kubeTimes = [];
for (let i = 0; i < RUNS; i++) {
  let t0 = performance.now();
  refresh();
  times.push(performance.now() - t0);
  t0 = performance.now();
  refresh(true);
  kubeTimes.push(performance.now() - t0);
}

// --- baselines ---
const jsTimes = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  let n = 0;
  for (const { t } of routerTexts)
    if (t.neighbors)
      for (const p of JSON.parse(t.neighbors)) n += p.state.session_state === 6 ? 1 : 0;
  for (let j = 0; j < NODES; j++)
    for (const p of JSON.parse(ciliumPeers)) n += p['session-state'] === 'established' ? 1 : 0;
  jsTimes.push(performance.now() - t0);
  if (n === 0) throw new Error('baseline saw nothing');
}
const tmp = mkdtempSync(join(tmpdir(), 'k8ops-bench-bgp-'));
const jqTimes = [];
let jqNote = '';
try {
  const file = join(tmp, 'neighbor.json');
  writeFileSync(file, routerTexts[0].t.neighbors);
  const jqArgs = [
    '-c',
    '[.[] | {n: .state.neighbor_address, s: .state.session_state, r: .afi_safis[0].state.received}]',
    file,
  ];
  if (spawnSync('jq', ['--version']).status !== 0) jqNote = 'jq not installed';
  else
    for (let i = 0; i < Math.min(RUNS, 15); i++) {
      const t0 = performance.now();
      const r = spawnSync('jq', jqArgs, { encoding: 'utf8' });
      jqTimes.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(r.stderr);
    }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const ms = (x) => `${x.toFixed(2)} ms`;
console.log(
  `BGP: ${NODES} nodes × ${ROUTERS.length} sessions (${check.rows.length} rows), median of ${RUNS}`,
);
console.log(`  k8ops parse every source + model (goal < 100 ms)      ${ms(median(times))}`);
console.log(`  the same, the model joining the kube configuration     ${ms(median(kubeTimes))}`);
console.log(`  baseline: JSON.parse + loop over the same JSON texts   ${ms(median(jsTimes))}`);
console.log(
  `  baseline: jq over ONE router's gobgp -j neighbor (1 process) ${jqTimes.length ? ms(median(jqTimes)) : jqNote}`,
);
