/**
 * A path-MTU lab of network namespaces: N hosts, each on its own /30 veth link to one
 * router namespace (ip_forward on, ICMP rate limiting off so repeated probes stay
 * deterministic). Every link is at 9216 except the `narrow` host's, which is 1500 at both
 * ends: its own interface is below target, paths towards it get a real "Frag needed" from
 * the router and paths from it a local "message too long".
 *
 *   h0 ──9216── ┐
 *   h1 ──9216── router      (10.246.<slot>.0/24; the host namespace routes it `unreachable`)
 *   hN ──1500── ┘
 *
 * Only erasable TypeScript (no enums, no parameter properties) and node: imports, so the
 * bench (plain .mjs on Node ≥ 22.18) imports this file as it is.
 * Everything is removed by `teardown()`; all waits are bounded.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MtuLabHost {
  name: string;
  ns: string;
  address: string;
  mtu: number;
}

export interface MtuLab {
  slot: number;
  router: string;
  hosts: MtuLabHost[];
  /** The private range of the lab (routed `unreachable` in the host namespace). */
  range: string;
  /** Run argv in a namespace; a non-zero exit resolves with its code (like NodeAgent.exec). */
  exec(
    ns: string,
    argv: readonly string[],
    timeoutMs?: number,
  ): Promise<{ stdout: string; stderr: string; code: number | null }>;
  /** Forget every cached path MTU (each host's `ip route flush cache`). */
  flushPmtu(): Promise<void>;
  teardown(): Promise<void>;
}

/** Can this machine run the lab? (Linux, root, ip, ping). */
export function mtuLabSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'not Linux' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not root (network namespaces)' };
  for (const bin of ['ip', 'ping']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return {
        ok: false,
        reason: `${bin} not installed${bin === 'ping' ? ' (apt-get install iputils-ping)' : ''}`,
      };
    }
  }
  return { ok: true };
}

function run(cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(String(stdout));
    });
  });
}

const quiet = (cmd: string, args: readonly string[]) => run(cmd, args).catch(() => '');

const SLOT_DIR = '/run/k8ops-test-mtulab';
const nsPrefix = (slot: number) => `k8mtu-s${slot}`;
const rangeOf = (slot: number) => `10.246.${slot}.0/24`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function cleanSlot(slot: number): Promise<void> {
  const names = (await quiet('ip', ['netns', 'list']))
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`${nsPrefix(slot)}-`));
  for (const n of names) await quiet('ip', ['netns', 'del', n]);
  await quiet('ip', ['route', 'del', 'unreachable', rangeOf(slot)]);
}

async function claimSlot(): Promise<number> {
  mkdirSync(SLOT_DIR, { recursive: true });
  for (let slot = 0; slot < 64; slot++) {
    const d = join(SLOT_DIR, String(slot));
    try {
      mkdirSync(d);
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(join(d, 'pid'), 'utf8'));
      } catch {
        continue;
      }
      if (owner && alive(owner)) continue;
      rmSync(d, { recursive: true, force: true });
      try {
        mkdirSync(d);
      } catch {
        continue;
      }
    }
    writeFileSync(join(d, 'pid'), String(process.pid));
    await cleanSlot(slot);
    return slot;
  }
  throw new Error('no free MTU lab slot');
}

export async function startMtuLab(opts: { hosts: number; narrow?: number }): Promise<MtuLab> {
  if (opts.hosts < 2 || opts.hosts > 60) throw new Error('2..60 hosts');
  const slot = await claimSlot();
  const p = nsPrefix(slot);
  const router = `${p}-r`;
  const hosts: MtuLabHost[] = [];
  const teardown = async () => {
    await cleanSlot(slot);
    rmSync(join(SLOT_DIR, String(slot)), { recursive: true, force: true });
  };
  try {
    const ip = (...a: string[]) => run('ip', a);
    await ip('route', 'add', 'unreachable', rangeOf(slot));
    await ip('netns', 'add', router);
    await ip('-n', router, 'link', 'set', 'lo', 'up');
    const sysctl = (ns: string, kv: string) =>
      run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', kv]);
    await sysctl(router, 'net.ipv4.ip_forward=1');
    await sysctl(router, 'net.ipv4.icmp_ratelimit=0');
    for (let i = 0; i < opts.hosts; i++) {
      const ns = `${p}-h${i}`;
      const mtu = i === opts.narrow ? 1500 : 9216;
      const routerSide = `10.246.${slot}.${4 * i + 1}`;
      const address = `10.246.${slot}.${4 * i + 2}`;
      const rIf = `r${i}`;
      await ip('netns', 'add', ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip(
        '-n',
        router,
        'link',
        'add',
        rIf,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        ns,
      );
      await ip('-n', router, 'link', 'set', rIf, 'mtu', String(mtu));
      await ip('-n', ns, 'link', 'set', 'eth0', 'mtu', String(mtu));
      await ip('-n', router, 'addr', 'add', `${routerSide}/30`, 'dev', rIf);
      await ip('-n', ns, 'addr', 'add', `${address}/30`, 'dev', 'eth0');
      await ip('-n', router, 'link', 'set', rIf, 'up');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
      await ip('-n', ns, 'route', 'add', 'default', 'via', routerSide);
      await sysctl(ns, 'net.ipv4.icmp_ratelimit=0');
      hosts.push({ name: `h${i}`, ns, address, mtu });
    }
  } catch (e) {
    await teardown();
    throw e;
  }
  return {
    slot,
    router,
    hosts,
    range: rangeOf(slot),
    exec: (ns, argv, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        execFile(
          'ip',
          ['netns', 'exec', ns, ...argv],
          { timeout: timeoutMs, maxBuffer: 8 << 20 },
          (err, stdout, stderr) => {
            const e = err as (Error & { code?: unknown; killed?: boolean }) | null;
            if (e && (e.killed || typeof e.code !== 'number'))
              reject(new Error(`${argv.join(' ')} in ${ns}: ${e.message}`));
            else
              resolve({
                stdout: String(stdout),
                stderr: String(stderr),
                code: e ? (e.code as number) : 0,
              });
          },
        );
      }),
    async flushPmtu() {
      for (const h of hosts) await quiet('ip', ['-n', h.ns, 'route', 'flush', 'cache']);
    },
    teardown,
  };
}

/**
 * A NodeAgent for a lab host: `exec` runs the program inside the host's namespace (each
 * argument one word, under the call's deadline, a non-zero exit resolved with its code),
 * as the SSH agent runs it on a node; `forwardSocket` finds no socket (no Cilium agent);
 * every other operation is refused. For the MTU sources, the session and the bench.
 */
export function labAgent(lab: MtuLab, host: MtuLabHost) {
  const refuse = (op: string) => () => Promise.reject(new Error(`${op}: not in the MTU lab`));
  return {
    node: {
      name: host.name,
      index: Number(host.name.slice(1)),
      host: host.name,
      addresses: [host.address],
      roles: ['worker' as const],
    },
    exec: (argv: readonly string[], opts?: { timeoutMs?: number }) =>
      lab.exec(host.ns, argv, (opts?.timeoutMs ?? 10_000) + 1000),
    forwardSocket: (path: string) =>
      Promise.reject(
        Object.assign(new Error(`${host.name}: ${path}: No such file or directory`), {
          kind: 'missing',
        }),
      ),
    probe: refuse('probe'),
    readFiles: refuse('readFiles'),
    stat: refuse('stat'),
    listDir: refuse('listDir'),
    readCertFiles: refuse('readCertFiles'),
    unitStates: refuse('unitStates'),
    pkiStatus: refuse('pkiStatus'),
    close: () => Promise.resolve(),
  };
}
