/**
 * The one interface every watch of the cluster source implements, what it is given, and
 * how its section goes into the store. A watch owns one section of `KubeClusterSnapshot`
 * (one resource kind, or the API's reachability) and the loops that feed it; the cluster
 * source (`../cluster-source.ts`) creates every watch listed in `KUBE_WATCHES`
 * (`./index.ts`), starts and closes them together, and composes their sections.
 */
import type { KubeHttp } from '../http.js';
import type { KubeContextConfig } from '../kubeconfig.js';
import type { KubeLimits, KubeTiming, TunnelMode } from '../options.js';
import type { OpenForward } from '../tunnel.js';
import type { KubeClusterSnapshot, KubeErrorInfo, KubeSection } from '../types.js';

/** What a watch gets from the cluster source. */
export interface WatchContext {
  readonly config: KubeContextConfig;
  readonly mode: TunnelMode;
  readonly openForward: OpenForward | undefined;
  /** Namespace of Cilium and hubble-relay. */
  readonly ciliumNamespace: string;
  /** Namespace of the ingress-nginx controller. */
  readonly ingressNamespace: string;
  readonly limits: KubeLimits;
  readonly timing: KubeTiming;
  readonly now: () => number;
  /** The transport in use now (changes when the route switches); undefined = not connected yet. */
  readonly http: () => KubeHttp | undefined;
  /** Something the watch shows changed: the snapshot is rebuilt, listeners told (coalesced). */
  readonly changed: () => void;
  /** A network-level failure (unreachable / timeout / tls): lets the API watch re-check the route. */
  readonly transportTrouble: () => void;
  /** The API watch put a new transport in place: every watch reconnects. */
  readonly routeChanged: () => void;
}

export interface KubeWatch<V> {
  /** Start its loops (once; not called when the kubeconfig gave no endpoint). */
  start(): void;
  /** The route changed: drop streams still on the old transport, wake loops waiting for one. */
  reconnect(): void;
  /** Stop; resolves when its loops have ended. */
  close(): Promise<void>;
  /**
   * Its section of the snapshot: the same object until something in it changed.
   * `noRoute` is the API's error while no transport is in place.
   */
  section(noRoute: KubeErrorInfo | undefined): V;
  /** Sees each snapshot before listeners are told (e.g. to follow another section's pods). */
  observe?(snap: KubeClusterSnapshot): void;
}

/** One section as the store gets it (`succeed` with the value, `fail` with the error). */
export interface StoreEntry {
  value?: unknown;
  /** Default: the time of the write. */
  updatedAt?: number | undefined;
  error?: KubeErrorInfo | undefined;
}

/** A watch as listed in `KUBE_WATCHES`. */
export interface KubeWatchDef<V, W extends KubeWatch<V> = KubeWatch<V>> {
  /** Store source id (scope `cluster`) that `bindKubeToStore` writes the section to. */
  readonly storeId: string;
  create(ctx: WatchContext): W;
  /** How the section goes into the store; default `sectionEntry` (a KubeSection). */
  toStore?(part: V): StoreEntry;
}

/** A KubeSection in the store: its last good value (kept while failing) and its error. */
export function sectionEntry(s: KubeSection<unknown>): StoreEntry {
  return { value: s.value, updatedAt: s.updatedAt, error: s.error };
}
