/**
 * `k8ops nodes [--json] [--accept-new]`: the SSH view of every node (reachable, route, host
 * key, auth, latency, OS) beside the API server's view (Ready, kubelet, InternalIP).
 * Exit code: 0 all reachable; 1 some unreachable, NotReady or the API failing;
 * 2 configuration, host-key or authentication error.
 */

import type { KubeNodeStatus } from '../kube/types.js';
import type { Session } from '../session/session.js';
import { safeJson } from '../store/sanitise.js';
import { CLUSTER_SCOPE } from '../store/types.js';
import { EXIT, formatTable, holdOpen, type Out } from './common.js';

export async function nodesCommand(session: Session, json: boolean, out: Out): Promise<number> {
  const { formatNodesTable, nodesReport } = await import('../nodes/report.js');
  return holdOpen(async () => {
    const [ssh] = await Promise.all([
      nodesReport(session.inventory, { agents: session.agents }),
      session.settleKube(10_000),
    ]);
    const kube = kubeNodesView(session);
    const rows = ssh.rows.map((r) => ({ ...r, kube: kube.byNode.get(r.node) ?? null }));
    const exitCode = Math.max(ssh.exitCode, kube.error || kube.notReady ? EXIT.problem : EXIT.ok);
    if (json) {
      const doc = {
        cluster: session.inventory.cluster,
        context: session.context ?? null,
        kubeError: kube.error ?? null,
        nodes: rows,
      };
      out.write(`${safeJson(doc, 2)}\n`);
    } else {
      out.write(`${formatNodesTable(ssh.rows).trimEnd()}\n\n${formatKubeNodes(session, kube)}\n`);
    }
    return exitCode;
  });
}

interface KubeNodesView {
  byNode: Map<
    string,
    {
      ready: boolean;
      reason: string | null;
      kubeletVersion: string | null;
      internalIP: string | null;
    }
  >;
  error?: string;
  notReady: boolean;
}

/** The API server's view of the inventory's nodes, from the store's `kube` snapshot. */
function kubeNodesView(session: Session): KubeNodesView {
  if (!session.hasKube) return { byNode: new Map(), notReady: false };
  const snap = session.store.get<KubeNodeStatus[]>(CLUSTER_SCOPE, 'kube');
  const byNode: KubeNodesView['byNode'] = new Map();
  for (const n of snap.value ?? []) {
    byNode.set(n.name, {
      ready: n.ready,
      reason: n.reason ?? null,
      kubeletVersion: n.kubeletVersion ?? null,
      internalIP: n.internalIP ?? null,
    });
  }
  const names = new Set(session.inventory.nodes.map((n) => n.name));
  const notReady = [...names].some((n) => byNode.get(n)?.ready === false);
  const error =
    snap.error?.message ?? (snap.value ? undefined : 'no answer from the API server yet');
  return error === undefined ? { byNode, notReady } : { byNode, notReady, error };
}

function formatKubeNodes(session: Session, v: KubeNodesView): string {
  if (!session.hasKube)
    return 'kube: no Kubernetes API source configured (kubeconfig / kube.context)';
  const head = `kube (${session.context ?? 'no context'})`;
  if (v.error && v.byNode.size === 0) return `${head}: ${v.error}`;
  const rows = session.inventory.nodes.map((n) => {
    const k = v.byNode.get(n.name);
    return [
      n.name,
      k ? (k.ready ? 'Ready' : `NotReady${k.reason ? ` (${k.reason})` : ''}`) : 'not registered',
      k?.kubeletVersion ?? '-',
      k?.internalIP ?? '-',
    ];
  });
  const header = ['NODE', 'KUBE', 'KUBELET', 'INTERNAL-IP'];
  return [head + (v.error ? ` — ${v.error}` : ''), ...formatTable(header, rows)].join('\n');
}
