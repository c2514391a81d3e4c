#!/usr/bin/env node
// Addon sync benchmark (npm run bench addons): six release artefacts (sizes of the real
// ones, rounded up: cert-manager.yaml, the cilium chart, the hubble CLI archive, the
// dashboard chart, ingress-nginx's deploy.yaml, the kube-prometheus source archive; plus a
// 256 MiB one for throughput) served over HTTPS on loopback by a real nginx (TLS in C, as a
// release host's server is; the bench's own Node https server when nginx is not installed:
// it then competes with k8ops for the same two cores and its TLS encryption, not k8ops,
// sets the rate — the output names the server), then, same run:
//   - `k8ops addons sync --yes --no-apply` as a whole process (download, hash, diff, write) — the
//     user's command — its wall time and MB/s;
//   - the user's alternative: `nix-prefetch-url file://…` per artefact (Nix hashing the
//     same bytes from disk, no network) and `sha256sum`;
// median of BENCH_RUNS (default 3). The pins k8ops wrote are checked against
// nix-prefetch-url's before any figure is printed. Needs the build (run.mjs does it).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  mkdirSync(join(dir, 'www', name, version), { recursive: true });
  writeFileSync(join(dir, 'www', name, version, file), body);
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
const nginxBin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
let server;
let serverName;
let port;
if (nginxBin) {
  // A free port: bind one, close it, give it to nginx (loopback only).
  const probe = (await import('node:net')).createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  port = probe.address().port;
  await new Promise((r) => probe.close(r));
  mkdirSync(join(dir, 'ngx-tmp'));
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/ngx-tmp; proxy_temp_path ${dir}/ngx-tmp;
  fastcgi_temp_path ${dir}/ngx-tmp; uwsgi_temp_path ${dir}/ngx-tmp; scgi_temp_path ${dir}/ngx-tmp;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${dir}/c;
    ssl_certificate_key ${dir}/k;
    root ${dir}/www;
  }
}
`,
  );
  execFileSync(nginxBin, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'inherit' });
  server = {
    close: () => execFileSync(nginxBin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-s', 'stop']),
  };
  serverName = spawnSync(nginxBin, ['-v'], { encoding: 'utf8' })
    .stderr.trim()
    .replace(/^nginx version: /, '');
  // nginx binds its port before it daemonises: it answers once the command returns.
} else {
  const node = createServer(
    { key: readFileSync(join(dir, 'k')), cert: readFileSync(join(dir, 'c')) },
    (req, res) => {
      const b = bodies.get(req.url);
      res.writeHead(b ? 200 : 404, b ? { 'content-length': String(b.length) } : {});
      res.end(b ?? '');
    },
  );
  await new Promise((r) => node.listen(0, '127.0.0.1', r));
  port = node.address().port;
  server = { close: () => node.close() };
  serverName = "the bench's own Node https server (nginx not installed)";
}
const base = `https://127.0.0.1:${port}`;
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

// Wall time, and the command's own CPU (user + sys, its children included) from bash's
// `times`: the rate its CPU allows is what the machine's load does not move.
const cpuSeconds = (t) => {
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s\s*$/.exec(t.trim().split('\n').pop() ?? '');
  return m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : Number.NaN;
};
const timed = (cmd, args, env) =>
  new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('bash', ['-c', '"$@" >/dev/null || exit $?; times', 'bash', cmd, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('close', (code) =>
      code === 0
        ? resolve({ ms: performance.now() - t0, cpuMs: cpuSeconds(out) * 1000 })
        : reject(new Error(`${cmd}: ${code} ${err}`)),
    );
  });

const k8opsRuns = [];
const manifest = join(dir, 'addons.json');
for (let i = 0; i < RUNS; i++) {
  writeFileSync(manifest, manifestText);
  k8opsRuns.push(
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
const shaRuns = [];
for (let i = 0; i < RUNS; i++)
  shaRuns.push(
    await timed(
      'sha256sum',
      artefacts.map(([name]) => join(dir, `${name}.bin`)),
      process.env,
    ),
  );

server.close();
rmSync(dir, { recursive: true, force: true });
const rate = (ms) =>
  `${(total / MiB / (ms / 1000)).toFixed(0)} MiB/s (${(total / 1e6 / (ms / 1000)).toFixed(0)} MB/s)`;
const row = (what, ms, cpuMs) =>
  console.log(
    `${what.padEnd(58)} ${ms.toFixed(0).padStart(7)}  ${rate(ms).padStart(22)}  ${
      cpuMs === undefined ? '' : `${cpuMs.toFixed(0).padStart(6)} ms CPU: ${rate(cpuMs)}`
    }`,
  );
console.log(
  `${artefacts.length} artefacts, ${(total / MiB).toFixed(0)} MiB, served by ${serverName}; pins checked equal to nix-prefetch-url's; median of ${RUNS}; load ${(await import('node:os')).loadavg()[0].toFixed(1)}`,
);
console.log(
  `${'what'.padEnd(58)} wall ms  ${'rate (wall)'.padStart(22)}  own CPU (user+sys) and the rate it allows`,
);
const med = (runs, k) => median(runs.map((r) => r[k]));
row(
  'k8ops addons sync --yes --no-apply (HTTPS, whole process)',
  med(k8opsRuns, 'ms'),
  med(k8opsRuns, 'cpuMs'),
);
row('nix-prefetch-url file://… per artefact (from disk)', median(nixMs));
row('sha256sum (from disk)', med(shaRuns, 'ms'), med(shaRuns, 'cpuMs'));
