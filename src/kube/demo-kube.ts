/**
 * KubeSource for the demo lab: every inventory node registered and Ready with a kubelet
 * v1.33.x, until a fault is injected with setNodeReady / setReachable. It is also a
 * LiveKubeSource, so the demo runs the same snapshot/store path as a real cluster:
 * Cilium (one agent per node), hubble-relay, two ingress-nginx controllers, the
 * cilium-config ConfigMap (native routing, MTU 9216), CiliumBGPNodeConfig status
 * (cilium.io/v2; one peer in Active on the last worker) and the addon versions.
 */
import type { NodeSpec } from '../config/types.js';
import type { CallOptions } from '../store/io.js';
import {
  DEMO_KUBELET_VERSION,
  type DemoFixedSections,
  demoFixedSections,
  demoSection,
} from './demo-kube-lab.js';
import type {
  KubeApiStatus,
  KubeClusterSnapshot,
  KubeContextInfo,
  KubeErrorInfo,
  KubeLogView,
  KubeNodeStatus,
  KubeSection,
  LiveKubeSource,
} from './types.js';

export {
  DEMO_CILIUM_VERSION,
  DEMO_INGRESS_NGINX_VERSION,
  DEMO_KUBELET_VERSION,
} from './demo-kube-lab.js';

export class DemoKubeError extends Error {
  override readonly name = 'DemoKubeError';
  constructor(
    readonly kind: 'unreachable' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

export interface DemoKubeOptions {
  now?: () => number;
  /** Ring bound for `pushIngressLog`. */
  logLines?: number;
}

export class DemoKubeSource implements LiveKubeSource {
  readonly context: string;
  private readonly specs: readonly NodeSpec[];
  private readonly nodes = new Map<string, KubeNodeStatus>();
  private reachable = true;
  private closed = false;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly listeners = new Set<() => void>();
  private notifyPending = false;
  private snap: KubeClusterSnapshot | undefined;
  private readonly logLines: Array<{ pod: string; text: string; time: string; seq: number }> = [];
  private logTotal = 0;
  private readonly logMax: number;
  private fixed: DemoFixedSections | undefined;

  constructor(nodes: readonly NodeSpec[], context = 'demo-lab', opts: DemoKubeOptions = {}) {
    this.context = context;
    this.specs = nodes;
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.logMax = opts.logLines ?? 2000;
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
    this.changed();
  }

  /** Fault injection: the API server does not answer. */
  setReachable(reachable: boolean): void {
    this.reachable = reachable;
    this.changed();
  }

  /** Append an ingress-nginx controller log line (the demo NGINX generator feeds this). */
  pushIngressLog(pod: string, text: string): void {
    this.logLines.push({
      pod,
      text,
      time: new Date(this.now()).toISOString(),
      seq: ++this.logTotal,
    });
    if (this.logLines.length > this.logMax)
      this.logLines.splice(0, this.logLines.length - this.logMax);
    this.changed();
  }

  async listNodes(opts?: CallOptions): Promise<KubeNodeStatus[]> {
    opts?.signal?.throwIfAborted();
    if (this.closed) throw new DemoKubeError('closed', 'kube source is closed');
    if (!this.reachable) throw new DemoKubeError('unreachable', this.unreachableMessage());
    return [...this.nodes.values()].map((n) => ({ ...n }));
  }

  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => {
      this.listeners.delete(cb);
    };
  }

  contexts(): KubeContextInfo[] {
    return [
      {
        name: this.context,
        cluster: this.context,
        user: `${this.context}-admin`,
        server: 'https://10.77.0.11:6443',
        current: true,
      },
    ];
  }

  snapshot(): KubeClusterSnapshot {
    if (this.snap) return this.snap;
    const at = this.startedAt;
    const error: KubeErrorInfo | undefined = this.reachable
      ? undefined
      : { kind: 'unreachable', message: this.unreachableMessage() };
    const api: KubeApiStatus = Object.freeze({
      context: this.context,
      server: 'https://10.77.0.11:6443',
      via: 'direct',
      tlsServerName: '10.77.0.11',
      reachable: this.reachable,
      serverVersion: DEMO_KUBELET_VERSION,
      checkedAt: this.now(),
      ...(error ? { error } : {}),
    });
    const nodes = demoSection(
      [...this.nodes.values()].map((n) => this.fullNode(n)),
      at,
      error,
    );
    this.fixed ??= demoFixedSections(this.specs, this.context, at);
    const s = this.fixed;
    const withErr = <T>(x: KubeSection<T>): KubeSection<T> =>
      error ? Object.freeze({ ...x, error, synced: false }) : x;
    const ingressLog: KubeLogView = Object.freeze({
      lines: Object.freeze(this.logLines.map((l) => ({ ...l }))),
      total: this.logTotal,
      dropped: this.logTotal - this.logLines.length,
      following: Object.freeze(
        s.ingressControllerPods.value?.map((p) => `${p.namespace}/${p.name}`) ?? [],
      ),
      ...(this.logTotal > 0 ? { updatedAt: this.now() } : {}),
    });
    this.snap = Object.freeze({
      api,
      nodes,
      // every fixed section (pods, cilium-config, BGP, addons, …), with the error while unreachable
      ...(Object.fromEntries(
        Object.entries(s).map(([k, x]) => [k, withErr(x as KubeSection<unknown>)]),
      ) as DemoFixedSections),
      ingressLog,
    });
    return this.snap;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  private unreachableMessage(): string {
    return `${this.context}: dial tcp 10.77.0.11:6443: connect: connection refused`;
  }

  private changed(): void {
    this.snap = undefined;
    if (this.notifyPending || this.closed) return;
    this.notifyPending = true;
    queueMicrotask(() => {
      this.notifyPending = false;
      for (const cb of [...this.listeners]) {
        try {
          cb();
        } catch {
          // a listener's failure is its own
        }
      }
    });
  }

  private fullNode(n: KubeNodeStatus): KubeNodeStatus {
    const spec = this.specs.find((s) => s.name === n.name);
    const ip = spec?.addresses[0];
    const since = new Date(this.startedAt - 86_400_000).toISOString();
    const out: KubeNodeStatus = {
      ...n,
      roles: spec?.roles.includes('control-plane') ? ['control-plane'] : [],
      addresses: [
        ...(ip ? [{ type: 'InternalIP', address: ip }] : []),
        { type: 'Hostname', address: n.name },
      ],
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure' },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID' },
        n.ready
          ? {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'kubelet is posting ready status',
              lastTransitionTime: since,
            }
          : {
              type: 'Ready',
              status: 'False',
              reason: n.reason ?? 'KubeletNotReady',
              lastTransitionTime: new Date(this.now()).toISOString(),
            },
      ],
      osImage: 'NixOS 25.05 (Warbler)',
      kernelVersion: '6.12.41',
      containerRuntimeVersion: 'containerd://2.0.5',
    };
    if (ip) out.internalIP = ip;
    return out;
  }
}
