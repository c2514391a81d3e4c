/**
 * Addon versions: the Deployments and DaemonSets of Cilium's and ingress-nginx's
 * namespaces and of the other declared addons' (ADDON_NAMESPACES; each namespace once),
 * merged into one section. Store id `kube.addons`. A namespace k8ops may not list
 * (forbidden) or that does not exist only leaves its addons out: it never hides the
 * others behind an error.
 */
import { parseWorkload } from '../parse/workload.js';
import type { AddonVersion, KubeErrorInfo, KubeSection } from '../types.js';
import type { ListWatcher, ListWatchState } from '../watch.js';
import type { KubeWatch, KubeWatchDef, WatchContext } from './kube-watch.js';
import { listWatcher } from './list.js';
import { Memo } from './sections.js';

/** Namespaces of the declared addons beyond Cilium's and the ingress's (nix/addons/addons.json). */
export const ADDON_NAMESPACES = ['cert-manager', 'kubernetes-dashboard', 'monitoring'] as const;

export class AddonsWatch implements KubeWatch<KubeSection<readonly AddonVersion[]>> {
  readonly watchers: ListWatcher<AddonVersion>[];
  /** Per watcher: its namespace's forbidden/not-found errors are not the section's error. */
  readonly quiet: readonly boolean[];
  readonly #memo = new Memo<KubeSection<readonly AddonVersion[]>>();

  constructor(ctx: WatchContext) {
    const max = ctx.limits.maxWorkloads;
    const namespaces = [
      ...new Set([ctx.ciliumNamespace, ctx.ingressNamespace, ...ADDON_NAMESPACES]),
    ];
    const optional = (n: string) => n !== ctx.ciliumNamespace && n !== ctx.ingressNamespace;
    this.quiet = namespaces.flatMap((n) => [optional(n), optional(n)]);
    this.watchers = namespaces.flatMap((ns) => [
      listWatcher<AddonVersion>(
        ctx,
        {
          path: `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/deployments`,
          ref: { resource: 'deployments', group: 'apps', namespace: ns },
          map: (o) => parseWorkload(o, 'Deployment'),
        },
        max,
      ),
      listWatcher<AddonVersion>(
        ctx,
        {
          path: `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/daemonsets`,
          ref: { resource: 'daemonsets', group: 'apps', namespace: ns },
          map: (o) => parseWorkload(o, 'DaemonSet'),
        },
        max,
      ),
    ]);
  }

  start(): void {
    for (const w of this.watchers) w.start();
  }

  reconnect(): void {
    for (const w of this.watchers) w.reconnect();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.watchers.map((w) => w.close()));
  }

  section(noRoute: KubeErrorInfo | undefined): KubeSection<readonly AddonVersion[]> {
    const states = this.watchers.map((w) => w.state());
    return this.#memo.get([...states, noRoute], () => mergeWorkloads(states, noRoute, this.quiet));
  }
}

/** An optional namespace that k8ops may not list, or that does not exist. */
const ignorable = (x: ListWatchState<unknown>, quiet: boolean | undefined): boolean =>
  !!quiet && (x.error?.kind === 'forbidden' || x.error?.kind === 'not-found');

function mergeWorkloads(
  states: readonly ListWatchState<AddonVersion>[],
  noRoute: KubeErrorInfo | undefined,
  quiet: readonly boolean[] = [],
): KubeSection<readonly AddonVersion[]> {
  const s: {
    value?: readonly AddonVersion[];
    error?: KubeErrorInfo;
    updatedAt?: number;
    synced: boolean;
    truncated?: boolean;
  } = { synced: states.every((x, i) => x.synced || ignorable(x, quiet[i])) };
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
  const error = states.find((x, i) => x.error && !ignorable(x, quiet[i]))?.error ?? noRoute;
  if (error) s.error = error;
  if (states.some((x) => x.truncated)) s.truncated = true;
  return Object.freeze(s);
}

export const ADDONS = {
  storeId: 'kube.addons',
  create: (ctx) => new AddonsWatch(ctx),
} as const satisfies KubeWatchDef<KubeSection<readonly AddonVersion[]>, AddonsWatch>;
