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
 *   kube.addons             AddonVersion[]
 *   kube.ingress-log        KubeLogView
 *
 * A section with an error keeps its last value (store `fail` keeps it) and is stale.
 */
import type { Store } from '../store/store.js';
import { CLUSTER_SCOPE, type SourceError } from '../store/types.js';
import type { KubeClusterSnapshot, KubeSection, LiveKubeSource } from './types.js';

export const KUBE_STORE_SOURCES = {
  nodes: 'kube',
  api: 'kube.api',
  ciliumPods: 'kube.cilium-pods',
  hubbleRelayPods: 'kube.hubble-relay-pods',
  ingressControllerPods: 'kube.ingress-pods',
  ciliumConfig: 'kube.cilium-config',
  bgp: 'kube.bgp',
  addons: 'kube.addons',
  ingressLog: 'kube.ingress-log',
} as const satisfies Record<keyof KubeClusterSnapshot, string>;

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

  const writeSection = (id: string, s: KubeSection<unknown>): void => {
    const at = now();
    if (s.value !== undefined) store.succeed(scope, id, s.value, s.updatedAt ?? at);
    if (s.error) store.fail(scope, id, s.error, at);
  };

  const sync = (): void => {
    const snap = source.snapshot();
    for (const [key, id] of Object.entries(KUBE_STORE_SOURCES) as Array<
      [keyof KubeClusterSnapshot, string]
    >) {
      const part = snap[key];
      if (last.get(key) === part) continue;
      last.set(key, part);
      const at = now();
      if (key === 'api') {
        const api = snap.api;
        store.succeed(scope, id, api, api.checkedAt ?? at);
        if (api.error && api.reachable !== true) store.fail(scope, id, api.error, at);
      } else if (key === 'ingressLog') {
        const log = snap.ingressLog;
        store.succeed(scope, id, log, log.updatedAt ?? at);
        if (log.error) store.fail(scope, id, log.error as SourceError, at);
      } else {
        writeSection(id, part as KubeSection<unknown>);
      }
    }
  };

  sync();
  const off = source.onChange(sync);
  return () => {
    off();
  };
}
