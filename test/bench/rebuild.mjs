#!/usr/bin/env node
// Rebuild roll-out overhead (npm run bench rebuild): k8ops's roll-out of N nodes
// (src/actions/rebuild: waves, one nixos-rebuild process per node with its output parsed
// line by line, the gate after each node) around a stand-in nixos-rebuild that prints a
// real switch's lines (test/fixtures/nixos-rebuild/switch-ok.txt, 400 build lines more)
// and sleeps BENCH_REBUILD_MS (default 300) — the command's own time. Printed: the
// roll-out's wall time minus the commands' own (measured by the stand-in itself), per
// node. In-process and without SSH: the gate is one immediate check, so this is the
// overhead of running, parsing and sequencing, not of a real gate's round-trips. Measured
// twice: with a bare job context, and through the Jobs runner as the console and
// `k8ops rebuild` run it (record, per-node line and full log written to a state dir).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..', '..');
const load = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const NODES = Number(process.env.BENCH_REBUILD_NODES ?? 10);
const SLEEP = Number(process.env.BENCH_REBUILD_MS ?? 300);
const { rebuildJob } = await load('src/actions/rebuild/job.js');
const { planRollout } = await load('src/actions/rebuild/plan.js');
const { runLocal } = await load('src/actions/rebuild/run-local.js');
const { runGate } = await load('src/actions/rebuild/gates.js');
const { runJob } = await load('src/actions/jobs/runner.js');
const { JobStore } = await load('src/actions/jobs/store.js');

const dir = mkdtempSync(join(tmpdir(), 'k8ops-bench-rebuild-'));
const lines = readFileSync(join(ROOT, 'test/fixtures/nixos-rebuild/switch-ok.txt'), 'utf8');
const build = Array.from(
  { length: 400 },
  (_, i) => `building '/nix/store/${String(i).padStart(32, 'a')}-x.drv'...`,
).join('\n');
writeFileSync(join(dir, 'out.txt'), `building the system configuration...\n${build}\n${lines}`);
const fake = join(dir, 'nixos-rebuild');
writeFileSync(
  fake,
  `#!/bin/sh\nt0=$(date +%s%N)\ncat '${join(dir, 'out.txt')}' >&2\nsleep ${SLEEP / 1000}\nt1=$(date +%s%N)\necho $(( (t1 - t0) / 1000000 )) >> '${join(dir, 'own')}'\n`,
);
chmodSync(fake, 0o755);

const inv = {
  nodes: Array.from({ length: NODES }, (_, i) => ({
    name: `n-${i}`,
    index: i,
    host: `n-${i}`,
    addresses: [],
    roles: i < 3 ? ['control-plane', 'etcd'] : ['worker'],
  })),
};
const req = { nodes: [], action: 'switch', parallel: 1 };
const plan = planRollout(inv, req);
const ctx = {
  jobId: 'bench',
  signal: new AbortController().signal,
  step: (_n, fn) => fn(),
  skip() {},
  log() {},
};
const job = () =>
  rebuildJob(req, plan.waves, {
    execute: (_n, onLine, signal) => runLocal([fake], { signal, onLine }),
    gate: (n, signal) =>
      runGate(
        n,
        [{ applies: () => true, run: async () => ({ name: 'ssh', ok: true, detail: 'stub' }) }],
        signal,
      ),
  });
const ownSoFar = () =>
  readFileSync(join(dir, 'own'), 'utf8').split('\n').filter(Boolean).map(Number);
const check = (summary) => {
  if (summary.runs.some((r) => r.phase !== 'done' || r.report.restart.length !== 2))
    throw new Error('a node did not parse as done with its two restarted units');
};

let t0 = performance.now();
check(await job().run(ctx));
const wall = performance.now() - t0;
const own = ownSoFar();
const ownTotal = own.reduce((a, b) => a + b, 0);

const store = new JobStore({ stateDir: join(dir, 'state') });
t0 = performance.now();
const rec = await runJob(job(), { store }).done;
const wallRunner = performance.now() - t0;
if (rec.state !== 'ok' || rec.progress?.length !== NODES)
  throw new Error(`runner: ${rec.state} ${rec.error}`);
const ownRunner = ownSoFar()
  .slice(own.length)
  .reduce((a, b) => a + b, 0);
rmSync(dir, { recursive: true, force: true });
console.log(
  `${NODES} nodes one at a time, ${lines.split('\n').length + 401} output lines each, command ${SLEEP} ms`,
);
console.log(`roll-out wall time            ${wall.toFixed(0)} ms`);
console.log(`the commands' own time        ${ownTotal} ms`);
console.log(
  `k8ops overhead per node       ${((wall - ownTotal) / NODES).toFixed(1)} ms (target < 1000 ms)`,
);
console.log(
  `through the Jobs runner       ${wallRunner.toFixed(0)} ms wall, ${ownRunner} ms own: ${((wallRunner - ownRunner) / NODES).toFixed(1)} ms per node`,
);
