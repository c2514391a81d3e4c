/**
 * Cilium's BGP v2 CRDs, each watched at the version the cluster serves
 * (`ServedCrdWatch`: `cilium.io/v2` from Cilium 1.18, `v2alpha1` before; re-discovered on
 * a 404; `absent` while not served):
 * - `kube.bgp`: CiliumBGPNodeConfig (per-node status and the spec's peer → PeerConfig refs);
 * - `kube.bgp-peer-configs`: CiliumBGPPeerConfig (timers, families and their
 *   advertisement selectors, the auth Secret's name);
 * - `kube.bgp-advertisements`: CiliumBGPAdvertisement;
 * - `kube.bgp-cluster-configs`: CiliumBGPClusterConfig (ties a peer to its PeerConfig when
 *   a node's NodeConfig does not).
 */
import {
  BGP_ADVERTISEMENTS,
  BGP_CLUSTER_CONFIGS,
  BGP_NODE_CONFIGS,
  BGP_PEER_CONFIGS,
} from '../discovery.js';
import { parseBgpNodeConfig } from '../parse/bgp.js';
import {
  parseBgpAdvertisement,
  parseBgpClusterConfig,
  parseBgpPeerConfig,
} from '../parse/bgp-config.js';
import type {
  BgpAdvertisementObject,
  BgpClusterConfig,
  BgpCrdList,
  BgpNodeConfigStatus,
  BgpNodeConfigs,
  BgpPeerConfig,
  KubeSection,
} from '../types.js';
import type { KubeWatchDef } from './kube-watch.js';
import { ServedCrdWatch } from './served-crd.js';

export type BgpWatch = ServedCrdWatch<BgpNodeConfigStatus, BgpNodeConfigs>;

export const BGP = {
  storeId: 'kube.bgp',
  create: (ctx) =>
    new ServedCrdWatch<BgpNodeConfigStatus, BgpNodeConfigs>(ctx, {
      resource: BGP_NODE_CONFIGS,
      map: parseBgpNodeConfig,
      compare: (a, b) => a.node.localeCompare(b.node),
      maxItems: (l) => l.maxBgpNodeConfigs,
      value: (apiVersion, nodes) => ({ apiVersion, nodes }),
      absent: (absent) => ({ absent, nodes: [] }),
    }),
} as const satisfies KubeWatchDef<KubeSection<BgpNodeConfigs>, BgpWatch>;

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

/** A cluster-scoped BGP configuration kind as a `BgpCrdList`. */
function crdList<T extends { name: string }>(resource: string, map: (o: unknown) => T | undefined) {
  return (ctx: Parameters<KubeWatchDef<unknown>['create']>[0]) =>
    new ServedCrdWatch<T, BgpCrdList<T>>(ctx, {
      resource,
      map,
      compare: byName,
      maxItems: (l) => l.maxBgpConfigs,
      value: (apiVersion, items) => ({ apiVersion, items }),
      absent: (absent) => ({ absent, items: [] }),
    });
}

export const BGP_PEER_CONFIG_WATCH = {
  storeId: 'kube.bgp-peer-configs',
  create: crdList<BgpPeerConfig>(BGP_PEER_CONFIGS, parseBgpPeerConfig),
} as const satisfies KubeWatchDef<KubeSection<BgpCrdList<BgpPeerConfig>>>;

export const BGP_ADVERTISEMENT_WATCH = {
  storeId: 'kube.bgp-advertisements',
  create: crdList<BgpAdvertisementObject>(BGP_ADVERTISEMENTS, parseBgpAdvertisement),
} as const satisfies KubeWatchDef<KubeSection<BgpCrdList<BgpAdvertisementObject>>>;

export const BGP_CLUSTER_CONFIG_WATCH = {
  storeId: 'kube.bgp-cluster-configs',
  create: crdList<BgpClusterConfig>(BGP_CLUSTER_CONFIGS, parseBgpClusterConfig),
} as const satisfies KubeWatchDef<KubeSection<BgpCrdList<BgpClusterConfig>>>;
