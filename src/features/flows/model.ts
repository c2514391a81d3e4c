/**
 * The Flows model: every node's stream snapshot merged — the newest flows across nodes in
 * time order, counts per verdict, drops by reason, the verdict rate per second (summed over
 * nodes), top talkers, lost events, and each node's stream and ring state. Pure; shared by
 * the pane and `k8ops flows`.
 */
import type { FeatureDef, ModelInput } from '../types.js';
import type { RatePoint, Talker } from './aggregate.js';
import type { FollowState } from './follow.js';
import { type FlowsNodeValue, flowsSource } from './sources.js';
import type { FlowRecord, LostEventRecord } from './types.js';

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
  for (const n of input.inventory.nodes) {
    const snap = input.read<FlowsNodeValue>(n.name, flowsSource.id);
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
  if (note) m.note = note;
  return m;
}

export const flowsFeature: FeatureDef<FlowsModel> = {
  id: 'flows',
  sources: [flowsSource],
  model: buildFlowsModel,
  signature: (m) => m.version,
};
