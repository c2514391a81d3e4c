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
