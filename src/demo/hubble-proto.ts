/**
 * The Observer API's proto subset as the demo lab's and the tests' stand-in server speaks
 * it: the one proto text (src/hubble/proto.ts) the Flows feature's client also uses.
 */
import protobuf from 'protobufjs';
import {
  FLOW_PROTO,
  GET_FLOWS,
  OBSERVER_PROTO,
  RELAY_PROTO,
  SERVER_STATUS,
  WKT_PROTO,
} from '../hubble/proto.js';

export { GET_FLOWS, SERVER_STATUS };

const root = new protobuf.Root();
for (const text of [WKT_PROTO, FLOW_PROTO, RELAY_PROTO, OBSERVER_PROTO])
  protobuf.parse(text, root, { keepCase: true });
root.resolveAll();

const GetFlowsRequest = root.lookupType('observer.GetFlowsRequest');
const GetFlowsResponse = root.lookupType('observer.GetFlowsResponse');
const ServerStatusResponse = root.lookupType('observer.ServerStatusResponse');

const values = (name: string): ReadonlyMap<string, number> =>
  new Map(Object.entries(root.lookupEnum(name).values));
export const VERDICTS = values('flow.Verdict');
export const DROP_REASONS = values('flow.DropReason');
export const DIRECTIONS = values('flow.TrafficDirection');

/** A FlowFilter as received (field names as in flow.proto, enums as numbers). */
export interface FilterIn {
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

export interface RequestIn {
  number?: number;
  first?: boolean;
  follow?: boolean;
  whitelist?: FilterIn[];
  blacklist?: FilterIn[];
  since?: { seconds: number; nanos: number };
}

export const decodeRequest = (b: Uint8Array): RequestIn =>
  GetFlowsRequest.toObject(GetFlowsRequest.decode(b), {
    longs: Number,
    enums: Number,
  }) as RequestIn;

export const encodeResponse = (r: Record<string, unknown>): Buffer =>
  Buffer.from(GetFlowsResponse.encode(GetFlowsResponse.fromObject(r)).finish());

export const encodeServerStatus = (r: Record<string, unknown>): Buffer =>
  Buffer.from(ServerStatusResponse.encode(ServerStatusResponse.fromObject(r)).finish());

// ---- re-sending a flow without encoding it again (the demo's feed) ----------------------

/** A flow encoded once, to be re-sent with a fresh `time` and `uuid` (`flowFrame`). */
export interface FlowTemplate {
  /** The flow as a plain object (what the server's filters match; its time and uuid are stale). */
  readonly flow: Record<string, unknown>;
  /** The Flow message without its `time` (field 1), with a 36-character placeholder uuid. */
  readonly body: Buffer;
  /** Where the uuid's 36 bytes are in `body`. */
  readonly uuidAt: number;
  /** GetFlowsResponse.node_name (field 1000), encoded. */
  readonly nodeName: Buffer;
}

const UUID_PLACEHOLDER = 'ffffffff-ffff-4fff-bfff-fffffffffffe';
const Flow = root.lookupType('flow.Flow');

/**
 * Encode `flow` once (protobufjs, fields in number order as any encoder writes them) for
 * `flowFrame`: `time` is left out (it comes first, written per frame), the uuid is a
 * placeholder overwritten per frame, and the response's node_name is encoded beside it.
 */
export function flowTemplate(flow: Record<string, unknown>, nodeName: string): FlowTemplate {
  const { time: _time, ...rest } = flow;
  const body = Buffer.from(
    Flow.encode(Flow.fromObject({ ...rest, uuid: UUID_PLACEHOLDER })).finish(),
  );
  const uuidAt = body.indexOf(UUID_PLACEHOLDER, 0, 'latin1');
  if (uuidAt < 0) throw new Error('flowTemplate: the uuid placeholder is not in the encoded flow');
  const nodeNameBytes =
    nodeName === ''
      ? Buffer.alloc(0)
      : Buffer.from(
          GetFlowsResponse.encode(GetFlowsResponse.fromObject({ node_name: nodeName })).finish(),
        );
  return { flow: rest, body, uuidAt, nodeName: nodeNameBytes };
}

const varintLength = (v: number): number => {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
};

function writeVarint(buf: Buffer, at: number, v: number): number {
  while (v >= 128) {
    buf[at++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[at++] = v;
  return at;
}

/** A google.protobuf.Timestamp's fields (proto3: zero fields left out). */
const timestampLength = (seconds: number, nanos: number): number =>
  (seconds ? 1 + varintLength(seconds) : 0) + (nanos ? 1 + varintLength(nanos) : 0);

function writeTimestamp(buf: Buffer, at: number, seconds: number, nanos: number): number {
  if (seconds) {
    buf[at++] = 0x08; // field 1, varint
    at = writeVarint(buf, at, seconds);
  }
  if (nanos) {
    buf[at++] = 0x10; // field 2, varint
    at = writeVarint(buf, at, nanos);
  }
  return at;
}

/**
 * The GetFlowsResponse of a template at (`seconds`, `nanos`) with this `uuid` (36 ASCII
 * characters): byte for byte what `encodeResponse({flow: {...flow, time, uuid}, node_name,
 * time})` gives, for a few copies instead of an encoding of the whole flow.
 */
export function flowFrame(t: FlowTemplate, seconds: number, nanos: number, uuid: string): Buffer {
  if (uuid.length !== 36)
    throw new Error(`flowFrame: a uuid has 36 characters, not ${uuid.length}`);
  const ts = timestampLength(seconds, nanos);
  const timeField = 1 + varintLength(ts) + ts; // Flow.time: tag 0x0a
  const flowLen = timeField + t.body.length;
  const envTime = 2 + varintLength(ts) + ts; // GetFlowsResponse.time: field 1001, tag 0xca 0x3e
  const total = 1 + varintLength(flowLen) + flowLen + t.nodeName.length + envTime;
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  buf[at++] = 0x0a; // GetFlowsResponse.flow: field 1, length-delimited
  at = writeVarint(buf, at, flowLen);
  buf[at++] = 0x0a; // Flow.time
  at = writeVarint(buf, at, ts);
  at = writeTimestamp(buf, at, seconds, nanos);
  t.body.copy(buf, at);
  buf.write(uuid, at + t.uuidAt, 36, 'latin1');
  at += t.body.length;
  t.nodeName.copy(buf, at);
  at += t.nodeName.length;
  buf[at++] = 0xca;
  buf[at++] = 0x3e;
  at = writeVarint(buf, at, ts);
  writeTimestamp(buf, at, seconds, nanos);
  return buf;
}
