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
import { visibleOnce } from '../store/sanitise.js';
import { DemoNodeOps } from './demo-drain.js';
import { DemoIngressTraffic } from './demo-ingress-log.js';
import {
  DEMO_KUBELET_VERSION,
  type DemoFixedSections,
  demoFixedSections,
  demoSection,
} from './demo-kube-lab.js';
import type { KubeNodeOps } from './node-ops.js';
import type {
  AcmeCertificate,
  KubeApiStatus,
  KubeClusterSnapshot,
  KubeContextInfo,
  KubeErrorInfo,
  KubeLogView,
  KubeNodeStatus,
  KubeSection,
  KubeService,
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
    readonly kind: 'unreachable' | 'closed' | 'not-found',
    message: string,
  ) {
    super(message);
  }
}

export interface DemoKubeOptions {
  now?: () => number;
  /** Ring bound for `pushIngressLog`. */
  logLines?: number;
  /**
   * Synthetic ingress traffic (demo-ingress-log.ts): the last 15 minutes back-filled, then
   * a few lines every second, into the controller log ring. Default off.
   */
  traffic?: boolean;
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
  /** Every section but the log, kept while only the log moves (a real watch's sections keep their identity too). */
  private sections: Omit<KubeClusterSnapshot, 'ingressLog'> | undefined;
  private readonly logLines: Array<{ pod: string; text: string; time: string; seq: number }> = [];
  private logTotal = 0;
  private readonly logMax: number;
  private fixed: DemoFixedSections | undefined;
  private acme: AcmeCertificate[] | undefined;
  private trafficTimer: NodeJS.Timeout | undefined;
  private drainOps: DemoNodeOps | undefined;

  constructor(nodes: readonly NodeSpec[], context = 'demo-lab', opts: DemoKubeOptions = {}) {
    this.context = context;
    this.specs = nodes;
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.logMax = opts.logLines ?? 2000;
    for (const n of nodes) {
      this.nodes.set(n.name, { name: n.name, ready: true, kubeletVersion: DEMO_KUBELET_VERSION });
    }
    if (opts.traffic) this.startTraffic();
  }

  private startTraffic(): void {
    const traffic = new DemoIngressTraffic();
    const fixed = this.fixedSections();
    const names = fixed.ingressControllerPods.value?.map((p) => p.name) ?? [
      'ingress-nginx-controller',
    ];
    const podOf = (i: number) => names[i % names.length]!;
    // Back-fill: the ring's worth of lines over the last 15 minutes (a busier hour 10 min ago).
    const t0 = this.now();
    const n = Math.min(this.logMax, 1800);
    for (let i = 0; i < n; i++) {
      const t = t0 - 15 * 60_000 + Math.floor((i / n) ** 0.9 * 15 * 60_000);
      this.pushLogLine(podOf(i), traffic.line(t), t);
    }
    let tick = 0;
    this.trafficTimer = setInterval(() => {
      tick++;
      const now = this.now();
      const k = 1 + ((tick * 7) % 4);
      for (let i = 0; i < k; i++) this.pushLogLine(podOf(tick + i), traffic.line(now), now);
      this.changed('log');
    }, 1000);
    this.trafficTimer.unref?.();
  }

  private pushLogLine(pod: string, text: string, at: number): void {
    this.logLines.push(
      visibleOnce(
        Object.freeze({ pod, text, time: new Date(at).toISOString(), seq: ++this.logTotal }),
      ),
    );
    if (this.logLines.length > this.logMax)
      this.logLines.splice(0, this.logLines.length - this.logMax);
  }

  /** The cert-manager Certificates (with their Secrets' certificates) the demo serves. */
  setAcmeCertificates(certs: AcmeCertificate[]): void {
    this.acme = certs;
    this.changed();
  }

  private acmePending: Promise<unknown> | undefined;

  /** Certificates made in the background (demo/acme.ts): served once ready; `whenSettled` waits for them. */
  setAcmeCertificatesFrom(p: Promise<AcmeCertificate[]>): void {
    this.acmePending = p.then(
      (c) => this.setAcmeCertificates(c),
      () => {},
    );
  }

  /** Resolves once the background parts (the ACME certificates) are in, or after `timeoutMs`. */
  async whenSettled(timeoutMs = 10_000): Promise<unknown> {
    if (!this.acmePending) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.acmePending,
      new Promise((r) => {
        timer = setTimeout(r, timeoutMs);
        timer.unref?.();
      }),
    ]);
    if (timer) clearTimeout(timer);
  }

  /** Fault injection: mark a node (not) Ready with the Ready condition's reason/message. */
  setNodeReady(name: string, ready: boolean, reason?: string): void {
    const cur = this.nodes.get(name);
    if (!cur) throw new Error(`unknown demo node ${name}`);
    const next: KubeNodeStatus = { name, ready, kubeletVersion: cur.kubeletVersion };
    if (!ready) next.reason = reason ?? 'KubeletNotReady';
    if (cur.unschedulable) next.unschedulable = true;
    this.nodes.set(name, next);
    this.changed();
  }

  /** Cordon, drain and uncordon against the demo's pods (demo-drain.ts); one state per source. */
  nodeOps(): KubeNodeOps {
    this.drainOps ??= new DemoNodeOps(
      this.specs,
      {
        unschedulable: (name) => {
          const n = this.nodes.get(name);
          return n ? n.unschedulable === true : undefined;
        },
        setUnschedulable: (name, value) => {
          const n = this.nodes.get(name);
          if (!n) throw new Error(`nodes "${name}" not found`);
          const next: KubeNodeStatus = { ...n };
          if (value) next.unschedulable = true;
          else delete next.unschedulable;
          this.nodes.set(name, next);
          this.changed();
        },
      },
      this.now,
    );
    return this.drainOps;
  }

  /** Fault injection: the API server does not answer. */
  setReachable(reachable: boolean): void {
    this.reachable = reachable;
    this.changed();
  }

  /** Append an ingress-nginx controller log line (the demo NGINX generator feeds this). */
  pushIngressLog(pod: string, text: string): void {
    this.logLines.push(
      visibleOnce(
        Object.freeze({
          pod,
          text,
          time: new Date(this.now()).toISOString(),
          seq: ++this.logTotal,
        }),
      ),
    );
    if (this.logLines.length > this.logMax)
      this.logLines.splice(0, this.logLines.length - this.logMax);
    this.changed('log');
  }

  private services: KubeService[] = [];

  /** The Services the demo API answers (session/demo.ts: hubble-relay's). */
  setServices(services: KubeService[]): void {
    this.services = services.map((s) => ({ ...s, ports: s.ports.map((p) => ({ ...p })) }));
  }

  async getService(namespace: string, name: string, opts?: CallOptions): Promise<KubeService> {
    opts?.signal?.throwIfAborted();
    if (this.closed) throw new DemoKubeError('closed', 'kube source is closed');
    if (!this.reachable) throw new DemoKubeError('unreachable', this.unreachableMessage());
    const s = this.services.find((x) => x.namespace === namespace && x.name === name);
    if (!s) throw new DemoKubeError('not-found', `services "${name}" not found`);
    return { ...s, ports: s.ports.map((p) => ({ ...p })) };
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
    const s = this.fixedSections();
    const ingressLog: KubeLogView = Object.freeze({
      // Each line is frozen when pushed: the snapshot shares them.
      lines: Object.freeze(this.logLines.slice()),
      total: this.logTotal,
      dropped: this.logTotal - this.logLines.length,
      following: Object.freeze(
        s.ingressControllerPods.value?.map((p) => `${p.namespace}/${p.name}`) ?? [],
      ),
      ...(this.logTotal > 0 ? { updatedAt: this.now() } : {}),
    });
    this.sections ??= this.buildSections();
    this.snap = Object.freeze({ ...this.sections, ingressLog } as KubeClusterSnapshot);
    return this.snap;
  }

  private fixedSections(): DemoFixedSections {
    this.fixed ??= demoFixedSections(this.specs, this.context, this.startedAt);
    return this.fixed;
  }

  private buildSections(): Omit<KubeClusterSnapshot, 'ingressLog'> {
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
    const s = this.fixedSections();
    const withErr = <T>(x: KubeSection<T>): KubeSection<T> =>
      error ? Object.freeze({ ...x, error, synced: false }) : x;
    return Object.freeze({
      api,
      nodes,
      // every fixed section (pods, cilium-config, BGP, addons, …), with the error while unreachable
      ...(Object.fromEntries(
        Object.entries(s).map(([k, x]) => [k, withErr(x as KubeSection<unknown>)]),
      ) as DemoFixedSections),
      certificates: this.acme
        ? withErr(demoSection({ certificates: this.acme }, at))
        : withErr(demoSection({ certificates: [] }, at)),
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.trafficTimer) clearInterval(this.trafficTimer);
    this.listeners.clear();
  }

  private unreachableMessage(): string {
    return `${this.context}: dial tcp 10.77.0.11:6443: connect: connection refused`;
  }

  /** `log`: only the ingress log moved; every other section keeps its identity. */
  private changed(what: 'log' | 'all' = 'all'): void {
    this.snap = undefined;
    if (what === 'all') this.sections = undefined;
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
