/**
 * The `cilium-config` ConfigMap in Cilium's namespace (routing mode, MTU, BGP control
 * plane, …). A `null` value: the ConfigMap does not exist. Store id `kube.cilium-config`.
 */
import { parseCiliumConfig } from '../parse/cilium-config.js';
import type { CiliumConfigSummary, KubeSection } from '../types.js';
import type { KubeWatchDef, WatchContext } from './kube-watch.js';
import { ListSection, listWatcher } from './list.js';
import { listSection, withValue } from './sections.js';

export type CiliumConfigWatch = ListSection<CiliumConfigSummary, CiliumConfigSummary | null>;

export function ciliumConfigWatch(ctx: WatchContext): CiliumConfigWatch {
  const ns = ctx.ciliumNamespace;
  return new ListSection<CiliumConfigSummary, CiliumConfigSummary | null>(
    listWatcher<CiliumConfigSummary>(
      ctx,
      {
        path: `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps`,
        ref: { resource: 'configmaps', namespace: ns },
        fieldSelector: 'metadata.name=cilium-config',
        map: parseCiliumConfig,
      },
      4,
    ),
    (st, noRoute) => {
      const s = listSection(st, noRoute, () => 0);
      const value = s.value ? (s.value.find((c) => c.namespace === ns) ?? null) : undefined;
      return withValue(s, value);
    },
  );
}

export const CILIUM_CONFIG = {
  storeId: 'kube.cilium-config',
  create: ciliumConfigWatch,
} as const satisfies KubeWatchDef<KubeSection<CiliumConfigSummary | null>, CiliumConfigWatch>;
