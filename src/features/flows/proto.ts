/**
 * The Flows feature's view of the Observer proto (src/hubble/proto.ts holds the text).
 */
import { FLOW_PROTO } from '../../hubble/proto.js';

export {
  FLOW_PROTO,
  GET_FLOWS,
  OBSERVER_PROTO,
  RELAY_PROTO,
  SERVER_STATUS,
  WKT_PROTO,
} from '../../hubble/proto.js';

/**
 * An enum of FLOW_PROTO as name → number, read from the text above (so the filter parser
 * needs no protobuf runtime at start).
 */
export function protoEnum(name: string): ReadonlyMap<string, number> {
  const m = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(FLOW_PROTO);
  const out = new Map<string, number>();
  for (const x of (m?.[1] ?? '').matchAll(/([A-Za-z0-9_]+)\s*=\s*(\d+)/g))
    out.set(x[1] as string, Number(x[2]));
  return out;
}
