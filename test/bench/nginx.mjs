#!/usr/bin/env node
// NGINX log benchmark (npm run bench nginx): N access log lines in the module's format
// (the demo lab's synthetic traffic: three hosts, every cache status, a controller message
// now and then), written to a temp file, then
//   - k8ops: parse only (src/features/nginx/parse.ts), and parse + aggregate (the
//     NginxAggregator the pane reads: 10 s buckets per host, histograms), in process, over
//     the file's lines; median of BENCH_RUNS after a warm-up; goal ≥ 200,000 lines/s;
//   - the baseline a user would otherwise run: awk counting cache statuses per host over
//     the same file (`awk '{n[$NF" "$(NF-1)]++} END {…}'`), a whole process, median.
// Both wall time and CPU time (user + system: this process's for k8ops, bash's `time` of the
// awk process) are printed: on a shared, loaded machine the wall time mostly measures the
// wait for a core; the CPU time is what the work costs. The load average is printed too.
// Env: BENCH_RUNS (default 7), BENCH_NGINX_LINES (500000). Needs `npm run build` first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..', '..');
const load = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const N = Number(process.env.BENCH_NGINX_LINES ?? 500_000);
const GOAL = 200_000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { DemoIngressTraffic } = await load('src/kube/demo-ingress-log.js');
const { makeParser } = await load('src/features/nginx/parse.js');
const { NginxAggregator } = await load('src/features/nginx/aggregate.js');

const dir = mkdtempSync(join(tmpdir(), 'k8ops-bench-nginx-'));
const file = join(dir, 'access.log');
try {
  const now = Date.now();
  const tr = new DemoIngressTraffic(7);
  const out = [];
  for (let i = 0; i < N; i++)
    out.push(tr.line(now - 14 * 60_000 + Math.floor((i / N) * 14 * 60_000)));
  writeFileSync(file, `${out.join('\n')}\n`);
  const bytes = readFileSync(file).length;

  const lines = readFileSync(file, 'utf8').split('\n');
  lines.pop();
  /** Median wall and CPU ms of `fn` (which may return its own CPU ms, for a child process). */
  const time = (fn) => {
    fn(); // warm-up
    const wall = [];
    const cpu = [];
    for (let r = 0; r < RUNS; r++) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const own = fn();
      wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const c = process.cpuUsage(c0);
      cpu.push(typeof own === 'number' ? own : (c.user + c.system) / 1000);
    }
    return { wall: median(wall), cpu: median(cpu) };
  };
  let ok = 0;
  const parseMs = time(() => {
    const parse = makeParser();
    ok = 0;
    for (const l of lines) if (parse(l).ok) ok++;
  });
  let snap;
  const aggMs = time(() => {
    const agg = new NginxAggregator({ now: () => now });
    for (const l of lines) agg.add(l);
    snap = agg.snapshot();
  });
  const awkProg = '{ n[$NF " " $(NF-1)]++ } END { for (k in n) print k, n[k] }';
  const awkMs = time(() => {
    const r = spawnSync(
      'bash',
      ['-c', 'TIMEFORMAT="%3U %3S"; time awk "$1" "$2" > /dev/null', 'bash', awkProg, file],
      { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
    );
    if (r.status !== 0) throw new Error(`awk failed: ${r.stderr}`);
    const [u, sys] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
    return (u + sys) * 1000;
  });
  const awkVersion =
    (spawnSync('awk', ['-W', 'version'], { encoding: 'utf8' }).stdout || '').split('\n')[0] ||
    'awk';

  const rate = (ms) => Math.round(N / (ms / 1000));
  const fmt = (n) => n.toLocaleString('en-US');
  console.log(
    `${fmt(N)} lines, ${(bytes / 1048576).toFixed(1)} MiB; ${ok} parsed, ${snap.unparseable} unparseable (controller messages); Node ${process.version}`,
  );
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cpus().length} cores`,
  );
  console.log(
    'what                                        wall ms   lines/s(wall)   cpu ms   lines/s(cpu)   goal ≥ 200,000 (cpu)',
  );
  const row = (what, t, goal) =>
    console.log(
      `${what.padEnd(42)}${t.wall.toFixed(0).padStart(9)}${fmt(rate(t.wall)).padStart(16)}${t.cpu.toFixed(0).padStart(9)}${fmt(rate(t.cpu)).padStart(15)}   ${goal ? (rate(t.cpu) >= GOAL ? 'met' : 'NOT MET') : ''}`,
    );
  row('k8ops parse (parse.ts)', parseMs, true);
  row('k8ops parse + aggregate (the pane’s path)', aggMs, true);
  row(`baseline: ${awkVersion.slice(0, 10)} (whole process)`, awkMs, false);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
