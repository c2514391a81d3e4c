/**
 * KubeClusterSource: the cluster as k8ops watches it. One watch per section of the
 * snapshot, listed in `KUBE_WATCHES` (watches/index.ts): nodes; cilium, hubble-relay and
 * ingress-nginx controller pods; the cilium-config ConfigMap; Deployments/DaemonSets for
 * addon versions; CiliumBGPNodeConfig at the discovered version; ingress-nginx controller
 * logs followed into a ring; and the API's reachability, a check of `/version` that also
 * picks the route (direct, through the SSH tunnel, or direct falling back to the tunnel
 * with a notice) that every other watch uses. This class composes them: it starts and
 * closes them together, builds the snapshot from their sections and tells listeners.
 *
 * Nothing here throws into a caller that polls: failures are `error` fields of the
 * snapshot's sections (`listNodes` rejects with a KubeError, as the collector expects).
 */
import type { CallOptions } from '../store/io.js';
import type { KubeEndpoint } from './endpoint.js';
import { KubeError } from './errors.js';
import type { KubeContextConfig } from './kubeconfig.js';
import type { LogFollowers } from './logs.js';
import { HttpNodeOps, type KubeNodeOps } from './node-ops.js';
import {
  DEFAULT_KUBE_LIMITS,
  DEFAULT_KUBE_TIMING,
  type KubeLimits,
  type KubeTiming,
  type TunnelMode,
} from './options.js';
import { parseService } from './parse/service.js';
import type { OpenForward } from './tunnel.js';
import type {
  AddonVersion,
  CiliumConfigSummary,
  KubeClusterSnapshot,
  KubeContextInfo,
  KubeNodeStatus,
  KubePod,
  KubeRoute,
  KubeService,
  LiveKubeSource,
} from './types.js';
import type { ListWatcher } from './watch.js';
import type { ApiWatch } from './watches/api.js';
import { createWatches, type KubeWatches, watchKeys } from './watches/index.js';
import type { KubeWatch, WatchContext } from './watches/kube-watch.js';
import { listNodesOnce } from './watches/nodes.js';

export {
  DEFAULT_KUBE_LIMITS,
  DEFAULT_KUBE_TIMING,
  type KubeLimits,
  type KubeTiming,
  type TunnelMode,
} from './options.js';

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

export class KubeClusterSource implements LiveKubeSource {
  readonly context: string;
  readonly config: KubeContextConfig;
  readonly mode: TunnelMode;
  readonly #opts: KubeClusterSourceOptions;
  readonly #timing: KubeTiming;
  readonly #watches: KubeWatches;
  /** The route: every other watch reaches the API through its transport. */
  readonly #api: ApiWatch;
  readonly #listeners = new Set<() => void>();
  #closed = false;
  #started = false;
  #notifyPending = false;
  #snapshot: KubeClusterSnapshot | undefined;

  // The watchers behind some sections (tests and diagnostics).
  readonly nodes: ListWatcher<KubeNodeStatus>;
  readonly ciliumPods: ListWatcher<KubePod>;
  readonly hubbleRelayPods: ListWatcher<KubePod>;
  readonly ingressPods: ListWatcher<KubePod>;
  readonly ciliumConfig: ListWatcher<CiliumConfigSummary>;
  readonly workloads: ListWatcher<AddonVersion>[];
  readonly logs: LogFollowers;

  constructor(opts: KubeClusterSourceOptions) {
    this.#opts = opts;
    this.config = opts.config;
    this.context = opts.config.context;
    this.mode = opts.tunnel ?? (opts.openForward ? 'auto' : 'off');
    this.#timing = { ...DEFAULT_KUBE_TIMING, ...opts.timing };
    const ctx: WatchContext = {
      config: opts.config,
      mode: this.mode,
      openForward: opts.openForward,
      ciliumNamespace: opts.ciliumNamespace ?? 'kube-system',
      ingressNamespace: opts.ingressNamespace ?? 'ingress-nginx',
      limits: { ...DEFAULT_KUBE_LIMITS, ...opts.limits },
      timing: this.#timing,
      now: opts.now ?? Date.now,
      http: () => this.#api.http(),
      changed: () => this.#changed(),
      transportTrouble: () => this.#api.trouble(),
      routeChanged: () => {
        for (const w of this.#all()) w.reconnect();
      },
    };
    this.#watches = createWatches(ctx);
    const w = this.#watches;
    this.#api = w.api;
    this.nodes = w.nodes.watcher;
    this.ciliumPods = w.ciliumPods.watcher;
    this.hubbleRelayPods = w.hubbleRelayPods.watcher;
    this.ingressPods = w.ingressControllerPods.watcher;
    this.ciliumConfig = w.ciliumConfig.watcher;
    this.workloads = w.addons.watchers;
    this.logs = w.ingressLog.followers;
    if (opts.start !== false) this.start();
  }

  #all(): KubeWatch<unknown>[] {
    return watchKeys().map((k) => this.#watches[k] as KubeWatch<unknown>);
  }

  /** Connect and start every watch (idempotent; the constructor calls it unless `start: false`). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    if (!this.#api.base) return;
    // Each watch waits for a transport; the API watch puts one in place and wakes them.
    for (const w of this.#all()) w.start();
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
    const noRoute = this.#api.noRoute();
    const snap: Partial<Record<keyof KubeClusterSnapshot, unknown>> = {};
    for (const k of watchKeys()) snap[k] = this.#watches[k].section(noRoute);
    this.#snapshot = Object.freeze(snap as KubeClusterSnapshot);
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
    const cached = this.#watches.nodes.cached();
    if (cached) return cached;
    const http = this.#api.http();
    if (!http) throw this.#api.notConnected();
    return listNodesOnce(http, opts);
  }

  /** Cordon/drain/uncordon through the API route the watches use. */
  nodeOps(): KubeNodeOps {
    return new HttpNodeOps(() => (this.#closed ? undefined : this.#api.http()));
  }

  /** One GET of a Service (hubble-relay's ClusterIP); rejects with a KubeError. */
  async getService(namespace: string, name: string, opts?: CallOptions): Promise<KubeService> {
    opts?.signal?.throwIfAborted();
    if (this.#closed) throw new KubeError({ kind: 'closed', message: 'kube source is closed' });
    const http = this.#api.http();
    if (!http) throw this.#api.notConnected();
    const ref = { verb: 'get', resource: 'services', namespace, name } as const;
    const body = await http.getJson<unknown>(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`,
      ref,
      {
        ...(opts?.signal ? { signal: opts.signal } : {}),
        ...(opts?.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      },
    );
    const svc = parseService(body);
    if (!svc)
      throw new KubeError({
        kind: 'protocol',
        ref,
        message: `get services ${namespace}/${name}: the API server sent no Service`,
      });
    return svc;
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
    // Every watch stops now; the API watch last, as it closes the transports and the
    // tunnel, which also ends requests no signal reaches (a discovery or probe in flight).
    const others = this.#all().filter((w) => w !== this.#api);
    await Promise.allSettled([...others.map((w) => w.close()), this.#api.close()]);
    this.#listeners.clear();
  }

  /** The endpoint in use (tests and the `nodes` view). */
  get route(): { via: KubeRoute; endpoint?: KubeEndpoint } {
    return this.#api.route;
  }

  // ---- internals ------------------------------------------------------------------------

  #changed(): void {
    this.#snapshot = undefined;
    if (this.#notifyPending || this.#closed) return;
    this.#notifyPending = true;
    const flush = () => {
      this.#notifyPending = false;
      if (this.#closed) return;
      const snap = this.snapshot();
      for (const w of this.#all()) w.observe?.(snap);
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
}
