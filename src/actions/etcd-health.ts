/**
 * etcd member health, as the rotate and rebuild gates check it: `etcdctl endpoint health`
 * run ON the node against its own client URL over mTLS — the etcd CA bundle, and the
 * node's etcd-server pair as the client certificate (it has the peer profile: client +
 * server auth), so no key leaves the node and no other credential is needed. One
 * implementation: rotate's plan (rotate/plan.ts, its etcd.service gate) and the rebuild
 * roll-out's gate (rebuild/gate-sources.ts) both build the command here and judge its answer
 * with `etcdHealthResult`.
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
): string[] | undefined {
  if (!server || !bundle) return undefined;
  return [
    'etcdctl',
    `--endpoints=${etcdClientUrl(node)}`,
    '--cacert',
    bundle,
    '--cert',
    server.certPath,
    '--key',
    server.keyPath,
    '--command-timeout=5s',
    'endpoint',
    'health',
  ];
}

/** The command for a node of the inventory, from the layout (what the node's PKI holds). */
export function etcdHealthArgvFor(
  layout: Layout,
  node: NodeSpec,
  pkiDir: string,
): string[] | undefined {
  const plan = planNode(layout, node, { pkiDir });
  return etcdHealthArgv(
    node,
    plan.certs.find((c) => c.id === 'etcd-server'),
    bundlePath(layout, pkiDir, 'etcd-ca'),
  );
}

/**
 * What an `etcdctl endpoint health` run says: healthy only on exit 0 with the endpoint
 * reported healthy (etcd 3.4/3.5: `https://…:2379 is healthy: successfully committed
 * proposal: took = 2.1ms`); otherwise the first line that says why.
 */
export function etcdHealthResult(r: NodeExecResult): { ok: boolean; detail: string } {
  const lines = `${r.stdout}\n${r.stderr}`
    .split('\n')
    .map((l) => visible(l).trim())
    .filter(Boolean);
  const healthy = lines.find((l) => / is healthy/.test(l));
  if (r.code === 0 && healthy) return { ok: true, detail: healthy.slice(0, 200) };
  const why = lines.find((l) => / is unhealthy|error|failed|refused|deadline/i.test(l)) ?? lines[0];
  return {
    ok: false,
    detail: `${r.code === null ? 'killed' : `exit ${r.code}`}${why ? `: ${why.slice(0, 300)}` : ''}`,
  };
}
