#!/usr/bin/env node
// MTU benchmark (npm run bench mtu):
//   1. parse + model: 50 nodes × 20 interfaces of `ip -j -d link show` (objects taken from
//      the captured fixtures in test/fixtures/mtu), Cilium's /v1/config and a full 50 × 49
//      path matrix → the MTU model (src/features/mtu), median of N runs after a warm-up;
//      beside it the baselines: JSON.parse of the same 50 outputs (the floor), and `jq`
//      over them (one process: what a user would run to list the links off 9216).
//   2. path-MTU matrix in the netns lab (test/helpers/mtu-lab.ts: hosts on veth links to a
//      router, the last host behind a 1500 hop): every node probes every other node with
//      the product's planner (probePeers: 3 pairs per node, ≤ 8 probes in flight overall,
//      bisection on failure), for 4, 6, 8 and 10 nodes (10: 90 pairs); beside it the
//      baseline a user would otherwise run: one `ping -M do -s 9188` per pair, one after
//      the other (no bisection). Needs root (skipped with the reason otherwise).
// Env: BENCH_RUNS (default 15), BENCH_MTU_NODES (lab sizes, default 4,6,8,10). Needs `npm run build` first (run.mjs does it).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..', '..');
const load = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(1)} ms`;

const { parseIpLinks } = await load('src/features/mtu/parse.js');
const { buildMtuModel } = await load('src/features/mtu/model.js');
const { Limiter, probePeers, pingArgv } = await load('src/features/mtu/probe.js');

// --- 1. parse + model ---------------------------------------------------------------
const NODES = 50;
const IFACES = 20;
const FIX = join(ROOT, 'test', 'fixtures', 'mtu');
const templates = [
  ...JSON.parse(readFileSync(join(FIX, 'ip-link-cilium-node.json'), 'utf8')),
  ...JSON.parse(readFileSync(join(FIX, 'ip-link-constructed.json'), 'utf8')),
  ...JSON.parse(readFileSync(join(FIX, 'ip-link-host-nic.json'), 'utf8')),
];
const texts = [];
for (let n = 0; n < NODES; n++) {
  const links = [];
  for (let i = 0; i < IFACES; i++) {
    const t = templates[i % templates.length];
    const lxc = i >= templates.length;
    links.push({
      ...t,
      ifindex: i + 1,
      ifname: lxc ? `lxc${(n * 100 + i).toString(16).padStart(12, '0')}` : t.ifname,
      // Every link at 9216 (loopback aside) but one: the last node's eth0.mgmt at 1500.
      mtu: t.ifname === 'lo' ? t.mtu : n === NODES - 1 && t.ifname === 'eth0.mgmt' ? 1500 : 9216,
    });
  }
  texts.push(JSON.stringify(links));
}
const names = Array.from({ length: NODES }, (_, i) => `node-${i}`);
const inventory = {
  source: '<bench>',
  cluster: 'bench',
  nodes: names.map((name, index) => ({
    name,
    index,
    host: name,
    addresses: [`10.9.${index >> 8}.${index & 255}`],
    roles: ['worker'],
  })),
  ssh: { jump: [], connectTimeoutMs: 5000 },
  kube: { tunnel: false },
  pki: { dir: '/etc/kubernetes/pki', rootOffline: true },
  rotation: { spreadMs: 86_400_000, cpGapMs: 1_800_000, minRemainingMs: 172_800_000 },
  network: { targetMtu: 9216, bgpRouters: [] },
  ingress: { namespace: 'ingress-nginx', cacheZone: 'static' },
  addons: {},
};
const paths = names.map((from) => ({
  target: 9216,
  results: names
    .filter((to) => to !== from)
    .map((to) =>
      to === names.at(-1)
        ? { to, status: 'low', mtu: 1500, reportedBy: '10.9.0.1', probes: 2, ms: 2 }
        : { to, status: 'ok', mtu: 9216, probes: 1, ms: 1 },
    ),
}));
const cilium = {
  ok: true,
  config: { deviceMtu: 9216, routeMtu: 9166, datapathMode: 'veth', routingMode: 'tunnel' },
};

function parseAndModel() {
  const snaps = new Map();
  for (const [i, name] of names.entries()) {
    const p = parseIpLinks(texts[i]);
    const links = p.ok ? { ok: true, ...p.value } : { ok: false, error: p.error };
    snaps.set(`${name}\0mtu-links`, { value: links, stale: false, loading: false });
    snaps.set(`${name}\0mtu-cilium`, { value: cilium, stale: false, loading: false });
    snaps.set(`${name}\0mtu-paths`, { value: paths[i], stale: false, loading: false });
  }
  return buildMtuModel(
    inventory,
    (s, id) => snaps.get(`${s}\0${id}`) ?? { stale: false, loading: false },
  );
}

const time = (fn) => {
  fn();
  const xs = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    fn();
    xs.push(performance.now() - t0);
  }
  return median(xs);
};
const check = parseAndModel();
if (check.totals.linksOff !== 1 || check.totals.pathsLow !== NODES - 1)
  throw new Error(`unexpected model: ${JSON.stringify(check.totals)}`);
const tModel = time(parseAndModel);
const tParse = time(() => {
  for (const t of texts) JSON.parse(t);
});
let tJq = null;
if (spawnSync('jq', ['--version']).status === 0) {
  const input = texts.join('\n');
  const jq = () => spawnSync('jq', ['-c', '.[] | select(.mtu != 9216) | {ifname, mtu}'], { input });
  tJq = median(
    Array.from({ length: Math.min(RUNS, 7) }, () => {
      const t0 = performance.now();
      jq();
      return performance.now() - t0;
    }),
  );
}
console.log(
  `parse + model, ${NODES} nodes × ${IFACES} interfaces (+ a ${NODES}×${NODES - 1} path matrix), median of ${RUNS}`,
);
console.log('| measure | time | budget |');
console.log('| --- | --- | --- |');
console.log(`| k8ops: parse every output + MTU model | ${ms(tModel)} | < 100 ms |`);
console.log(`| baseline: JSON.parse of the same outputs | ${ms(tParse)} | |`);
if (tJq !== null)
  console.log(`| baseline: \`jq\` listing links off 9216 (one process) | ${ms(tJq)} | |`);

// --- 2. path-MTU matrix in the netns lab -------------------------------------------
const lab = await import(pathToFileURL(join(ROOT, 'test', 'helpers', 'mtu-lab.ts')).href);
const support = lab.mtuLabSupport();
if (!support.ok) {
  console.log(`\npath-MTU matrix: skipped (${support.reason})`);
  process.exit(0);
}
console.log(
  '\npath-MTU matrix in the netns lab (last host behind a 1500 hop; PMTU caches flushed before each run)',
);
console.log(
  '| nodes | pairs | k8ops (planner, ≤ 8 in flight) | probes | peak in flight | paths at 1500 | baseline: one ping per pair, in turn |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
const SIZES = (process.env.BENCH_MTU_NODES ?? '4,6,8,10').split(',').map(Number);
for (const n of SIZES) {
  const l = await lab.startMtuLab({ hosts: n, narrow: n - 1 });
  try {
    await l.flushPmtu();
    const limiter = new Limiter(8);
    let probes = 0;
    const t0 = performance.now();
    const rows = await Promise.all(
      l.hosts.map((h) =>
        probePeers(
          (argv, o) => {
            probes++;
            return l.exec(h.ns, argv, (o?.timeoutMs ?? 5000) + 1000);
          },
          l.hosts.filter((p) => p !== h).map((p) => ({ name: p.name, address: p.address })),
          9216,
          { limiter, perNode: 3 },
        ),
      ),
    );
    const tMatrix = performance.now() - t0;
    const low = rows.flat().filter((r) => r.status === 'low' && r.mtu === 1500).length;
    const wrong = rows
      .flat()
      .filter((r) => !(r.status === 'ok' || (r.status === 'low' && r.mtu === 1500)));
    if (wrong.length) throw new Error(`unexpected paths: ${JSON.stringify(wrong.slice(0, 3))}`);
    // Baseline: the loop a user would type, one ping per pair at the target size.
    await l.flushPmtu();
    const b0 = performance.now();
    for (const h of l.hosts)
      for (const p of l.hosts) if (p !== h) await l.exec(h.ns, pingArgv(p.address, 9216));
    const tBase = performance.now() - b0;
    const pairs = n * (n - 1);
    console.log(
      `| ${n} | ${pairs} | ${ms(tMatrix)} | ${probes} | ${limiter.peak} | ${low} | ${ms(tBase)} (no MTU found) |`,
    );
  } finally {
    await l.teardown();
  }
}
console.log('budget: 10 nodes (90 pairs) < 5 s with ≤ 8 probes in flight');
