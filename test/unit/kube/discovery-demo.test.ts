import { describe, expect, it } from 'vitest';
import { demoInventory } from '../../../src/demo/inventory.js';
import { bindKubeToStore, KUBE_STORE_SOURCES } from '../../../src/kube/collect.js';
import { DemoKubeSource } from '../../../src/kube/demo-kube.js';
import { versionOrder } from '../../../src/kube/discovery.js';
import { tunnelModeFor } from '../../../src/kube/open.js';
import { isLiveKubeSource } from '../../../src/kube/types.js';
import { Store } from '../../../src/store/store.js';

describe('discovery version order', () => {
  it('preferred list first, then the server preferred version, then the rest in server order', () => {
    const g = {
      versions: [{ version: 'v2' }, { version: 'v2alpha1' }],
      preferredVersion: { version: 'v2' },
    };
    expect(versionOrder(g, ['v2alpha1'])).toEqual(['v2alpha1', 'v2']);
    expect(versionOrder(g)).toEqual(['v2', 'v2alpha1']);
    expect(versionOrder({ versions: [{ version: 'v2alpha1' }] }, ['v2', 'v2alpha1'])).toEqual([
      'v2alpha1',
    ]);
    expect(versionOrder({})).toEqual([]);
  });

  it('tunnel mode from the inventory', () => {
    expect(tunnelModeFor(true, true)).toBe('always');
    expect(tunnelModeFor(true, false)).toBe('always');
    expect(tunnelModeFor(false, true)).toBe('auto');
    expect(tunnelModeFor(false, false)).toBe('off');
  });
});

describe('DemoKubeSource as a LiveKubeSource', () => {
  const inv = demoInventory();

  it('has every section, stable identities, and a peer in Active', () => {
    const k = new DemoKubeSource(inv.nodes);
    expect(isLiveKubeSource(k)).toBe(true);
    const s = k.snapshot();
    expect(k.snapshot()).toBe(s);
    expect(s.api).toMatchObject({ context: 'demo-lab', reachable: true, serverVersion: 'v1.33.4' });
    expect(s.nodes.value?.map((n) => n.name)).toEqual(inv.nodes.map((n) => n.name));
    expect(s.nodes.value?.[0]).toMatchObject({
      roles: ['control-plane'],
      internalIP: '10.77.0.11',
    });
    expect(s.ciliumPods.value).toHaveLength(6);
    expect(s.ciliumConfig.value?.mtu).toBe(9216);
    const states = s.bgp.value?.nodes.map((n) => n.instances[0]!.peers[0]!.peeringState);
    expect(states?.filter((x) => x === 'active')).toHaveLength(1);
    // The BGP configuration, read from cilium.io/v2-shaped objects by the product's parsers.
    expect(s.bgp.value?.nodes[0]?.specPeers).toEqual([
      {
        instance: 'instance-65001',
        name: 'tor-1',
        peerAddress: '10.77.0.1',
        peerASN: 65000,
        peerConfigRef: 'tor-1-peer',
      },
    ]);
    expect(s.bgpPeerConfigs.value).toMatchObject({
      apiVersion: 'cilium.io/v2',
      items: [
        {
          name: 'tor-1-peer',
          holdTimeSeconds: 90,
          authSecretRef: 'tor-1-bgp-password',
          problems: [],
        },
      ],
    });
    expect(s.bgpAdvertisements.value?.items.map((a) => [a.name, a.labels, a.problems])).toEqual([
      ['pod-cidr', { advertise: 'bgp' }, []],
      ['lb-vips', { advertise: 'bgp' }, []],
    ]);
    expect(s.bgpClusterConfigs.value?.items[0]?.instances[0]?.peers[0]?.peerConfigRef).toBe(
      'tor-1-peer',
    );
    expect(
      s.services.value
        ?.filter((x) => x.type === 'LoadBalancer')
        .map((x) => [`${x.namespace}/${x.name}`, x.loadBalancerIPs]),
    ).toEqual([
      ['ingress-nginx/ingress-nginx-controller', ['10.77.100.10']],
      ['shop/web', ['10.77.100.11']],
    ]);
    expect(s.addons.value?.map((a) => a.addon)).toEqual([
      'cilium',
      'cilium-operator',
      'coredns',
      'hubble-relay',
      'ingress-nginx',
      'cert-manager',
      'kubernetes-dashboard',
      'kube-prometheus',
    ]);
    expect(k.contexts()).toEqual([expect.objectContaining({ name: 'demo-lab', current: true })]);
  });

  it('notifies on faults; unreachable marks every section with the error but keeps values', async () => {
    const k = new DemoKubeSource(inv.nodes);
    const before = k.snapshot();
    let n = 0;
    k.onChange(() => n++);
    k.setNodeReady('worker-1', false, 'KubeletNotReady: PLEG is not healthy');
    k.setReachable(false);
    await Promise.resolve();
    expect(n).toBe(1); // coalesced
    const s = k.snapshot();
    expect(s).not.toBe(before);
    expect(s.api).toMatchObject({ reachable: false, error: { kind: 'unreachable' } });
    expect(s.nodes.error?.kind).toBe('unreachable');
    expect(s.nodes.value?.find((x) => x.name === 'worker-1')).toMatchObject({
      ready: false,
      reason: 'KubeletNotReady: PLEG is not healthy',
    });
    expect(s.bgp.value).toBeDefined();
    expect(s.bgp.synced).toBe(false);
    await expect(k.listNodes()).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('bindKubeToStore writes each section once per change', async () => {
    const k = new DemoKubeSource(inv.nodes, 'demo-lab', { now: () => 1000 });
    const store = new Store({ schedule: (f) => f() });
    const off = bindKubeToStore(k, store, { now: () => 2000 });
    for (const id of Object.values(KUBE_STORE_SOURCES))
      expect(store.get('cluster', id).value, id).toBeDefined();
    const nodes = store.get('cluster', 'kube');
    const bgp = store.get('cluster', 'kube.bgp');
    expect(nodes.stale).toBe(false);
    k.setNodeReady('cp-2', false);
    await Promise.resolve();
    expect(store.get('cluster', 'kube')).not.toBe(nodes);
    expect(store.get('cluster', 'kube.bgp')).toBe(bgp); // unchanged section, untouched snapshot
    k.setReachable(false);
    await Promise.resolve();
    const failed = store.get('cluster', 'kube');
    expect(failed.error?.kind).toBe('unreachable');
    expect(failed.stale).toBe(true);
    expect(failed.value).toBeDefined();
    expect(store.get('cluster', 'kube.api').error?.kind).toBe('unreachable');
    off();
  });
});
