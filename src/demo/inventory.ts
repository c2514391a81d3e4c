/**
 * The demo lab's inventory: 3 control-plane (+etcd) nodes and 3 workers behind a bastion.
 * Built here, not loaded from a file, so `k8ops --demo` needs no configuration.
 */
import type { Inventory, NodeSpec, Role } from '../config/types.js';

export const DEMO_CLUSTER = 'demo-lab';
export const DEMO_PKI_DIR = '/etc/kubernetes/pki';
export const DEMO_SIGNER = 'cp-1';

const HOUR = 3_600_000;

function node(name: string, index: number, address: string, roles: Role[]): NodeSpec {
  return { name, index, host: name, addresses: [address], roles };
}

export function demoInventory(): Inventory {
  const cp: Role[] = ['control-plane', 'etcd'];
  return {
    source: '<demo>',
    cluster: DEMO_CLUSTER,
    nodes: [
      node('cp-1', 0, '10.77.0.11', [...cp]),
      node('cp-2', 1, '10.77.0.12', [...cp]),
      node('cp-3', 2, '10.77.0.13', [...cp]),
      node('worker-1', 3, '10.77.0.21', ['worker']),
      node('worker-2', 4, '10.77.0.22', ['worker']),
      node('worker-3', 5, '10.77.0.23', ['worker']),
    ],
    ssh: { jump: ['bastion'], connectTimeoutMs: 10_000 },
    kube: { context: DEMO_CLUSTER, tunnel: false },
    pki: { dir: DEMO_PKI_DIR, signer: DEMO_SIGNER, rootOffline: true },
    rotation: {
      renewBeforeMs: undefined,
      spreadMs: 24 * HOUR,
      cpGapMs: HOUR / 2,
      minRemainingMs: 48 * HOUR,
    },
    network: {
      targetMtu: 9216,
      bgpRouters: [{ name: 'tor-1', kind: 'gobgp', host: 'tor-1' }],
      hubble: { kind: 'relay', address: 'hubble-relay.kube-system.svc:80' },
    },
    ingress: { namespace: 'ingress-nginx', cacheZone: 'ingress_cache' },
    addons: {},
    // The demo's nixos-rebuild answers on the node (src/demo/rebuild.ts).
    rebuild: { flake: '/etc/k8ops/cluster', runOn: 'node' },
  };
}
