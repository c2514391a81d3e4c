/**
 * Path-MTU probing: which address to probe per node, the bisection that finds a path's
 * real MTU from `ping -M do` outcomes, and the bounded fan-out over a node's peers.
 * `findPathMtu` takes the probe as a function, so the same code runs over NodeAgent.exec
 * (product, demo) and in the netns lab (tests, bench).
 */

import type { Inventory, NodeSpec } from '../../config/types.js';
import { isIPv4, isIPv6, isRfc1123Hostname } from '../../config/validate.js';
import type { NodeAgent } from '../../nodes/agent.js';
import { type PingOutcome, parsePing } from './parse.js';

/** ICMP echo overhead on the wire: IPv4 20 + ICMP 8; IPv6 40 + ICMPv6 8. */
export const overheadOf = (address: string): number => (isIPv6(address) ? 48 : 28);

/** The lowest MTU a path is probed at (IPv6's minimum link MTU). */
export const FLOOR_MTU = 1280;
/** Bisection never takes more probes than this per path (a black hole costs one -W each). */
export const MAX_PROBES = 16;
/** At most this many probes in flight at once, over every node. */
export const MAX_IN_FLIGHT = 8;
/** Pairs probed in parallel from one node. */
export const PAIRS_PER_NODE = 3;

/**
 * The address a node is probed at: its first IPv4 address, else its first IPv6 address
 * (inventory `addresses`, validated IP literals), else its `host` when that is an IP
 * literal or an RFC 1123 host name (never an ssh alias or anything starting with `-`).
 */
export function probeAddressOf(node: NodeSpec): string | undefined {
  const addrs = Array.isArray(node.addresses) ? node.addresses : [];
  const v4 = addrs.find((a) => isIPv4(a));
  if (v4) return v4;
  const v6 = addrs.find((a) => isIPv6(a));
  if (v6) return v6;
  const h: unknown = node.host;
  if (typeof h !== 'string') return undefined;
  if (isIPv4(h) || isIPv6(h)) return h;
  // A DNS name (dotted): an ssh alias would not resolve on the node.
  const dotted = String(h).includes('.');
  return dotted && isRfc1123Hostname(h) ? h : undefined;
}

/** The argv of one probe: a `mtu`-byte packet, Don't Fragment, one echo, 1 s to answer. */
export function pingArgv(address: string, mtu: number): string[] {
  const argv = ['ping'];
  if (isIPv6(address)) argv.push('-6');
  argv.push('-n', '-M', 'do', '-s', String(mtu - overheadOf(address)), '-c', '1', '-W', '1');
  argv.push(address);
  return argv;
}

export type PathStatus = 'ok' | 'low' | 'black-hole' | 'unreachable' | 'error';

export interface PathResult {
  to: string;
  address?: string;
  status: PathStatus;
  /** The path MTU: the target when ok, the largest size that passed when low. */
  mtu?: number;
  /** A black hole: the largest size that passed and the smallest that vanished. */
  okUpTo?: number;
  failFrom?: number;
  /** Who said "Frag needed" (a router), or `local` (the sender's own route). */
  reportedBy?: string;
  probes: number;
  message?: string;
  ms: number;
}

export type Probe = (mtu: number) => Promise<PingOutcome>;

/**
 * The path MTU towards one peer, at most `maxProbes` probes, one at a time:
 * the target first; on "too big" the size the ICMP names is tried (standard PMTU
 * discovery), else bisection between the largest size that passed and the smallest that
 * failed. A path that drops big packets silently is a black hole with the bounds found.
 */
export async function findPathMtu(
  probe: Probe,
  target: number,
  opts: { floor?: number; maxProbes?: number } = {},
): Promise<Omit<PathResult, 'to' | 'address' | 'ms'>> {
  const floor = Math.min(opts.floor ?? FLOOR_MTU, target);
  const maxProbes = opts.maxProbes ?? MAX_PROBES;
  let probes = 0;
  const run = async (mtu: number) => {
    probes++;
    return probe(mtu);
  };
  let first = await run(target);
  // One lost echo (an IPv6 neighbour still being resolved, a drop under load) is not a
  // black hole: silence at the target is asked once more before it counts.
  if (first.kind === 'timeout') first = await run(target);
  if (first.kind === 'ok') return { status: 'ok', mtu: target, probes };
  if (first.kind === 'error') return { status: 'error', message: first.message, probes };
  let silent = first.kind === 'timeout';
  let reportedBy: string | undefined;
  let hint: number | undefined;
  if (first.kind === 'too-big') {
    reportedBy = first.where === 'local' ? 'local' : first.from;
    if (first.mtu !== undefined && first.mtu < target && first.mtu >= 68) hint = first.mtu;
  }
  let lo: number | undefined; // largest size known to pass
  let hi = target; // smallest size known to fail
  if (hint !== undefined && hint >= floor) {
    const h = await run(hint);
    if (h.kind === 'ok') {
      // The router named its next-hop MTU and it passes: that is the path MTU.
      return { status: 'low', mtu: hint, probes, ...(reportedBy ? { reportedBy } : {}) };
    }
    if (h.kind === 'error') return { status: 'error', message: h.message, probes };
    hi = hint;
  }
  const base = await run(floor);
  if (base.kind === 'error') return { status: 'error', message: base.message, probes };
  if (base.kind !== 'ok') {
    if (base.kind === 'too-big')
      return {
        status: 'low',
        probes,
        message: `even ${floor} bytes are too big`,
        ...(base.mtu !== undefined ? { mtu: base.mtu } : {}),
      };
    return {
      status: 'unreachable',
      probes,
      message: `no reply at ${target} or at ${floor} bytes`,
    };
  }
  lo = floor;
  while (hi - lo > 1 && probes < maxProbes) {
    const mid = Math.floor((lo + hi) / 2);
    const r = await run(mid);
    if (r.kind === 'ok') lo = mid;
    else if (r.kind === 'error') return { status: 'error', message: r.message, probes };
    else {
      hi = mid;
      if (r.kind === 'timeout') silent = true;
      else reportedBy ??= r.where === 'local' ? 'local' : r.from;
    }
  }
  if (silent && !reportedBy) return { status: 'black-hole', okUpTo: lo, failFrom: hi, probes };
  const exact = hi - lo <= 1;
  return {
    status: 'low',
    mtu: lo,
    probes,
    ...(reportedBy ? { reportedBy } : {}),
    ...(exact ? {} : { okUpTo: lo, failFrom: hi }),
  };
}

/** A counting semaphore: at most `limit` holders at once, first come first served. */
export class Limiter {
  #active = 0;
  #peak = 0;
  readonly #waiting: Array<() => void> = [];
  constructor(readonly limit: number) {}
  get active(): number {
    return this.#active;
  }
  /** The most holders seen at once (for the bench). */
  get peak(): number {
    return this.#peak;
  }
  resetPeak(): void {
    this.#peak = this.#active;
  }
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#active >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener('abort', abort);
          resolve();
        };
        const abort = () => {
          const i = this.#waiting.indexOf(go);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(signal?.reason ?? new Error('aborted'));
        };
        signal?.addEventListener('abort', abort, { once: true });
        this.#waiting.push(go);
      });
    }
    this.#active++;
    this.#peak = Math.max(this.#peak, this.#active);
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}

/** The process-wide bound on probes in flight (every node's path source shares it). */
export const PROBE_LIMITER = new Limiter(MAX_IN_FLIGHT);

export interface PeerTarget {
  name: string;
  address?: string;
}

/** The peers a node probes: every other node of the inventory, with its probe address. */
export function peersOf(inv: Inventory, self: string): PeerTarget[] {
  return inv.nodes
    .filter((n) => n.name !== self)
    .map((n) => {
      const address = probeAddressOf(n);
      return address ? { name: n.name, address } : { name: n.name };
    });
}

export type ExecFn = NodeAgent['exec'];

/** One probe over a node's exec: ping's output parsed; a failed exec is an error outcome. */
export function execProbe(exec: ExecFn, address: string, signal?: AbortSignal): Probe {
  return async (mtu) => {
    try {
      const r = await exec(pingArgv(address, mtu), {
        readOnly: true,
        timeoutMs: 5000,
        maxOutputBytes: 64 * 1024,
        ...(signal ? { signal } : {}),
      });
      return parsePing(r.stdout, r.stderr, r.code);
    } catch (e) {
      signal?.throwIfAborted();
      return { kind: 'error', message: e instanceof Error ? e.message : String(e) };
    }
  };
}

/**
 * The path MTU from one node to each peer: `perNode` pairs at a time, each probe holding
 * the shared limiter (so at most its limit are in flight over all nodes), one probe per
 * pair at a time. Results in peer order.
 */
export async function probePeers(
  exec: ExecFn,
  peers: readonly PeerTarget[],
  target: number,
  opts: {
    limiter?: Limiter;
    perNode?: number;
    signal?: AbortSignal;
    now?: () => number;
  } = {},
): Promise<PathResult[]> {
  const limiter = opts.limiter ?? PROBE_LIMITER;
  const perNode = Math.max(1, opts.perNode ?? PAIRS_PER_NODE);
  const now = opts.now ?? Date.now;
  const out: PathResult[] = new Array(peers.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= peers.length) return;
      const peer = peers[i]!;
      const t0 = now();
      if (!peer.address) {
        out[i] = {
          to: peer.name,
          status: 'error',
          probes: 0,
          ms: 0,
          message: 'no address to probe (inventory: addresses, or an IP or DNS name as host)',
        };
        continue;
      }
      const base = execProbe(exec, peer.address, opts.signal);
      const probe: Probe = (mtu) => limiter.run(() => base(mtu), opts.signal);
      const r = await findPathMtu(probe, target);
      opts.signal?.throwIfAborted();
      out[i] = { to: peer.name, address: peer.address, ...r, ms: now() - t0 };
    }
  };
  await Promise.all(Array.from({ length: Math.min(perNode, peers.length) }, worker));
  return out;
}
