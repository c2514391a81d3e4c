/**
 * The MTU feature's sources, per node:
 * - `mtu-links`: `ip -j -d link show` (NodeAgent.exec, read-only), parsed;
 * - `mtu-cilium`: the Cilium agent's `GET /v1/config` over its unix socket
 *   (NodeAgent.forwardSocket('/var/run/cilium/cilium.sock')): device and route MTU;
 * - `mtu-paths`: the path MTU from this node to every other node (`ping -M do`, bisection;
 *   probe.ts), not on the first screen, refreshed on demand (`p`) and every 10 minutes.
 */
import { request } from 'node:http';
import type { NodeAgent } from '../../nodes/agent.js';
import type { NodeSourceDef } from '../types.js';
import { type CiliumMtuConfig, type Link, parseCiliumConfig, parseIpLinks } from './parse.js';
import { type PathResult, peersOf, probePeers } from './probe.js';

export const CILIUM_SOCKET = '/var/run/cilium/cilium.sock';
export const IP_LINK_ARGV = ['ip', '-j', '-d', 'link', 'show'] as const;

export type LinksValue =
  | { ok: true; links: Link[]; skipped: string[] }
  | { ok: false; error: string };

export type CiliumValue =
  | { ok: true; config: CiliumMtuConfig }
  /** `absent`: no agent socket on the node (Cilium not running there). */
  | { ok: false; error: string; absent?: boolean };

export interface PathsValue {
  target: number;
  results: PathResult[];
}

export async function collectLinks(agent: NodeAgent, signal?: AbortSignal): Promise<LinksValue> {
  const r = await agent.exec(IP_LINK_ARGV, {
    readOnly: true,
    quick: true,
    timeoutMs: 8000,
    maxOutputBytes: 16 << 20,
    ...(signal ? { signal } : {}),
  });
  if (r.code !== 0) {
    const why = (r.stderr.trim() || r.stdout.trim()).split('\n')[0]?.slice(0, 200) ?? '';
    return { ok: false, error: `ip -j -d link show exited ${r.code ?? 'on a signal'}: ${why}` };
  }
  // The same answer as last time (no counters without -s: the usual case) is not parsed
  // again (issue 13: a warm refresh's CPU): the same value.
  const last = lastLinks.get(agent);
  if (last && last.stdout === r.stdout) return last.value;
  const p = parseIpLinks(r.stdout);
  const value: LinksValue = p.ok ? { ok: true, ...p.value } : { ok: false, error: p.error };
  lastLinks.set(agent, { stdout: r.stdout, value });
  return value;
}

/** Per agent, the last `ip -j -d link show` answer and what it parsed to. */
const lastLinks = new WeakMap<NodeAgent, { stdout: string; value: LinksValue }>();

const MAX_BODY = 4 << 20;

/** `GET path` on an HTTP server at host:port (the forwarded agent socket), bounded. */
export function httpGet(
  host: string,
  port: number,
  path: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path,
        method: 'GET',
        headers: { Host: 'localhost', Accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) {
            req.destroy(new Error(`${path}: answer over ${MAX_BODY} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${path}: no answer in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    if (signal) {
      if (signal.aborted) req.destroy(new Error('aborted'));
      else
        signal.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
    }
    req.end();
  });
}

export async function collectCilium(
  agent: NodeAgent,
  signal?: AbortSignal,
  socket: string = CILIUM_SOCKET,
): Promise<CiliumValue> {
  let fwd: Awaited<ReturnType<NodeAgent['forwardSocket']>>;
  try {
    fwd = await agent.forwardSocket(socket, signal ? { signal } : {});
  } catch (e) {
    if ((e as { kind?: unknown })?.kind === 'missing')
      return { ok: false, absent: true, error: `no Cilium agent socket (${socket})` };
    throw e;
  }
  try {
    const r = await httpGet(fwd.host, fwd.port, '/v1/config', 6000, signal);
    if (r.status !== 200)
      return {
        ok: false,
        error: `cilium /v1/config: HTTP ${r.status}${r.body ? ` ${r.body.trim().slice(0, 120)}` : ''}`,
      };
    const p = parseCiliumConfig(r.body);
    return p.ok ? { ok: true, config: p.value } : { ok: false, error: p.error };
  } catch (e) {
    signal?.throwIfAborted();
    const code = (e as { code?: unknown })?.code;
    // The forward accepted, then the node could not connect to the socket: OpenSSH closes.
    if (code === 'ECONNRESET' || (e instanceof Error && e.message === 'socket hang up'))
      return {
        ok: false,
        error: `cilium /v1/config: the node closed the connection to ${socket} (no Cilium agent listening there, or the node is unreachable)`,
      };
    return { ok: false, error: `cilium /v1/config: ${e instanceof Error ? e.message : String(e)}` };
  } finally {
    await fwd.close().catch(() => {});
  }
}

export const linksSource: NodeSourceDef<LinksValue> = {
  id: 'mtu-links',
  scope: 'node',
  intervalMs: 30_000,
  timeoutMs: 10_000,
  collect: ({ agent }, signal) => collectLinks(agent, signal),
};

export const ciliumSource: NodeSourceDef<CiliumValue> = {
  id: 'mtu-cilium',
  scope: 'node',
  intervalMs: 60_000,
  timeoutMs: 10_000,
  initialDelayMs: 300,
  firstScreen: false,
  collect: ({ agent }, signal) => collectCilium(agent, signal),
};

export const PATHS_SOURCE_ID = 'mtu-paths';

export const pathsSource: NodeSourceDef<PathsValue> = {
  id: PATHS_SOURCE_ID,
  scope: 'node',
  intervalMs: 600_000,
  // A black hole costs up to MAX_PROBES × 1 s per pair, three pairs at a time.
  timeoutMs: 90_000,
  initialDelayMs: 1500,
  firstScreen: false,
  collect: async ({ inventory, node, agent }, signal) => {
    const target = inventory.network.targetMtu;
    const results = await probePeers(
      (argv, opts) => agent.exec(argv, opts),
      peersOf(inventory, node.name),
      target,
      { signal },
    );
    return { target, results };
  },
};
