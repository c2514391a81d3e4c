/**
 * KubeSource for the demo lab: every inventory node registered and Ready with a kubelet
 * v1.33.x, until a fault is injected with setNodeReady / setReachable.
 */
import type { NodeSpec } from '../config/types.js';
import type { CallOptions } from '../nodes/agent.js';
import type { KubeNodeStatus, KubeSource } from './types.js';

export const DEMO_KUBELET_VERSION = 'v1.33.4';

export class DemoKubeError extends Error {
  override readonly name = 'DemoKubeError';
  constructor(
    readonly kind: 'unreachable' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

export class DemoKubeSource implements KubeSource {
  readonly context: string;
  private readonly nodes = new Map<string, KubeNodeStatus>();
  private reachable = true;
  private closed = false;

  constructor(nodes: readonly NodeSpec[], context = 'demo-lab') {
    this.context = context;
    for (const n of nodes) {
      this.nodes.set(n.name, { name: n.name, ready: true, kubeletVersion: DEMO_KUBELET_VERSION });
    }
  }

  /** Fault injection: mark a node (not) Ready with the Ready condition's reason/message. */
  setNodeReady(name: string, ready: boolean, reason?: string): void {
    const cur = this.nodes.get(name);
    if (!cur) throw new Error(`unknown demo node ${name}`);
    const next: KubeNodeStatus = { name, ready, kubeletVersion: cur.kubeletVersion };
    if (!ready) next.reason = reason ?? 'KubeletNotReady';
    this.nodes.set(name, next);
  }

  /** Fault injection: the API server does not answer. */
  setReachable(reachable: boolean): void {
    this.reachable = reachable;
  }

  async listNodes(opts?: CallOptions): Promise<KubeNodeStatus[]> {
    opts?.signal?.throwIfAborted();
    if (this.closed) throw new DemoKubeError('closed', 'kube source is closed');
    if (!this.reachable) {
      throw new DemoKubeError(
        'unreachable',
        `${this.context}: dial tcp 10.77.0.11:6443: connect: connection refused`,
      );
    }
    return [...this.nodes.values()].map((n) => ({ ...n }));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
