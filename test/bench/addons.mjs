#!/usr/bin/env node
// Addon sync benchmark (npm run bench addons): six release artefacts (sizes of the real
// ones, rounded up: cert-manager.yaml, the cilium chart, the hubble CLI archive, the
// dashboard chart, ingress-nginx's deploy.yaml, the kube-prometheus source archive; plus a
// 256 MiB one for throughput) served by an HTTPS server on loopback, then, same run:
//   - `k8ops addons sync --yes --no-apply` as a whole process (download, hash, diff, write) — the
//     user's command — its wall time and MB/s;
//   - the user's alternative: `nix-prefetch-url file://…` per artefact (Nix hashing the
//     same bytes from disk, no network) and `sha256sum`;
// median of BENCH_RUNS (default 3). The pins k8ops wrote are checked against
// nix-prefetch-url's before any figure is printed. Needs the build (run.mjs does it).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const MiB = 1 << 20;
const dir = mkdtempSync(join(tmpdir(), 'k8ops-bench-addons-'));
const NIX_ENV = { ...process.env, NIX_CONFIG: 'build-users-group =' };

const artefacts = [
  ['cert-manager', '1.19.1', 'cert-manager.yaml', 1 * MiB],
  ['cilium', '1.17.8', 'cilium-1.17.8.tgz', 1 * MiB],
  ['hubble', '1.18.0', 'hubble-linux-amd64.tar.gz', 20 * MiB],
  ['kubernetes-dashboard', '7.13.0', 'kubernetes-dashboard-7.13.0.tgz', MiB / 8],
  ['ingress-nginx', '1.13.3', 'deploy.yaml', MiB / 16],
  ['kube-prometheus', '0.16.0', 'v0.16.0.tar.gz', 5 * MiB],
  ['big', '1.0.0', 'big-1.0.0.bin', 256 * MiB],
];
const bodies = new Map();
for (const [name, version, file, size] of artefacts) {
  const body = randomBytes(size);
  bodies.set(`/${name}/${version}/${file}`, body);
  writeFileSync(join(dir, `${name}.bin`), body);
}
const total = [...bodies.values()].reduce((n, b) => n + b.length, 0);

execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(dir, 'k'),
    '-out',
    join(dir, 'c'),
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ],
  { stdio: 'ignore' },
);
const server = createServer(
  { key: readFileSync(join(dir, 'k')), cert: readFileSync(join(dir, 'c')) },
  (req, res) => {
    const b = bodies.get(req.url);
    res.writeHead(b ? 200 : 404, b ? { 'content-length': String(b.length) } : {});
    res.end(b ?? '');
  },
);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `https://127.0.0.1:${server.address().port}`;
const manifestText = `${JSON.stringify(
  {
    version: 1,
    addons: artefacts.map(([name, version, file]) => ({
      name,
      version,
      format: 'yaml',
      url: `${base}/${name}/${version}/${file}`,
      sha256: '',
    })),
  },
  null,
  2,
)}\n`;

const timed = (cmd, args, env) =>
  new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('close', (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd}: ${code} ${err}`)),
    );
  });

const k8opsMs = [];
const manifest = join(dir, 'addons.json');
for (let i = 0; i < RUNS; i++) {
  writeFileSync(manifest, manifestText);
  k8opsMs.push(
    await timed(
      process.execPath,
      [
        join(ROOT, 'bin', 'k8ops.js'),
        'addons',
        'sync',
        '--manifest',
        manifest,
        '--yes',
        '--no-apply',
      ],
      { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'c') },
    ),
  );
}
// Verify: every pin k8ops wrote is nix-prefetch-url's.
const written = JSON.parse(readFileSync(manifest, 'utf8')).addons;
const nixMs = [];
const nixPins = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  for (const [name] of artefacts) {
    const r = spawnSync('nix-prefetch-url', [`file://${join(dir, `${name}.bin`)}`], {
      encoding: 'utf8',
      env: NIX_ENV,
    });
    if (r.status !== 0) throw new Error(r.stderr);
    if (i === 0) nixPins.push(r.stdout.trim());
  }
  nixMs.push(performance.now() - t0);
}
for (const [i, a] of written.entries())
  if (a.sha256 !== nixPins[i])
    throw new Error(`${a.name}: k8ops ${a.sha256} ≠ nix-prefetch-url ${nixPins[i]}`);
const shaMs = [];
for (let i = 0; i < RUNS; i++)
  shaMs.push(
    await timed(
      'sha256sum',
      artefacts.map(([name]) => join(dir, `${name}.bin`)),
      process.env,
    ),
  );

server.close();
rmSync(dir, { recursive: true, force: true });
const mbs = (ms) => (total / MiB / (ms / 1000)).toFixed(0);
console.log(
  `${artefacts.length} artefacts, ${(total / MiB).toFixed(0)} MiB; pins checked equal to nix-prefetch-url's; median of ${RUNS}`,
);
console.log('what                                                       wall ms   MiB/s');
console.log(
  `k8ops addons sync --yes --no-apply (HTTPS, whole process)  ${median(k8opsMs).toFixed(0).padStart(7)}  ${mbs(median(k8opsMs)).padStart(6)}`,
);
console.log(
  `nix-prefetch-url file://… per artefact (from disk)          ${median(nixMs).toFixed(0).padStart(7)}  ${mbs(median(nixMs)).padStart(6)}`,
);
console.log(
  `sha256sum (from disk)                                        ${median(shaMs).toFixed(0).padStart(7)}  ${mbs(median(shaMs)).padStart(6)}`,
);
