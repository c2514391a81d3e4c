/**
 * Pods picked by a label selector in one namespace: the Cilium agents and hubble-relay
 * (Cilium's namespace) and the ingress-nginx controllers (`ingress.namespace`). One watch
 * per selector, each its own section and store id.
 */
import { parsePod } from '../parse/pod.js';
import type { KubePod, KubeSection } from '../types.js';
import type { KubeWatchDef, WatchContext } from './kube-watch.js';
import { ListSection, listWatcher } from './list.js';
import { byName, listSection } from './sections.js';

export type PodsWatch = ListSection<KubePod, readonly KubePod[]>;

export interface PodSelector {
  namespace(ctx: WatchContext): string;
  labelSelector: string;
}

export function podsWatch(ctx: WatchContext, sel: PodSelector): PodsWatch {
  const ns = sel.namespace(ctx);
  return new ListSection<KubePod, readonly KubePod[]>(
    listWatcher<KubePod>(
      ctx,
      {
        path: `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`,
        ref: { resource: 'pods', namespace: ns },
        labelSelector: sel.labelSelector,
        map: parsePod,
      },
      ctx.limits.maxPods,
    ),
    (st, noRoute) => listSection(st, noRoute, byName),
  );
}

type PodsDef = KubeWatchDef<KubeSection<readonly KubePod[]>, PodsWatch>;

export const CILIUM_PODS = {
  storeId: 'kube.cilium-pods',
  create: (ctx) =>
    podsWatch(ctx, { namespace: (c) => c.ciliumNamespace, labelSelector: 'k8s-app=cilium' }),
} as const satisfies PodsDef;

export const HUBBLE_RELAY_PODS = {
  storeId: 'kube.hubble-relay-pods',
  create: (ctx) =>
    podsWatch(ctx, { namespace: (c) => c.ciliumNamespace, labelSelector: 'k8s-app=hubble-relay' }),
} as const satisfies PodsDef;

export const INGRESS_CONTROLLER_PODS = {
  storeId: 'kube.ingress-pods',
  create: (ctx) =>
    podsWatch(ctx, {
      namespace: (c) => c.ingressNamespace,
      labelSelector: 'app.kubernetes.io/name=ingress-nginx,app.kubernetes.io/component=controller',
    }),
} as const satisfies PodsDef;
