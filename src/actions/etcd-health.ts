/**
 * etcd health, as the rotate and rebuild gates check it: the whole cluster, not one endpoint —
 * `etcdctl endpoint health --cluster -w json` run ON the node over mTLS (the etcd CA bundle,
 * and the node's etcd-server pair as the client certificate: it has the peer profile, client
 * + server auth), so no key leaves the node and no other credential is needed. etcdctl asks
 * the member list from the endpoints given (the node's own, then the other etcd nodes of the
 * inventory when the caller passes them: the list still answers when the local member is the
 * one down) and checks every member's client URL. One implementation: rotate's plan
 * (rotate/plan.ts, its etcd.service gate) and the rebuild roll-out's gate
 * (rebuild/gate-sources.ts) both build the command here and judge its answer with
 * `etcdHealthResult`, which names each unhealthy member.
 */
import type { NodeSpec } from '../config/types.js';
import type { Layout, PlannedCert } from '../pki/layout.js';
import { planNode } from '../pki/layout.js';
import type { NodeExecResult } from '../store/io.js';
import { visible } from '../store/sanitise.js';

export const ETCD_HEALTH_GATE = 'etcd endpoint health (mTLS)';

/** The path of the bundle that holds `ca` (etcd-ca), under `pkiDir`. */
export function bundlePath(layout: Layout, pkiDir: string, ca: string): string | undefined {
  const b = layout.bundles.find((x) => x.cas.includes(ca));
  return b ? `${pkiDir.replace(/\/$/, '')}/${b.path}` : undefined;
}

/** `https://<first address>:2379` (IPv6 in brackets; 127.0.0.1 for a node without one). */
export function etcdClientUrl(node: NodeSpec): string {
  const addr = node.addresses[0] ?? '127.0.0.1';
  return `https://${addr.includes(':') ? `[${addr}]` : addr}:2379`;
}

/**
 * The etcdctl command for `node`, given its etcd-server certificate (planned) and the etcd
 * CA bundle; undefined when the node has neither (not an etcd member in the layout).
 */
export function etcdHealthArgv(
  node: NodeSpec,
  server: Pick<PlannedCert, 'certPath' | 'keyPath'> | undefined,
  bundle: string | undefined,
  /** The other etcd members to ask for the member list too (default: the node's own only). */
  peers: readonly NodeSpec[] = [],
): string[] | undefined {
  if (!server || !bundle) return undefined;
  const endpoints = [
    ...new Set([node, ...peers.filter((p) => p.name !== node.name)].map(etcdClientUrl)),
  ];
  return [
    'etcdctl',
    `--endpoints=${endpoints.join(',')}`,
    '--cacert',
    bundle,
    '--cert',
    server.certPath,
    '--key',
    server.keyPath,
    '--command-timeout=5s',
    '-w',
    'json',
    'endpoint',
    'health',
    '--cluster',
  ];
}

/** The command for a node of the inventory, from the layout (what the node's PKI holds). */
export function etcdHealthArgvFor(
  layout: Layout,
  node: NodeSpec,
  pkiDir: string,
  peers: readonly NodeSpec[] = [],
): string[] | undefined {
  const plan = planNode(layout, node, { pkiDir });
  return etcdHealthArgv(
    node,
    plan.certs.find((c) => c.id === 'etcd-server'),
    bundlePath(layout, pkiDir, 'etcd-ca'),
    peers,
  );
}

/** One member's answer in `etcdctl -w json endpoint health --cluster`. */
export interface EtcdMemberHealth {
  endpoint: string;
  health: boolean;
  took?: string;
  error?: string;
  /** The inventory node whose client URL this is, when known. */
  node?: string;
}

export type EtcdClusterHealth =
  | { ok: true; members: EtcdMemberHealth[] }
  | { ok: false; error: string };

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The members in etcdctl's output (pure, never throws): the JSON array `-w json` prints
 * (etcd 3.4/3.5: `[{"endpoint":…,"health":true,"took":"2.2ms"},{…,"health":false,"error":…}]`,
 * stderr's warnings aside), else the text lines (`URL is healthy: …` / `URL is unhealthy: …`).
 */
export function parseEtcdClusterHealth(text: string): EtcdClusterHealth {
  const lines = text.split('\n').map((l) => l.trim());
  for (const l of lines) {
    if (!l.startsWith('[')) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(l);
    } catch {
      continue;
    }
    if (!Array.isArray(doc)) continue;
    const members: EtcdMemberHealth[] = [];
    for (const e of doc) {
      if (typeof e !== 'object' || e === null) continue;
      const o = e as Record<string, unknown>;
      const endpoint = str(o.endpoint);
      if (!endpoint || typeof o.health !== 'boolean') continue;
      const m: EtcdMemberHealth = { endpoint: visible(endpoint).slice(0, 200), health: o.health };
      const took = str(o.took);
      if (took) m.took = visible(took).slice(0, 40);
      const error = str(o.error);
      if (error) m.error = visible(error).slice(0, 300);
      members.push(m);
    }
    if (members.length) return { ok: true, members };
  }
  const members: EtcdMemberHealth[] = [];
  for (const l of lines) {
    const m = /^(\S+) is (healthy|unhealthy): ?(.*)$/.exec(visible(l));
    if (!m) continue;
    const h: EtcdMemberHealth = { endpoint: m[1]!.slice(0, 200), health: m[2] === 'healthy' };
    const took = /took = (\S+)/.exec(m[3]!);
    if (h.health && took) h.took = took[1]!;
    if (!h.health) h.error = m[3]!.replace(/^failed to commit proposal: /, '').slice(0, 300);
    members.push(h);
  }
  if (members.length) return { ok: true, members };
  const why = lines.map((l) => visible(l)).find((l) => /^Error:/.test(l)) ?? '';
  return { ok: false, error: why ? why.slice(0, 300) : 'no member health in etcdctl output' };
}

/**
 * What an `etcdctl endpoint health --cluster` run says: healthy only on exit 0 with every
 * member healthy; otherwise which member is not (by its client URL, and the inventory node
 * when `nodes` knows it) and why, or the line that says why the member list failed.
 */
export function etcdHealthResult(
  r: NodeExecResult,
  nodes: readonly NodeSpec[] = [],
): { ok: boolean; detail: string; members?: EtcdMemberHealth[] } {
  const parsed = parseEtcdClusterHealth(`${r.stdout}\n${r.stderr}`);
  const exit = r.code === null ? 'killed' : `exit ${r.code}`;
  if (!parsed.ok) {
    // Older output or a failure before any member answered: the first line that says why.
    const lines = `${r.stdout}\n${r.stderr}`
      .split('\n')
      .map((l) => visible(l).trim())
      .filter(Boolean);
    const why =
      lines.find((l) => /^Error:/.test(l)) ??
      lines.find((l) => / is unhealthy|error|failed|refused|deadline/i.test(l)) ??
      lines[0];
    return { ok: false, detail: `${exit}${why ? `: ${why.slice(0, 300)}` : ''}` };
  }
  const byUrl = new Map(nodes.map((n) => [etcdClientUrl(n), n.name]));
  const members = parsed.members.map((m) => {
    const node = byUrl.get(m.endpoint);
    return node ? { ...m, node } : m;
  });
  const name = (m: EtcdMemberHealth) => (m.node ? `${m.node} (${m.endpoint})` : m.endpoint);
  const bad = members.filter((m) => !m.health);
  const count = `${members.length - bad.length} of ${members.length} members healthy`;
  if (r.code === 0 && bad.length === 0)
    return { ok: true, detail: `${count}: ${members.map(name).join(', ')}`.slice(0, 300), members };
  return {
    ok: false,
    detail: (bad.length
      ? `unhealthy: ${bad.map((m) => `${name(m)}${m.error ? `: ${m.error}` : ''}`).join('; ')} (${count})`
      : `${exit} (${count})`
    ).slice(0, 400),
    members,
  };
}
