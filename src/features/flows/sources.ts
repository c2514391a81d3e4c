/**
 * The flows sources: Hubble streams (follow.ts), kept open while the source is polled.
 * Each poll (twice a second while the Flows pane is on screen, whatever the flow rate;
 * once a second otherwise) writes the stream's bounded snapshot
 * into the store; a stream nobody has polled for a while (the
 * session closed) is stopped.
 *
 * Where, from the inventory's `network.hubble`:
 * - `socket` (default /var/run/cilium/hubble.sock): `flows`, one stream per node, through
 *   an SSH stream-local forward to that node's agent socket;
 * - `relay` (`host:port` of hubble-relay): `flows.relay`, ONE stream for the cluster (relay
 *   merges every agent's flows and sets node_name), dialled through a node's SSH connection
 *   (direct-tcpip) — a Service name is resolved to its ClusterIP through the kube API — with
 *   relay's TLS when configured (endpoint.ts).
 */
import type { Inventory } from '../../config/types.js';
import type { NodeAgent } from '../../nodes/agent.js';
import { visibleOnce } from '../../store/sanitise.js';
import type { ClusterSourceDef, NodeSourceDef } from '../types.js';
import { type HubbleEndpoint, relayEndpoint, socketEndpoint } from './endpoint.js';
import { FlowFollower, type FollowSnapshot } from './follow.js';
import { consoleFlowQuery } from './query.js';

export const DEFAULT_HUBBLE_SOCKET = '/var/run/cilium/hubble.sock';
export const FLOWS_RELAY = 'flows.relay';

/** The agent socket on each node (socket mode), or undefined when the inventory names a relay. */
export function hubbleSocket(inv: Inventory): string | undefined {
  const h = inv.network.hubble;
  if (h?.kind === 'relay') return undefined;
  return h?.kind === 'node-socket' ? h.socket : DEFAULT_HUBBLE_SOCKET;
}

export const usesRelay = (inv: Inventory): boolean => inv.network.hubble?.kind === 'relay';

/**
 * hubble-relay as the inventory names it, dialled through the nodes in inventory order (the
 * next one after a failure); `getService` resolves a Service name (kube API).
 */
export function inventoryRelay(
  inv: Inventory,
  agents: ReadonlyMap<string, NodeAgent>,
  getService?: Parameters<typeof relayEndpoint>[0]['getService'],
): HubbleEndpoint | undefined {
  const h = inv.network.hubble;
  if (h?.kind !== 'relay') return undefined;
  const via = inv.nodes.flatMap((n) => {
    const a = agents.get(n.name);
    return a ? [{ name: n.name, dialer: a }] : [];
  });
  return relayEndpoint({
    address: h.address,
    ...(h.tls ? { tls: h.tls } : {}),
    via,
    ...(getService ? { getService } : {}),
  });
}

/** Rows of each snapshot (the table shows fewer). */
export const SNAPSHOT_ROWS = 200;
/**
 * A stream nobody polled for this long is stopped (the session closed, or the scheduler
 * stopped): its tunnel and gRPC channel then no longer hold the process open. Long enough
 * for a busy event loop to miss a dozen polls.
 */
const LEASE_MS = 3000;
/**
 * The poll while the Flows pane is not on screen (issue 13: idle CPU): enough to renew the
 * lease three times over, so the stream — and its ring, which keeps aggregating — lives on,
 * and the pane shows what arrived meanwhile as soon as it is back (then at SHOWN_POLL_MS).
 */
export const HIDDEN_POLL_MS = 1000;
/**
 * The poll while the Flows pane is on screen: twice a second, so what the pane draws (once
 * a second, on the clock's tick: the feature's `drawEvery`) is at most half a second old.
 * Each poll takes a snapshot (rows, top talkers); at 4 a second, each one drawn, the pane
 * cost the console a fifth of a core on the demo.
 */
export const SHOWN_POLL_MS = 500;
/**
 * Hidden this long, a stream stops following (`FlowFollower.suspend`: no tunnel, no gRPC,
 * nothing decoded — following a busy node costs a console several % of a core); shown
 * again, it follows from where it stopped (`since`). A quick look at another pane and
 * back keeps the stream.
 */
export const SUSPEND_AFTER_MS = 5000;

interface Leased {
  follower: FlowFollower;
  lastPoll: number;
  timer: NodeJS.Timeout;
  unsubscribe: () => void;
  /** The last full value (its rows and summaries are re-sent while the source is hidden). */
  last?: FlowsNodeValue;
  /** Since when no pane has shown the flows (undefined: shown). */
  hiddenSince?: number;
}

// One follower per owner: a node's agent (socket mode) or the session's inventory (relay).
const followers = new WeakMap<object, Leased>();

function followerFor(owner: object, endpoint: HubbleEndpoint): Leased {
  const have = followers.get(owner);
  if (have && have.follower.endpoint.key === endpoint.key && have.follower.state !== 'stopped') {
    have.lastPoll = Date.now();
    return have;
  }
  if (have) {
    clearInterval(have.timer);
    have.unsubscribe();
    void have.follower.stop();
  }
  // The console shows SNAPSHOT_ROWS rows: a ring of more would only hold memory (and GC work).
  const f = new FlowFollower(endpoint, consoleFlowQuery.get().query, { capacity: SNAPSHOT_ROWS });
  const unsubscribe = consoleFlowQuery.subscribe((q) => f.setQuery(q.query));
  const timer = setInterval(() => {
    const l = followers.get(owner);
    if (l && Date.now() - l.lastPoll > LEASE_MS) {
      clearInterval(l.timer);
      l.unsubscribe();
      followers.delete(owner);
      void l.follower.stop();
    }
  }, 1000);
  timer.unref?.();
  const leased: Leased = { follower: f, lastPoll: Date.now(), timer, unsubscribe };
  followers.set(owner, leased);
  f.start();
  return leased;
}

export interface FlowsNodeValue extends FollowSnapshot {
  /** Where the stream goes: the socket path, or `hubble-relay … via NODE`. */
  socket: string;
  note?: string;
  version: number;
}

/**
 * The source's value. On screen (or without a console): the stream's snapshot — its newest
 * rows, top talkers, rate, lost events — made visible once (`visibleOnce`: the rows, which
 * the next snapshots share, are not walked again). Hidden (`onScreen()` false, issue 13):
 * only the state and counters are fresh, with the last snapshot's rows and summaries, so
 * nothing is sorted or copied for a pane nobody looks at; the first poll once the pane is
 * back (at once: the scheduler re-times it) takes a full snapshot again. Hidden for
 * SUSPEND_AFTER_MS, the stream is suspended; the first poll on screen wakes it.
 */
function value(l: Leased, onScreen: boolean): FlowsNodeValue {
  const f = l.follower;
  if (onScreen) {
    l.hiddenSince = undefined;
    f.wake();
  } else {
    const now = Date.now();
    l.hiddenSince ??= now;
    if (now - l.hiddenSince >= SUSPEND_AFTER_MS) f.suspend();
  }
  const last = l.last;
  if (!onScreen && last && last.query === f.query.text)
    return { ...f.status(last), socket: f.label, version: f.version };
  const v = visibleOnce({ ...f.snapshot(SNAPSHOT_ROWS), socket: f.label, version: f.version });
  l.last = v;
  return v;
}

export const flowsSource: NodeSourceDef<FlowsNodeValue> = {
  id: 'flows',
  scope: 'node',
  intervalMs: SHOWN_POLL_MS,
  hiddenIntervalMs: HIDDEN_POLL_MS,
  timeoutMs: 5000,
  firstScreen: false,
  enabled: (inv) => !usesRelay(inv),
  async collect(ctx) {
    const path = hubbleSocket(ctx.inventory) ?? DEFAULT_HUBBLE_SOCKET;
    const have = followers.get(ctx.agent);
    // The endpoint object is made once per node; its key says whether the path changed.
    const endpoint =
      have && have.follower.endpoint.key === `socket:${path}`
        ? have.follower.endpoint
        : socketEndpoint(ctx.agent, path);
    return value(followerFor(ctx.agent, endpoint), ctx.onScreen?.() !== false);
  },
};

/** Endpoints per session (their node rotation and Service lookups live as long as it). */
const relays = new WeakMap<object, HubbleEndpoint>();

export const flowsRelaySource: ClusterSourceDef<FlowsNodeValue> = {
  id: FLOWS_RELAY,
  scope: 'cluster',
  intervalMs: SHOWN_POLL_MS,
  hiddenIntervalMs: HIDDEN_POLL_MS,
  timeoutMs: 5000,
  firstScreen: false,
  enabled: ({ inventory }) => usesRelay(inventory),
  async collect(ctx) {
    let endpoint = relays.get(ctx.inventory);
    if (!endpoint) {
      const kube = ctx.kube;
      endpoint = inventoryRelay(
        ctx.inventory,
        ctx.agents ?? new Map(),
        kube?.getService
          ? (ns, name, o) => kube.getService!(ns, name, { timeoutMs: o.timeoutMs })
          : undefined,
      );
      if (!endpoint) throw new Error('network.hubble names no relay');
      relays.set(ctx.inventory, endpoint);
    }
    return value(followerFor(ctx.inventory, endpoint), ctx.onScreen?.() !== false);
  },
};
