#!/usr/bin/env node
// Rotation benchmark (npm run bench rotation): a synthetic cluster of 500 nodes × 30
// certificates (5 control-plane nodes, 3 intermediates; issue times jittered by a fixed
// seed), then
//   - planning the schedule (src/features/rotation/plan.ts: slots, due times, timer runs,
//     every conflict), median of N runs after a warm-up;
//   - redrawing the Rotation pane after `+`: the key's reducer, derive (re-plans with the
//     preview's spread) and the pane's render at 200×50 (ink-testing-library: layout and
//     output to a string, no terminal), median of N.
// Env: BENCH_RUNS (default 15), BENCH_ROT_NODES (500), BENCH_ROT_CERTS (30).
// Needs `npm run build` first (run.mjs does it).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// React and Ink as the console runs them (the bundle defines NODE_ENV=production).
process.env.NODE_ENV = 'production';
const ROOT = join(import.meta.dirname, '..', '..');
const load = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const NODES = Number(process.env.BENCH_ROT_NODES ?? 500);
const CERTS = Number(process.env.BENCH_ROT_CERTS ?? 30);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { planSchedule } = await load('src/features/rotation/plan.js');
const { deriveRotation, rotationBindings } = await load('views/panes/rotation/bindings.js');
const { RotationPane } = await load('views/panes/rotation/Pane.js');
const { createClock } = await load('src/store/clock.js');
const React = (await import('react')).default;
const { render } = await import('ink-testing-library');

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const H = 3_600_000;
const D = 24 * H;
const NOW = Date.UTC(2026, 11, 6, 0, 0, 0);
const r = rng(500);
const intermediates = ['kubernetes-ca', 'etcd-ca', 'front-proxy-ca'].map((cn, i) => ({
  cn,
  subject: `CN=${cn},O=k8ops`,
  fingerprint: `ca${i}`,
  notBefore: NOW - (10 + i * 10) * D,
  notAfter: NOW + (50 - i * 10) * D,
}));
const nodes = [];
for (let i = 0; i < NODES; i++) {
  const issued = NOW - Math.floor(r() * 13 * D);
  const leaves = [];
  for (let j = 0; j < CERTS; j++) {
    const nb = Math.floor((issued + j * 23 * 60_000 + r() * 60_000) / 1000) * 1000;
    leaves.push({
      id: `cert-${j}`,
      path: `/etc/kubernetes/pki/cert-${j}.pem`,
      notBefore: nb,
      notAfter: nb + 14 * D,
      units: [
        j % 3 === 0 ? 'kubelet.service' : j % 3 === 1 ? 'kube-apiserver.service' : 'etcd.service',
      ],
      issuer: intermediates[j % 3].subject,
    });
  }
  nodes.push({
    name: `node-${String(i).padStart(3, '0')}`,
    index: i,
    roles: i < 5 ? ['control-plane', 'etcd'] : ['worker'],
    leaves,
  });
}
const input = { nodes, nodeCount: NODES, intermediates };
const settings = { spreadMs: 24 * H, cpGapMs: H / 2, minRemainingMs: 48 * H, bundleLeadMs: D };

// Planning.
for (let i = 0; i < 3; i++) planSchedule(input, settings, NOW);
const planTimes = [];
let schedule;
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  schedule = planSchedule(input, settings, NOW);
  planTimes.push(performance.now() - t0);
}
const events = schedule.nodes.reduce((n, x) => n + x.events.length, 0);

// Redraw after `+` at 200×50.
const model = { input, settings, schedule, unreachable: [] };
const names = nodes.map((n) => n.name);
const width = 200 - 20;
const height = 50 - 4;
const env = {
  nodes: names,
  nodeFilter: '',
  visibleNodes: names,
  selectedNode: names[1],
  width,
  height,
};
const clock = createClock({ now: () => NOW });
const plus = rotationBindings.find((b) => b.keys.includes('+'));
let ui = {};
let derived = deriveRotation(model, ui, env);
const el = () => React.createElement(RotationPane, { model, ui, derived, clock, width, height });
const app = render(el());
const redraw = [];
const deriveOnly = [];
let moved = 0;
for (let i = 0; i < RUNS + 3; i++) {
  const before = app.lastFrame();
  const t0 = performance.now();
  [ui] = plus.reduce(ui, { derived, env }, { input: '+', key: {} });
  derived = deriveRotation(model, ui, env);
  const t1 = performance.now();
  app.rerender(el());
  const frame = app.lastFrame();
  const t2 = performance.now();
  if (frame !== before) moved++;
  if (i >= 3) {
    redraw.push(t2 - t0);
    deriveOnly.push(t1 - t0);
  }
}
app.unmount();
clock.dispose();

// Baseline: Ink alone redrawing a frame of the same size in a clipped box, as every pane is
// in the console (46 rows of 180 columns, mostly
// blank with a dot every 5 columns, as the timeline is), one character changed each time.
const { Box, Text } = await import('ink');
const plain = (k) =>
  React.createElement(
    Box,
    { flexDirection: 'column', width, height, overflow: 'hidden' },
    Array.from({ length: height }, (_, i) =>
      React.createElement(
        Box,
        { key: i, height: 1 },
        React.createElement(
          Text,
          { wrap: 'truncate' },
          React.createElement(Text, { color: 'gray' }, '    .'.repeat(Math.floor(width / 5) - 1)),
          React.createElement(Text, { color: 'cyan' }, String(k % 10)),
        ),
      ),
    ),
  );
const base = render(plain(0));
const baseline = [];
for (let i = 1; i <= RUNS + 3; i++) {
  const t0 = performance.now();
  base.rerender(plain(i));
  base.lastFrame();
  if (i > 3) baseline.push(performance.now() - t0);
}
base.unmount();

const fmt = (ms) => `${ms.toFixed(1)} ms`;
console.log(
  `Rotation: ${NODES} nodes × ${CERTS} certificates (${NODES * CERTS} leaves, ${events} timer runs, ${schedule.conflicts.length} conflicts), median of ${RUNS}`,
);
console.log('');
console.log('| measure                                             | time     |');
console.log('| --------------------------------------------------- | -------- |');
console.log(
  `| plan the schedule                                   | ${fmt(median(planTimes)).padEnd(8)} |`,
);
console.log(
  `| after \`+\`: reducer + derive (re-plan)               | ${fmt(median(deriveOnly)).padEnd(8)} |`,
);
console.log(
  `| after \`+\`: reducer + derive + pane render (200×50)  | ${fmt(median(redraw)).padEnd(8)} |`,
);
console.log(
  `| baseline: Ink redrawing a 180×46 frame, 1 char changed | ${fmt(median(baseline)).padEnd(8)} |`,
);
console.log('');
console.log(`frames that changed after \`+\`: ${moved} of ${RUNS + 3}`);
