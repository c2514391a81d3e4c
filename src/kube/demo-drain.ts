/**
 * The demo lab's answers to cordon, drain and uncordon (KubeNodeOps), with the semantics
 * of the API server's eviction subresource: a `shop/web` Deployment (3 replicas, one per
 * worker) under a PodDisruptionBudget of minAvailable 2, so a drain that would take two of
 * them at once is refused (429) until a replacement is Ready elsewhere — kubectl's retry
 * shows — plus DaemonSet pods (cilium, node-exporter) on every node and the static pods'
 * mirrors on the control-plane nodes, which a drain skips. An evicted pod terminates for
 * about a second; its ReplicaSet starts a replacement on a schedulable worker, Ready two
 * seconds later. Demo only: nothing here talks to a cluster.
 */
import type { NodeSpec } from '../config/types.js';
import type { CallOptions } from '../store/io.js';
import type { DrainPod, EvictResult, KubeNodeOps } from './node-ops.js';

interface DemoPod extends DrainPod {
  node: string;
  labels: Record<string, string>;
  /** Epoch ms it becomes Ready. */
  readyAt: number;
}

const TERMINATE_MS = 1000;
const rsName = (app: string): string => `${app}-${app === 'web' ? '7f9c6d5b8' : '5d78c9869d'}`;
const READY_AFTER_MS = 2000;

export interface DemoNodeHost {
  unschedulable(name: string): boolean | undefined;
  setUnschedulable(name: string, value: boolean): void;
}

export class DemoNodeOps implements KubeNodeOps {
  readonly #pods = new Map<string, DemoPod>();
  #seq = 0;

  constructor(
    readonly specs: readonly NodeSpec[],
    readonly host: DemoNodeHost,
    readonly now: () => number = Date.now,
  ) {
    const t0 = now() - 3_600_000;
    const workers = specs.filter((n) => n.roles.includes('worker'));
    for (const n of specs) {
      this.#add({ namespace: 'kube-system', name: `cilium-${n.name}`, node: n.name, ds: 'cilium' });
      this.#add({
        namespace: 'monitoring',
        name: `node-exporter-${n.name}`,
        node: n.name,
        ds: 'node-exporter',
      });
      if (n.roles.includes('control-plane'))
        for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
          this.#add({
            namespace: 'kube-system',
            name: `${c}-${n.name}`,
            node: n.name,
            mirror: true,
          });
    }
    for (const [i, w] of workers.slice(0, 3).entries())
      this.#add(
        { namespace: 'shop', name: `web-7f9c6d5b8-${'abc'[i]}x${i}`, node: w.name, rs: 'web' },
        t0,
      );
    if (workers[0])
      this.#add(
        {
          namespace: 'kube-system',
          name: 'coredns-5d78c9869d-q7m2x',
          node: workers[0].name,
          rs: 'coredns',
        },
        t0,
      );
  }

  #add(
    p: {
      namespace: string;
      name: string;
      node: string;
      ds?: string;
      rs?: string;
      mirror?: boolean;
    },
    readyAt = this.now(),
  ): void {
    const pod: DemoPod = {
      namespace: p.namespace,
      name: p.name,
      uid: `demo-${++this.#seq}`,
      node: p.node,
      labels: p.rs ? { app: p.rs } : {},
      mirror: p.mirror === true,
      daemonSet: p.ds !== undefined,
      phase: 'Running',
      terminating: false,
      readyAt,
    };
    if (p.ds) pod.owner = { kind: 'DaemonSet', name: p.ds };
    if (p.rs) pod.owner = { kind: 'ReplicaSet', name: rsName(p.rs) };
    if (p.mirror) pod.owner = { kind: 'Node', name: p.node };
    this.#pods.set(`${p.namespace}/${p.name}`, pod);
  }

  async isUnschedulable(node: string, opts?: CallOptions): Promise<boolean> {
    opts?.signal?.throwIfAborted();
    const u = this.host.unschedulable(node);
    if (u === undefined) throw new Error(`nodes "${node}" not found`);
    return u;
  }

  async setUnschedulable(node: string, value: boolean, opts?: CallOptions): Promise<void> {
    opts?.signal?.throwIfAborted();
    this.host.setUnschedulable(node, value);
  }

  async podsOnNode(node: string, opts?: CallOptions): Promise<DrainPod[]> {
    opts?.signal?.throwIfAborted();
    return [...this.#pods.values()]
      .filter((p) => p.node === node)
      .map(({ node: _n, labels: _l, readyAt: _r, ...p }) => ({ ...p }));
  }

  async evict(pod: Pick<DrainPod, 'namespace' | 'name'>, opts?: CallOptions): Promise<EvictResult> {
    opts?.signal?.throwIfAborted();
    const p = this.#pods.get(`${pod.namespace}/${pod.name}`);
    if (!p) return { ok: false, kind: 'gone', message: `pods "${pod.name}" not found` };
    if (p.terminating) return { ok: true };
    if (p.labels.app === 'web') {
      const now = this.now();
      const healthy = [...this.#pods.values()].filter(
        (x) => x.labels.app === 'web' && !x.terminating && x.readyAt <= now,
      ).length;
      if (healthy - 2 <= 0)
        return {
          ok: false,
          kind: 'budget',
          message: `The disruption budget web needs 2 healthy pods and has ${healthy} currently`,
        };
    }
    p.terminating = true;
    const t = setTimeout(() => {
      this.#pods.delete(`${p.namespace}/${p.name}`);
      const rs = p.owner?.kind === 'ReplicaSet' ? p.labels.app : undefined;
      const to = this.specs.find(
        (n) =>
          n.roles.includes('worker') &&
          n.name !== p.node &&
          this.host.unschedulable(n.name) === false,
      );
      if (rs && to)
        this.#add(
          {
            namespace: p.namespace,
            name: `${rsName(rs)}-${(++this.#seq).toString(36)}r`,
            node: to.name,
            rs,
          },
          this.now() + READY_AFTER_MS,
        );
    }, TERMINATE_MS);
    t.unref?.();
    return { ok: true };
  }

  async podUid(namespace: string, name: string, opts?: CallOptions): Promise<string | undefined> {
    opts?.signal?.throwIfAborted();
    return this.#pods.get(`${namespace}/${name}`)?.uid;
  }
}
