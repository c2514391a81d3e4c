/**
 * A cilium.io CRD watched at the version the cluster serves (discovered: `cilium.io/v2`
 * from Cilium 1.18, `v2alpha1` before), until that version goes away (404), then
 * discovered again; while it is not served, the section says why (`absent`) and discovery
 * is retried every `rediscoverMs`. One class for every such kind (the BGP node configs,
 * peer configs, advertisements, cluster configs): what differs is the resource, the
 * parser, the order and how the items become the section's value.
 */
import { discoverCiliumResource, forgetDiscovery, type ServedResource } from '../discovery.js';
import { isKubeError, KubeError } from '../errors.js';
import type { KubeLimits } from '../options.js';
import { backoffMs, Sleeper } from '../timers.js';
import type { KubeErrorInfo, KubeSection } from '../types.js';
import type { ListWatcher, ListWatchState } from '../watch.js';
import type { KubeWatch, WatchContext } from './kube-watch.js';
import { listWatcher } from './list.js';
import { freeze, listSection, Memo, withValue } from './sections.js';

export interface ServedCrdSpec<T, V> {
  /** Plural resource name, e.g. `ciliumbgppeerconfigs`. */
  resource: string;
  map(o: unknown): T | undefined;
  compare(a: T, b: T): number;
  maxItems(limits: KubeLimits): number;
  /** The section's value from the items read at `apiVersion`. */
  value(apiVersion: string, items: T[]): V;
  /** The section's value while the resource is not served. */
  absent(why: string): V;
}

export class ServedCrdWatch<T, V> implements KubeWatch<KubeSection<V>> {
  readonly #ctx: WatchContext;
  readonly #spec: ServedCrdSpec<T, V>;
  readonly #sleeper = new Sleeper();
  readonly #memo = new Memo<KubeSection<V>>();
  #closed = false;
  #loop: Promise<void> | undefined;
  #served: ServedResource | undefined;
  #absent: string | undefined;
  #error: KubeError | undefined;
  #watcher: ListWatcher<T> | undefined;

  constructor(ctx: WatchContext, spec: ServedCrdSpec<T, V>) {
    this.#ctx = ctx;
    this.#spec = spec;
  }

  /** The watch at the served version, while there is one. */
  get watcher(): ListWatcher<T> | undefined {
    return this.#watcher;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  reconnect(): void {
    this.#watcher?.reconnect();
    this.#sleeper.wake();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#sleeper.close();
    await Promise.allSettled([this.#watcher?.close(), this.#loop]);
  }

  section(noRoute: KubeErrorInfo | undefined): KubeSection<V> {
    const st = this.#watcher?.state();
    return this.#memo.get([st, this.#served, this.#absent, this.#error, noRoute], () =>
      this.#build(st, noRoute),
    );
  }

  #build(st: ListWatchState<T> | undefined, noRoute: KubeErrorInfo | undefined): KubeSection<V> {
    if (this.#absent !== undefined && !this.#served) {
      return freeze({ value: freeze(this.#spec.absent(this.#absent)), synced: true });
    }
    if (this.#served && st) {
      const s = listSection(st, noRoute, (a, c) => this.#spec.compare(a, c));
      const value: V | undefined = s.value
        ? freeze(this.#spec.value(this.#served.apiVersion, s.value as T[]))
        : undefined;
      const out = withValue(s, value);
      return this.#error && !out.error ? freeze({ ...out, error: this.#error.toInfo() }) : out;
    }
    const error = this.#error?.toInfo() ?? noRoute;
    return freeze({ synced: false, ...(error ? { error } : {}) });
  }

  async #run(): Promise<void> {
    const ctx = this.#ctx;
    const t = ctx.timing;
    let attempt = 0;
    while (!this.#closed) {
      const http = ctx.http();
      if (!http) {
        await this.#sleeper.wait(Math.min(500, t.connectBackoffInitialMs));
        continue;
      }
      try {
        const r = await discoverCiliumResource(http, this.#spec.resource, {
          timeoutMs: t.probeTimeoutMs,
        });
        if (this.#closed) break;
        attempt = 0;
        this.#error = undefined;
        if (!r.ok) {
          // Asked afresh next time: the CRDs may be installed meanwhile.
          forgetDiscovery(http);
          this.#served = undefined;
          this.#absent = r.absent;
          ctx.changed();
          await this.#sleeper.wait(t.rediscoverMs);
          continue;
        }
        this.#absent = undefined;
        this.#served = r.served;
        const watcher = listWatcher<T>(
          ctx,
          {
            path: `/apis/${r.served.apiVersion}/${this.#spec.resource}`,
            ref: { resource: this.#spec.resource, group: r.served.group },
            map: (o) => this.#spec.map(o),
          },
          this.#spec.maxItems(ctx.limits),
          { stopOn: (e) => e.kind === 'not-found' },
        );
        this.#watcher = watcher;
        ctx.changed();
        watcher.start();
        await watcher.done();
        if (this.#closed) break;
        // 404: the version went away (Cilium upgrade/downgrade): discover again, afresh.
        forgetDiscovery(http);
        this.#watcher = undefined;
        this.#served = undefined;
        ctx.changed();
      } catch (e) {
        if (this.#closed) break;
        if (isKubeError(e) && (e.kind === 'closed' || e.kind === 'aborted')) {
          // The transport was replaced while discovering: go again with the new one.
          await this.#sleeper.wait(10);
          continue;
        }
        this.#error = isKubeError(e) ? e : new KubeError({ kind: 'protocol', message: String(e) });
        ctx.changed();
        if (this.#error.kind === 'unreachable' || this.#error.kind === 'timeout') {
          ctx.transportTrouble();
        }
        attempt++;
        await this.#sleeper.wait(
          backoffMs(attempt, t.watch.backoffInitialMs ?? 800, t.watch.backoffMaxMs ?? 30_000),
        );
      }
    }
  }
}
