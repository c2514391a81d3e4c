/**
 * The kube collector for the store: a LiveKubeSource is watch-driven, so instead of a
 * polling task it pushes each snapshot section into the store when (and only when) that
 * section changed. Sources (all in the `cluster` scope):
 *
 *   kube                    KubeNodeStatus[]     (the same value the polled collector wrote)
 *   kube.api                KubeApiStatus        (context, route, reachability, notice)
 *   kube.cilium-pods        KubePod[]
 *   kube.hubble-relay-pods  KubePod[]
 *   kube.ingress-pods       KubePod[]
 *   kube.cilium-config      CiliumConfigSummary | null
 *   kube.bgp                BgpNodeConfigs
 *   kube.bgp-peer-configs   BgpCrdList<BgpPeerConfig>
 *   kube.bgp-advertisements BgpCrdList<BgpAdvertisementObject>
 *   kube.bgp-cluster-configs BgpCrdList<BgpClusterConfig>
 *   kube.services           KubeServiceVips[]
 *   kube.addons             AddonVersion[]
 *   kube.ingress-log        KubeLogView
 *
 * A section with an error keeps its last value (store `fail` keeps it) and is stale. The
 * ids and how each section is written come from `KUBE_WATCHES` (watches/index.ts).
 */
import type { Store } from '../store/store.js';
import { CLUSTER_SCOPE } from '../store/types.js';
import type { KubeClusterSnapshot, KubeSection, LiveKubeSource } from './types.js';
import {
  KUBE_WATCHES,
  type KubeStoreSources,
  kubeStoreSources,
  watchKeys,
} from './watches/index.js';
import { type KubeWatchDef, type StoreEntry, sectionEntry } from './watches/kube-watch.js';

/** Store source id of each snapshot section, read from `KUBE_WATCHES` (watches/index.ts). */
export const KUBE_STORE_SOURCES: KubeStoreSources = kubeStoreSources();

export type KubeStoreWriter = Pick<Store, 'succeed' | 'fail'>;

export interface BindOptions {
  scope?: string;
  now?: () => number;
}

/** Write the source's snapshot into the store now and after every change. Returns the unbind function. */
export function bindKubeToStore(
  source: LiveKubeSource,
  store: KubeStoreWriter,
  opts: BindOptions = {},
): () => void {
  const scope = opts.scope ?? CLUSTER_SCOPE;
  const now = opts.now ?? Date.now;
  const last = new Map<string, unknown>();

  const entry = (key: keyof KubeClusterSnapshot, part: unknown): StoreEntry => {
    const def: KubeWatchDef<unknown> = KUBE_WATCHES[key];
    return def.toStore ? def.toStore(part) : sectionEntry(part as KubeSection<unknown>);
  };

  const sync = (): void => {
    const snap = source.snapshot();
    for (const key of watchKeys()) {
      const part = snap[key];
      if (last.get(key) === part) continue;
      last.set(key, part);
      const id = KUBE_STORE_SOURCES[key];
      const at = now();
      const e = entry(key, part);
      if (e.value !== undefined) store.succeed(scope, id, e.value, e.updatedAt ?? at);
      if (e.error) store.fail(scope, id, e.error, at);
    }
  };

  sync();
  const off = source.onChange(sync);
  return () => {
    off();
  };
}
