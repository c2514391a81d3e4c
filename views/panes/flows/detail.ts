/** One flow in full: the GetFlowsResponse as `hubble observe -o jsonpb` prints it, indented. */
import { responseJson } from '../../../src/features/flows/codec.js';
import type { FlowRecord } from '../../../src/features/flows/types.js';
import { safeJson } from '../../../src/store/sanitise.js';

const cache = new WeakMap<Uint8Array, string[]>();

export function flowDetailLines(f: FlowRecord): string[] {
  let lines = cache.get(f.raw);
  if (!lines) {
    const j = responseJson(f.raw);
    lines = j ? safeJson(j, 2).split('\n') : ['(this flow did not decode)'];
    cache.set(f.raw, lines);
  }
  return lines;
}
