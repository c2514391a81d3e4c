/** The flows feature's vocabulary: one decoded flow as the console keeps it, and stream events. */

/** One side of a flow, as the table shows it. Every string is sanitised at decode. */
export interface FlowEndpoint {
  namespace: string;
  pod: string;
  ip: string;
  /** L4 port; 0 when the protocol has none (ICMP) or it is unknown. */
  port: number;
  identity: number;
  /** `kind/name` of the first workload, or ''. */
  workload: string;
  /** The service name (`ns/name`), or ''. */
  service: string;
}

export interface FlowRecord {
  /** Epoch ms of the flow (Flow.time), or of the response when the flow has none. */
  timeMs: number;
  /** The nanoseconds within the second (for RFC 3339 output with nanoseconds). */
  nanos: number;
  node: string;
  /** Verdict name (FORWARDED, DROPPED…), or the number when unknown to this proto. */
  verdict: string;
  /** drop_reason_desc name (POLICY_DENY…) for drops, '' otherwise. */
  dropReason: string;
  src: FlowEndpoint;
  dst: FlowEndpoint;
  /** TCP, UDP, ICMPv4, ICMPv6, SCTP or ''. */
  l4: string;
  /** HTTP, DNS or '' (an L7 flow's record). */
  l7: string;
  /** INGRESS, EGRESS or ''. */
  direction: string;
  /** is_reply when set. */
  isReply: boolean | undefined;
  /** TCP flags (`SYN,ACK`), ICMP type, or the L7 summary: one short field. */
  info: string;
  /** The GetFlowsResponse as received (for `--json` and the full view), never shown raw. */
  raw: Uint8Array;
}

export interface LostEventRecord {
  /** PERF_EVENT_RING_BUFFER, OBSERVER_EVENTS_QUEUE, HUBBLE_RING_BUFFER… */
  source: string;
  count: number;
  cpu: number | undefined;
  node: string;
  timeMs: number;
}

export interface NodeStatusRecord {
  state: string;
  nodes: string[];
  message: string;
}

/** One GetFlowsResponse, decoded. */
export type FlowEvent =
  | { kind: 'flow'; flow: FlowRecord }
  | { kind: 'lost'; lost: LostEventRecord }
  | { kind: 'node-status'; status: NodeStatusRecord }
  | { kind: 'other'; node: string };

export interface DecodeError {
  kind: 'error';
  message: string;
}

export interface ServerStatusRecord {
  numFlows: number;
  maxFlows: number;
  seenFlows: number;
  uptimeNs: number;
  version: string;
  flowsRate: number;
  /** hubble-relay only: the agents it streams from, and those it cannot reach (by name). */
  connectedNodes: number | undefined;
  unavailableNodes: number | undefined;
  unavailableNodeNames: string[];
}
