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
import type {
  AddonVersion,
  BgpNodeConfigStatus,
  BgpNodeConfigs,
  CiliumConfigSummary,
  KubeApiStatus,
  KubeClusterSnapshot,
  KubeContextInfo,
  KubeErrorInfo,
  KubeLogView,
  KubeNodeStatus,
  KubePod,
  KubeSection,
  LiveKubeSource,
} from './types.js';

export const DEMO_KUBELET_VERSION = 'v1.33.4';
export const DEMO_CILIUM_VERSION = 'v1.18.2';
export const DEMO_INGRESS_NGINX_VERSION = '1.13.3';

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
  private fixed: Omit<KubeClusterSnapshot, 'api' | 'nodes' | 'ingressLog'> | undefined;

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
    const nodes = section(
      [...this.nodes.values()].map((n) => this.fullNode(n)),
      at,
      error,
    );
    this.fixed ??= this.buildStatic(at);
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
      ciliumPods: withErr(s.ciliumPods),
      hubbleRelayPods: withErr(s.hubbleRelayPods),
      ingressControllerPods: withErr(s.ingressControllerPods),
      ciliumConfig: withErr(s.ciliumConfig),
      bgp: withErr(s.bgp),
      addons: withErr(s.addons),
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

  private buildStatic(at: number): Omit<KubeClusterSnapshot, 'api' | 'nodes' | 'ingressLog'> {
    const start = new Date(at - 86_400_000).toISOString();
    const pod = (
      ns: string,
      name: string,
      node: string,
      image: string,
      labels: Record<string, string>,
      container: string,
    ): KubePod => ({
      namespace: ns,
      name,
      nodeName: node,
      phase: 'Running',
      status: 'Running',
      ready: true,
      containersReady: 1,
      containersTotal: 1,
      restarts: 0,
      hostIP: this.specs.find((s) => s.name === node)?.addresses[0] ?? '',
      startTime: start,
      containerNames: [container],
      containers: [{ name: container, image, ready: true, restartCount: 0, state: 'running' }],
      labels,
    });
    const suffix = (i: number) => ['x7k2p', 'b9m4q', 'c2n8r', 'd5t6s', 'f3v1w', 'g8z0y'][i % 6]!;
    const workers = this.specs.filter((s) => !s.roles.includes('control-plane'));
    const ciliumImage = `quay.io/cilium/cilium:${DEMO_CILIUM_VERSION}`;
    const ciliumPods = this.specs.map((s, i) =>
      pod(
        'kube-system',
        `cilium-${suffix(i)}`,
        s.name,
        ciliumImage,
        { 'k8s-app': 'cilium' },
        'cilium-agent',
      ),
    );
    const relayNode = workers[0]?.name ?? this.specs[0]?.name ?? 'node';
    const hubbleRelayPods = [
      pod(
        'kube-system',
        'hubble-relay-6d8f9c7b5-q2w3e',
        relayNode,
        `quay.io/cilium/hubble-relay:${DEMO_CILIUM_VERSION}`,
        { 'k8s-app': 'hubble-relay' },
        'hubble-relay',
      ),
    ];
    const ingressNodes = workers.slice(1, 3).map((w) => w.name);
    const ingressLabels = {
      'app.kubernetes.io/name': 'ingress-nginx',
      'app.kubernetes.io/component': 'controller',
      'app.kubernetes.io/version': DEMO_INGRESS_NGINX_VERSION,
    };
    const ingressControllerPods = ingressNodes.map((n, i) =>
      pod(
        'ingress-nginx',
        `ingress-nginx-controller-7c9d8b6f4-${suffix(i + 2)}`,
        n,
        `registry.k8s.io/ingress-nginx/controller:v${DEMO_INGRESS_NGINX_VERSION}`,
        ingressLabels,
        'controller',
      ),
    );
    const data: Record<string, string> = {
      'routing-mode': 'native',
      'kube-proxy-replacement': 'true',
      'enable-bgp-control-plane': 'true',
      'enable-hubble': 'true',
      ipam: 'kubernetes',
      'cluster-name': this.context,
      mtu: '9216',
      devices: 'bond0',
      'enable-ipv4': 'true',
      'enable-ipv6': 'false',
    };
    const ciliumConfig: CiliumConfigSummary = {
      namespace: 'kube-system',
      routingMode: 'native',
      kubeProxyReplacement: 'true',
      bgpControlPlane: true,
      hubble: true,
      ipam: 'kubernetes',
      clusterName: this.context,
      mtu: 9216,
      devices: 'bond0',
      data,
    };
    const lastWorker = workers.at(-1)?.name;
    const bgpNodes: BgpNodeConfigStatus[] = this.specs.map((s) => {
      const active = s.name === lastWorker;
      return {
        node: s.name,
        conditions: [],
        instances: [
          {
            name: 'instance-65001',
            localASN: 65001,
            peers: [
              {
                name: 'tor-1',
                peerAddress: '10.77.0.1',
                peerASN: 65000,
                peeringState: active ? 'active' : 'established',
                ...(active ? {} : { establishedTime: start }),
                routeCount: [
                  {
                    afi: 'ipv4',
                    safi: 'unicast',
                    received: active ? 0 : 1,
                    advertised: active ? 0 : 3,
                  },
                ],
                routesReceived: active ? 0 : 1,
                routesAdvertised: active ? 0 : 3,
                holdTimeSeconds: 90,
                keepaliveSeconds: 30,
              },
            ],
          },
        ],
      };
    });
    const bgp: BgpNodeConfigs = { apiVersion: 'cilium.io/v2', nodes: bgpNodes };
    const n = this.specs.length;
    const addon = (
      a: string,
      ns: string,
      kind: 'Deployment' | 'DaemonSet',
      name: string,
      image: string,
      version: string,
      source: 'label' | 'image',
      desired: number,
    ): AddonVersion => ({
      addon: a,
      namespace: ns,
      kind,
      name,
      version,
      versionSource: source,
      images: [{ container: name, image, tag: image.slice(image.lastIndexOf(':') + 1) }],
      ready: desired,
      desired,
    });
    const addons: AddonVersion[] = [
      addon(
        'cilium',
        'kube-system',
        'DaemonSet',
        'cilium',
        ciliumImage,
        DEMO_CILIUM_VERSION,
        'image',
        n,
      ),
      addon(
        'cilium-operator',
        'kube-system',
        'Deployment',
        'cilium-operator',
        `quay.io/cilium/operator-generic:${DEMO_CILIUM_VERSION}`,
        DEMO_CILIUM_VERSION,
        'image',
        2,
      ),
      addon(
        'coredns',
        'kube-system',
        'Deployment',
        'coredns',
        'registry.k8s.io/coredns/coredns:v1.12.1',
        'v1.12.1',
        'image',
        2,
      ),
      addon(
        'hubble-relay',
        'kube-system',
        'Deployment',
        'hubble-relay',
        `quay.io/cilium/hubble-relay:${DEMO_CILIUM_VERSION}`,
        DEMO_CILIUM_VERSION,
        'image',
        1,
      ),
      addon(
        'ingress-nginx',
        'ingress-nginx',
        'Deployment',
        'ingress-nginx-controller',
        `registry.k8s.io/ingress-nginx/controller:v${DEMO_INGRESS_NGINX_VERSION}`,
        DEMO_INGRESS_NGINX_VERSION,
        'label',
        ingressControllerPods.length,
      ),
    ];
    return {
      ciliumPods: section(ciliumPods, at),
      hubbleRelayPods: section(hubbleRelayPods, at),
      ingressControllerPods: section(ingressControllerPods, at),
      ciliumConfig: section(ciliumConfig, at),
      bgp: section(bgp, at),
      addons: section(addons, at),
    };
  }
}

function section<T>(value: T, updatedAt: number, error?: KubeErrorInfo): KubeSection<T> {
  return Object.freeze({
    value: Object.freeze(value),
    updatedAt,
    synced: error === undefined,
    ...(error ? { error } : {}),
  });
}
