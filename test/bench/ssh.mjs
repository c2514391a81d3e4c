#!/usr/bin/env node
// SSH refresh benchmark (issue 3): 50 nodes behind one bastion, real OpenSSH sshd.
// Per node: 20 certificate files + `ip -j -d link show`.
//   - k8ops cold (handshakes included) and warm (pooled connections) full refresh, through the
//     built dist/ code (SshPool + SshNodeAgent);
//   - the OpenSSH baseline a user would script: `ssh nX 'cat …; ip -j -d link show'` through
//     ProxyJump, sequentially and with `xargs -P 10`.
// Targets: warm ≥ 20× and cold ≥ 2× faster than the `xargs -P 10` loop.
//
// Lab: the bastion in one network namespace, the 50 node addresses in another reachable only
// through it (10.232.0.0/16; the host namespace gets an `unreachable` route for the range);
// sshd processes with ≤ 15 ListenAddress each (MAX_LISTEN_SOCKS is 16), MaxStartups raised.
// Needs root, /usr/sbin/sshd, ssh, ssh-keygen, ip, unshare; otherwise prints why and exits 0.
// Env: BENCH_NODES (default 50), BENCH_WARM_RUNS (default 5).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const N = Number(process.env.BENCH_NODES ?? 50);
const WARM_RUNS = Number(process.env.BENCH_WARM_RUNS ?? 5);
const SSHD = '/usr/sbin/sshd';
const tag = `k8b${process.pid % 100000}`;
const NS_B = `${tag}-b`;
const NS_N = `${tag}-n`;
const RANGE = '10.232.0.0/16';

function skip(why) {
  console.log(`ssh bench skipped: ${why}`);
  process.exit(0);
}
if (process.getuid?.() !== 0) skip('needs root (network namespaces, sshd)');
if (!existsSync(SSHD)) skip(`${SSHD} missing`);
if (!existsSync(join(ROOT, 'dist', 'src', 'ssh', 'pool.js')))
  skip('dist/ not built (npm run build)');

const { SshPool } = await import(join(ROOT, 'dist', 'src', 'ssh', 'pool.js'));
const { SshNodeAgent } = await import(join(ROOT, 'dist', 'src', 'nodes', 'ssh-agent.js'));
const { sh } = await import(join(ROOT, 'dist', 'src', 'ssh', 'quote.js'));

const run = (cmd, args, opts = {}) =>
  new Promise((resolve, reject) =>
    execFile(
      cmd,
      args,
      { timeout: 120_000, maxBuffer: 64 << 20, ...opts },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`))
          : resolve(stdout),
    ),
  );
const quiet = (cmd, args) => run(cmd, args).catch(() => undefined);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'k8ops-sshbench-'));
const procs = [];
let agentProc;

async function teardown() {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  if (agentProc && agentProc.exitCode === null) agentProc.kill('SIGKILL');
  for (const ns of [NS_B, NS_N]) {
    const pids = await run('ip', ['netns', 'pids', ns]).catch(() => '');
    for (const p of String(pids).split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {}
    }
    await quiet('ip', ['netns', 'del', ns]);
  }
  await quiet('ip', ['link', 'del', `${tag}hb`]);
  await quiet('ip', ['route', 'del', 'unreachable', RANGE]);
  rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => teardown().then(() => process.exit(130)));

const nodeAddr = (i) => `10.232.${1 + Math.floor(i / 200)}.${10 + (i % 200)}`;

async function setup() {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const ip = (...a) => run('ip', a);
  await ip('netns', 'add', NS_B);
  await ip('netns', 'add', NS_N);
  await ip('-n', NS_B, 'link', 'set', 'lo', 'up');
  await ip('-n', NS_N, 'link', 'set', 'lo', 'up');
  await ip('route', 'add', 'unreachable', RANGE);
  await ip('link', 'add', `${tag}hb`, 'type', 'veth', 'peer', 'name', `${tag}bh`, 'netns', NS_B);
  await ip('addr', 'add', '10.232.0.1/29', 'dev', `${tag}hb`);
  await ip('link', 'set', `${tag}hb`, 'up');
  await ip('-n', NS_B, 'addr', 'add', '10.232.0.2/29', 'dev', `${tag}bh`);
  await ip('-n', NS_B, 'link', 'set', `${tag}bh`, 'up');
  await ip(
    '-n',
    NS_B,
    'link',
    'add',
    `${tag}bn`,
    'type',
    'veth',
    'peer',
    'name',
    `${tag}nb`,
    'netns',
    NS_N,
  );
  await ip('-n', NS_B, 'addr', 'add', '10.232.1.1/16', 'dev', `${tag}bn`);
  await ip('-n', NS_B, 'link', 'set', `${tag}bn`, 'up');
  for (let i = 0; i < N; i++)
    await ip('-n', NS_N, 'addr', 'add', `${nodeAddr(i)}/16`, 'dev', `${tag}nb`);
  await ip('-n', NS_N, 'link', 'set', `${tag}nb`, 'up');

  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  const key = join(dir, 'id_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${key}.pub`));
  const hostKey = join(dir, 'host_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');

  const groups = [['10.232.0.2']];
  for (let i = 0; i < N; i += 15)
    groups.push(Array.from({ length: Math.min(15, N - i) }, (_, k) => nodeAddr(i + k)));
  const started = [];
  groups.forEach((addrs, g) => {
    const conf = join(dir, `sshd_${g}.conf`);
    writeFileSync(
      conf,
      [
        ...addrs.map((a) => `ListenAddress ${a}:22`),
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, `sshd_${g}.pid`)}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'MaxStartups 500',
        'MaxSessions 10',
        'PrintMotd no',
        'UseDNS no',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    const ns = g === 0 ? NS_B : NS_N;
    const p = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'unshare',
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount --bind "$1" "$2" && exec "$3" -D -f "$4" -E "$5"',
        'sh',
        home,
        userInfo().homedir,
        SSHD,
        conf,
        join(dir, `sshd_${g}.log`),
      ],
      { stdio: 'ignore' },
    );
    procs.push(p);
    started.push([ns, addrs[addrs.length - 1]]);
  });
  for (const [ns, addr] of started) {
    const end = Date.now() + 10_000;
    for (;;) {
      const ok = await run('ip', [
        'netns',
        'exec',
        ns,
        'timeout',
        '2',
        'bash',
        '-c',
        `exec 3<>/dev/tcp/${addr}/22`,
      ]).then(
        () => true,
        () => false,
      );
      if (ok) break;
      if (Date.now() > end) throw new Error(`sshd on ${addr} did not start`);
      await sleep(50);
    }
  }

  const kh = join(dir, 'known_hosts');
  writeFileSync(
    kh,
    `${['10.232.0.2', ...Array.from({ length: N }, (_, i) => nodeAddr(i))]
      .map((a) => `${a} ${hostPub}`)
      .join('\n')}\n`,
  );
  const cfg = join(dir, 'ssh_config');
  writeFileSync(
    cfg,
    [
      'Host bastion',
      '  HostName 10.232.0.2',
      ...Array.from({ length: N }, (_, i) => [
        `Host n${i}`,
        `  HostName ${nodeAddr(i)}`,
        '  ProxyJump bastion',
      ]).flat(),
      'Host *',
      '  User root',
      `  IdentityFile ${key}`,
      `  UserKnownHostsFile ${kh}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '',
    ].join('\n'),
  );

  const certDir = join(dir, 'pki');
  mkdirSync(certDir);
  const files = [];
  for (let i = 0; i < 20; i++) {
    const f = join(certDir, `cert-${i}.pem`);
    const body = Buffer.alloc(900, i)
      .toString('base64')
      .replace(/(.{64})/g, '$1\n');
    writeFileSync(f, `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`);
    files.push(f);
  }
  return { cfg, files };
}

async function k8opsRefresh(agents, files) {
  const t0 = performance.now();
  const results = await Promise.all(
    agents.map(async (a) => {
      const [reads, links] = await Promise.all([
        a.readFiles(files, { timeoutMs: 60_000 }),
        a.links({ timeoutMs: 60_000 }),
      ]);
      if (!reads.every((r) => r.ok) || !links.startsWith('['))
        throw new Error(`bad result from ${a.node.name}`);
      return reads.length;
    }),
  );
  if (results.length !== agents.length) throw new Error('missing results');
  return performance.now() - t0;
}

async function main() {
  console.log(`setting up ${N} nodes behind one bastion (real sshd, network namespaces)…`);
  const { cfg, files } = await setup();
  const remote = `cat ${files.join(' ')}; ip -j -d link show`;
  const env = { ...process.env, SSH_AUTH_SOCK: '' };
  const rows = [];

  // k8ops cold: new pool, every handshake included (bastion + 50 nodes)
  const pool = new SshPool({ sshConfigFile: cfg, agentSocket: 'none' });
  const nodes = Array.from({ length: N }, (_, i) => ({
    name: `n${i}`,
    index: i,
    host: `n${i}`,
    addresses: [],
    roles: ['worker'],
  }));
  const agents = nodes.map((n) => new SshNodeAgent(n, { pool }));
  // persistent shells opened so far / requests that fell back to exec (every node's
  // connection; SshNodeAgent runs its scripts on them, see src/ssh/shell.ts)
  const shellStats = () => {
    const sets = pool
      .connections()
      .map((c) => c.shells)
      .filter(Boolean);
    return {
      opened: sets.reduce((n, s) => n + s.opened, 0),
      fallbacks: sets.reduce((n, s) => n + s.fallbacks, 0),
    };
  };
  const cold = await k8opsRefresh(agents, files);
  rows.push(['k8ops cold (handshakes included)', cold]);
  const afterCold = shellStats();
  const warm = [];
  for (let r = 0; r < WARM_RUNS; r++) warm.push(await k8opsRefresh(agents, files));
  rows.push([`k8ops warm (pooled, median of ${WARM_RUNS})`, median(warm)]);
  const afterWarm = shellStats();
  // One node, one request at a time (a collector's round trip through the bastion): here a
  // stall per request (Nagle + delayed ACK) shows in full instead of overlapping 50 nodes.
  const one = pool.host('n0');
  const lat = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await one.run(sh`true`);
    lat.push(performance.now() - t);
  }
  await pool.close();

  // OpenSSH baselines
  const sshOne = (host) => run('ssh', ['-F', cfg, host, remote], { env });
  let t0 = performance.now();
  for (const n of nodes) await sshOne(n.host);
  rows.push(['OpenSSH ssh -J, sequential', performance.now() - t0]);
  t0 = performance.now();
  await run(
    'sh',
    [
      '-c',
      `printf '%s\\n' ${nodes.map((n) => n.host).join(' ')} | xargs -P 10 -I{} ssh -F '${cfg}' {} '${remote}' > /dev/null`,
    ],
    { env },
  );
  const xargs = performance.now() - t0;
  rows.push(['OpenSSH ssh -J, xargs -P 10', xargs]);

  const w = Math.max(...rows.map((r) => r[0].length));
  // ssh2 writes a packet in one piece with its native binding, in 3–4 with its JavaScript
  // ciphers (Node 26, no compiler, the bundled CLI): say which one this run measured.
  const { bindingAvailable } = createRequire(join(ROOT, 'package.json'))(
    'ssh2/lib/protocol/crypto.js',
  );
  console.log(
    `\n${N} nodes, 20 files + ip -j -d link show each (${process.arch}, node ${process.version}, ssh2 ciphers: ${bindingAvailable ? 'native binding' : 'JavaScript'})\n`,
  );
  console.log(`${'method'.padEnd(w)}  ${'time'.padStart(10)}  ${'vs xargs -P 10'.padStart(14)}`);
  for (const [name, ms] of rows) {
    console.log(
      `${name.padEnd(w)}  ${`${ms.toFixed(0)} ms`.padStart(10)}  ${`${(xargs / ms).toFixed(1)}×`.padStart(14)}`,
    );
  }
  console.log(
    `\nk8ops, one request on one node (\`true\` through the bastion): median of 20 ${median(lat).toFixed(1)} ms`,
  );
  console.log(
    `k8ops warm runs: ${warm.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}; remote shells opened: ${afterCold.opened} in the cold run, ${afterWarm.opened - afterCold.opened} in the warm runs; exec fallbacks: ${afterWarm.fallbacks}`,
  );
  const warmX = xargs / median(warm);
  const coldX = xargs / cold;
  console.log(
    `\ntargets: warm ≥ 20× → ${warmX.toFixed(1)}× ${warmX >= 20 ? 'OK' : 'MISSED'}; cold ≥ 2× → ${coldX.toFixed(1)}× ${coldX >= 2 ? 'OK' : 'MISSED'}`,
  );
  return warmX >= 20 && coldX >= 2;
}

let ok = false;
try {
  ok = await main();
} catch (e) {
  console.error(`ssh bench failed: ${e instanceof Error ? e.stack : e}`);
} finally {
  await teardown();
}
process.exit(ok ? 0 : 1);
