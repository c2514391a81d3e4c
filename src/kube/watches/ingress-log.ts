/**
 * The ingress-nginx controller logs: every running controller pod (up to `maxLogPods`,
 * from the `ingressControllerPods` section) followed into one bounded ring. Store id
 * `kube.ingress-log`.
 */
import { LogFollowers, LogRing } from '../logs.js';
import type { KubeClusterSnapshot, KubeLogView, KubePod } from '../types.js';
import type { KubeWatch, KubeWatchDef, WatchContext } from './kube-watch.js';
import { freeze, Memo } from './sections.js';

export class IngressLogWatch implements KubeWatch<KubeLogView> {
  readonly followers: LogFollowers;
  readonly #ring: LogRing;
  readonly #now: () => number;
  readonly #memo = new Memo<KubeLogView>();
  #lastPods: readonly KubePod[] | undefined;

  constructor(ctx: WatchContext) {
    const l = ctx.limits;
    this.#now = ctx.now;
    this.#ring = new LogRing(l.logLines, l.logBytes);
    this.followers = new LogFollowers({
      http: ctx.http,
      ring: this.#ring,
      onChange: ctx.changed,
      timing: { maxLineBytes: l.logMaxLineBytes, ...ctx.timing.log },
      maxPods: l.maxLogPods,
      container: 'controller',
    });
  }

  /** Followers start from the pods `observe` sees. */
  start(): void {}

  reconnect(): void {
    this.followers.reconnect();
  }

  close(): Promise<void> {
    return this.followers.close();
  }

  /** Follow the controller pods of each new snapshot. */
  observe(snap: KubeClusterSnapshot): void {
    const pods = snap.ingressControllerPods.value;
    if (pods && pods !== this.#lastPods) {
      this.#lastPods = pods;
      this.followers.sync(pods);
    }
  }

  section(): KubeLogView {
    const ringView = this.#ring.view();
    const fv = this.followers.view();
    return this.#memo.get(
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
  }
}

export const INGRESS_LOG = {
  storeId: 'kube.ingress-log',
  create: (ctx) => new IngressLogWatch(ctx),
  // The view is always written; an error marks it stale.
  toStore: (log) => ({ value: log, updatedAt: log.updatedAt, error: log.error }),
} as const satisfies KubeWatchDef<KubeLogView, IngressLogWatch>;
