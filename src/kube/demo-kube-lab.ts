/**
 * The demo lab's cluster beyond its nodes: Cilium (one agent per node), hubble-relay, two
 * ingress-nginx controllers, the cilium-config ConfigMap (native routing, MTU 9216),
 * CiliumBGPNodeConfig status (cilium.io/v2; one peer in Active on the last worker), the
 * BGP configuration CRDs and Services (demo-kube-bgp.ts) and the addon versions. Fixed data, built once per DemoKubeSource.
 */
import type { NodeSpec } from '../config/types.js';
import { DEMO_INGRESS_HOSTS } from './demo-ingress-log.js';
import { DEMO_PEER_CONFIG, demoBgpConfig } from './demo-kube-bgp.js';
import type {
  AddonVersion,
  BgpNodeConfigStatus,
  BgpNodeConfigs,
  CiliumConfigSummary,
  KubeClusterSnapshot,
  KubeErrorInfo,
  KubeIngress,
  KubePod,
  KubeSection,
} from './types.js';

export const DEMO_KUBELET_VERSION = 'v1.33.4';
export const DEMO_CILIUM_VERSION = 'v1.18.2';
export const DEMO_INGRESS_NGINX_VERSION = '1.13.3';

/** The sections that do not change with faults (an unreachable API only adds its error). */
export type DemoFixedSections = Omit<
  KubeClusterSnapshot,
  'api' | 'nodes' | 'ingressLog' | 'certificates'
>;

export function demoFixedSections(
  specs: readonly NodeSpec[],
  context: string,
  at: number,
): DemoFixedSections {
  const start = new Date(at - 86_400_000).toISOString();
  const pod = (
    ns: string,
    name: string,
    node: string,
    image: string,
    labels: Record<string, string>,
    container: string,
  ): KubePod => ({
    namespace: ns,
    name,
    nodeName: node,
    phase: 'Running',
    status: 'Running',
    ready: true,
    containersReady: 1,
    containersTotal: 1,
    restarts: 0,
    hostIP: specs.find((s) => s.name === node)?.addresses[0] ?? '',
    startTime: start,
    containerNames: [container],
    containers: [{ name: container, image, ready: true, restartCount: 0, state: 'running' }],
    labels,
  });
  const suffix = (i: number) => ['x7k2p', 'b9m4q', 'c2n8r', 'd5t6s', 'f3v1w', 'g8z0y'][i % 6]!;
  const workers = specs.filter((s) => !s.roles.includes('control-plane'));
  const ciliumImage = `quay.io/cilium/cilium:${DEMO_CILIUM_VERSION}`;
  const ciliumPods = specs.map((s, i) =>
    pod(
      'kube-system',
      `cilium-${suffix(i)}`,
      s.name,
      ciliumImage,
      { 'k8s-app': 'cilium' },
      'cilium-agent',
    ),
  );
  const relayNode = workers[0]?.name ?? specs[0]?.name ?? 'node';
  const hubbleRelayPods = [
    pod(
      'kube-system',
      'hubble-relay-6d8f9c7b5-q2w3e',
      relayNode,
      `quay.io/cilium/hubble-relay:${DEMO_CILIUM_VERSION}`,
      { 'k8s-app': 'hubble-relay' },
      'hubble-relay',
    ),
  ];
  const ingressNodes = workers.slice(1, 3).map((w) => w.name);
  const ingressLabels = {
    'app.kubernetes.io/name': 'ingress-nginx',
    'app.kubernetes.io/component': 'controller',
    'app.kubernetes.io/version': DEMO_INGRESS_NGINX_VERSION,
  };
  const ingressControllerPods = ingressNodes.map((n, i) =>
    pod(
      'ingress-nginx',
      `ingress-nginx-controller-7c9d8b6f4-${suffix(i + 2)}`,
      n,
      `registry.k8s.io/ingress-nginx/controller:v${DEMO_INGRESS_NGINX_VERSION}`,
      ingressLabels,
      'controller',
    ),
  );
  const data: Record<string, string> = {
    'routing-mode': 'native',
    'kube-proxy-replacement': 'true',
    'enable-bgp-control-plane': 'true',
    'enable-hubble': 'true',
    ipam: 'kubernetes',
    'cluster-name': context,
    mtu: '9216',
    devices: 'bond0',
    'enable-ipv4': 'true',
    'enable-ipv6': 'false',
  };
  const ciliumConfig: CiliumConfigSummary = {
    namespace: 'kube-system',
    routingMode: 'native',
    kubeProxyReplacement: 'true',
    bgpControlPlane: true,
    hubble: true,
    ipam: 'kubernetes',
    clusterName: context,
    mtu: 9216,
    devices: 'bond0',
    data,
  };
  const lastWorker = workers.at(-1)?.name;
  const bgpNodes: BgpNodeConfigStatus[] = specs.map((s) => {
    const active = s.name === lastWorker;
    return {
      node: s.name,
      conditions: [],
      specPeers: [
        {
          instance: 'instance-65001',
          name: 'tor-1',
          peerAddress: '10.77.0.1',
          peerASN: 65000,
          peerConfigRef: DEMO_PEER_CONFIG,
        },
      ],
      instances: [
        {
          name: 'instance-65001',
          localASN: 65001,
          peers: [
            {
              name: 'tor-1',
              peerAddress: '10.77.0.1',
              peerASN: 65000,
              peeringState: active ? 'active' : 'established',
              ...(active ? {} : { establishedTime: start }),
              routeCount: [
                {
                  afi: 'ipv4',
                  safi: 'unicast',
                  received: active ? 0 : 1,
                  advertised: active ? 0 : 3,
                },
              ],
              routesReceived: active ? 0 : 1,
              routesAdvertised: active ? 0 : 3,
              holdTimeSeconds: 90,
              keepaliveSeconds: 30,
            },
          ],
        },
      ],
    };
  });
  const bgp: BgpNodeConfigs = { apiVersion: 'cilium.io/v2', nodes: bgpNodes };
  const bgpConfig = demoBgpConfig(at);
  const n = specs.length;
  const addon = (
    a: string,
    ns: string,
    kind: 'Deployment' | 'DaemonSet',
    name: string,
    image: string,
    version: string,
    source: 'label' | 'image',
    desired: number,
  ): AddonVersion => ({
    addon: a,
    namespace: ns,
    kind,
    name,
    version,
    versionSource: source,
    images: [{ container: name, image, tag: image.slice(image.lastIndexOf(':') + 1) }],
    ready: desired,
    desired,
  });
  const addons: AddonVersion[] = [
    addon(
      'cilium',
      'kube-system',
      'DaemonSet',
      'cilium',
      ciliumImage,
      DEMO_CILIUM_VERSION,
      'image',
      n,
    ),
    addon(
      'cilium-operator',
      'kube-system',
      'Deployment',
      'cilium-operator',
      `quay.io/cilium/operator-generic:${DEMO_CILIUM_VERSION}`,
      DEMO_CILIUM_VERSION,
      'image',
      2,
    ),
    addon(
      'coredns',
      'kube-system',
      'Deployment',
      'coredns',
      'registry.k8s.io/coredns/coredns:v1.12.1',
      'v1.12.1',
      'image',
      2,
    ),
    addon(
      'hubble-relay',
      'kube-system',
      'Deployment',
      'hubble-relay',
      `quay.io/cilium/hubble-relay:${DEMO_CILIUM_VERSION}`,
      DEMO_CILIUM_VERSION,
      'image',
      1,
    ),
    addon(
      'ingress-nginx',
      'ingress-nginx',
      'Deployment',
      'ingress-nginx-controller',
      `registry.k8s.io/ingress-nginx/controller:v${DEMO_INGRESS_NGINX_VERSION}`,
      DEMO_INGRESS_NGINX_VERSION,
      'label',
      ingressControllerPods.length,
    ),
    {
      ...addon(
        'cert-manager',
        'cert-manager',
        'Deployment',
        'cert-manager',
        'quay.io/jetstack/cert-manager-controller:v1.19.1',
        'v1.19.1',
        'label',
        1,
      ),
      chart: { name: 'cert-manager', version: 'v1.19.1' },
    },
    {
      ...addon(
        'kubernetes-dashboard',
        'kubernetes-dashboard',
        'Deployment',
        'kubernetes-dashboard-web',
        'docker.io/kubernetesui/dashboard-web:1.7.0',
        '1.7.0',
        'label',
        1,
      ),
      chart: { name: 'kubernetes-dashboard', version: '7.13.0' },
    },
    addon(
      'kube-prometheus',
      'monitoring',
      'Deployment',
      'prometheus-operator',
      'quay.io/prometheus-operator/prometheus-operator:v0.85.0',
      '0.85.0',
      'label',
      1,
    ),
  ];
  return {
    ciliumPods: demoSection(ciliumPods, at),
    hubbleRelayPods: demoSection(hubbleRelayPods, at),
    ingressControllerPods: demoSection(ingressControllerPods, at),
    ciliumConfig: demoSection(ciliumConfig, at),
    bgp: demoSection(bgp, at),
    bgpPeerConfigs: demoSection(bgpConfig.bgpPeerConfigs, at),
    bgpAdvertisements: demoSection(bgpConfig.bgpAdvertisements, at),
    bgpClusterConfigs: demoSection(bgpConfig.bgpClusterConfigs, at),
    services: demoSection(bgpConfig.services, at),
    addons: demoSection(addons, at),
    ingresses: demoSection(demoIngresses(), at),
  };
}

/** The demo's Ingresses: one per host of the synthetic traffic, each with its ACME Secret. */
export function demoIngresses(): KubeIngress[] {
  return Object.values(DEMO_INGRESS_HOSTS).map((host) => {
    const name = host.split('.')[0]!;
    return {
      namespace: 'shop',
      name,
      hosts: [host],
      tls: [{ secretName: `${name}-tls`, hosts: [host] }],
    };
  });
}

/** A demo section: the value frozen; synced unless `error` is given. */
export function demoSection<T>(value: T, updatedAt: number, error?: KubeErrorInfo): KubeSection<T> {
  return Object.freeze({
    value: Object.freeze(value),
    updatedAt,
    synced: error === undefined,
    ...(error ? { error } : {}),
  });
}
