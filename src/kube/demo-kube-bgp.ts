/**
 * The demo lab's BGP configuration as the kube API would serve it (cilium.io/v2, Cilium
 * 1.18): one CiliumBGPClusterConfig (every node peers with the ToR `tor-1`, 10.77.0.1,
 * AS 65000, from AS 65001), its CiliumBGPPeerConfig `tor-1-peer` (90/30/120 s timers,
 * graceful restart, an MD5 password Secret named — never read), two
 * CiliumBGPAdvertisements (the pod CIDR; the LoadBalancer VIPs of Services labelled
 * `bgp-announce: "true"`) and the Services. Raw objects shaped like `kubectl get -o json`
 * prints them, read by the same parsers as a real cluster's.
 *
 * The realistic fault lives on the agent's side (src/demo/bgp.ts): `shop/web` was moved
 * from 10.77.100.12 to 10.77.100.11 by LB-IPAM, and the first worker's agent still
 * advertises the old VIP, so its row shows the LoadBalancer VIPs disagreeing.
 */
import {
  parseBgpAdvertisement,
  parseBgpClusterConfig,
  parseBgpPeerConfig,
} from './parse/bgp-config.js';
import { parseServiceVips } from './parse/service.js';
import type {
  BgpAdvertisementObject,
  BgpClusterConfig,
  BgpCrdList,
  BgpPeerConfig,
  KubeServiceVips,
} from './types.js';

export const DEMO_BGP_API_VERSION = 'cilium.io/v2';
export const DEMO_PEER_CONFIG = 'tor-1-peer';
/** LoadBalancer VIPs the demo Services hold (`status.loadBalancer.ingress`). */
export const DEMO_LB_VIPS = {
  'ingress-nginx/ingress-nginx-controller': '10.77.100.10',
  'shop/web': '10.77.100.11',
};

type Raw = Record<string, unknown>;

const created = (at: number, daysAgo: number): string =>
  new Date(at - daysAgo * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');

const uid = (n: number): string =>
  `5c1e${n.toString(16).padStart(4, '0')}-7a2b-4c3d-9e8f-0a1b2c3d4e5f`;

/** The raw objects (one list per kind), as `kubectl get … -o json` shows their items. */
export function demoBgpObjects(at: number): {
  clusterConfigs: Raw[];
  peerConfigs: Raw[];
  advertisements: Raw[];
  services: Raw[];
} {
  const cilium = (kind: string, name: string, n: number, extra: Raw): Raw => ({
    apiVersion: DEMO_BGP_API_VERSION,
    kind,
    metadata: {
      name,
      uid: uid(n),
      resourceVersion: String(40_000 + n),
      generation: 1,
      creationTimestamp: created(at, 40),
      ...((extra.metadata as Raw | undefined) ?? {}),
    },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'metadata')),
  });
  const clusterConfigs = [
    cilium('CiliumBGPClusterConfig', 'lab-bgp', 1, {
      spec: {
        nodeSelector: { matchLabels: { 'kubernetes.io/os': 'linux' } },
        bgpInstances: [
          {
            name: 'instance-65001',
            localASN: 65001,
            peers: [
              {
                name: 'tor-1',
                peerAddress: '10.77.0.1',
                peerASN: 65000,
                peerConfigRef: { name: DEMO_PEER_CONFIG },
              },
            ],
          },
        ],
      },
      status: {
        conditions: [
          {
            type: 'cilium.io/NoMatchingNode',
            status: 'False',
            observedGeneration: 1,
            lastTransitionTime: created(at, 40),
            reason: 'NoMatchingNode',
            message: '',
          },
          {
            type: 'cilium.io/MissingPeerConfigs',
            status: 'False',
            observedGeneration: 1,
            lastTransitionTime: created(at, 40),
            reason: 'MissingPeerConfigs',
            message: '',
          },
        ],
      },
    }),
  ];
  const peerConfigs = [
    cilium('CiliumBGPPeerConfig', DEMO_PEER_CONFIG, 2, {
      spec: {
        transport: { peerPort: 179 },
        timers: { connectRetryTimeSeconds: 120, holdTimeSeconds: 90, keepAliveTimeSeconds: 30 },
        authSecretRef: 'tor-1-bgp-password',
        gracefulRestart: { enabled: true, restartTimeSeconds: 120 },
        ebgpMultihop: 1,
        families: [
          { afi: 'ipv4', safi: 'unicast', advertisements: { matchLabels: { advertise: 'bgp' } } },
        ],
      },
      status: {
        conditions: [
          {
            type: 'cilium.io/MissingAuthSecret',
            status: 'False',
            observedGeneration: 1,
            lastTransitionTime: created(at, 40),
            reason: 'MissingAuthSecret',
            message: '',
          },
        ],
      },
    }),
  ];
  const advertisements = [
    cilium('CiliumBGPAdvertisement', 'pod-cidr', 3, {
      metadata: { labels: { advertise: 'bgp' } },
      spec: { advertisements: [{ advertisementType: 'PodCIDR' }] },
    }),
    cilium('CiliumBGPAdvertisement', 'lb-vips', 4, {
      metadata: { labels: { advertise: 'bgp' } },
      spec: {
        advertisements: [
          {
            advertisementType: 'Service',
            service: { addresses: ['LoadBalancerIP'] },
            selector: { matchLabels: { 'bgp-announce': 'true' } },
            attributes: { communities: { standard: ['65001:100'] } },
          },
        ],
      },
    }),
  ];
  const svc = (
    namespace: string,
    name: string,
    n: number,
    clusterIP: string,
    opts: { lb?: string; labels?: Record<string, string>; ports: Raw[] },
  ): Raw => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      uid: uid(100 + n),
      resourceVersion: String(50_000 + n),
      creationTimestamp: created(at, 30),
      ...(opts.labels ? { labels: opts.labels } : {}),
    },
    spec: {
      type: opts.lb ? 'LoadBalancer' : 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
      ports: opts.ports,
      selector: { 'app.kubernetes.io/name': name },
      sessionAffinity: 'None',
      ...(opts.lb ? { externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true } : {}),
    },
    status: { loadBalancer: opts.lb ? { ingress: [{ ip: opts.lb, ipMode: 'VIP' }] } : {} },
  });
  const http = (port: number, nodePort?: number): Raw => ({
    name: 'http',
    protocol: 'TCP',
    port,
    targetPort: 'http',
    ...(nodePort ? { nodePort } : {}),
  });
  const services = [
    svc('default', 'kubernetes', 1, '10.96.0.1', {
      labels: { component: 'apiserver', provider: 'kubernetes' },
      ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }],
    }),
    svc('ingress-nginx', 'ingress-nginx-controller', 2, '10.96.112.40', {
      lb: DEMO_LB_VIPS['ingress-nginx/ingress-nginx-controller'],
      labels: {
        'app.kubernetes.io/name': 'ingress-nginx',
        'app.kubernetes.io/component': 'controller',
        'bgp-announce': 'true',
      },
      ports: [http(80, 31080), { ...http(443, 31443), name: 'https', targetPort: 'https' }],
    }),
    svc('kube-system', 'kube-dns', 3, '10.96.0.10', {
      labels: { 'k8s-app': 'kube-dns' },
      ports: [{ name: 'dns', protocol: 'UDP', port: 53, targetPort: 53 }],
    }),
    svc('shop', 'api', 4, '10.96.40.7', { labels: { app: 'api' }, ports: [http(8080)] }),
    svc('shop', 'web', 5, '10.96.40.12', {
      lb: DEMO_LB_VIPS['shop/web'],
      labels: { app: 'web', 'bgp-announce': 'true' },
      ports: [http(80, 30880)],
    }),
  ];
  return { clusterConfigs, peerConfigs, advertisements, services };
}

const parsed = <T>(items: Raw[], parse: (o: unknown) => T | undefined): T[] =>
  items.map(parse).filter((x): x is T => x !== undefined);

/** The sections' values, read from the raw objects by the product's parsers. */
export function demoBgpConfig(at: number): {
  bgpPeerConfigs: BgpCrdList<BgpPeerConfig>;
  bgpAdvertisements: BgpCrdList<BgpAdvertisementObject>;
  bgpClusterConfigs: BgpCrdList<BgpClusterConfig>;
  services: KubeServiceVips[];
} {
  const o = demoBgpObjects(at);
  return {
    bgpPeerConfigs: {
      apiVersion: DEMO_BGP_API_VERSION,
      items: parsed(o.peerConfigs, parseBgpPeerConfig),
    },
    bgpAdvertisements: {
      apiVersion: DEMO_BGP_API_VERSION,
      items: parsed(o.advertisements, parseBgpAdvertisement),
    },
    bgpClusterConfigs: {
      apiVersion: DEMO_BGP_API_VERSION,
      items: parsed(o.clusterConfigs, parseBgpClusterConfig),
    },
    services: parsed(o.services, parseServiceVips),
  };
}
