#!/usr/bin/env node
// Summarise a K8OPS_TRACE file (src/store/trace.ts): where a whole k8ops process's time
// went, per phase, over every node. Usage: node test/bench/trace-summary.mjs FILE
// Also imported by fanout.mjs (summarise(text) → lines).
import { readFileSync } from 'node:fs';

const q = (xs, p) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const fmt = (ms) => (ms === undefined || Number.isNaN(ms) ? '-' : `${ms.toFixed(0)}`);

/** The lines of the summary for a trace's text. */
export function summarise(text) {
  const evs = text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return undefined;
      }
    })
    .filter(Boolean);
  const out = [];
  const first = (ev, pred = () => true) => evs.find((e) => e.ev === ev && pred(e))?.t;
  const last = (ev) => evs.filter((e) => e.ev === ev).at(-1)?.t;
  const end = evs.at(-1)?.t ?? 0;
  out.push(
    `milestones (ms since the process started): main ${fmt(first('cli:main'))}, session ${fmt(first('cli:session'))}, ` +
      `ssh -G ${fmt(first('resolve:batch'))}–${fmt(last('resolve:batch-end'))}, first handshake slot ${fmt(first('hop:slot'))}, ` +
      `last hop ready ${fmt(last('hop:ready'))}, last source done ${fmt(last('src:end'))}, output ${fmt(first('cli:output'))}, closed ${fmt(first('cli:closed'))}, last event ${fmt(end)}`,
  );
  // Per hop: queue → slot → (forward) → ready.
  const hops = new Map();
  for (const e of evs) {
    if (!e.hop || !e.ev.startsWith('hop:')) continue;
    const h = hops.get(e.hop) ?? {};
    h[e.ev.slice(4)] ??= e.t;
    hops.set(e.hop, h);
  }
  const span = (a, b) =>
    [...hops.values()]
      .filter((h) => h[a] !== undefined && h[b] !== undefined)
      .map((h) => h[b] - h[a]);
  const row = (label, xs) =>
    out.push(
      `  ${label.padEnd(44)} n=${String(xs.length).padStart(4)}  median ${fmt(q(xs, 0.5)).padStart(6)}  p90 ${fmt(q(xs, 0.9)).padStart(6)}  max ${fmt(q(xs, 1)).padStart(6)} ms`,
    );
  out.push('hops:');
  row('waiting for a handshake slot', span('queue', 'slot'));
  row('forward through the jump host', span('slot', 'forward'));
  row('handshake (after the forward)', span('forward', 'ready'));
  row('slot → ready (whole connect)', span('slot', 'ready'));
  const fails = evs.filter((e) => e.ev === 'hop:fail').length;
  if (fails) out.push(`  failed connects: ${fails}`);
  // Shells.
  const shells = new Map();
  for (const e of evs) {
    if (!e.ev.startsWith('shell:')) continue;
    const list = shells.get(e.hop) ?? [];
    list.push(e);
    shells.set(e.hop, list);
  }
  const open = [];
  const hs = [];
  let opened = 0;
  for (const list of shells.values()) {
    let o;
    let c;
    for (const e of list) {
      if (e.ev === 'shell:open') o = e.t;
      else if (e.ev === 'shell:channel' && o !== undefined) {
        open.push(e.t - o);
        c = e.t;
      } else if (e.ev === 'shell:ready' && c !== undefined) {
        hs.push(e.t - c);
        opened++;
        o = c = undefined;
      }
    }
  }
  out.push(
    `shells (${opened} opened, ${(opened / Math.max(1, shells.size)).toFixed(2)} per node):`,
  );
  row('session channel open', open);
  row('login shell up (handshake answered)', hs);
  // Requests.
  const reqs = evs.filter((e) => e.ev === 'req:end');
  out.push(`requests on persistent shells (${reqs.length}):`);
  row(
    'request round trip',
    reqs.map((e) => e.ms),
  );
  const bytes = reqs.reduce((a, e) => a + e.bytes, 0);
  out.push(`  ${(bytes / 1024).toFixed(0)} KiB of answers in all`);
  // Sources: begin → run (waiting for the node's connection) → end.
  const srcs = new Map();
  for (const e of evs) {
    if (!e.ev.startsWith('src:')) continue;
    const k = `${e.scope}/${e.source}`;
    const s = srcs.get(k) ?? [];
    s.push(e);
    srcs.set(k, s);
  }
  const bySource = new Map();
  for (const [k, list] of srcs) {
    const source = k.split('/').slice(1).join('/');
    const agg = bySource.get(source) ?? { wait: [], run: [], fail: 0, done: [] };
    let b;
    let r;
    for (const e of list) {
      if (e.ev === 'src:begin') b = e.t;
      else if (e.ev === 'src:run') r = e.t;
      else if (e.ev === 'src:end') {
        if (b !== undefined && r !== undefined) agg.wait.push(r - b);
        if (r !== undefined) agg.run.push(e.t - r);
        agg.done.push(e.t);
        if (!e.ok) agg.fail++;
        b = r = undefined;
      }
    }
    bySource.set(source, agg);
  }
  out.push('sources (first attempt and any later ones):');
  for (const [source, a] of bySource) {
    row(`${source}: waiting for the node's connection`, a.wait);
    row(`${source}: run (request, parse, checks)`, a.run);
    out.push(
      `    done at median ${fmt(q(a.done, 0.5))} ms, last ${fmt(q(a.done, 1))} ms${a.fail ? `, ${a.fail} failed` : ''}`,
    );
  }
  const vb = evs.filter((e) => e.ev === 'verify:batch');
  if (vb.length) {
    const pairs = vb.reduce((a, e) => a + e.pairs, 0);
    out.push(
      `openssl verify batches: ${vb.length} (${pairs} pairs), first at ${fmt(vb[0].t)} ms, last done ${fmt(last('verify:batch-end'))} ms`,
    );
  }
  const der = evs.filter((e) => e.ev === 'pki:derived');
  if (der.length)
    out.push(
      `pki-status derive requests: ${der.length} (${der.reduce((a, e) => a + e.files, 0)} files), identity requests: ${evs.filter((e) => e.ev === 'pki:identity').length}`,
    );
  // Concurrency over time: connects in flight and requests in flight, sampled every 10 %.
  if (end > 0) {
    const marks = [];
    for (let i = 1; i <= 10; i++) {
      const t = (end * i) / 10;
      const ready = evs.filter((e) => e.ev === 'hop:ready' && e.t <= t).length;
      const srcDone = evs.filter((e) => e.ev === 'src:end' && e.t <= t).length;
      marks.push(`${fmt(t)}: ${ready} hops ready, ${srcDone} sources done`);
    }
    out.push('timeline:');
    for (const m of marks) out.push(`  ${m}`);
  }
  return out;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: trace-summary.mjs K8OPS_TRACE-FILE');
    process.exit(2);
  }
  console.log(summarise(readFileSync(file, 'utf8')).join('\n'));
}
