/**
 * Decoding and encoding of the Observer API's messages (proto.ts) with protobufjs — chosen
 * over @bufbuild/protobuf by measured decode speed (test/bench/flows.mjs prints both).
 * Pure and total: `decodeResponse` never throws, whatever the bytes (a fast-check property
 * holds it to that); every string that reaches a FlowRecord is sanitised here, where it
 * enters the model.
 */
import protobuf from 'protobufjs';
import { visible, visibleDeep } from '../../store/sanitise.js';
import { FLOW_PROTO, OBSERVER_PROTO, RELAY_PROTO, WKT_PROTO } from './proto.js';
import type {
  DecodeError,
  FlowEndpoint,
  FlowEvent,
  FlowRecord,
  ServerStatusRecord,
} from './types.js';

// 64-bit fields as JS numbers (timestamps, counters: exact below 2^53), not Long objects.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

const root = new protobuf.Root();
for (const text of [WKT_PROTO, FLOW_PROTO, RELAY_PROTO, OBSERVER_PROTO])
  protobuf.parse(text, root, { keepCase: true });
root.resolveAll();

/**
 * The same proto for `decodeResponse`, keeping only the fields a FlowRecord is made of
 * (issue 13: idle CPU): protobufjs skips every other field on the wire — labels, policies,
 * Ethernet, the uuid, the summary… — without making strings and objects of them. Field
 * numbers and types are the real proto's; `responseJson` (`--json`) decodes everything.
 */
const RECORD_FIELDS: Readonly<Record<string, readonly string[]>> = {
  'flow.Flow': [
    'time',
    'verdict',
    'drop_reason',
    'IP',
    'l4',
    'source',
    'destination',
    'node_name',
    'l7',
    'source_service',
    'destination_service',
    'traffic_direction',
    'drop_reason_desc',
    'is_reply',
  ],
  'flow.Endpoint': ['identity', 'namespace', 'pod_name', 'workloads'],
  'flow.IP': ['source', 'destination'],
  'flow.Layer7': ['dns', 'http'],
  'flow.HTTP': ['code', 'method', 'url'],
  'flow.DNS': ['query'],
};
let leanResponse: protobuf.Type | undefined;
/** Built at the first decode, not at load: a command that reads no flow does not pay it. */
function leanResponseType(): protobuf.Type {
  if (leanResponse) return leanResponse;
  const lean = new protobuf.Root();
  for (const text of [WKT_PROTO, FLOW_PROTO, RELAY_PROTO, OBSERVER_PROTO])
    protobuf.parse(text, lean, { keepCase: true });
  for (const [type, keep] of Object.entries(RECORD_FIELDS)) {
    const t = lean.lookupType(type);
    for (const f of [...t.fieldsArray]) if (!keep.includes(f.name)) t.remove(f);
  }
  lean.resolveAll();
  leanResponse = lean.lookupType('observer.GetFlowsResponse');
  return leanResponse;
}

export const T = {
  GetFlowsRequest: root.lookupType('observer.GetFlowsRequest'),
  GetFlowsResponse: root.lookupType('observer.GetFlowsResponse'),
  ServerStatusRequest: root.lookupType('observer.ServerStatusRequest'),
  ServerStatusResponse: root.lookupType('observer.ServerStatusResponse'),
  Flow: root.lookupType('flow.Flow'),
  FlowFilter: root.lookupType('flow.FlowFilter'),
  LostEvent: root.lookupType('flow.LostEvent'),
};

const enumNames = (name: string): Map<number, string> => {
  const e = root.lookupEnum(name);
  return new Map(Object.entries(e.values).map(([k, v]) => [v, k]));
};
const VERDICT = enumNames('flow.Verdict');
const DROP = enumNames('flow.DropReason');
const DIRECTION = enumNames('flow.TrafficDirection');
const LOST_SOURCE = enumNames('flow.LostEventSource');
const NODE_STATE = enumNames('relay.NodeState');
/** Enum value numbers by name (filters). */
export const VERDICT_VALUES: ReadonlyMap<string, number> = new Map(
  [...VERDICT].map(([v, k]) => [k, v]),
);
export const DROP_REASON_VALUES: ReadonlyMap<string, number> = new Map(
  [...DROP].map(([v, k]) => [k, v]),
);
export const DIRECTION_VALUES: ReadonlyMap<string, number> = new Map(
  [...DIRECTION].map(([v, k]) => [k, v]),
);

const name = (m: Map<number, string>, v: unknown): string =>
  typeof v === 'number' ? (m.get(v) ?? String(v)) : '';

// biome-ignore lint/suspicious/noExplicitAny: protobufjs messages are dynamic objects
type Msg = any;

const str = (v: unknown): string => (typeof v === 'string' && v !== '' ? visible(v) : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function endpoint(e: Msg, ip: string, port: number, svc: Msg): FlowEndpoint {
  const w = e?.workloads?.[0];
  return {
    namespace: str(e?.namespace),
    pod: str(e?.pod_name),
    ip: str(ip),
    port,
    identity: num(e?.identity),
    workload: w ? str(`${w.kind ?? ''}/${w.name ?? ''}`) : '',
    service: svc?.name ? str(svc.namespace ? `${svc.namespace}/${svc.name}` : svc.name) : '',
  };
}

const FLAG_NAMES = ['SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG', 'ECE', 'CWR', 'NS'] as const;

function l4Of(l4: Msg): { proto: string; sport: number; dport: number; info: string } {
  if (!l4) return { proto: '', sport: 0, dport: 0, info: '' };
  for (const p of ['TCP', 'UDP', 'SCTP'] as const) {
    const x = l4[p];
    if (x) {
      let info = '';
      if (p === 'TCP' && x.flags) info = FLAG_NAMES.filter((f) => x.flags[f]).join(',');
      return { proto: p, sport: num(x.source_port), dport: num(x.destination_port), info };
    }
  }
  for (const p of ['ICMPv4', 'ICMPv6'] as const) {
    const x = l4[p];
    if (x) return { proto: p, sport: 0, dport: 0, info: `type ${num(x.type)} code ${num(x.code)}` };
  }
  return { proto: '', sport: 0, dport: 0, info: '' };
}

function l7Of(l7: Msg): { proto: string; info: string } {
  if (!l7) return { proto: '', info: '' };
  if (l7.http) {
    const h = l7.http;
    const code = num(h.code);
    return {
      proto: 'HTTP',
      info: str(`${h.method ?? ''} ${h.url ?? ''}${code ? ` ${code}` : ''}`.trim()),
    };
  }
  if (l7.dns) return { proto: 'DNS', info: str(`${l7.dns.query ?? ''}`) };
  return { proto: 'L7', info: '' };
}

const tsMs = (t: Msg): { ms: number; nanos: number } | undefined =>
  t && (t.seconds !== undefined || t.nanos !== undefined)
    ? { ms: num(t.seconds) * 1000 + Math.floor(num(t.nanos) / 1e6), nanos: num(t.nanos) }
    : undefined;

/** One flow message (already decoded) as the console keeps it. */
export function flowRecord(
  f: Msg,
  envelope: { node_name?: string; time?: Msg },
  raw: Uint8Array,
): FlowRecord {
  const t = tsMs(f.time) ?? tsMs(envelope.time) ?? { ms: 0, nanos: 0 };
  const ip = f.IP ?? {};
  const l4 = l4Of(f.l4);
  const l7 = l7Of(f.l7);
  const verdict = name(VERDICT, f.verdict ?? 0);
  const drop =
    f.drop_reason_desc !== undefined && f.drop_reason_desc !== 0
      ? name(DROP, f.drop_reason_desc)
      : f.drop_reason
        ? name(DROP, f.drop_reason)
        : '';
  return {
    timeMs: t.ms,
    nanos: t.nanos,
    node: str(f.node_name || envelope.node_name),
    verdict,
    dropReason: verdict === 'DROPPED' || drop !== '' ? drop : '',
    src: endpoint(f.source, ip.source, l4.sport, f.source_service),
    dst: endpoint(f.destination, ip.destination, l4.dport, f.destination_service),
    l4: l4.proto,
    l7: l7.proto,
    direction: f.traffic_direction ? name(DIRECTION, f.traffic_direction) : '',
    isReply: f.is_reply ? Boolean(f.is_reply.value) : undefined,
    info: l7.proto ? l7.info : l4.info,
    raw,
  };
}

/**
 * One GetFlowsResponse from its bytes. Never throws: malformed bytes are an error value.
 * `raw` is kept by reference (callers hand in a buffer they own). Only the fields a
 * FlowRecord needs are decoded; `every` decodes every field first (the tests compare both).
 */
export function decodeResponse(bytes: Uint8Array, every = false): FlowEvent | DecodeError {
  let m: Msg;
  try {
    m = (every ? T.GetFlowsResponse : leanResponseType()).decode(bytes);
  } catch (e) {
    return { kind: 'error', message: `malformed GetFlowsResponse: ${visible(errText(e))}` };
  }
  try {
    if (m.flow) return { kind: 'flow', flow: flowRecord(m.flow, m, bytes) };
    if (m.lost_events) {
      const l = m.lost_events;
      return {
        kind: 'lost',
        lost: {
          source: name(LOST_SOURCE, l.source ?? 0),
          count: num(l.num_events_lost),
          cpu: l.cpu ? num(l.cpu.value) : undefined,
          node: str(m.node_name),
          timeMs: tsMs(m.time)?.ms ?? 0,
        },
      };
    }
    if (m.node_status) {
      const s = m.node_status;
      return {
        kind: 'node-status',
        status: {
          state: name(NODE_STATE, s.state_change ?? 0),
          nodes: (s.node_names ?? []).map(str),
          message: str(s.message),
        },
      };
    }
    return { kind: 'other', node: str(m.node_name) };
  } catch (e) {
    return { kind: 'error', message: `unexpected GetFlowsResponse: ${visible(errText(e))}` };
  }
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export function decodeServerStatus(bytes: Uint8Array): ServerStatusRecord | DecodeError {
  try {
    const m: Msg = T.ServerStatusResponse.decode(bytes);
    return {
      numFlows: num(m.num_flows),
      maxFlows: num(m.max_flows),
      seenFlows: num(m.seen_flows),
      uptimeNs: num(m.uptime_ns),
      version: str(m.version),
      flowsRate: num(m.flows_rate),
      connectedNodes: m.num_connected_nodes ? num(m.num_connected_nodes.value) : undefined,
      unavailableNodes: m.num_unavailable_nodes ? num(m.num_unavailable_nodes.value) : undefined,
      // Relay names the nodes it cannot reach (bounded: a list from outside).
      unavailableNodeNames: (Array.isArray(m.unavailable_nodes) ? m.unavailable_nodes : [])
        .slice(0, 100)
        .map((n: unknown) => str(n))
        .filter((n: string) => n !== ''),
    };
  } catch (e) {
    return { kind: 'error', message: `malformed ServerStatusResponse: ${visible(errText(e))}` };
  }
}

/** A FlowFilter as k8ops builds it (field names as in flow.proto). */
export interface FlowFilterSpec {
  source_pod?: string[];
  destination_pod?: string[];
  source_ip?: string[];
  destination_ip?: string[];
  verdict?: number[];
  source_port?: string[];
  destination_port?: string[];
  node_name?: string[];
  protocol?: string[];
  traffic_direction?: number[];
  drop_reason_desc?: number[];
}

export interface GetFlowsRequestSpec {
  number?: number;
  first?: boolean;
  follow?: boolean;
  whitelist?: FlowFilterSpec[];
  blacklist?: FlowFilterSpec[];
  since?: { seconds: number; nanos: number };
  until?: { seconds: number; nanos: number };
}

export const encodeGetFlowsRequest = (r: GetFlowsRequestSpec): Buffer =>
  Buffer.from(T.GetFlowsRequest.encode(T.GetFlowsRequest.fromObject(r)).finish());

export const decodeGetFlowsRequest = (b: Uint8Array): GetFlowsRequestSpec =>
  T.GetFlowsRequest.toObject(T.GetFlowsRequest.decode(b), {
    longs: Number,
    enums: Number,
  }) as GetFlowsRequestSpec;

const RFC3339 = (t: Msg): string | undefined => {
  const s = tsMs(t);
  if (!s) return undefined;
  const d = new Date(Math.floor(s.ms / 1000) * 1000);
  if (Number.isNaN(d.getTime())) return undefined;
  return `${d.toISOString().slice(0, 19)}.${String(s.nanos).padStart(9, '0')}Z`;
};

/**
 * A GetFlowsResponse as `hubble observe -o jsonpb` prints it (protojson, proto field
 * names): enums as names, 64-bit integers as strings, Timestamps RFC 3339 with
 * nanoseconds, wrappers as plain values, empty fields left out. Sanitised. Undefined when
 * the bytes do not decode.
 */
export function responseJson(raw: Uint8Array): Record<string, unknown> | undefined {
  let m: Msg;
  try {
    m = T.GetFlowsResponse.decode(raw);
  } catch {
    return undefined;
  }
  const o = T.GetFlowsResponse.toObject(m, { enums: String, longs: String }) as Record<
    string,
    unknown
  >;
  const fixTimes = (obj: Record<string, unknown> | undefined, src: Msg) => {
    if (!obj || !src) return;
    if (src.time) obj.time = RFC3339(src.time);
  };
  fixTimes(o, m);
  const flow = o.flow as Record<string, unknown> | undefined;
  if (flow) {
    fixTimes(flow, m.flow);
    if (m.flow.is_reply) flow.is_reply = Boolean(m.flow.is_reply.value);
  }
  const lost = o.lost_events as Record<string, unknown> | undefined;
  if (lost && m.lost_events.cpu) lost.cpu = num(m.lost_events.cpu.value);
  return visibleDeep(o);
}

/** Encoding for the Observer's server side (the demo lab and the tests' stand-in). */
export const encodeResponse = (r: Record<string, unknown>): Buffer =>
  Buffer.from(T.GetFlowsResponse.encode(T.GetFlowsResponse.fromObject(r)).finish());

export const encodeServerStatus = (r: Record<string, unknown>): Buffer =>
  Buffer.from(T.ServerStatusResponse.encode(T.ServerStatusResponse.fromObject(r)).finish());
