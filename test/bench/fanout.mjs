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
//     cold, and with ControlMaster warm (every master connection already up), and with
//     ControlMaster doing the reads of the console's Ctrl-R (consoleReads);
//   - the console's warm refresh of every source (Ctrl-R), driven in-process through the
//     session API (openLiveSession + scheduler.refresh(), what Ctrl-R calls), labelled so.
// Checks at every size: every node read (certs: no node unreachable, every node's
// certificates read), RSS of the k8ops process (max resident set, via a preload that
// reports process.resourceUsage() on exit) under 200 MB, and the console itself (the TUI
// in tmux): when every source has answered, and its peak RSS after a Ctrl-R.
// CPU beside every wall time, so that a figure means something on a loaded machine: the
// client's (the process and its children; the ControlMaster masters for that loop) and the
// node side's (every lab sshd and what its sessions ran: a cgroup, v1 cpuacct or v2).
// k8ops runs are cold: a new process and an empty cache directory (XDG_CACHE_HOME).
//
// Needs root, /usr/sbin/sshd, ssh, ssh-keygen, openssl, ip, unshare, and a build (dist/);
// otherwise prints why and exits 0. Env: BENCH_FANOUT_SIZES (default "50,200"),
// BENCH_RUNS (default 3), BENCH_QUICK=1 (one certs and one nodes run, no baselines),
// BENCH_PROFILE=DIR (--cpu-prof and K8OPS_TRACE of one certs and one nodes run, summarised),
// BENCH_FANOUT_TUI=0 (skip the TUI), BENCH_FANOUT_NET=10.X (the lab's /16, default 10.233), BENCH_FANOUT_HOLD=MINUTES (keep the lab up),
// BENCH_FANOUT_NODE_OPTIONS (added for the k8ops processes: ssh2's JavaScript ciphers with
// --require=<repo>/test/helpers/ssh2-js-ciphers.cjs). Bounded: every child has a timeout; the whole run takes a few
// minutes on 2 cores. Not part of `npm test`.
import { execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { summarise } from './trace-summary.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const SIZES = (process.env.BENCH_FANOUT_SIZES ?? '50,200').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MAX_N = Math.max(...SIZES);
const SSHD = '/usr/sbin/sshd';
const tag = `k8f${process.pid % 100000}`;
const NS_B = `${tag}-b`;
const NS_N = `${tag}-n`;
// BENCH_FANOUT_NET=10.X: another /16 (default 10.233), so that two labs can be up at once.
const NET = /^10\.\d{1,3}$/.test(process.env.BENCH_FANOUT_NET ?? '')
  ? process.env.BENCH_FANOUT_NET
  : '10.233';
const RANGE = `${NET}.0.0/16`;
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

/** CPU (ms) of this process's children that have been reaped (with theirs): a run's tree. */
function childCpuMs() {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / 100; // cutime + cstime, in ticks
}
/** CPU (ms) a live process has used (utime + stime), 0 if gone. */
function procCpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'k8ops-fanout-'));
const procs = [];
const masterPids = new Set();

/**
 * The CPU the lab's sshds and everything they start use (the "nodes"' side), from a cgroup
 * holding them: cgroup v1 cpuacct or v2 cpu.stat. NaN when neither can be made here.
 */
const cg = { dir: '', read: () => Number.NaN };
/** Move `pid` into a cgroup; one that exited meanwhile (a lab probe's session) is skipped. */
function addPid(procsFile, pid) {
  try {
    writeFileSync(procsFile, `${pid}\n`);
  } catch (e) {
    if (e.code !== 'ESRCH') throw e;
  }
}
function setupNodeCgroup(pids) {
  const v1 = `/sys/fs/cgroup/cpuacct/${tag}`;
  const v2 = `/sys/fs/cgroup/${tag}`;
  try {
    if (existsSync('/sys/fs/cgroup/cpuacct/cpuacct.usage')) {
      mkdirSync(v1);
      for (const p of pids) addPid(join(v1, 'cgroup.procs'), p);
      cg.dir = v1;
      cg.read = () => Number(readFileSync(join(v1, 'cpuacct.usage'), 'utf8')) / 1e6;
    } else if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
      mkdirSync(v2);
      for (const p of pids) addPid(join(v2, 'cgroup.procs'), p);
      cg.dir = v2;
      cg.read = () =>
        Number(/usage_usec (\d+)/.exec(readFileSync(join(v2, 'cpu.stat'), 'utf8'))?.[1]) / 1000;
    }
  } catch (e) {
    console.log(`(node-side CPU not measured: ${e.message})`);
    cg.read = () => Number.NaN;
  }
}
/** Node-side CPU (ms) used while `fn` ran (its sessions reaped: a short settle after). */
async function nodeCpuAround(fn) {
  const a = cg.read();
  const r = await fn();
  await sleep(300);
  return { r, nodeMs: cg.read() - a };
}

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
  if (cg.dir) {
    // (empty once its processes are gone: the sshds were killed above)
    for (let i = 0; i < 20; i++) {
      try {
        rmdirSync(cg.dir);
        break;
      } catch {
        await sleep(100);
      }
    }
  }
  await quiet('ip', ['link', 'del', `${tag}hb`]);
  await quiet('ip', ['route', 'del', 'unreachable', RANGE]);
  rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => teardown().then(() => process.exit(130)));

const nodeAddr = (i) => `${NET}.${1 + Math.floor(i / 200)}.${10 + (i % 200)}`;

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
  await ip('addr', 'add', `${NET}.0.1/29`, 'dev', `${tag}hb`);
  await ip('link', 'set', `${tag}hb`, 'up');
  await ip('-n', NS_B, 'addr', 'add', `${NET}.0.2/29`, 'dev', `${tag}bh`);
  await ip('-n', NS_B, 'link', 'set', `${tag}bh`, 'up');
  await ip('-n', NS_B, 'link', 'add', `${tag}bn`, 'type', 'veth', 'peer', 'name', `${tag}nb`);
  await ip('-n', NS_B, 'link', 'set', `${tag}nb`, 'netns', NS_N);
  await ip('-n', NS_B, 'addr', 'add', `${NET}.1.1/16`, 'dev', `${tag}bn`);
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
  const groups = [[`${NET}.0.2`]];
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
    let why = '';
    for (;;) {
      const ok = await run('ip', [
        'netns',
        'exec',
        ns,
        'timeout',
        '2',
        // --norc: with a socket on stdin (Node's stdio) bash would source root's ~/.bashrc
        'bash',
        '--norc',
        '-c',
        `exec 3<>/dev/tcp/${addr}/22`,
      ]).then(
        () => true,
        (e) => {
          why = e.message;
          return false;
        },
      );
      if (ok) break;
      if (Date.now() > end) {
        const logs = readdirSync(dir)
          .filter((f) => /^sshd_\d+\.log$/.test(f))
          .map((f) => readFileSync(join(dir, f), 'utf8').trim())
          .filter(Boolean);
        throw new Error(
          `sshd on ${addr} did not start (${why.trim()})${logs.length ? `: ${logs[0]}` : ''}`,
        );
      }
      await sleep(50);
    }
  }

  {
    const pids = [];
    for (const ns of [NS_B, NS_N]) {
      const r = await run('ip', ['netns', 'pids', ns]);
      pids.push(...String(r.stdout).split(/\s+/).filter(Boolean));
    }
    setupNodeCgroup(pids);
  }
  const kh = join(dir, 'known_hosts');
  writeFileSync(
    kh,
    `${[`${NET}.0.2`, ...Array.from({ length: MAX_N }, (_, i) => nodeAddr(i))]
      .map((a) => `${a} ${hostPub}`)
      .join('\n')}\n`,
  );
  const hosts = [
    'Host bastion',
    `  HostName ${NET}.0.2`,
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

let runNo = 0;
/**
 * One whole k8ops process, cold: a new process with an empty cache directory (no signature
 * verdicts, nothing remembered from an earlier run). Resolves with wall time, exit code,
 * parsed JSON, max RSS (KiB), the CPU of the process and its children (ssh -G, openssl),
 * and the node side's CPU meanwhile.
 */
async function k8ops(args, lab, nodeOptions = '', extraEnv = {}) {
  const rssFile = join(dir, `rss-${process.hrtime.bigint()}`);
  const cache = join(dir, `cache-${++runNo}`);
  const env = {
    ...process.env,
    SSH_AUTH_SOCK: '',
    XDG_CACHE_HOME: cache,
    // BENCH_FANOUT_NODE_OPTIONS: more for k8ops' node, e.g. --require=test/helpers/ssh2-js-ciphers.cjs
    NODE_OPTIONS:
      `--import=${lab.rssHook} ${nodeOptions} ${process.env.BENCH_FANOUT_NODE_OPTIONS ?? ''}`.trim(),
    K8F_RSS_FILE: rssFile,
    ...extraEnv,
  };
  const cpu0 = childCpuMs();
  const t0 = performance.now();
  const { r, nodeMs } = await nodeCpuAround(() =>
    run(process.execPath, [join(ROOT, 'bin', 'k8ops.js'), ...args], { env, anyExit: true }),
  );
  const ms = performance.now() - t0 - 300;
  const cpuMs = childCpuMs() - cpu0;
  rmSync(cache, { recursive: true, force: true });
  let doc;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new Error(`k8ops ${args[0]}: not JSON (exit ${r.code}): ${r.stderr.slice(0, 400)}`);
  }
  const rssKiB = Number(readFileSync(rssFile, 'utf8'));
  return { ms, code: r.code, doc, rssKiB, stderr: r.stderr, cpuMs, nodeMs };
}

/** The OpenSSH loop: wall, the CPU of its processes (sh, xargs, ssh), the node side's. */
/**
 * What the console's Ctrl-R reads on each node, as one OpenSSH command: the certificates
 * (certs), the PKI files' identities (pki-status's warm `stat`), the links (mtu-links),
 * nginx's masters (nginx.cache) and os-release (the reachability probe).
 */
const consoleReads = (pkiDir) =>
  `cat ${pkiDir}/*.pem; stat -c "%i %s %Y %a %U" ${pkiDir}/*; ip -j -d link show; pgrep -a -f "^nginx: master process"; cat /etc/os-release`;

async function opensshLoop(n, cfg, pkiDir, remoteCmd) {
  const remote = remoteCmd ?? `cat ${pkiDir}/*.pem; ip -j -d link show`;
  const cpu0 = childCpuMs();
  const masters0 = [...masterPids].reduce((a, p) => a + procCpuMs(p), 0);
  const t0 = performance.now();
  const { nodeMs } = await nodeCpuAround(() =>
    run(
      'sh',
      ['-c', `seq 0 ${n - 1} | xargs -P 10 -I{} ssh -F '${cfg}' n{} '${remote}' > /dev/null`],
      { env: { ...process.env, SSH_AUTH_SOCK: '' } },
    ),
  );
  const ms = performance.now() - t0 - 300;
  // ControlMaster: the masters relay (and decipher) every byte; their CPU counts too.
  const mastersMs = [...masterPids].reduce((a, p) => a + procCpuMs(p), 0) - masters0;
  return { ms, cpuMs: childCpuMs() - cpu0 + mastersMs, nodeMs };
}

async function collectMasters(n, cfgCm) {
  for (const h of ['bastion', ...Array.from({ length: n }, (_, i) => `n${i}`)]) {
    const r = await run('ssh', ['-F', cfgCm, '-O', 'check', h], { anyExit: true });
    const m = /pid=(\d+)/.exec(r.stderr + r.stdout);
    if (m) masterPids.add(Number(m[1]));
  }
}

/**
 * The console's warm Ctrl-R, in-process: the session API the console's key calls
 * (openLiveSession + scheduler.refresh(), every source of every feature). Per refresh:
 * wall, this process's CPU, the node side's CPU.
 */
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
    await session.settle(120_000);
    const cold = performance.now() - t0;
    const warm = [];
    for (let i = 0; i < RUNS; i++) {
      const c0 = process.cpuUsage();
      const t = performance.now();
      const { nodeMs } = await nodeCpuAround(() => session.scheduler.refresh());
      const ms = performance.now() - t - 300;
      const c = process.cpuUsage(c0);
      warm.push({ ms, cpuMs: (c.user + c.system) / 1000 - 0, nodeMs });
    }
    // every node's every source answered
    const bad = [];
    for (const node of loaded.inventory.nodes)
      for (const src of ['reach', 'certs', 'pki-status']) {
        const s = session.store.get(node.name, src);
        if (s.error || s.value === undefined) bad.push(`${node.name}/${src}: ${s.error?.message}`);
      }
    const mid = warm.toSorted((x, y) => x.ms - y.ms)[Math.floor(warm.length / 2)];
    return { cold, warm: mid, bad };
  } finally {
    await session.close();
  }
}

/**
 * The console itself (the TUI in tmux at 200×50) on the lab: its first complete frame
 * (every source answered, K8OPS_TRACE_FRAMES), then Ctrl-R, then its peak RSS (VmHWM).
 * Undefined when tmux is missing.
 */
async function tuiRss(n, lab) {
  if ((await run('sh', ['-c', 'command -v tmux'], { anyExit: true })).code !== 0) return undefined;
  const inv = inventoryFile(n, lab.pkiDir);
  const frames = join(dir, `frames-${n}.txt`);
  const sess = `${tag}-tui`;
  const cmd = `cd ${ROOT} && SSH_AUTH_SOCK= XDG_CACHE_HOME=${join(dir, `tui-cache-${n}`)} K8OPS_TRACE_FRAMES=${frames} exec ${process.execPath} bin/k8ops.js --inventory ${inv} --ssh-config ${lab.cfg}`;
  await run('tmux', ['new', '-d', '-s', sess, '-x', '200', '-y', '50', cmd]);
  try {
    const t0 = Date.now();
    let pid;
    while (!pid && Date.now() - t0 < 10_000) {
      const r = await run('tmux', ['list-panes', '-t', sess, '-F', '#{pane_pid}'], {
        anyExit: true,
      });
      pid = Number(String(r.stdout).trim()) || undefined;
      await sleep(200);
    }
    const text = () => (existsSync(frames) ? readFileSync(frames, 'utf8') : '');
    while (!/complete-frame/.test(text()) && Date.now() - t0 < 180_000) await sleep(500);
    const complete = Number(/complete-frame (\d+)/.exec(text())?.[1]);
    await run('tmux', ['send-keys', '-t', sess, 'C-r']);
    await sleep(15_000);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]) / 1024;
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
    return { hwmMB: hwm, rssMB: rss, completeMs: complete - t0 };
  } finally {
    await run('tmux', ['kill-session', '-t', sess], { anyExit: true });
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
    const traceFile = join(pdir, 'trace.jsonl');
    const r = await k8ops(
      [cmd, '--json', '--inventory', inv, '--ssh-config', lab.cfg],
      lab,
      `--cpu-prof --cpu-prof-dir=${pdir}`,
      { K8OPS_TRACE: traceFile },
    );
    const traced = existsSync(traceFile) ? summarise(readFileSync(traceFile, 'utf8')) : [];
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
    out.push(
      `  (CPU of the process and its children ${r.cpuMs.toFixed(0)} ms, node side ${r.nodeMs.toFixed(0)} ms)`,
    );
    if (traced.length) out.push('  K8OPS_TRACE:', ...traced.map((l) => `    ${l}`));
    out.push('  top functions (self time):');
    for (const [f, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, 12))
      out.push(`    ${(us / 1000).toFixed(0).padStart(6)} ms  ${f}`);
  }
  return out.join('\n');
}

/** Median of runs by wall time (the run, with its CPU figures). */
const mid = (rs) => rs.toSorted((x, y) => x.ms - y.ms)[Math.floor(rs.length / 2)];

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
    certs.push(c);
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
    nodes.push(d);
    rss = Math.max(rss, d.rssKiB);
    const down = (d.doc.nodes ?? []).filter((x) => x.reachable !== true).map((x) => x.node);
    if (d.code !== 0 || down.length)
      problems.push(`nodes run ${r + 1}: exit ${d.code}, unreachable ${down.length}`);
    if (process.env.BENCH_QUICK) break;
    loop.push(await opensshLoop(n, lab.cfg, lab.pkiDir));
  }
  const none = { ms: Number.NaN, cpuMs: Number.NaN, nodeMs: Number.NaN };
  if (process.env.BENCH_QUICK) {
    // BENCH_QUICK=1: one certs and one nodes run per size, no baselines (a check, not a figure).
    return {
      n,
      certs: certs[0],
      nodes: nodes[0],
      loop: none,
      cm: none,
      cmAll: none,
      consoleCold: Number.NaN,
      consoleWarm: none,
      rssMB: rss / 1024,
      problems,
    };
  }
  // ControlMaster: warm every master once, then the timed loops.
  await opensshLoop(n, lab.cfgCm, lab.pkiDir);
  await collectMasters(n, lab.cfgCm);
  const cm = [];
  const cmAll = [];
  for (let r = 0; r < RUNS; r++) {
    cm.push(await opensshLoop(n, lab.cfgCm, lab.pkiDir));
    cmAll.push(await opensshLoop(n, lab.cfgCm, lab.pkiDir, consoleReads(lab.pkiDir)));
  }
  const con = await consoleRefresh(inv, lab.cfg);
  if (con.bad.length) problems.push(`console: ${con.bad.length} sources failed: ${con.bad[0]}`);
  const tui = process.env.BENCH_FANOUT_TUI === '0' ? undefined : await tuiRss(n, lab);
  return {
    n,
    certs: mid(certs),
    nodes: mid(nodes),
    loop: mid(loop),
    cm: mid(cm),
    cmAll: mid(cmAll),
    consoleCold: con.cold,
    consoleWarm: con.warm,
    tui,
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
    rows.push([`${r.n}`, 'k8ops certs --json, cold', r.certs, r.loop.ms / r.certs.ms, '>= 2x']);
    rows.push([`${r.n}`, 'k8ops nodes --json', r.nodes, r.loop.ms / r.nodes.ms, '>= 4x']);
    rows.push([`${r.n}`, 'OpenSSH xargs -P 10 ssh -J, cold', r.loop, 1, '']);
    rows.push([
      `${r.n}`,
      'console Ctrl-R, warm (in-process session API)',
      r.consoleWarm,
      r.cmAll.ms / r.consoleWarm.ms,
      'vs CM, same reads: >= 2x',
    ]);
    rows.push([
      `${r.n}`,
      'OpenSSH xargs -P 10, ControlMaster warm, the same reads',
      r.cmAll,
      r.cmAll.ms / r.consoleWarm.ms,
      '',
    ]);
    rows.push([
      `${r.n}`,
      'OpenSSH xargs -P 10, ControlMaster warm, cat + ip only',
      r.cm,
      r.cm.ms / r.consoleWarm.ms,
      '',
    ]);
  }
  const w = Math.max(...rows.map((r) => r[1].length));
  const f = (ms) => (Number.isNaN(ms) ? '-' : `${ms.toFixed(0)} ms`);
  console.log(
    `${'nodes'.padStart(5)}  ${'what'.padEnd(w)}  ${'time'.padStart(9)}  ${'ratio'.padStart(7)}  ${'CPU: client'.padStart(12)}  ${'node side'.padStart(10)}  target`,
  );
  for (const [n, what, m, x, target] of rows.filter((r) => !Number.isNaN(r[2].ms)))
    console.log(
      `${n.padStart(5)}  ${what.padEnd(w)}  ${f(m.ms).padStart(9)}  ${`${x.toFixed(2)}x`.padStart(7)}  ${f(m.cpuMs).padStart(12)}  ${f(m.nodeMs).padStart(10)}  ${target}`,
    );
  console.log(
    '\nratio: OpenSSH cold loop / k8ops (certs, nodes); ControlMaster loop / console warm refresh (console and' +
      '\nthe ControlMaster rows). "The same reads": cat pki/*.pem, stat pki/*, ip -j -d link show,' +
      "\npgrep -a -f '^nginx: master process', cat /etc/os-release (what Ctrl-R reads on a node)." +
      '\nCPU: client = the process and its children (k8ops: ssh -G, openssl; the loop: sh, xargs, ssh, and the' +
      '\nControlMaster masters); node side = every sshd of the lab and what its sessions ran (a cgroup).' +
      '\nk8ops runs are cold: a new process, an empty cache directory.',
  );
  for (const r of results) {
    if (Number.isNaN(r.loop.ms)) continue;
    const tot = (m) => m.cpuMs + m.nodeMs;
    console.log(
      `${r.n} nodes, all CPU (client + node side): certs ${f(tot(r.certs))} vs loop ${f(tot(r.loop))} (${(tot(r.loop) / tot(r.certs)).toFixed(2)}x); nodes ${f(tot(r.nodes))} (${(tot(r.loop) / tot(r.nodes)).toFixed(2)}x); console warm ${f(tot(r.consoleWarm))} vs ControlMaster, the same reads ${f(tot(r.cmAll))} (${(tot(r.cmAll) / tot(r.consoleWarm)).toFixed(2)}x), cat + ip only ${f(tot(r.cm))} (${(tot(r.cm) / tot(r.consoleWarm)).toFixed(2)}x)`,
    );
  }
  let ok = true;
  for (const r of results) {
    const rssOk = r.rssMB < 200;
    console.log(
      `${r.n} nodes: max RSS of a k8ops certs/nodes process ${r.rssMB.toFixed(0)} MB (${rssOk ? 'OK' : 'OVER'} < 200 MB); ${r.problems.length === 0 ? 'every node read, none unreachable' : r.problems.join('; ')}`,
    );
    if (r.tui)
      console.log(
        `${r.n} nodes: the console (TUI): every source answered ${(r.tui.completeMs / 1000).toFixed(1)} s after start; peak RSS ${r.tui.hwmMB.toFixed(0)} MB (${r.tui.hwmMB < 200 ? 'OK' : 'OVER'} < 200 MB), ${r.tui.rssMB.toFixed(0)} MB 15 s after Ctrl-R`,
      );
    if (!Number.isNaN(r.consoleCold))
      console.log(`${r.n} nodes: console first refresh (in-process, cold) ${f(r.consoleCold)}`);
    if (!rssOk || r.problems.length) ok = false;
  }
  if (results.length > 1) {
    const [a, b] = [results[0], results[results.length - 1]];
    const k = b.n / a.n;
    console.log(
      `growth ${a.n} -> ${b.n} nodes (${k}x): certs ${(b.certs.ms / a.certs.ms).toFixed(2)}x, nodes ${(b.nodes.ms / a.nodes.ms).toFixed(2)}x, console warm ${(b.consoleWarm.ms / a.consoleWarm.ms).toFixed(2)}x (linear: <= ${k}x)`,
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
