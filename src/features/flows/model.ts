/**
 * The Flows model: every stream's snapshot merged — one per node (agent sockets) or the one
 * hubble-relay stream — the newest flows in time order, counts per verdict, drops by reason,
 * the verdict rate per second (summed over streams), top talkers, lost events, and each
 * stream's state and ring (with relay: the nodes it reaches and those it cannot). Pure;
 * shared by the pane and `k8ops flows`.
 */
import { CLUSTER_SCOPE } from '../../store/types.js';
import type { FeatureDef, ModelInput } from '../types.js';
import type { RatePoint, Talker } from './aggregate.js';
import type { FollowState } from './follow.js';
import {
  FLOWS_RELAY,
  type FlowsNodeValue,
  flowsRelaySource,
  flowsSource,
  usesRelay,
} from './sources.js';
import type { FlowRecord, LostEventRecord } from './types.js';

/** The row of the relay stream (in `nodes`). */
export const RELAY_ROW = 'hubble-relay';

export interface FlowsNodeRow {
  node: string;
  state: FollowState | 'waiting';
  error?: string;
  socket?: string;
  connects: number;
  received: number;
  malformed: number;
  /** ServerStatus: flows in the agent's ring / its capacity, flows seen, version. */
  ring?: { num: number; max: number; seen: number; version: string };
  serverError?: string;
}

export interface FlowsModel {
  nodes: FlowsNodeRow[];
  /** Newest first, across nodes. */
  flows: FlowRecord[];
  total: number;
  byVerdict: Record<string, number>;
  /** Reason → count, most first. */
  drops: Array<{ reason: string; count: number }>;
  rate: RatePoint[];
  talkers: Talker[];
  lost: LostEventRecord[];
  lostTotal: number;
  /** The query the streams follow ('' = every flow). */
  query: string;
  /** hubble-relay: the nodes it streams from, and those it cannot reach. */
  relay?: { connected?: number; unavailable?: number; unavailableNodes: string[] };
  note?: string;
  /** Changes whenever anything shown changes (the pane's signature). */
  version: string;
}

const MAX_ROWS = 200;

export function buildFlowsModel(input: ModelInput): FlowsModel {
  const nodes: FlowsNodeRow[] = [];
  const flows: FlowRecord[] = [];
  const byVerdict: Record<string, number> = {};
  const drops = new Map<string, number>();
  const rate = new Map<number, RatePoint>();
  const talkers = new Map<string, Talker>();
  const lost: LostEventRecord[] = [];
  let total = 0;
  let lostTotal = 0;
  let query = '';
  let note: string | undefined;
  const versions: string[] = [];
  const relay = usesRelay(input.inventory);
  const streams = relay
    ? [{ name: RELAY_ROW, snap: input.read<FlowsNodeValue>(CLUSTER_SCOPE, FLOWS_RELAY) }]
    : input.inventory.nodes.map((n) => ({
        name: n.name,
        snap: input.read<FlowsNodeValue>(n.name, flowsSource.id),
      }));
  let relayInfo: FlowsModel['relay'];
  for (const n of streams) {
    const snap = n.snap;
    const v = snap.value;
    if (!v) {
      nodes.push({
        node: n.name,
        state: 'waiting',
        connects: 0,
        received: 0,
        malformed: 0,
        ...(snap.error ? { error: snap.error.message } : {}),
      });
      versions.push(`${n.name}:-:${snap.error?.message ?? ''}`);
      continue;
    }
    versions.push(`${n.name}:${v.version}:${v.state}`);
    const row: FlowsNodeRow = {
      node: n.name,
      state: v.state,
      socket: v.socket,
      connects: v.connects,
      received: v.received,
      malformed: v.malformed,
    };
    if (v.error !== undefined) row.error = v.error;
    if (v.server)
      row.ring = {
        num: v.server.numFlows,
        max: v.server.maxFlows,
        seen: v.server.seenFlows,
        version: v.server.version,
      };
    if (v.serverError !== undefined) row.serverError = v.serverError;
    if (relay && v.server)
      relayInfo = {
        ...(v.server.connectedNodes !== undefined ? { connected: v.server.connectedNodes } : {}),
        ...(v.server.unavailableNodes !== undefined
          ? { unavailable: v.server.unavailableNodes }
          : {}),
        unavailableNodes: v.server.unavailableNodeNames,
      };
    nodes.push(row);
    flows.push(...v.flows);
    total += v.counts.total;
    for (const [k, c] of Object.entries(v.counts.byVerdict)) byVerdict[k] = (byVerdict[k] ?? 0) + c;
    for (const [k, c] of Object.entries(v.counts.dropsByReason))
      drops.set(k, (drops.get(k) ?? 0) + c);
    for (const p of v.rate) {
      const q = rate.get(p.sec) ?? { sec: p.sec, forwarded: 0, dropped: 0, other: 0 };
      q.forwarded += p.forwarded;
      q.dropped += p.dropped;
      q.other += p.other;
      rate.set(p.sec, q);
    }
    for (const t of v.talkers) {
      const q = talkers.get(t.key) ?? { key: t.key, flows: 0, drops: 0 };
      q.flows += t.flows;
      q.drops += t.drops;
      talkers.set(t.key, q);
    }
    lost.push(...v.lost);
    lostTotal += v.counts.lostTotal;
    query = v.query;
    if (v.note) note = v.note;
  }
  flows.sort((a, b) => b.timeMs - a.timeMs || b.nanos - a.nanos);
  lost.sort((a, b) => b.timeMs - a.timeMs);
  const m: FlowsModel = {
    nodes,
    flows: flows.slice(0, MAX_ROWS),
    total,
    byVerdict,
    drops: [...drops]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count),
    rate: [...rate.values()].sort((a, b) => a.sec - b.sec).slice(-60),
    talkers: [...talkers.values()].sort((a, b) => b.flows - a.flows).slice(0, 10),
    lost: lost.slice(0, 20),
    lostTotal,
    query,
    version: versions.join('|'),
  };
  if (relayInfo) {
    m.relay = relayInfo;
    m.version += `|relay:${relayInfo.connected}:${relayInfo.unavailable}:${relayInfo.unavailableNodes.join(',')}`;
  }
  if (note) m.note = note;
  return m;
}

/** One line on hubble-relay's reach: `relay reaches 5 nodes; 1 unavailable: worker-3`. */
export function relayReach(r: NonNullable<FlowsModel['relay']>): string {
  const parts: string[] = [];
  if (r.connected !== undefined)
    parts.push(`relay reaches ${r.connected} node${r.connected === 1 ? '' : 's'}`);
  const un = r.unavailable ?? r.unavailableNodes.length;
  if (un > 0)
    parts.push(
      `${un} unavailable${r.unavailableNodes.length ? `: ${r.unavailableNodes.join(', ')}` : ''}`,
    );
  return parts.join('; ');
}

export const flowsFeature: FeatureDef<FlowsModel> = {
  id: 'flows',
  sources: [flowsSource, flowsRelaySource],
  model: buildFlowsModel,
  signature: (m) => m.version,
  // Its sources poll twice a second while shown (SHOWN_POLL_MS), so what is drawn is at
  // most half a second old; the pane reads it on the clock's seconds, in the frame the
  // countdowns draw anyway: one frame a second (3 before 2026-12-07, then 2 on the
  // half-seconds; each frame is a whole table of new rows: ~1.5 % of a core each).
  drawEvery: 'second',
};
