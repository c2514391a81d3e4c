/**
 * The flows source: one Hubble stream per node (follow.ts), kept open while the source is
 * polled. Each poll (a few times a second: the pane's frame rate, whatever the flow rate)
 * writes the stream's bounded snapshot into the store; a stream nobody has polled for a
 * while (the session closed) is stopped.
 *
 * Where: the inventory's `network.hubble.socket` on each node (default
 * /var/run/cilium/hubble.sock). hubble-relay (`network.hubble.relay`) is a ClusterIP
 * service that a NodeAgent cannot dial (no TCP forward through the node), so with a relay
 * configured k8ops still reads each node's agent socket, and says so in the pane.
 */
import type { Inventory } from '../../config/types.js';
import type { NodeAgent } from '../../nodes/agent.js';
import type { NodeSourceDef } from '../types.js';
import { FlowFollower, type FollowSnapshot } from './follow.js';
import { consoleFlowQuery } from './query.js';

export const DEFAULT_HUBBLE_SOCKET = '/var/run/cilium/hubble.sock';

export function hubbleSocket(inv: Inventory): { path: string; note?: string } {
  const h = inv.network.hubble;
  if (h?.kind === 'node-socket') return { path: h.socket };
  if (h?.kind === 'relay')
    return {
      path: DEFAULT_HUBBLE_SOCKET,
      note: `hubble-relay ${h.address} is not dialled (no TCP forward through a node): reading each node's ${DEFAULT_HUBBLE_SOCKET}`,
    };
  return { path: DEFAULT_HUBBLE_SOCKET };
}

/** Rows of each node's snapshot (the table shows fewer). */
export const SNAPSHOT_ROWS = 200;
/**
 * A stream nobody polled for this long is stopped (the session closed, or the scheduler
 * stopped): its tunnel and gRPC channel then no longer hold the process open. Long enough
 * for a busy event loop to miss a dozen polls.
 */
const LEASE_MS = 3000;

interface Leased {
  follower: FlowFollower;
  lastPoll: number;
  timer: NodeJS.Timeout;
  unsubscribe: () => void;
}

const followers = new WeakMap<NodeAgent, Leased>();

function followerFor(agent: NodeAgent, path: string): FlowFollower {
  const have = followers.get(agent);
  if (have && have.follower.socketPath === path && have.follower.state !== 'stopped') {
    have.lastPoll = Date.now();
    return have.follower;
  }
  const f = new FlowFollower(agent, path, consoleFlowQuery.get().query);
  const unsubscribe = consoleFlowQuery.subscribe((q) => f.setQuery(q.query));
  const timer = setInterval(() => {
    const l = followers.get(agent);
    if (l && Date.now() - l.lastPoll > LEASE_MS) {
      clearInterval(l.timer);
      l.unsubscribe();
      followers.delete(agent);
      void l.follower.stop();
    }
  }, 1000);
  timer.unref?.();
  followers.set(agent, { follower: f, lastPoll: Date.now(), timer, unsubscribe });
  f.start();
  return f;
}

export interface FlowsNodeValue extends FollowSnapshot {
  socket: string;
  note?: string;
  version: number;
}

export const flowsSource: NodeSourceDef<FlowsNodeValue> = {
  id: 'flows',
  scope: 'node',
  intervalMs: 250,
  timeoutMs: 5000,
  firstScreen: false,
  async collect(ctx) {
    const where = hubbleSocket(ctx.inventory);
    const f = followerFor(ctx.agent, where.path);
    return {
      ...f.snapshot(SNAPSHOT_ROWS),
      socket: where.path,
      ...(where.note ? { note: where.note } : {}),
      version: f.version,
    };
  },
};
