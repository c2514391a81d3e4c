/**
 * The API server's reachability, and the route every other watch uses: a check of
 * `/version` that also picks the route — direct, through the SSH tunnel, or direct
 * falling back to the tunnel with a notice — and re-checks it every `healthIntervalMs`,
 * sooner when a watch reports transport trouble. It owns the transports (and the tunnel);
 * a new one is announced with `routeChanged`. Store id `kube.api`.
 */
import { hostPort, type KubeEndpoint } from '../endpoint.js';
import { KubeError } from '../errors.js';
import { KubeHttp } from '../http.js';
import { backoffMs, Sleeper } from '../timers.js';
import type { KubeTunnel } from '../tunnel.js';
import type { KubeApiStatus, KubeErrorInfo, KubeRoute } from '../types.js';
import { initialApi, NETWORK_KINDS, openTunnel, type Probe, probeVersion } from './api-route.js';
import type { KubeWatch, KubeWatchDef, WatchContext } from './kube-watch.js';
import { freeze } from './sections.js';

export class ApiWatch implements KubeWatch<KubeApiStatus> {
  readonly #ctx: WatchContext;
  /** Undefined when the kubeconfig gave no usable endpoint (nothing is started then). */
  readonly base: KubeEndpoint | undefined;
  #status: KubeApiStatus;
  #http: KubeHttp | undefined;
  #tunnel: KubeTunnel | undefined;
  readonly #supervisor = new Sleeper();
  #closed = false;
  #loop: Promise<void> | undefined;
  #lastProbeAt = 0;
  /** Every transport made (probes in flight included), so close() cuts them at once. */
  readonly #transports = new Set<KubeHttp>();

  constructor(ctx: WatchContext) {
    this.#ctx = ctx;
    const first = initialApi(ctx);
    this.base = first.base;
    this.#status = first.status;
  }

  /** The transport in use; undefined until a route works. */
  http(): KubeHttp | undefined {
    return this.#http;
  }

  /** The error every section shows while no transport is in place. */
  noRoute(): KubeErrorInfo | undefined {
    return !this.#http && this.#status.error ? this.#status.error : undefined;
  }

  /** Why a request cannot be made yet (no transport). */
  notConnected(): KubeError {
    const e = this.#status.error;
    return new KubeError({
      kind: (e?.kind as KubeError['kind']) ?? 'unreachable',
      message: e?.message ?? `API server ${this.#status.server}: not connected yet`,
    });
  }

  get route(): { via: KubeRoute; endpoint?: KubeEndpoint } {
    return this.#http
      ? { via: this.#http.endpoint.via, endpoint: this.#http.endpoint }
      : { via: this.#status.via };
  }

  start(): void {
    if (this.base) this.#loop ??= this.#supervise();
  }

  /** The route is this watch's own. */
  reconnect(): void {}

  /** A watch saw a network-level failure: re-check now unless a check just ran. */
  trouble(): void {
    if (this.#ctx.now() - this.#lastProbeAt >= this.#ctx.timing.minProbeGapMs) {
      this.#supervisor.wake();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#supervisor.close();
    this.#http?.close();
    for (const t of this.#transports) t.close();
    this.#transports.clear();
    await this.#tunnel?.close();
    await this.#loop;
  }

  section(): KubeApiStatus {
    return this.#status;
  }

  #setApi(patch: Partial<KubeApiStatus>, clear: Array<keyof KubeApiStatus> = []): void {
    const next: Record<string, unknown> = { ...this.#status, ...patch };
    for (const k of clear) delete next[k];
    this.#status = freeze(next as unknown as KubeApiStatus);
    this.#ctx.changed();
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
    this.#ctx.routeChanged();
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
    const http = new KubeHttp(ep, this.#ctx.timing.http);
    this.#transports.add(http);
    return http;
  }

  #drop(http: KubeHttp): void {
    http.close();
    this.#transports.delete(http);
  }

  /** GET /version. */
  #probe(http: KubeHttp): Promise<Probe> {
    this.#lastProbeAt = this.#ctx.now();
    return probeVersion(http, this.#ctx.timing.probeTimeoutMs);
  }

  #recordProbe(r: Probe): void {
    const checkedAt = this.#ctx.now();
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

  /** Choose the route. True when a transport is in place (watches may start). */
  async #establish(): Promise<boolean> {
    const base = this.base!;
    const mode = this.#ctx.mode;
    if (mode === 'off') {
      const http = this.#newHttp(base);
      this.#adopt(http);
      this.#recordProbe(await this.#probe(http));
      return true;
    }
    if (mode === 'always') {
      const t = await openTunnel(this.#ctx);
      if (this.#closed) {
        if (t.ok) await t.tunnel.close();
        return false;
      }
      if (!t.ok) {
        this.#setApi({ reachable: false, checkedAt: this.#ctx.now(), error: t.error.toInfo() });
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
    const t = await openTunnel(this.#ctx);
    if (this.#closed) {
      if (t.ok) await t.tunnel.close();
      return false;
    }
    const target = this.base
      ? hostPort(this.base.serverHost, this.base.serverPort)
      : this.#status.server;
    if (!t.ok) {
      this.#setApi({
        reachable: false,
        checkedAt: this.#ctx.now(),
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
        checkedAt: this.#ctx.now(),
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
    const t = this.#ctx.timing;
    let attempt = 0;
    while (!this.#closed) {
      if (!this.#http) {
        const ok = await this.#establish().catch(() => false);
        if (this.#closed) break;
        if (!ok) {
          attempt++;
          await this.#supervisor.wait(
            backoffMs(attempt, t.connectBackoffInitialMs, t.connectBackoffMaxMs),
          );
          continue;
        }
        attempt = 0;
        await this.#supervisor.wait(t.healthIntervalMs);
        continue;
      }
      const http = this.#http;
      const r = await this.#probe(http);
      if (this.#closed) break;
      this.#recordProbe(r);
      if (
        !r.ok &&
        this.#ctx.mode === 'auto' &&
        http.endpoint.via === 'direct' &&
        NETWORK_KINDS.has(r.error.kind)
      ) {
        await this.#fallBack(r.error).catch(() => false);
      }
      await this.#supervisor.wait(
        r.ok ? t.healthIntervalMs : Math.max(t.minProbeGapMs, Math.min(t.healthIntervalMs, 5000)),
      );
    }
  }
}

export const API = {
  storeId: 'kube.api',
  create: (ctx) => new ApiWatch(ctx),
  // Always written; its error also fails the source, but only while the server is not
  // known to be reachable (a 401/403 answer is reachable).
  toStore: (api) => ({
    value: api,
    updatedAt: api.checkedAt,
    error: api.error && api.reachable !== true ? api.error : undefined,
  }),
} as const satisfies KubeWatchDef<KubeApiStatus, ApiWatch>;
