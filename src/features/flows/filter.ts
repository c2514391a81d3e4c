/**
 * The Flows pane's filter text (and `k8ops flows`' filter arguments) as server-side
 * FlowFilters: `verdict:DROPPED ns:shop pod:frontend port:8080 node:node-1
 * reason:POLICY_DENY dir:ingress proto:tcp`. Terms of different keys are ANDed; a key
 * given twice (or a comma list) is ORed. Like `hubble observe --namespace/--pod/--port`,
 * a non-directional term matches either side, so the whitelist is the product of the
 * source-side and destination-side alternatives. Pure; a bad term is an error value.
 */
import type { FlowFilterSpec } from './codec.js';
import { protoEnum } from './proto.js';

const VERDICT_VALUES = protoEnum('Verdict');
const DROP_REASON_VALUES = protoEnum('DropReason');
const DIRECTION_VALUES = protoEnum('TrafficDirection');

export interface FlowQuery {
  /** The text it came from (normalised: single spaces). */
  text: string;
  /** The whitelist sent to the server; empty: every flow. */
  whitelist: FlowFilterSpec[];
}

export type QueryResult = { ok: true; query: FlowQuery } | { ok: false; error: string };

const KEYS = ['verdict', 'ns', 'pod', 'port', 'node', 'reason', 'dir', 'proto'] as const;
type Key = (typeof KEYS)[number];
const ALIASES: Record<string, Key> = {
  namespace: 'ns',
  n: 'ns',
  drop: 'reason',
  direction: 'dir',
  protocol: 'proto',
};

// Values sent to the agent: names, pod prefixes, ports, node globs. No spaces, no controls.
const SAFE_VALUE = /^[A-Za-z0-9._*\-/:]{1,253}$/;

export function parseFlowQuery(text: string): QueryResult {
  const terms = text.trim().split(/\s+/).filter(Boolean);
  const by = new Map<Key, string[]>();
  for (const t of terms) {
    const i = t.indexOf(':');
    if (i <= 0)
      return { ok: false, error: `"${t}": expected key:value (keys: ${KEYS.join(', ')})` };
    const raw = t.slice(0, i).toLowerCase();
    const key = (ALIASES[raw] ?? raw) as Key;
    if (!KEYS.includes(key))
      return { ok: false, error: `unknown filter key "${raw}" (keys: ${KEYS.join(', ')})` };
    for (const v of t.slice(i + 1).split(',')) {
      if (!SAFE_VALUE.test(v)) return { ok: false, error: `${key}: invalid value "${v}"` };
      by.set(key, [...(by.get(key) ?? []), v]);
    }
  }
  const base: FlowFilterSpec = {};
  const verdicts = by.get('verdict');
  if (verdicts) {
    const nums: number[] = [];
    for (const v of verdicts) {
      const n = VERDICT_VALUES.get(v.toUpperCase());
      if (n === undefined)
        return {
          ok: false,
          error: `verdict: unknown "${v}" (${[...VERDICT_VALUES.keys()].slice(1).join(', ')})`,
        };
      nums.push(n);
    }
    base.verdict = nums;
  }
  const reasons = by.get('reason');
  if (reasons) {
    const nums: number[] = [];
    for (const v of reasons) {
      const n = DROP_REASON_VALUES.get(v.toUpperCase());
      if (n === undefined) return { ok: false, error: `reason: unknown drop reason "${v}"` };
      nums.push(n);
    }
    base.drop_reason_desc = nums;
  }
  const dirs = by.get('dir');
  if (dirs) {
    const nums: number[] = [];
    for (const v of dirs) {
      const n = DIRECTION_VALUES.get(v.toUpperCase());
      if (n === undefined || n === 0)
        return { ok: false, error: `dir: "${v}" is not ingress or egress` };
      nums.push(n);
    }
    base.traffic_direction = nums;
  }
  const nodes = by.get('node');
  if (nodes) base.node_name = nodes;
  const protos = by.get('proto');
  if (protos) base.protocol = protos.map((p) => p.toLowerCase());
  const portList = by.get('port');
  if (portList) {
    for (const p of portList)
      if (!/^\d{1,5}$/.test(p) || Number(p) > 65535)
        return { ok: false, error: `port: "${p}" is not a port number` };
  }
  // Pod terms: `ns/prefix`, or a prefix in each ns: term's namespace (default: `default`,
  // as the agent reads a value without a slash); ns: alone is `ns/`.
  const nsList = by.get('ns') ?? [];
  const podList = by.get('pod');
  let pods: string[] | undefined;
  if (podList)
    pods = podList.flatMap((p) =>
      p.includes('/') ? [p] : nsList.length ? nsList.map((n) => `${n}/${p}`) : [p],
    );
  else if (nsList.length) pods = nsList.map((n) => `${n}/`);
  for (const p of pods ?? [])
    if (p.indexOf('/') !== p.lastIndexOf('/'))
      return { ok: false, error: `pod: "${p}" has more than one "/" (ns/prefix)` };

  // Either side for pods and ports: the product of the alternatives.
  const podSides: FlowFilterSpec[] = pods
    ? [{ source_pod: pods }, { destination_pod: pods }]
    : [{}];
  const portSides: FlowFilterSpec[] = portList
    ? [{ source_port: portList }, { destination_port: portList }]
    : [{}];
  const whitelist: FlowFilterSpec[] = [];
  const anyTerm = terms.length > 0;
  if (anyTerm)
    for (const a of podSides) for (const b of portSides) whitelist.push({ ...base, ...a, ...b });
  return { ok: true, query: { text: terms.join(' '), whitelist } };
}
