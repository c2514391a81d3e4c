/**
 * What the roll-out's health gate reads, from a session's parts (shared by `k8ops rebuild`
 * and the console's `B`): the node over SSH, the kube watches' snapshots in the store (node
 * Ready and schedulable, its Cilium agent pod, the API server's reachability), and etcd
 * cluster health run on an etcd node — `etcdctl endpoint health --cluster` over mTLS, every
 * member checked, the command the rotate gate runs (actions/etcd-health.ts).
 */
import type { Inventory } from '../../config/types.js';
import { KUBE_STORE_SOURCES } from '../../kube/collect.js';
import type { KubeApiStatus, KubeNodeStatus, KubePod } from '../../kube/types.js';
import type { NodeAgent } from '../../nodes/agent.js';
import { defaultLayout } from '../../pki/layout-data.js';
import { CLUSTER_SCOPE, type Snapshot } from '../../store/types.js';
import { etcdHealthArgvFor, etcdHealthResult } from '../etcd-health.js';
import type { GateSources } from './gates.js';

export interface GateSourceDeps {
  inventory: Inventory;
  agents: ReadonlyMap<string, NodeAgent>;
  /** The session store's reader (the kube watches write there). */
  read?: <T>(scope: string, source: string) => Snapshot<T>;
  /** A kube API is configured: the kube checks apply. */
  hasKube: boolean;
  /** Bound of one etcdctl run (default 15 s; etcdctl's own command timeout is 5 s). */
  etcdTimeoutMs?: number;
}

export function gateSources(d: GateSourceDeps): GateSources {
  const agent = (name: string): NodeAgent => {
    const a = d.agents.get(name);
    if (!a) throw new Error(`${name}: no connection to the node`);
    return a;
  };
  const src: GateSources = {
    probe: async (n, signal) => {
      await agent(n.name).probe({ signal });
    },
    etcdHealthy: async (n, signal) => {
      // The whole cluster: the other etcd nodes answer the member list if this one does not.
      const peers = (d.inventory.nodes ?? []).filter((x) => x.roles.includes('etcd'));
      const argv = etcdHealthArgvFor(defaultLayout(), n, d.inventory.pki.dir, peers);
      if (!argv)
        return { ok: false, detail: 'the PKI layout gives this node no etcd-server certificate' };
      const r = await agent(n.name).exec(argv, {
        signal,
        timeoutMs: d.etcdTimeoutMs ?? 15_000,
        readOnly: true,
      });
      return etcdHealthResult(r, peers);
    },
  };
  const read = d.read;
  if (!d.hasKube || !read) return src;
  src.kubeNode = (name) => {
    const nodes = read<KubeNodeStatus[]>(CLUSTER_SCOPE, 'kube').value;
    const k = nodes?.find((x) => x.name === name);
    return k ? { ready: k.ready, schedulable: !k.unschedulable } : undefined;
  };
  src.ciliumReady = (name) => {
    const pods = read<KubePod[]>(CLUSTER_SCOPE, KUBE_STORE_SOURCES.ciliumPods).value;
    const p = pods?.find((x) => x.nodeName === name);
    return p ? p.ready : undefined;
  };
  src.apiReady = async () =>
    read<KubeApiStatus>(CLUSTER_SCOPE, KUBE_STORE_SOURCES.api).value?.reachable === true;
  return src;
}
