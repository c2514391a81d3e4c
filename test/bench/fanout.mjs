#!/usr/bin/env node
// Fan-out benchmark (issue 13): what a user runs, as whole processes, at 50 and 200 nodes.
//
// Lab: a bastion and N node sshds on loopback-like veths in network namespaces (the range
// 10.233.0.0/16 gets an `unreachable` route in the host namespace), real OpenSSH sshd.
// Node sessions start root's login shell, bash, which sources ~/.bashrc (Debian's bash does
// for sessions started by sshd): ours costs a few processes, as a real node's profile does.
// Every node's PKI directory holds 20 real P-521 certificate files (a root + 19 leaves made
// with openssl) and the 19 leaf keys (0600), so `certs` parses and verifies 20 certificates
// per node and `pki-status` has 39 files per node to describe.
//
// Measured, in the same run, median of BENCH_RUNS (default 3):
//   - `k8ops certs --json` and `k8ops nodes --json` (the built bin/k8ops.js, an inventory
//     pointing at the lab, --ssh-config): whole processes, cold (each starts from nothing);
//   - the OpenSSH loop a user would script:
//       seq N | xargs -P 10 ssh -J bastion nodeX 'cat pki/*.pem; ip -j -d link show'
//     cold, and with ControlMaster warm (every master connection already up);
//   - the console's warm refresh of every source (Ctrl-R), driven in-process through the
//     session API (openLiveSession + scheduler.refresh(), what Ctrl-R calls), labelled so.
// Checks at every size: every node read (certs: no node unreachable, every node's
// certificates read), RSS of the k8ops process (max resident set, via a preload that
// reports process.resourceUsage() on exit) under 200 MB.
//
// Needs root, /usr/sbin/sshd, ssh, ssh-keygen, openssl, ip, unshare, and a build (dist/);
// otherwise prints why and exits 0. Env: BENCH_FANOUT_SIZES (default "50,200"),
// BENCH_RUNS (default 3). Bounded: every child has a timeout; the whole run takes a few
// minutes on 2 cores. Not part of `npm test`.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const SIZES = (process.env.BENCH_FANOUT_SIZES ?? '50,200').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MAX_N = Math.max(...SIZES);
const SSHD = '/usr/sbin/sshd';
const tag = `k8f${process.pid % 100000}`;
const NS_B = `${tag}-b`;
const NS_N = `${tag}-n`;
const RANGE = '10.233.0.0/16';
const CHILD_TIMEOUT_MS = 180_000;

function skip(why) {
  console.log(`fan-out bench skipped: ${why}`);
  process.exit(0);
}
if (process.getuid?.() !== 0) skip('needs root (network namespaces, sshd)');
if (!existsSync(SSHD)) skip(`${SSHD} missing`);
if (!existsSync(join(ROOT, 'dist', 'src', 'session', 'live.js')))
  skip('dist/ not built (npm run build)');

const run = (cmd, args, opts = {}) =>
  new Promise((resolve, reject) =>
    execFile(
      cmd,
      args,
      { timeout: CHILD_TIMEOUT_MS, maxBuffer: 256 << 20, ...opts },
      (err, stdout, stderr) =>
        err && !opts.anyExit
          ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`))
          : resolve({ stdout, stderr, code: err ? (err.code ?? 1) : 0 }),
    ),
  );
const quiet = (cmd, args) => run(cmd, args).catch(() => undefined);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'k8ops-fanout-'));
const procs = [];
const masterPids = new Set();

async function teardown() {
  for (const pid of masterPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  for (const ns of [NS_B, NS_N]) {
    const pids = await run('ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }));
    for (const p of String(pids.stdout).split(/\s+/).filter(Boolean)) {
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

const nodeAddr = (i) => `10.233.${1 + Math.floor(i / 200)}.${10 + (i % 200)}`;

/** What a real node's login shell does before running anything: a few processes. */
const BASHRC = `# sourced by bash for every sshd session (SSH_SOURCE_BASHRC), like a node's profile
export PATH=/run/wrappers/bin:/run/current-system/sw/bin:$PATH
K8F_KERNEL=$(uname -r)
K8F_USER=$(id -un)
K8F_HOST=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)
K8F_UMASK=$(umask)
export K8F_KERNEL K8F_USER K8F_HOST K8F_UMASK
`;

async function makePki(pkiDir) {
  mkdirSync(pkiDir, { recursive: true });
  const o = (...a) => run('openssl', a);
  const caKey = join(dir, 'ca-key.pem');
  await o('ecparam', '-name', 'secp521r1', '-genkey', '-noout', '-out', caKey);
  await o(
    'req',
    '-x509',
    '-new',
    '-key',
    caKey,
    '-sha512',
    '-days',
    '3650',
    '-subj',
    '/CN=fanout-bench-root',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    join(pkiDir, 'ca.pem'),
  );
  const ext = join(dir, 'leaf.ext');
  writeFileSync(
    ext,
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  await Promise.all(
    Array.from({ length: 19 }, async (_, i) => {
      const key = join(pkiDir, `leaf-${i}-key.pem`);
      const csr = join(dir, `leaf-${i}.csr`);
      await o('ecparam', '-name', 'secp521r1', '-genkey', '-noout', '-out', key);
      await run('chmod', ['0600', key]);
      await o('req', '-new', '-key', key, '-subj', `/CN=leaf-${i}`, '-out', csr);
      await o(
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        join(pkiDir, 'ca.pem'),
        '-CAkey',
        caKey,
        '-CAcreateserial',
        '-CAserial',
        join(dir, `leaf-${i}.srl`),
        '-sha512',
        '-days',
        '30',
        '-extfile',
        ext,
        '-out',
        join(pkiDir, `leaf-${i}.pem`),
      );
    }),
  );
}

async function setup() {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const ip = (...a) => run('ip', a);
  await ip('netns', 'add', NS_B);
  await ip('netns', 'add', NS_N);
  await ip('-n', NS_B, 'link', 'set', 'lo', 'up');
  await ip('-n', NS_N, 'link', 'set', 'lo', 'up');
  await ip('route', 'add', 'unreachable', RANGE);
  await ip('link', 'add', `${tag}hb`, 'type', 'veth', 'peer', 'name', `${tag}bh`, 'netns', NS_B);
  await ip('addr', 'add', '10.233.0.1/29', 'dev', `${tag}hb`);
  await ip('link', 'set', `${tag}hb`, 'up');
  await ip('-n', NS_B, 'addr', 'add', '10.233.0.2/29', 'dev', `${tag}bh`);
  await ip('-n', NS_B, 'link', 'set', `${tag}bh`, 'up');
  await ip('-n', NS_B, 'link', 'add', `${tag}bn`, 'type', 'veth', 'peer', 'name', `${tag}nb`);
  await ip('-n', NS_B, 'link', 'set', `${tag}nb`, 'netns', NS_N);
  await ip('-n', NS_B, 'addr', 'add', '10.233.1.1/16', 'dev', `${tag}bn`);
  await ip('-n', NS_B, 'link', 'set', `${tag}bn`, 'up');
  for (let i = 0; i < MAX_N; i++)
    await ip('-n', NS_N, 'addr', 'add', `${nodeAddr(i)}/16`, 'dev', `${tag}nb`);
  await ip('-n', NS_N, 'link', 'set', `${tag}nb`, 'up');

  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  writeFileSync(join(home, '.bashrc'), BASHRC);
  const key = join(dir, 'id_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${key}.pub`));
  const hostKey = join(dir, 'host_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');

  // ≤ 15 ListenAddress per sshd (MAX_LISTEN_SOCKS is 16)
  const groups = [['10.233.0.2']];
  for (let i = 0; i < MAX_N; i += 15)
    groups.push(Array.from({ length: Math.min(15, MAX_N - i) }, (_, k) => nodeAddr(i + k)));
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
        'MaxStartups 1000',
        'MaxSessions 10',
        'PrintMotd no',
        'PrintLastLog no',
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
    const end = Date.now() + 15_000;
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
    `${['10.233.0.2', ...Array.from({ length: MAX_N }, (_, i) => nodeAddr(i))]
      .map((a) => `${a} ${hostPub}`)
      .join('\n')}\n`,
  );
  const hosts = [
    'Host bastion',
    '  HostName 10.233.0.2',
    ...Array.from({ length: MAX_N }, (_, i) => [
      `Host n${i}`,
      `  HostName ${nodeAddr(i)}`,
      '  ProxyJump bastion',
    ]).flat(),
  ];
  const common = [
    'Host *',
    '  User root',
    `  IdentityFile ${key}`,
    `  UserKnownHostsFile ${kh}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    '',
  ];
  const cfg = join(dir, 'ssh_config');
  writeFileSync(cfg, [...hosts, ...common].join('\n'));
  // ControlMaster: one master per destination (and one for the bastion), kept up.
  const cfgCm = join(dir, 'ssh_config_cm');
  writeFileSync(
    cfgCm,
    [
      ...hosts,
      'Host *',
      '  ControlMaster auto',
      `  ControlPath ${join(dir, 'cm-%C')}`,
      '  ControlPersist 600',
      ...common.slice(1),
    ].join('\n'),
  );
  const pkiDir = join(dir, 'pki');
  await makePki(pkiDir);
  const rssHook = join(dir, 'rss.mjs');
  writeFileSync(
    rssHook,
    `import { writeFileSync } from 'node:fs';
process.on('exit', () => {
  const f = process.env.K8F_RSS_FILE;
  if (f) writeFileSync(f, String(process.resourceUsage().maxRSS));
});
`,
  );
  return { cfg, cfgCm, pkiDir, home, rssHook };
}

function inventoryFile(n, pkiDir) {
  const f = join(dir, `inventory-${n}.yaml`);
  writeFileSync(
    f,
    [
      'cluster: fanout',
      'nodes:',
      ...Array.from({ length: n }, (_, i) => [`  - name: n${i}`, '    roles: [worker]']).flat(),
      'pki:',
      `  dir: ${pkiDir}`,
      '',
    ].join('\n'),
  );
  return f;
}

/** One whole k8ops process; resolves with wall time, exit code, parsed JSON, max RSS (KiB). */
async function k8ops(args, lab, nodeOptions = '') {
  const rssFile = join(dir, `rss-${process.hrtime.bigint()}`);
  const env = {
    ...process.env,
    SSH_AUTH_SOCK: '',
    NODE_OPTIONS: `--import=${lab.rssHook} ${nodeOptions}`.trim(),
    K8F_RSS_FILE: rssFile,
  };
  const t0 = performance.now();
  const r = await run(process.execPath, [join(ROOT, 'bin', 'k8ops.js'), ...args], {
    env,
    anyExit: true,
  });
  const ms = performance.now() - t0;
  let doc;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new Error(`k8ops ${args[0]}: not JSON (exit ${r.code}): ${r.stderr.slice(0, 400)}`);
  }
  const rssKiB = Number(readFileSync(rssFile, 'utf8'));
  return { ms, code: r.code, doc, rssKiB, stderr: r.stderr };
}

async function opensshLoop(n, cfg, pkiDir) {
  const remote = `cat ${pkiDir}/*.pem; ip -j -d link show`;
  const t0 = performance.now();
  await run(
    'sh',
    ['-c', `seq 0 ${n - 1} | xargs -P 10 -I{} ssh -F '${cfg}' n{} '${remote}' > /dev/null`],
    { env: { ...process.env, SSH_AUTH_SOCK: '' } },
  );
  return performance.now() - t0;
}

async function collectMasters(n, cfgCm) {
  for (const h of ['bastion', ...Array.from({ length: n }, (_, i) => `n${i}`)]) {
    const r = await run('ssh', ['-F', cfgCm, '-O', 'check', h], { anyExit: true });
    const m = /pid=(\d+)/.exec(r.stderr + r.stdout);
    if (m) masterPids.add(Number(m[1]));
  }
}

/** The console's warm Ctrl-R, in-process: the session API the console's key calls. */
async function consoleRefresh(invFile, cfg) {
  const { loadInventory } = await import(join(ROOT, 'dist', 'src', 'config', 'load.js'));
  const { openLiveSession } = await import(join(ROOT, 'dist', 'src', 'session', 'live.js'));
  const loaded = await loadInventory(invFile);
  if (!loaded.ok) throw new Error(`inventory: ${JSON.stringify(loaded.errors ?? loaded)}`);
  const session = await openLiveSession({
    inventory: loaded.inventory,
    readOnly: true,
    sshConfigFile: cfg,
  });
  try {
    const t0 = performance.now();
    await session.settle(60_000);
    const cold = performance.now() - t0;
    const warm = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await session.scheduler.refresh();
      warm.push(performance.now() - t);
    }
    // every node's every source answered
    const bad = [];
    for (const node of loaded.inventory.nodes)
      for (const src of ['reach', 'certs', 'pki-status']) {
        const s = session.store.get(node.name, src);
        if (s.error || s.value === undefined) bad.push(`${node.name}/${src}: ${s.error?.message}`);
      }
    return { cold, warm: median(warm), bad };
  } finally {
    await session.close();
  }
}

/**
 * BENCH_PROFILE=1: one more `certs --json` and `nodes --json` under --cpu-prof at the first
 * size; prints where the CPU time of the k8ops process went (self time by area).
 */
async function profile(n, lab) {
  const inv = inventoryFile(n, lab.pkiDir);
  const out = [];
  for (const cmd of ['certs', 'nodes']) {
    const pdir = join(dir, `prof-${cmd}`);
    mkdirSync(pdir, { recursive: true });
    const r = await k8ops(
      [cmd, '--json', '--inventory', inv, '--ssh-config', lab.cfg],
      lab,
      `--cpu-prof --cpu-prof-dir=${pdir}`,
    );
    const { readdirSync } = await import('node:fs');
    const file = readdirSync(pdir).find((f) => f.endsWith('.cpuprofile'));
    const text = readFileSync(join(pdir, file), 'utf8');
    // BENCH_PROFILE=DIR keeps the profiles (open them in Chrome DevTools or speedscope).
    if (process.env.BENCH_PROFILE !== '1') {
      mkdirSync(process.env.BENCH_PROFILE, { recursive: true });
      writeFileSync(join(process.env.BENCH_PROFILE, `k8ops-${cmd}-${n}.cpuprofile`), text);
    }
    const prof = JSON.parse(text);
    const byId = new Map(prof.nodes.map((x) => [x.id, x]));
    const self = new Map();
    const dt = prof.timeDeltas;
    prof.samples.forEach((id, i) => {
      self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
    });
    const areas = new Map();
    const fns = new Map();
    let total = 0;
    for (const [id, us] of self) {
      const nd = byId.get(id);
      const { url, functionName } = nd.callFrame;
      const u = url.replace(/^file:\/\//, '');
      const area =
        functionName === '(idle)'
          ? 'idle (waiting on the network / children)'
          : functionName === '(garbage collector)'
            ? 'garbage collector'
            : functionName === '(program)'
              ? 'V8/native (program)'
              : /node_modules\/ssh2\//.test(u)
                ? 'ssh2 (handshakes, ciphers, channels)'
                : /node_modules\/(@peculiar|asn1|pvtsutils|tslib|reflect)/.test(u)
                  ? 'x509 library (@peculiar/x509, asn1)'
                  : /node_modules\//.test(u)
                    ? `other dependencies (${u.split('node_modules/')[1]?.split('/')[0]})`
                    : /dist\/src\/(pki)\//.test(u) || /chunks\/.*pki/.test(u)
                      ? 'k8ops pki (parse, checks, verify)'
                      : /dist\/src\/(ssh)\//.test(u)
                        ? 'k8ops ssh (pool, shells, resolve)'
                        : /dist\/|k8ops\.mjs|chunks\//.test(u)
                          ? 'k8ops other (store, model, JSON, start-up)'
                          : u.startsWith('node:') || u === ''
                            ? 'Node.js internals (modules, child processes, crypto, streams)'
                            : 'other';
      areas.set(area, (areas.get(area) ?? 0) + us);
      const key = `${functionName || '(anonymous)'} ${u.split('/').slice(-2).join('/')}`;
      fns.set(key, (fns.get(key) ?? 0) + us);
      total += us;
    }
    out.push(
      `\nprofile: k8ops ${cmd} --json at ${n} nodes (${(r.ms / 1000).toFixed(1)} s wall, ${(total / 1e6).toFixed(1)} s sampled)`,
    );
    for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]))
      out.push(
        `  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${a}`,
      );
    out.push('  top functions (self time):');
    for (const [f, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, 12))
      out.push(`    ${(us / 1000).toFixed(0).padStart(6)} ms  ${f}`);
  }
  return out.join('\n');
}

async function size(n, lab) {
  const inv = inventoryFile(n, lab.pkiDir);
  const base = ['--json', '--inventory', inv, '--ssh-config', lab.cfg];
  const certs = [];
  const nodes = [];
  const loop = [];
  const problems = [];
  let rss = 0;
  for (let r = 0; r < RUNS; r++) {
    const c = await k8ops(['certs', ...base], lab);
    certs.push(c.ms);
    rss = Math.max(rss, c.rssKiB);
    const unreachable = c.doc.summary?.unreachable ?? [];
    const notRead = (c.doc.nodes ?? []).filter((x) => x.certs !== 'ok').map((x) => x.name);
    if (c.code === 3 || unreachable.length || notRead.length) {
      const why = [
        ...new Set(
          (c.doc.nodes ?? [])
            .filter((x) => x.certs !== 'ok')
            .map((x) => String(x.certs).replace(/n\d+/g, 'nX').slice(0, 120)),
        ),
      ];
      problems.push(
        `certs run ${r + 1}: exit ${c.code}, unreachable ${unreachable.length}, not read ${notRead.length} (${[...unreachable, ...notRead].slice(0, 3).join(', ')}; ${why.slice(0, 3).join(' | ')})`,
      );
    }
    const d = await k8ops(['nodes', ...base], lab);
    nodes.push(d.ms);
    rss = Math.max(rss, d.rssKiB);
    const down = (d.doc.nodes ?? []).filter((x) => x.reachable !== true).map((x) => x.node);
    if (d.code !== 0 || down.length)
      problems.push(`nodes run ${r + 1}: exit ${d.code}, unreachable ${down.length}`);
    if (process.env.BENCH_QUICK) break;
    loop.push(await opensshLoop(n, lab.cfg, lab.pkiDir));
  }
  if (process.env.BENCH_QUICK) {
    // BENCH_QUICK=1: one certs and one nodes run per size, no baselines (a check, not a figure).
    return {
      n,
      certs: certs[0],
      nodes: nodes[0],
      loop: Number.NaN,
      cm: Number.NaN,
      consoleCold: Number.NaN,
      consoleWarm: Number.NaN,
      rssMB: rss / 1024,
      problems,
    };
  }
  // ControlMaster: warm every master once, then the timed loops.
  await opensshLoop(n, lab.cfgCm, lab.pkiDir);
  await collectMasters(n, lab.cfgCm);
  const cm = [];
  for (let r = 0; r < RUNS; r++) cm.push(await opensshLoop(n, lab.cfgCm, lab.pkiDir));
  const con = await consoleRefresh(inv, lab.cfg);
  if (con.bad.length) problems.push(`console: ${con.bad.length} sources failed: ${con.bad[0]}`);
  return {
    n,
    certs: median(certs),
    nodes: median(nodes),
    loop: median(loop),
    cm: median(cm),
    consoleCold: con.cold,
    consoleWarm: con.warm,
    rssMB: rss / 1024,
    problems,
  };
}

/**
 * BENCH_FANOUT_HOLD=MINUTES: set the lab up, print how to run k8ops against it (for
 * --cpu-prof and K8OPS_TRACE by hand), keep it up that long (at most 120 minutes) or until
 * SIGINT/SIGTERM, then tear it down.
 */
async function hold(lab) {
  const minutes = Math.min(120, Number(process.env.BENCH_FANOUT_HOLD) || 30);
  const lines = [];
  for (const n of SIZES) {
    const inv = inventoryFile(n, lab.pkiDir);
    lines.push(
      `  ${n} nodes: SSH_AUTH_SOCK= node bin/k8ops.js certs --json --inventory ${inv} --ssh-config ${lab.cfg}`,
    );
  }
  console.log(
    `lab up for ${minutes} min (pid ${process.pid}; SIGTERM tears it down):\n${lines.join('\n')}\n  ControlMaster config: ${lab.cfgCm}\n  PKI dir: ${lab.pkiDir}`,
  );
  await new Promise((resolve) => {
    const t = setTimeout(resolve, minutes * 60_000);
    process.once('SIGTERM', () => {
      clearTimeout(t);
      resolve();
    });
  });
  return true;
}

async function main() {
  const t0 = performance.now();
  console.log(
    `setting up a bastion + ${MAX_N} node sshds (network namespaces), 20 P-521 certificates + 19 keys per node…`,
  );
  const lab = await setup();
  // What the node's login shell costs per session (the OpenSSH loop pays it per node).
  const t = performance.now();
  const probe = await run('ssh', ['-F', lab.cfg, 'n0', 'echo "$K8F_KERNEL"'], {
    env: { ...process.env, SSH_AUTH_SOCK: '' },
  });
  if (!probe.stdout.trim()) throw new Error('the node login shell did not source ~/.bashrc');
  const oneSsh = performance.now() - t;
  if (process.env.BENCH_FANOUT_HOLD) return hold(lab);
  const prof = process.env.BENCH_PROFILE ? await profile(SIZES[0], lab) : '';
  const results = [];
  for (const n of SIZES) results.push(await size(n, lab));

  console.log(
    `\nfan-out: whole processes, median of ${RUNS} (node ${process.version}, ${process.arch}); one cold \`ssh -J\` to a node: ${oneSsh.toFixed(0)} ms\n`,
  );
  const rows = [];
  for (const r of results) {
    rows.push([`${r.n}`, 'k8ops certs --json, cold', r.certs, r.loop / r.certs, '≥ 2×']);
    rows.push([`${r.n}`, 'k8ops nodes --json', r.nodes, r.loop / r.nodes, '≥ 4×']);
    rows.push([`${r.n}`, 'OpenSSH xargs -P 10 ssh -J, cold', r.loop, 1, '']);
    rows.push([
      `${r.n}`,
      'console Ctrl-R, warm (in-process session API)',
      r.consoleWarm,
      r.cm / r.consoleWarm,
      'vs CM: ≥ 2×',
    ]);
    rows.push([`${r.n}`, 'OpenSSH xargs -P 10, ControlMaster warm', r.cm, r.loop / r.cm, '']);
    rows.push([
      `${r.n}`,
      'console first refresh, cold (in-process)',
      r.consoleCold,
      r.loop / r.consoleCold,
      '',
    ]);
  }
  const w = Math.max(...rows.map((r) => r[1].length));
  console.log(
    `${'nodes'.padStart(5)}  ${'what'.padEnd(w)}  ${'time'.padStart(9)}  ${'ratio'.padStart(7)}  target`,
  );
  for (const [n, what, ms, x, target] of rows.filter((r) => !Number.isNaN(r[2])))
    console.log(
      `${n.padStart(5)}  ${what.padEnd(w)}  ${`${ms.toFixed(0)} ms`.padStart(9)}  ${`${x.toFixed(2)}×`.padStart(7)}  ${target}`,
    );
  console.log(
    '\nratio: OpenSSH cold loop ÷ k8ops (certs, nodes); ControlMaster loop ÷ console warm refresh (console).',
  );
  let ok = true;
  for (const r of results) {
    const rssOk = r.rssMB < 200;
    console.log(
      `${r.n} nodes: max RSS of a k8ops process ${r.rssMB.toFixed(0)} MB (${rssOk ? 'OK' : 'OVER'} < 200 MB); ${r.problems.length === 0 ? 'every node read, none unreachable' : r.problems.join('; ')}`,
    );
    if (!rssOk || r.problems.length) ok = false;
  }
  if (results.length > 1) {
    const [a, b] = [results[0], results[results.length - 1]];
    const k = b.n / a.n;
    console.log(
      `growth ${a.n} → ${b.n} nodes (${k}×): certs ${(b.certs / a.certs).toFixed(2)}×, nodes ${(b.nodes / a.nodes).toFixed(2)}×, console warm ${(b.consoleWarm / a.consoleWarm).toFixed(2)}× (linear: ≤ ${k}×)`,
    );
  }
  if (prof) console.log(prof);
  console.log(`bench wall time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return ok;
}

let ok = false;
try {
  ok = await main();
} catch (e) {
  console.error(`fan-out bench failed: ${e instanceof Error ? e.stack : e}`);
} finally {
  await teardown();
}
process.exit(ok ? 0 : 1);
