/**
 * KubeClusterSource: the cluster as k8ops watches it. One ListWatcher per data set
 * (nodes; cilium, hubble-relay and ingress-nginx controller pods; the cilium-config
 * ConfigMap; Deployments/DaemonSets for addon versions; CiliumBGPNodeConfig at the
 * discovered version), ingress-nginx controller logs followed into a ring, and a
 * reachability check of `/version` that also picks the route: direct, through the SSH
 * tunnel, or direct falling back to the tunnel with a notice.
 *
 * Nothing here throws into a caller that polls: failures are `error` fields of the
 * snapshot's sections (`listNodes` rejects with a KubeError, as the collector expects).
 */
import type { CallOptions } from '../store/io.js';
import { BGP_NODE_CONFIGS, discoverBgpNodeConfigs, type ServedResource } from './discovery.js';
import { directEndpoint, hostPort, type KubeEndpoint } from './endpoint.js';
import { isKubeError, KubeError } from './errors.js';
import { KubeHttp, type KubeHttpOptions } from './http.js';
import type { KubeContextConfig } from './kubeconfig.js';
import { LogFollowers, LogRing, type LogTiming } from './logs.js';
import { parseBgpNodeConfig } from './parse/bgp.js';
import { parseCiliumConfig } from './parse/cilium-config.js';
import { parseNode } from './parse/node.js';
import { parsePod } from './parse/pod.js';
import { parseWorkload } from './parse/workload.js';
import { backoffMs, Sleeper } from './timers.js';
import { connectThroughTunnel, type KubeTunnel, type OpenForward } from './tunnel.js';
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
  KubeRoute,
  KubeSection,
  LiveKubeSource,
} from './types.js';
import {
  ListWatcher,
  type ListWatchSpec,
  type ListWatchState,
  type WatchLimits,
  type WatchTiming,
} from './watch.js';

/** `off`: direct only. `always`: only through the SSH tunnel. `auto`: direct, falling back to the tunnel. */
export type TunnelMode = 'off' | 'auto' | 'always';

export interface KubeLimits {
  maxNodes: number;
  /** Per pod selector. */
  maxPods: number;
  /** Deployments/DaemonSets per namespace. */
  maxWorkloads: number;
  maxBgpNodeConfigs: number;
  maxEventBytes: number;
  /** Ingress log ring: lines and bytes. */
  logLines: number;
  logBytes: number;
  logMaxLineBytes: number;
  /** Controller pods followed at once. */
  maxLogPods: number;
}

export const DEFAULT_KUBE_LIMITS: KubeLimits = {
  maxNodes: 5000,
  maxPods: 2000,
  maxWorkloads: 500,
  maxBgpNodeConfigs: 5000,
  maxEventBytes: 4 * 1024 * 1024,
  logLines: 2000,
  logBytes: 2 * 1024 * 1024,
  logMaxLineBytes: 16 * 1024,
  maxLogPods: 4,
};

export interface KubeTiming {
  http: Partial<KubeHttpOptions>;
  watch: Partial<WatchTiming>;
  log: Partial<LogTiming>;
  /** `/version` check bound. */
  probeTimeoutMs: number;
  /** Reachability re-check period. */
  healthIntervalMs: number;
  /** Earliest re-check after a watch reported a transport error. */
  minProbeGapMs: number;
  /** Re-discovery of CiliumBGPNodeConfig when it is not served. */
  rediscoverMs: number;
  /** Backoff while no route works. */
  connectBackoffInitialMs: number;
  connectBackoffMaxMs: number;
  /** Change notifications are coalesced over this window (0: next microtask). */
  coalesceMs: number;
}

export const DEFAULT_KUBE_TIMING: KubeTiming = {
  http: {},
  watch: {},
  log: {},
  probeTimeoutMs: 5000,
  healthIntervalMs: 30_000,
  minProbeGapMs: 2000,
  rediscoverMs: 60_000,
  connectBackoffInitialMs: 1000,
  connectBackoffMaxMs: 30_000,
  coalesceMs: 100,
};

export interface KubeClusterSourceOptions {
  config: KubeContextConfig;
  /** Default: `auto` when `openForward` is given, else `off`. */
  tunnel?: TunnelMode;
  openForward?: OpenForward;
  /** Namespace of the ingress-nginx controller (inventory `ingress.namespace`). */
  ingressNamespace?: string;
  /** Namespace of Cilium and hubble-relay. */
  ciliumNamespace?: string;
  limits?: Partial<KubeLimits>;
  timing?: Partial<KubeTiming>;
  now?: () => number;
  /** Start connecting and watching at once (default true). */
  start?: boolean;
}

export type KubeSwitchResult =
  | { ok: true; source: KubeClusterSource }
  | { ok: false; error: KubeError };

const NETWORK_KINDS = new Set(['unreachable', 'timeout']);

interface BgpState {
  served?: ServedResource;
  absent?: string;
  error?: KubeError;
  watcher?: ListWatcher<BgpNodeConfigStatus>;
}

type Memo = { deps: readonly unknown[]; value: unknown };

export class KubeClusterSource implements LiveKubeSource {
  readonly context: string;
  readonly config: KubeContextConfig;
  readonly mode: TunnelMode;
  readonly #opts: KubeClusterSourceOptions;
  readonly #limits: KubeLimits;
  readonly #timing: KubeTiming;
  readonly #now: () => number;
  readonly #base: KubeEndpoint | undefined;
  readonly #ciliumNs: string;
  readonly #ingressNs: string;
  #http: KubeHttp | undefined;
  #tunnel: KubeTunnel | undefined;
  #api: KubeApiStatus;
  readonly #listeners = new Set<() => void>();
  readonly #supervisor = new Sleeper();
  readonly #bgpSleeper = new Sleeper();
  #closed = false;
  #started = false;
  #loops: Promise<void>[] = [];
  #notifyPending = false;
  #snapshot: KubeClusterSnapshot | undefined;
  readonly #memo = new Map<string, Memo>();
  #lastProbeAt = 0;
  #lastIngressPods: readonly KubePod[] | undefined;
  /** Every transport made (probes in flight included), so close() cuts them at once. */
  readonly #transports = new Set<KubeHttp>();

  readonly nodes: ListWatcher<KubeNodeStatus>;
  readonly ciliumPods: ListWatcher<KubePod>;
  readonly hubbleRelayPods: ListWatcher<KubePod>;
  readonly ingressPods: ListWatcher<KubePod>;
  readonly ciliumConfig: ListWatcher<CiliumConfigSummary>;
  readonly workloads: ListWatcher<AddonVersion>[];
  readonly logs: LogFollowers;
  readonly #ring: LogRing;
  readonly #bgp: BgpState = {};

  constructor(opts: KubeClusterSourceOptions) {
    this.#opts = opts;
    this.config = opts.config;
    this.context = opts.config.context;
    this.mode = opts.tunnel ?? (opts.openForward ? 'auto' : 'off');
    this.#limits = { ...DEFAULT_KUBE_LIMITS, ...opts.limits };
    this.#timing = { ...DEFAULT_KUBE_TIMING, ...opts.timing };
    this.#now = opts.now ?? Date.now;
    this.#ciliumNs = opts.ciliumNamespace ?? 'kube-system';
    this.#ingressNs = opts.ingressNamespace ?? 'ingress-nginx';
    let base: KubeEndpoint | undefined;
    let initialError: KubeError | undefined;
    try {
      base = directEndpoint(opts.config);
    } catch (e) {
      initialError = isKubeError(e) ? e : new KubeError({ kind: 'kubeconfig', message: String(e) });
    }
    this.#base = base;
    const cluster = opts.config.kubeConfig.getCurrentCluster();
    this.#api = freeze<KubeApiStatus>({
      context: this.context,
      server: cluster?.server ?? '',
      via: this.mode === 'always' ? 'tunnel' : 'direct',
      tlsServerName: base?.verifyName ?? '',
      ...(initialError ? { error: initialError.toInfo(), reachable: false } : {}),
    });
    if (this.mode === 'always' && !opts.openForward) {
      this.#api = freeze({
        ...this.#api,
        error: {
          kind: 'tunnel',
          message: 'kube.tunnel is set but no SSH forward is available for the API tunnel',
        },
      });
    }

    const http = () => this.#http;
    const onChange = () => this.#changed();
    const onTransportError = () => this.#transportTrouble();
    const w = this.#timing.watch;
    const mk = <T>(spec: ListWatchSpec<T>, maxItems: number) =>
      new ListWatcher<T>({
        spec,
        http,
        timing: w,
        limits: { maxItems, maxEventBytes: this.#limits.maxEventBytes } satisfies WatchLimits,
        onChange,
        onTransportError,
        now: this.#now,
      });
    const podsPath = (ns: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`;
    this.nodes = mk<KubeNodeStatus>(
      { path: '/api/v1/nodes', ref: { resource: 'nodes' }, map: parseNode },
      this.#limits.maxNodes,
    );
    this.ciliumPods = mk<KubePod>(
      {
        path: podsPath(this.#ciliumNs),
        ref: { resource: 'pods', namespace: this.#ciliumNs },
        labelSelector: 'k8s-app=cilium',
        map: parsePod,
      },
      this.#limits.maxPods,
    );
    this.hubbleRelayPods = mk<KubePod>(
      {
        path: podsPath(this.#ciliumNs),
        ref: { resource: 'pods', namespace: this.#ciliumNs },
        labelSelector: 'k8s-app=hubble-relay',
        map: parsePod,
      },
      this.#limits.maxPods,
    );
    this.ingressPods = mk<KubePod>(
      {
        path: podsPath(this.#ingressNs),
        ref: { resource: 'pods', namespace: this.#ingressNs },
        labelSelector:
          'app.kubernetes.io/name=ingress-nginx,app.kubernetes.io/component=controller',
        map: parsePod,
      },
      this.#limits.maxPods,
    );
    this.ciliumConfig = mk<CiliumConfigSummary>(
      {
        path: `/api/v1/namespaces/${encodeURIComponent(this.#ciliumNs)}/configmaps`,
        ref: { resource: 'configmaps', namespace: this.#ciliumNs },
        fieldSelector: 'metadata.name=cilium-config',
        map: parseCiliumConfig,
      },
      4,
    );
    const namespaces = [...new Set([this.#ciliumNs, this.#ingressNs])];
    this.workloads = namespaces.flatMap((ns) => [
      mk<AddonVersion>(
        {
          path: `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/deployments`,
          ref: { resource: 'deployments', group: 'apps', namespace: ns },
          map: (o) => parseWorkload(o, 'Deployment'),
        },
        this.#limits.maxWorkloads,
      ),
      mk<AddonVersion>(
        {
          path: `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/daemonsets`,
          ref: { resource: 'daemonsets', group: 'apps', namespace: ns },
          map: (o) => parseWorkload(o, 'DaemonSet'),
        },
        this.#limits.maxWorkloads,
      ),
    ]);
    this.#ring = new LogRing(this.#limits.logLines, this.#limits.logBytes);
    this.logs = new LogFollowers({
      http,
      ring: this.#ring,
      onChange,
      timing: { maxLineBytes: this.#limits.logMaxLineBytes, ...this.#timing.log },
      maxPods: this.#limits.maxLogPods,
      container: 'controller',
    });
    if (opts.start !== false) this.start();
  }

  #watchers(): ListWatcher<unknown>[] {
    const all: ListWatcher<unknown>[] = [
      this.nodes,
      this.ciliumPods,
      this.hubbleRelayPods,
      this.ingressPods,
      this.ciliumConfig,
      ...this.workloads,
    ] as ListWatcher<unknown>[];
    if (this.#bgp.watcher) all.push(this.#bgp.watcher as ListWatcher<unknown>);
    return all;
  }

  /** Connect and start every watch (idempotent; the constructor calls it unless `start: false`). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    if (!this.#base) return;
    for (const w of this.#watchers()) w.start();
    this.#loops.push(this.#supervise(), this.#runBgp());
  }

  // ---- LiveKubeSource -------------------------------------------------------------------

  onChange(cb: () => void): () => void {
    this.#listeners.add(cb);
    return () => {
      this.#listeners.delete(cb);
    };
  }

  contexts(): KubeContextInfo[] {
    return this.config.contexts.map((c) => ({ ...c }));
  }

  snapshot(): KubeClusterSnapshot {
    if (this.#snapshot) return this.#snapshot;
    const noRoute = !this.#http && this.#api.error ? this.#api.error : undefined;
    const nodes = this.#section('nodes', [this.nodes.state(), noRoute], () =>
      listSection(this.nodes.state(), noRoute, byName),
    );
    const ciliumPods = this.#section('ciliumPods', [this.ciliumPods.state(), noRoute], () =>
      listSection(this.ciliumPods.state(), noRoute, byName),
    );
    const hubbleRelayPods = this.#section(
      'relayPods',
      [this.hubbleRelayPods.state(), noRoute],
      () => listSection(this.hubbleRelayPods.state(), noRoute, byName),
    );
    const ingressControllerPods = this.#section(
      'ingressPods',
      [this.ingressPods.state(), noRoute],
      () => listSection(this.ingressPods.state(), noRoute, byName),
    );
    const ciliumConfig = this.#section('ciliumConfig', [this.ciliumConfig.state(), noRoute], () => {
      const st = this.ciliumConfig.state();
      const s = listSection(st, noRoute, () => 0);
      const value = s.value
        ? (s.value.find((c) => c.namespace === this.#ciliumNs) ?? null)
        : undefined;
      return withValue(s, value);
    });
    const wstates = this.workloads.map((w) => w.state());
    const addons = this.#section('addons', [...wstates, noRoute], () =>
      mergeWorkloads(wstates, noRoute),
    );
    const bw = this.#bgp.watcher?.state();
    const bgp = this.#section(
      'bgp',
      [bw, this.#bgp.served, this.#bgp.absent, this.#bgp.error, noRoute],
      () => this.#bgpSection(bw, noRoute),
    );
    const ringView = this.#ring.view();
    const fv = this.logs.view();
    const ingressLog = this.#section(
      'ingressLog',
      [ringView, fv.following.join('\n'), fv.error?.message],
      (): KubeLogView =>
        freeze({
          lines: ringView.lines,
          total: ringView.total,
          dropped: ringView.dropped,
          following: Object.freeze(fv.following),
          ...(fv.error ? { error: fv.error } : {}),
          ...(ringView.total > 0 ? { updatedAt: this.#now() } : {}),
        }),
    );
    this.#snapshot = freeze<KubeClusterSnapshot>({
      api: this.#api,
      nodes,
      ciliumPods,
      hubbleRelayPods,
      ingressControllerPods,
      ciliumConfig,
      bgp,
      addons,
      ingressLog,
    });
    return this.#snapshot;
  }

  /**
   * Resolves once the first reachability check and the first nodes LIST have settled
   * (value or error), or after `timeoutMs` — for one-shot subcommands (`k8ops nodes --json`).
   * Never rejects.
   */
  whenSettled(timeoutMs = 10_000): Promise<KubeClusterSnapshot> {
    const settled = (s: KubeClusterSnapshot) =>
      s.api.checkedAt !== undefined && (s.nodes.value !== undefined || s.nodes.error !== undefined);
    return new Promise((resolve) => {
      if (this.#closed || settled(this.snapshot())) {
        resolve(this.snapshot());
        return;
      }
      const timer = setTimeout(() => finish(), timeoutMs);
      const off = this.onChange(() => {
        if (settled(this.snapshot())) finish();
      });
      const finish = () => {
        clearTimeout(timer);
        off();
        resolve(this.snapshot());
      };
    });
  }

  // ---- KubeSource -----------------------------------------------------------------------

  /** Nodes from the watch cache when it is in sync, else one LIST (rejects with a KubeError). */
  async listNodes(opts?: CallOptions): Promise<KubeNodeStatus[]> {
    opts?.signal?.throwIfAborted();
    if (this.#closed) throw new KubeError({ kind: 'closed', message: 'kube source is closed' });
    const st = this.nodes.state();
    if (st.synced && st.updatedAt !== undefined) return [...st.items.values()].sort(byName);
    const http = this.#http;
    if (!http) {
      const e = this.#api.error;
      throw new KubeError({
        kind: (e?.kind as KubeError['kind']) ?? 'unreachable',
        message: e?.message ?? `API server ${this.#api.server}: not connected yet`,
      });
    }
    const list = await http.getJson<{ items?: unknown[] }>(
      '/api/v1/nodes',
      { verb: 'list', resource: 'nodes' },
      {
        ...(opts?.signal ? { signal: opts.signal } : {}),
        ...(opts?.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      },
    );
    return (Array.isArray(list.items) ? list.items : [])
      .map(parseNode)
      .filter((n): n is KubeNodeStatus => n !== undefined)
      .sort(byName);
  }

  /**
   * The same kubeconfig with another context: on success this source is closed (its
   * watches end) and a new one, with the same options, is returned; on failure (context
   * missing) this source stays open.
   */
  async switchContext(name: string): Promise<KubeSwitchResult> {
    const next = this.config.withContext(name);
    if (!next.ok) return next;
    await this.close();
    return { ok: true, source: new KubeClusterSource({ ...this.#opts, config: next.config }) };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#supervisor.close();
    this.#bgpSleeper.close();
    await Promise.allSettled([...this.#watchers().map((w) => w.close()), this.logs.close()]);
    this.#http?.close();
    for (const t of this.#transports) t.close();
    this.#transports.clear();
    await this.#tunnel?.close();
    await Promise.allSettled(this.#loops);
    this.#listeners.clear();
  }

  /** The endpoint in use (tests and the `nodes` view). */
  get route(): { via: KubeRoute; endpoint?: KubeEndpoint } {
    return this.#http
      ? { via: this.#http.endpoint.via, endpoint: this.#http.endpoint }
      : { via: this.#api.via };
  }

  // ---- internals ------------------------------------------------------------------------

  #section<T>(key: string, deps: readonly unknown[], build: () => T): T {
    const m = this.#memo.get(key);
    if (m && m.deps.length === deps.length && m.deps.every((d, i) => Object.is(d, deps[i]))) {
      return m.value as T;
    }
    const value = build();
    this.#memo.set(key, { deps, value });
    return value;
  }

  #bgpSection(
    st: ListWatchState<BgpNodeConfigStatus> | undefined,
    noRoute: KubeErrorInfo | undefined,
  ): KubeSection<BgpNodeConfigs> {
    const b = this.#bgp;
    if (b.absent !== undefined && !b.served) {
      return freeze({ value: freeze({ absent: b.absent, nodes: [] }), synced: true });
    }
    if (b.served && st) {
      const s = listSection(st, noRoute, (a, c) => a.node.localeCompare(c.node));
      const value: BgpNodeConfigs | undefined = s.value
        ? freeze({ apiVersion: b.served.apiVersion, nodes: s.value as BgpNodeConfigStatus[] })
        : undefined;
      const out = withValue(s, value);
      return b.error && !out.error ? freeze({ ...out, error: b.error.toInfo() }) : out;
    }
    const error = b.error?.toInfo() ?? noRoute;
    return freeze({ synced: false, ...(error ? { error } : {}) });
  }

  #changed(): void {
    this.#snapshot = undefined;
    if (this.#notifyPending || this.#closed) return;
    this.#notifyPending = true;
    const flush = () => {
      this.#notifyPending = false;
      if (this.#closed) return;
      const snap = this.snapshot();
      const pods = snap.ingressControllerPods.value;
      if (pods && pods !== this.#lastIngressPods) {
        this.#lastIngressPods = pods;
        this.logs.sync(pods);
      }
      for (const cb of [...this.#listeners]) {
        try {
          cb();
        } catch {
          // a listener's failure is its own
        }
      }
    };
    if (this.#timing.coalesceMs > 0) setTimeout(flush, this.#timing.coalesceMs).unref?.();
    else queueMicrotask(flush);
  }

  #setApi(patch: Partial<KubeApiStatus>, clear: Array<keyof KubeApiStatus> = []): void {
    const next: Record<string, unknown> = { ...this.#api, ...patch };
    for (const k of clear) delete next[k];
    this.#api = freeze(next as unknown as KubeApiStatus);
    this.#changed();
  }

  #transportTrouble(): void {
    if (this.#now() - this.#lastProbeAt >= this.#timing.minProbeGapMs) this.#supervisor.wake();
  }

  #adopt(http: KubeHttp, tunnel?: KubeTunnel): void {
    const oldHttp = this.#http;
    const oldTunnel = this.#tunnel;
    this.#http = http;
    this.#tunnel = tunnel;
    if (oldHttp && oldHttp !== http) {
      oldHttp.close();
      this.#transports.delete(oldHttp);
    }
    if (oldTunnel && oldTunnel !== tunnel) void oldTunnel.close();
    // Wake every loop waiting for a transport; drop streams still on the old one.
    for (const w of this.#watchers()) w.reconnect();
    this.logs.reconnect();
    this.#bgpSleeper.wake();
    this.#setApi(
      {
        via: http.endpoint.via,
        tlsServerName: http.endpoint.verifyName,
        ...(tunnel ? { connectedTo: `127.0.0.1:${tunnel.localPort}` } : {}),
      },
      tunnel ? [] : ['connectedTo'],
    );
  }

  #newHttp(ep: KubeEndpoint): KubeHttp {
    const http = new KubeHttp(ep, this.#timing.http);
    this.#transports.add(http);
    return http;
  }

  #drop(http: KubeHttp): void {
    http.close();
    this.#transports.delete(http);
  }

  /** GET /version. */
  async #probe(
    http: KubeHttp,
  ): Promise<{ ok: true; version?: string } | { ok: false; error: KubeError }> {
    this.#lastProbeAt = this.#now();
    try {
      const v = await http.getJson<{ gitVersion?: string }>(
        '/version',
        { verb: 'get', resource: 'version' },
        { timeoutMs: this.#timing.probeTimeoutMs },
      );
      return typeof v.gitVersion === 'string' ? { ok: true, version: v.gitVersion } : { ok: true };
    } catch (e) {
      return {
        ok: false,
        error: isKubeError(e) ? e : new KubeError({ kind: 'unreachable', message: String(e) }),
      };
    }
  }

  #recordProbe(r: { ok: true; version?: string } | { ok: false; error: KubeError }): void {
    const checkedAt = this.#now();
    if (r.ok) {
      this.#setApi(
        { reachable: true, checkedAt, ...(r.version ? { serverVersion: r.version } : {}) },
        ['error'],
      );
    } else {
      // An HTTP answer (401/403…) means the server is there.
      const answered = r.error.code !== undefined;
      this.#setApi({ reachable: answered, checkedAt, error: r.error.toInfo() });
    }
  }

  async #openTunnel(): Promise<{ ok: true; tunnel: KubeTunnel } | { ok: false; error: KubeError }> {
    const open = this.#opts.openForward;
    if (!open) {
      return {
        ok: false,
        error: new KubeError({
          kind: 'tunnel',
          message: 'no SSH forward is available for the API tunnel',
        }),
      };
    }
    try {
      return { ok: true, tunnel: await connectThroughTunnel(this.config, open) };
    } catch (e) {
      return {
        ok: false,
        error: isKubeError(e) ? e : new KubeError({ kind: 'tunnel', message: String(e) }),
      };
    }
  }

  /** Choose the route. True when a transport is in place (watches may start). */
  async #establish(): Promise<boolean> {
    const base = this.#base!;
    if (this.mode === 'off') {
      const http = this.#newHttp(base);
      this.#adopt(http);
      this.#recordProbe(await this.#probe(http));
      return true;
    }
    if (this.mode === 'always') {
      const t = await this.#openTunnel();
      if (this.#closed) {
        if (t.ok) await t.tunnel.close();
        return false;
      }
      if (!t.ok) {
        this.#setApi({ reachable: false, checkedAt: this.#now(), error: t.error.toInfo() });
        return false;
      }
      const http = this.#newHttp(t.tunnel.endpoint);
      this.#adopt(http, t.tunnel);
      this.#recordProbe(await this.#probe(http));
      return true;
    }
    // auto: direct first.
    const direct = this.#newHttp(base);
    const d = await this.#probe(direct);
    if (this.#closed) {
      this.#drop(direct);
      return false;
    }
    if (d.ok || !NETWORK_KINDS.has(d.error.kind)) {
      this.#adopt(direct);
      this.#recordProbe(d);
      return true;
    }
    this.#drop(direct);
    return this.#fallBack(d.error);
  }

  /** Direct failed at the network level: try the tunnel; on success, say so in `notice`. */
  async #fallBack(directError: KubeError): Promise<boolean> {
    const t = await this.#openTunnel();
    if (this.#closed) {
      if (t.ok) await t.tunnel.close();
      return false;
    }
    const target = this.#base
      ? hostPort(this.#base.serverHost, this.#base.serverPort)
      : this.#api.server;
    if (!t.ok) {
      this.#setApi({
        reachable: false,
        checkedAt: this.#now(),
        error: {
          kind: directError.kind,
          message: `${directError.message}; tunnel fallback failed: ${t.error.message}`,
        },
      });
      return false;
    }
    const http = this.#newHttp(t.tunnel.endpoint);
    const p = await this.#probe(http);
    if (this.#closed) {
      this.#drop(http);
      await t.tunnel.close();
      return false;
    }
    if (!p.ok && NETWORK_KINDS.has(p.error.kind)) {
      this.#drop(http);
      await t.tunnel.close();
      this.#setApi({
        reachable: false,
        checkedAt: this.#now(),
        error: {
          kind: p.error.kind,
          message: `${directError.message}; through the SSH tunnel: ${p.error.message}`,
        },
      });
      return false;
    }
    this.#adopt(http, t.tunnel);
    this.#setApi({
      notice: `API server ${target} not reachable directly (${directError.errno ?? directError.kind}); using the SSH tunnel (127.0.0.1:${t.tunnel.localPort})`,
    });
    this.#recordProbe(p);
    return true;
  }

  async #supervise(): Promise<void> {
    let attempt = 0;
    while (!this.#closed) {
      if (!this.#http) {
        const ok = await this.#establish().catch(() => false);
        if (this.#closed) break;
        if (!ok) {
          attempt++;
          await this.#supervisor.wait(
            backoffMs(
              attempt,
              this.#timing.connectBackoffInitialMs,
              this.#timing.connectBackoffMaxMs,
            ),
          );
          continue;
        }
        attempt = 0;
        await this.#supervisor.wait(this.#timing.healthIntervalMs);
        continue;
      }
      const http = this.#http;
      const r = await this.#probe(http);
      if (this.#closed) break;
      this.#recordProbe(r);
      if (
        !r.ok &&
        this.mode === 'auto' &&
        http.endpoint.via === 'direct' &&
        NETWORK_KINDS.has(r.error.kind)
      ) {
        await this.#fallBack(r.error).catch(() => false);
      }
      await this.#supervisor.wait(
        r.ok
          ? this.#timing.healthIntervalMs
          : Math.max(this.#timing.minProbeGapMs, Math.min(this.#timing.healthIntervalMs, 5000)),
      );
    }
  }

  async #runBgp(): Promise<void> {
    let attempt = 0;
    const b = this.#bgp;
    while (!this.#closed) {
      const http = this.#http;
      if (!http) {
        await this.#bgpSleeper.wait(Math.min(500, this.#timing.connectBackoffInitialMs));
        continue;
      }
      try {
        const r = await discoverBgpNodeConfigs(http, { timeoutMs: this.#timing.probeTimeoutMs });
        if (this.#closed) break;
        attempt = 0;
        delete b.error;
        if (!r.ok) {
          delete b.served;
          b.absent = r.absent;
          this.#changed();
          await this.#bgpSleeper.wait(this.#timing.rediscoverMs);
          continue;
        }
        delete b.absent;
        b.served = r.served;
        const watcher = new ListWatcher<BgpNodeConfigStatus>({
          spec: {
            path: `/apis/${r.served.apiVersion}/${BGP_NODE_CONFIGS}`,
            ref: { resource: BGP_NODE_CONFIGS, group: r.served.group },
            map: parseBgpNodeConfig,
          },
          http: () => this.#http,
          timing: this.#timing.watch,
          limits: {
            maxItems: this.#limits.maxBgpNodeConfigs,
            maxEventBytes: this.#limits.maxEventBytes,
          },
          onChange: () => this.#changed(),
          onTransportError: () => this.#transportTrouble(),
          stopOn: (e) => e.kind === 'not-found',
          now: this.#now,
        });
        b.watcher = watcher;
        this.#changed();
        watcher.start();
        await watcher.done();
        if (this.#closed) break;
        // 404: the version went away (Cilium upgrade/downgrade): discover again.
        delete b.watcher;
        delete b.served;
        this.#changed();
      } catch (e) {
        if (this.#closed) break;
        if (isKubeError(e) && (e.kind === 'closed' || e.kind === 'aborted')) {
          // The transport was replaced while discovering: go again with the new one.
          await this.#bgpSleeper.wait(10);
          continue;
        }
        b.error = isKubeError(e) ? e : new KubeError({ kind: 'protocol', message: String(e) });
        this.#changed();
        if (b.error.kind === 'unreachable' || b.error.kind === 'timeout') this.#transportTrouble();
        attempt++;
        await this.#bgpSleeper.wait(
          backoffMs(
            attempt,
            this.#timing.watch.backoffInitialMs ?? 800,
            this.#timing.watch.backoffMaxMs ?? 30_000,
          ),
        );
      }
    }
  }
}

// ---- helpers ------------------------------------------------------------------------------

function freeze<T>(o: T): T {
  return Object.freeze(o);
}

const byName = <T extends { name: string; namespace?: string }>(a: T, b: T): number =>
  (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name);

function listSection<T>(
  st: ListWatchState<T>,
  noRoute: KubeErrorInfo | undefined,
  sort: (a: T, b: T) => number,
): KubeSection<readonly T[]> {
  const s: {
    value?: readonly T[];
    error?: KubeErrorInfo;
    updatedAt?: number;
    synced: boolean;
    truncated?: boolean;
  } = { synced: st.synced };
  if (st.updatedAt !== undefined) {
    s.value = Object.freeze([...st.items.values()].sort(sort));
    s.updatedAt = st.updatedAt;
  }
  const error = st.error ?? noRoute;
  if (error) s.error = error;
  if (st.truncated) s.truncated = true;
  return Object.freeze(s);
}

function withValue<T, V>(s: KubeSection<T>, value: V | undefined): KubeSection<V> {
  const { value: _drop, ...rest } = s;
  return Object.freeze(value === undefined ? rest : { ...rest, value });
}

function mergeWorkloads(
  states: readonly ListWatchState<AddonVersion>[],
  noRoute: KubeErrorInfo | undefined,
): KubeSection<readonly AddonVersion[]> {
  const s: {
    value?: readonly AddonVersion[];
    error?: KubeErrorInfo;
    updatedAt?: number;
    synced: boolean;
    truncated?: boolean;
  } = { synced: states.every((x) => x.synced) };
  if (states.some((x) => x.updatedAt !== undefined)) {
    const all = states.flatMap((x) => [...x.items.values()]);
    all.sort(
      (a, b) =>
        a.addon.localeCompare(b.addon) ||
        a.namespace.localeCompare(b.namespace) ||
        a.kind.localeCompare(b.kind) ||
        a.name.localeCompare(b.name),
    );
    s.value = Object.freeze(all);
    s.updatedAt = Math.max(...states.map((x) => x.updatedAt ?? 0));
  }
  const error = states.find((x) => x.error)?.error ?? noRoute;
  if (error) s.error = error;
  if (states.some((x) => x.truncated)) s.truncated = true;
  return Object.freeze(s);
}
