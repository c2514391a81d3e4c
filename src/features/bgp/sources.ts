/**
 * The BGP feature's sources.
 * - `bgp-cilium` (per node): Cilium's side, `GET /v1/bgp/peers` and each peer's
 *   adj-rib-out (`GET /v1/bgp/routes`) from the agent's REST API on
 *   /var/run/cilium/cilium.sock, reached through NodeAgent.forwardSocket.
 * - `bgp-routers` (cluster): every router of `network.bgpRouters` over SSH (NodeAgent.exec):
 *   `gobgp -j neighbor` + `gobgp -j global rib`, or `birdc show protocols all` +
 *   `show route` + `show status`. Each router has its own deadline; one that does not
 *   answer is `timedOut` (a frozen daemon), not "down", and never holds up the others.
 * CiliumBGPNodeConfig status and the BGP configuration kinds (PeerConfig, Advertisement,
 * ClusterConfig) and Services come from the kube watches (`kube.bgp`,
 * `kube.bgp-peer-configs`, `kube.bgp-advertisements`, `kube.bgp-cluster-configs`,
 * `kube.services`), read by the model.
 */
import type { BgpRouter, NodeSpec } from '../../config/types.js';
import type { NodeAgent } from '../../nodes/agent.js';
import type { ClusterSourceDef, NodeSourceDef } from '../types.js';
import { httpGet } from './agent-http.js';
import { trackerFor } from './flaps.js';
import { birdAgeMs, parseBirdProtocols, parseBirdRoutes, parseBirdStatus } from './parse/bird.js';
import { parseCiliumPeers, parseCiliumRoutes } from './parse/cilium.js';
import { parseGobgpNeighbors, parseGobgpRib } from './parse/gobgp.js';
import type { CiliumBgpValue, RouterBgpResult, RoutersValue } from './types.js';

export const CILIUM_SOCKET = '/var/run/cilium/cilium.sock';
const CILIUM_TIMEOUT_MS = 6_000;
/** Per router query (birdc hangs forever on a frozen BIRD). */
export const ROUTER_TIMEOUT_MS = 6_000;
const ROUTER_MAX_OUTPUT = 32 * 1024 * 1024;

/** The NodeSpec a router's agent is made with (an SSH host like a node; no roles). */
export function routerSpec(r: BgpRouter): NodeSpec {
  return { name: r.name, index: -1, host: r.host, addresses: [], roles: [] };
}

class SourceFailure extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

/** Cilium's side of one node. Rejects when the agent cannot be asked or answers nonsense. */
export async function collectCilium(
  agent: NodeAgent,
  signal: AbortSignal,
  timeoutMs = CILIUM_TIMEOUT_MS,
  socket = CILIUM_SOCKET,
): Promise<CiliumBgpValue> {
  const fwd = await agent.forwardSocket(socket, { signal, timeoutMs });
  try {
    const at = Date.now();
    const r = await httpGet(fwd, '/v1/bgp/peers', { timeoutMs, signal });
    if (r.status === 501) return { peers: [], advertised: {}, routeErrors: {}, disabled: true };
    if (r.status !== 200)
      throw new SourceFailure(
        'agent',
        `cilium agent: GET /v1/bgp/peers → HTTP ${r.status}: ${r.body.slice(0, 160)}`,
      );
    const peers = parseCiliumPeers(r.body, at);
    if (!peers.ok) throw new SourceFailure('parse', peers.error);
    const advertised: Record<string, string[]> = {};
    const routeErrors: Record<string, string> = {};
    await Promise.all(
      peers.value.map(async (p) => {
        const q = new URLSearchParams({
          table_type: 'adj-rib-out',
          afi: p.peerAddress.includes(':') ? 'ipv6' : 'ipv4',
          safi: 'unicast',
          neighbor: p.peerAddress,
        });
        try {
          const a = await httpGet(fwd, `/v1/bgp/routes?${q}`, { timeoutMs, signal });
          if (a.status !== 200) {
            routeErrors[p.peerAddress] = `HTTP ${a.status}: ${a.body.slice(0, 120)}`;
            return;
          }
          const routes = parseCiliumRoutes(a.body);
          if (routes.ok) advertised[p.peerAddress] = routes.value;
          else routeErrors[p.peerAddress] = routes.error;
        } catch (e) {
          routeErrors[p.peerAddress] = e instanceof Error ? e.message : String(e);
        }
      }),
    );
    trackerFor(agent).observe(peers.value);
    return { peers: peers.value, advertised, routeErrors };
  } finally {
    await fwd.close().catch(() => undefined);
  }
}

function apiArgs(r: BgpRouter): string[] {
  if (!r.api) return [];
  const i = r.api.lastIndexOf(':');
  const host = r.api.slice(0, i).replace(/^\[|\]$/g, '');
  return ['-u', host, '-p', r.api.slice(i + 1)];
}

/** The argv each router kind is asked with (documented in the README). */
export function routerCommands(r: BgpRouter): Record<string, string[]> {
  if (r.kind === 'gobgp') {
    const g = ['gobgp', ...apiArgs(r), '-j'];
    return { neighbors: [...g, 'neighbor'], rib: [...g, 'global', 'rib'] };
  }
  const b = ['birdc', ...(r.socket ? ['-s', r.socket] : [])];
  return {
    protocols: [...b, 'show', 'protocols', 'all'],
    routes: [...b, 'show', 'route'],
    status: [...b, 'show', 'status'],
  };
}

async function run(
  agent: NodeAgent,
  argv: string[],
  signal: AbortSignal,
  timeoutMs: number,
): Promise<string> {
  const r = await agent.exec(argv, {
    signal,
    timeoutMs,
    readOnly: true,
    maxOutputBytes: ROUTER_MAX_OUTPUT,
  });
  if (r.code !== 0) {
    const why = (r.stderr.trim() || r.stdout.trim()).split('\n')[0]?.slice(0, 200);
    throw new SourceFailure(
      'command',
      `${argv[0]} exited ${r.code ?? 'on a signal'}${why ? `: ${why}` : ''}`,
    );
  }
  return r.stdout;
}

/** One router's side; never rejects (the failure is in the result). */
export async function collectRouter(
  r: BgpRouter,
  agent: NodeAgent | undefined,
  signal: AbortSignal,
  timeoutMs = ROUTER_TIMEOUT_MS,
): Promise<RouterBgpResult> {
  const at = Date.now();
  const base: RouterBgpResult = {
    router: r.name,
    kind: r.kind,
    at,
    sessions: [],
    received: {},
    addresses: [],
  };
  if (!agent) return { ...base, error: 'no agent for this router' };
  const tracker = trackerFor(agent);
  const known = (): string[] => tracker.localAddresses();
  const cmds = routerCommands(r);
  try {
    if (r.kind === 'gobgp') {
      const [n, rib] = await Promise.all([
        run(agent, cmds.neighbors!, signal, timeoutMs),
        run(agent, cmds.rib!, signal, timeoutMs),
      ]);
      const sessions = parseGobgpNeighbors(n);
      if (!sessions.ok) return { ...base, addresses: known(), error: sessions.error };
      const received = parseGobgpRib(rib);
      tracker.observe(sessions.value);
      return {
        ...base,
        addresses: known(),
        sessions: sessions.value,
        received: received.ok ? received.value : {},
        ...(received.ok ? {} : { error: received.error }),
      };
    }
    const [status, protos, routes] = await Promise.all([
      run(agent, cmds.status!, signal, timeoutMs),
      run(agent, cmds.protocols!, signal, timeoutMs),
      run(agent, cmds.routes!, signal, timeoutMs),
    ]);
    const clock = parseBirdStatus(status);
    const p = parseBirdProtocols(protos, at, (since) =>
      birdAgeMs(since, clock.ok ? clock.value : undefined),
    );
    if (!p.ok) return { ...base, addresses: known(), error: p.error };
    const rt = parseBirdRoutes(routes);
    const byProto = new Map(p.value.map((x) => [x.name, x.peerAddress]));
    const received: Record<string, string[]> = {};
    if (rt.ok) {
      for (const x of rt.value) {
        const from = x.from ?? byProto.get(x.proto);
        if (!from || !byProto.has(x.proto)) continue;
        const list = received[from] ?? [];
        list.push(x.prefix);
        received[from] = list;
      }
      for (const k of Object.keys(received)) received[k] = [...new Set(received[k])].sort();
    }
    tracker.observe(p.value);
    return {
      ...base,
      addresses: known(),
      sessions: p.value,
      received,
      ...(rt.ok ? {} : { error: rt.error }),
    };
  } catch (e) {
    const kind = (e as { kind?: unknown }).kind;
    const msg =
      (e as { shortMessage?: string }).shortMessage ?? (e instanceof Error ? e.message : String(e));
    if (kind === 'timeout')
      return {
        ...base,
        addresses: known(),
        timedOut: true,
        error: `no answer in ${timeoutMs} ms: ${msg}`,
      };
    return { ...base, addresses: known(), error: msg };
  }
}

/** Cilium's side read from the agent socket at `socket` (tests: a stand-in agent's socket). */
export const ciliumBgpSourceAt = (socket: string): NodeSourceDef<CiliumBgpValue> => ({
  id: 'bgp-cilium',
  scope: 'node',
  intervalMs: 10_000,
  // Only the BGP pane shows it: once a minute while another pane is up (issue 13).
  hiddenIntervalMs: 60_000,
  timeoutMs: 10_000,
  initialDelayMs: 300,
  firstScreen: false,
  collect: ({ agent }, signal) => collectCilium(agent, signal, CILIUM_TIMEOUT_MS, socket),
});

export const ciliumBgpSource: NodeSourceDef<CiliumBgpValue> = ciliumBgpSourceAt(CILIUM_SOCKET);

export const bgpRoutersSource: ClusterSourceDef<RoutersValue> = {
  id: 'bgp-routers',
  scope: 'cluster',
  intervalMs: 10_000,
  hiddenIntervalMs: 60_000,
  timeoutMs: ROUTER_TIMEOUT_MS + 4_000,
  initialDelayMs: 300,
  firstScreen: false,
  enabled: ({ inventory }) => inventory.network.bgpRouters.length > 0,
  collect: ({ inventory, routers }, signal) =>
    Promise.all(
      inventory.network.bgpRouters.map((r) => collectRouter(r, routers?.get(r.name), signal)),
    ),
};
