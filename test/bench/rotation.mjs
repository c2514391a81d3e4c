#!/usr/bin/env node
// Rotation benchmark (npm run bench rotation): a synthetic cluster of 500 nodes × 30
// certificates (5 control-plane nodes, 3 intermediates; issue times jittered by a fixed
// seed), then
//   - planning the schedule from scratch (src/features/rotation/plan.ts: fresh input
//     objects each run, so nothing is memoised, and every node's leaves and timer runs built,
//     as `k8ops rotate plan` reads them): slots, due times, timer runs, every conflict;
//   - the preview's re-plan after `+` (the key's reducer and the pane's derive, as the pane
//     pays it: same input, another spread);
//   - what the operator sees: `+` typed into the real console (views/App.tsx: shell, node
//     list, header, the Rotation pane) rendered by Ink as bin/k8ops renders it (incremental
//     output, maxFps 15) into a 200×50 terminal stand-in, timed from the byte on stdin to
//     the frame's last byte on stdout; wall time and the process's CPU time over the same
//     span (the machine is shared: CPU time is what load does not inflate);
//   - the same for a plain frame of the same size (Ink alone, one character changed per key):
//     the floor any full-screen Ink frame pays.
// The certificates are those of a layout of 30 leaves per node (the real layout has 13 on a
// control-plane node, 2 on a worker): the rotation feature's model is pointed at it, the
// rest is the console's own code. Keys are 150 ms apart, so Ink's 15 fps throttle draws
// each at once (held down, `+` repeats faster than 15 fps and Ink skips frames).
// Env: BENCH_RUNS (default 25), BENCH_ROT_NODES (500), BENCH_ROT_CERTS (30),
// BENCH_ROT_SIZE (200x50). Needs `npm run build` first (run.mjs does it).
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// React and Ink as the console runs them (the bundle defines NODE_ENV=production).
process.env.NODE_ENV = 'production';
const ROOT = join(import.meta.dirname, '..', '..');
const load = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const RUNS = Number(process.env.BENCH_RUNS ?? 25);
const NODES = Number(process.env.BENCH_ROT_NODES ?? 500);
const CERTS = Number(process.env.BENCH_ROT_CERTS ?? 30);
const [COLS, ROWS] = (process.env.BENCH_ROT_SIZE ?? '200x50').split('x').map(Number);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const { planSchedule, allEvents } = await load('src/features/rotation/plan.js');
const { deriveRotation, rotationBindings } = await load('views/panes/rotation/bindings.js');
const { rotationFeature, buildRotationModel, planSettingsOf } = await load(
  'src/features/rotation/model.js',
);
const { defaultLayout } = await load('src/pki/layout-data.js');
const { createSession } = await load('src/session/session.js');
const { App } = await load('views/App.js');
const { colorTheme } = await load('views/theme.js');
const React = (await import('react')).default;
const { render, Box, Text, useInput } = await import('ink');

const { mulberry32: rng } = await load('src/store/prng.js');

const H = 3_600_000;
const D = 24 * H;
const NOW = Date.UTC(2026, 11, 6, 0, 0, 0);
const PKI = '/etc/kubernetes/pki';
const UNITS = ['kubelet.service', 'kube-apiserver.service', 'etcd.service'];
const r = rng(500);

// The intermediates, as certificates (the model finds them in any file of a node).
const cas = ['kubernetes-ca', 'etcd-ca', 'front-proxy-ca'].map((cn, i) => ({
  subject: `CN=${cn},O=k8ops`,
  commonName: cn,
  organizations: ['k8ops'],
  issuer: 'CN=k8ops-root,O=k8ops',
  serial: `0${i}`,
  notBefore: NOW - (10 + i * 10) * D,
  notAfter: NOW + (50 - i * 10) * D,
  fingerprint: `ca${i}`.padEnd(64, '0'),
  keyAlgorithm: 'ECDSA',
  curve: 'P-521',
  signatureAlgorithm: 'ecdsa-with-SHA512',
  dnsNames: [],
  ipAddresses: [],
  isCA: true,
  keyUsages: [],
  extKeyUsages: [],
}));
const specs = Array.from({ length: NODES }, (_, i) => ({
  name: `node-${String(i).padStart(3, '0')}`,
  index: i,
  host: `node-${i}`,
  addresses: [],
  roles: i < 5 ? ['control-plane', 'etcd'] : ['worker'],
}));
const inventory = {
  source: '/bench/k8ops.yaml',
  cluster: 'bench',
  nodes: specs,
  ssh: { jump: [], connectTimeoutMs: 5000 },
  kube: { tunnel: false },
  pki: { dir: PKI, rootOffline: true },
  rotation: { spreadMs: D, cpGapMs: H / 2, minRemainingMs: 2 * D },
  network: { targetMtu: 9216, bgpRouters: [] },
  ingress: { namespace: 'ingress-nginx', cacheZone: 'ingress_cache' },
  addons: {},
};
// Each node's certificate files, as the `certs` source leaves them in the store.
const certFiles = new Map();
for (const n of specs) {
  const issued = NOW - Math.floor(r() * 13 * D);
  const files = [{ node: n.name, path: `${PKI}/ca.pem`, certs: cas, errors: [] }];
  for (let j = 0; j < CERTS; j++) {
    const nb = Math.floor((issued + j * 23 * 60_000 + r() * 60_000) / 1000) * 1000;
    files.push({
      node: n.name,
      path: `${PKI}/cert-${j}.pem`,
      errors: [],
      certs: [
        {
          ...cas[0],
          isCA: false,
          subject: `CN=${n.name}-${j}`,
          commonName: `${n.name}-${j}`,
          issuer: cas[j % 3].subject,
          serial: String(100 + j),
          notBefore: nb,
          notAfter: nb + 14 * D,
          fingerprint: `${n.name}-${j}`.padEnd(64, '0'),
        },
      ],
    });
  }
  certFiles.set(n.name, files);
}
// A layout of CERTS leaves on every node (the kubelet's, renamed), units in turn.
const base = defaultLayout();
const kubelet = base.certs.find((c) => c.id === 'kubelet');
const layout = {
  ...base,
  certs: Array.from({ length: CERTS }, (_, j) => ({
    ...kubelet,
    id: `cert-${j}`,
    cert: `cert-${j}.pem`,
    key: `cert-${j}-key.pem`,
    units: [UNITS[j % 3]],
  })),
};
rotationFeature.model = ({ inventory: inv, read, now }) =>
  buildRotationModel(inv, read, now, layout);

const read = (scope, source) =>
  source === 'certs' && certFiles.has(scope)
    ? { value: certFiles.get(scope), stale: false }
    : { stale: false };
const model = buildRotationModel(inventory, read, NOW, layout);
const { input } = model;
const settings = planSettingsOf(inventory.rotation);
const leaves = input.nodes.reduce((k, n) => k + n.leaves.length, 0);

// 1. Planning from scratch: new input objects each run (nothing memoised), every list built.
const fresh = () => ({ ...input, nodes: input.nodes.map((n) => ({ ...n })) });
const planCold = () => {
  const s = planSchedule(fresh(), settings, NOW);
  for (const n of s.nodes) void n.leaves;
  return { s, events: allEvents(s).length };
};
for (let i = 0; i < 3; i++) planCold();
const cpuMs = (c) => (c.user + c.system) / 1000;
const planTimes = [];
const planCpu = [];
let full;
for (let i = 0; i < RUNS; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  full = planCold();
  planTimes.push(performance.now() - t0);
  planCpu.push(cpuMs(process.cpuUsage(c0)));
}

// 2. The preview's re-plan after `+`: the reducer and the pane's derive, same input.
const names = specs.map((n) => n.name);
const env = {
  nodes: names,
  nodeFilter: '',
  visibleNodes: names,
  selectedNode: names[1],
  width: COLS - 20,
  height: ROWS - 4,
};
const plus = rotationBindings.find((b) => b.keys.includes('+'));
let ui = {};
let derived = deriveRotation(model, ui, env);
const deriveTimes = [];
const deriveCpu = [];
for (let i = 0; i < RUNS + 3; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  [ui] = plus.reduce(ui, { derived, env }, { input: '+', key: {} });
  derived = deriveRotation(model, ui, env);
  // What the pane reads of it: the conflicts and the events of the rows on screen.
  void derived.schedule.conflicts.length;
  for (const n of derived.schedule.nodes.slice(0, env.height)) void n.events;
  if (i >= 3) {
    deriveTimes.push(performance.now() - t0);
    deriveCpu.push(cpuMs(process.cpuUsage(c0)));
  }
}

// 3. The console: keys on stdin, frames on stdout.
class Stdout extends EventEmitter {
  isTTY = true;
  columns = COLS;
  rows = ROWS;
  onWrite = undefined;
  write = (s) => {
    this.onWrite?.(s);
    return true;
  };
}
class Stdin extends EventEmitter {
  isTTY = true;
  data = null;
  send(d) {
    this.data = d;
    this.emit('readable');
  }
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
}

/** Mount `tree`; `press(k)` resolves with the wall and CPU ms from the key to its frame. */
function mount(tree) {
  const stdout = new Stdout();
  const stdin = new Stdin();
  const inst = render(tree, {
    stdout,
    stdin,
    stderr: stdout,
    exitOnCtrlC: false,
    maxFps: 15,
    incrementalRendering: true,
    patchConsole: false,
  });
  const press = (k) =>
    new Promise((resolve) => {
      let last = 0;
      let lastCpu;
      let bytes = 0;
      let cpu0;
      let t0 = 0;
      const timer = setTimeout(() => resolve({ ms: Number.NaN, cpu: Number.NaN, bytes: 0 }), 5000);
      // A frame is a few writes in one go (synchronised-update brackets, the lines):
      // the last of them ends it.
      stdout.onWrite = (s) => {
        bytes += s.length;
        last = performance.now();
        lastCpu = process.cpuUsage(cpu0);
        if (bytes === s.length)
          setImmediate(() => {
            clearTimeout(timer);
            stdout.onWrite = undefined;
            resolve({ ms: last - t0, cpu: (lastCpu.user + lastCpu.system) / 1000, bytes });
          });
      };
      cpu0 = process.cpuUsage();
      t0 = performance.now();
      stdin.send(k);
    });
  return { press, unmount: () => inst.unmount() };
}

async function presses(press, key, n) {
  const wall = [];
  const cpu = [];
  let bytes = 0;
  for (let i = 0; i < n + 3; i++) {
    const m = await press(key);
    if (i >= 3) {
      wall.push(m.ms);
      cpu.push(m.cpu);
      bytes += m.bytes;
    }
    await sleep(150);
  }
  return { wall, cpu, bytes: bytes / n };
}

const stateDir = mkdtempSync(join(tmpdir(), 'k8ops-bench-rotation-'));
const session = createSession({
  mode: 'live',
  inventory,
  agents: new Map(),
  readOnly: false,
  now: () => NOW,
  stateDir,
});
for (const n of specs) {
  session.store.succeed(n.name, 'certs', certFiles.get(n.name), NOW - 5000);
  session.store.succeed(n.name, 'reach', { rttMs: 3, route: 'direct', os: 'NixOS' }, NOW - 5000);
}
session.store.flushSync();
const app = mount(React.createElement(App, { session, theme: colorTheme }));
await sleep(300);
await app.press('3');
await app.press('j');
await sleep(300);
const consoleRun = await presses(app.press, '+', RUNS);
app.unmount();
await session.close();
rmSync(stateDir, { recursive: true, force: true });

// 4. The floor: a plain full-screen frame (mostly blank, a dot every 5 columns, as the
// timeline is), one character changed per key.
function Plain() {
  const [k, setK] = React.useState(0);
  useInput(() => setK((x) => x + 1));
  return React.createElement(
    Box,
    { flexDirection: 'column', width: COLS, height: ROWS, overflow: 'hidden' },
    Array.from({ length: ROWS }, (_, i) =>
      React.createElement(
        Box,
        { key: i, height: 1 },
        React.createElement(
          Text,
          { wrap: 'truncate' },
          React.createElement(Text, { color: 'gray' }, '    .'.repeat(Math.floor(COLS / 5) - 1)),
          React.createElement(Text, { color: 'cyan' }, String(k % 10)),
        ),
      ),
    ),
  );
}
const plain = mount(React.createElement(Plain));
await sleep(200);
const plainRun = await presses(plain.press, 'x', RUNS);
plain.unmount();

const fmt = (ms) => `${ms.toFixed(1)} ms`;
const row = (what, wall, cpu) => [what, fmt(median(wall)), fmt(p90(wall)), fmt(median(cpu))];
const rows = [
  ['measure', 'wall, median', 'wall, p90', 'CPU, median'],
  row('plan the schedule from scratch (every leaf and timer run built)', planTimes, planCpu),
  row('after `+`: reducer + derive (the preview re-planned)', deriveTimes, deriveCpu),
  row(
    `after \`+\`: key → frame on stdout, the console at ${COLS}×${ROWS}`,
    consoleRun.wall,
    consoleRun.cpu,
  ),
  row(`floor: key → frame, a plain ${COLS}×${ROWS} Ink frame`, plainRun.wall, plainRun.cpu),
];
console.log(
  `Rotation: ${NODES} nodes × ${CERTS} certificates (${leaves} leaves, ${full.events} timer runs, ${full.s.conflicts.length} conflicts), median of ${RUNS}, node ${process.version}`,
);
console.log('');
const w = rows[0].map((_, i) => Math.max(...rows.map((x) => x[i].length)));
const line = (x) => `| ${x.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
console.log(line(rows[0]));
console.log(line(w.map((n) => '-'.repeat(n))));
for (const x of rows.slice(1)) console.log(line(x));
console.log('');
console.log(
  `bytes written per frame after \`+\`: ${consoleRun.bytes.toFixed(0)} (console), ${plainRun.bytes.toFixed(0)} (plain)`,
);
process.exit(0);
