/**
 * CiliumBGPNodeConfig at the version the cluster serves (discovered: `cilium.io/v2` from
 * Cilium 1.18, `v2alpha1` before), watched until that version goes away (404), then
 * discovered again; while it is not served, the section says why (`absent`) and discovery
 * is retried every `rediscoverMs`. Store id `kube.bgp`.
 */
import { BGP_NODE_CONFIGS, discoverBgpNodeConfigs, type ServedResource } from '../discovery.js';
import { isKubeError, KubeError } from '../errors.js';
import { parseBgpNodeConfig } from '../parse/bgp.js';
import { backoffMs, Sleeper } from '../timers.js';
import type { BgpNodeConfigStatus, BgpNodeConfigs, KubeErrorInfo, KubeSection } from '../types.js';
import type { ListWatcher, ListWatchState } from '../watch.js';
import type { KubeWatch, KubeWatchDef, WatchContext } from './kube-watch.js';
import { listWatcher } from './list.js';
import { freeze, listSection, Memo, withValue } from './sections.js';

export class BgpWatch implements KubeWatch<KubeSection<BgpNodeConfigs>> {
  readonly #ctx: WatchContext;
  readonly #sleeper = new Sleeper();
  readonly #memo = new Memo<KubeSection<BgpNodeConfigs>>();
  #closed = false;
  #loop: Promise<void> | undefined;
  #served: ServedResource | undefined;
  #absent: string | undefined;
  #error: KubeError | undefined;
  #watcher: ListWatcher<BgpNodeConfigStatus> | undefined;

  constructor(ctx: WatchContext) {
    this.#ctx = ctx;
  }

  /** The watch at the served version, while there is one. */
  get watcher(): ListWatcher<BgpNodeConfigStatus> | undefined {
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

  section(noRoute: KubeErrorInfo | undefined): KubeSection<BgpNodeConfigs> {
    const st = this.#watcher?.state();
    return this.#memo.get([st, this.#served, this.#absent, this.#error, noRoute], () =>
      this.#build(st, noRoute),
    );
  }

  #build(
    st: ListWatchState<BgpNodeConfigStatus> | undefined,
    noRoute: KubeErrorInfo | undefined,
  ): KubeSection<BgpNodeConfigs> {
    if (this.#absent !== undefined && !this.#served) {
      return freeze({ value: freeze({ absent: this.#absent, nodes: [] }), synced: true });
    }
    if (this.#served && st) {
      const s = listSection(st, noRoute, (a, c) => a.node.localeCompare(c.node));
      const value: BgpNodeConfigs | undefined = s.value
        ? freeze({ apiVersion: this.#served.apiVersion, nodes: s.value as BgpNodeConfigStatus[] })
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
        const r = await discoverBgpNodeConfigs(http, { timeoutMs: t.probeTimeoutMs });
        if (this.#closed) break;
        attempt = 0;
        this.#error = undefined;
        if (!r.ok) {
          this.#served = undefined;
          this.#absent = r.absent;
          ctx.changed();
          await this.#sleeper.wait(t.rediscoverMs);
          continue;
        }
        this.#absent = undefined;
        this.#served = r.served;
        const watcher = listWatcher<BgpNodeConfigStatus>(
          ctx,
          {
            path: `/apis/${r.served.apiVersion}/${BGP_NODE_CONFIGS}`,
            ref: { resource: BGP_NODE_CONFIGS, group: r.served.group },
            map: parseBgpNodeConfig,
          },
          ctx.limits.maxBgpNodeConfigs,
          { stopOn: (e) => e.kind === 'not-found' },
        );
        this.#watcher = watcher;
        ctx.changed();
        watcher.start();
        await watcher.done();
        if (this.#closed) break;
        // 404: the version went away (Cilium upgrade/downgrade): discover again.
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

export const BGP = {
  storeId: 'kube.bgp',
  create: (ctx) => new BgpWatch(ctx),
} as const satisfies KubeWatchDef<KubeSection<BgpNodeConfigs>, BgpWatch>;
