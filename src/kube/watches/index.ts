/**
 * Every watch of the cluster source, by its section of `KubeClusterSnapshot`. This record
 * is the one list: the cluster source creates, starts, reconnects and closes what is
 * listed here and builds the snapshot from it, and `KUBE_STORE_SOURCES` (the store ids
 * `bindKubeToStore` writes) is read from it. The compiler holds it to the snapshot's keys,
 * both ways. The order is the order of store writes.
 */
import type { KubeClusterSnapshot } from '../types.js';
import { ADDONS } from './addons.js';
import { API } from './api.js';
import {
  BGP,
  BGP_ADVERTISEMENT_WATCH,
  BGP_CLUSTER_CONFIG_WATCH,
  BGP_PEER_CONFIG_WATCH,
} from './bgp.js';
import { CERTIFICATES, INGRESSES } from './certificates.js';
import { CILIUM_CONFIG } from './cilium-config.js';
import { INGRESS_LOG } from './ingress-log.js';
import type { KubeWatchDef, WatchContext } from './kube-watch.js';
import { NODES } from './nodes.js';
import { CILIUM_PODS, HUBBLE_RELAY_PODS, INGRESS_CONTROLLER_PODS } from './pods.js';
import { SERVICES } from './services.js';

export const KUBE_WATCHES = {
  nodes: NODES,
  api: API,
  ciliumPods: CILIUM_PODS,
  hubbleRelayPods: HUBBLE_RELAY_PODS,
  ingressControllerPods: INGRESS_CONTROLLER_PODS,
  ciliumConfig: CILIUM_CONFIG,
  bgp: BGP,
  bgpPeerConfigs: BGP_PEER_CONFIG_WATCH,
  bgpAdvertisements: BGP_ADVERTISEMENT_WATCH,
  bgpClusterConfigs: BGP_CLUSTER_CONFIG_WATCH,
  services: SERVICES,
  addons: ADDONS,
  ingressLog: INGRESS_LOG,
  certificates: CERTIFICATES,
  ingresses: INGRESSES,
} as const satisfies {
  readonly [K in keyof KubeClusterSnapshot]: KubeWatchDef<KubeClusterSnapshot[K]>;
};

export type KubeWatchKey = keyof typeof KUBE_WATCHES;

/** The watches made from `KUBE_WATCHES`, each with its own type. */
export type KubeWatches = {
  readonly [K in KubeWatchKey]: ReturnType<(typeof KUBE_WATCHES)[K]['create']>;
};

/** Store source ids by section: `{ nodes: 'kube', api: 'kube.api', … }`. */
export type KubeStoreSources = {
  readonly [K in KubeWatchKey]: (typeof KUBE_WATCHES)[K]['storeId'];
};

export const watchKeys = (): KubeWatchKey[] => Object.keys(KUBE_WATCHES) as KubeWatchKey[];

export function createWatches(ctx: WatchContext): KubeWatches {
  const out: Partial<Record<KubeWatchKey, unknown>> = {};
  for (const k of watchKeys()) out[k] = KUBE_WATCHES[k].create(ctx);
  return out as KubeWatches;
}

export function kubeStoreSources(): KubeStoreSources {
  const out: Partial<Record<KubeWatchKey, string>> = {};
  for (const k of watchKeys()) out[k] = KUBE_WATCHES[k].storeId;
  return out as KubeStoreSources;
}
