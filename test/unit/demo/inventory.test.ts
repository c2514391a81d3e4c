import { describe, expect, it } from 'vitest';
import { demoInventory } from '../../../src/demo/inventory.js';

describe('demoInventory', () => {
  it('describes the demo lab', () => {
    const inv = demoInventory();
    expect(inv.cluster).toBe('demo-lab');
    expect(inv.source).toBe('<demo>');
    expect(inv.nodes.map((n) => [n.name, n.index, n.addresses[0], n.roles.join('+')])).toEqual([
      ['cp-1', 0, '10.77.0.11', 'control-plane+etcd'],
      ['cp-2', 1, '10.77.0.12', 'control-plane+etcd'],
      ['cp-3', 2, '10.77.0.13', 'control-plane+etcd'],
      ['worker-1', 3, '10.77.0.21', 'worker'],
      ['worker-2', 4, '10.77.0.22', 'worker'],
      ['worker-3', 5, '10.77.0.23', 'worker'],
    ]);
    expect(inv.ssh.jump).toEqual(['bastion']);
    expect(inv.pki).toMatchObject({
      dir: '/etc/kubernetes/pki',
      signer: 'cp-1',
      rootOffline: true,
    });
    expect(inv.rotation).toEqual({
      renewBeforeMs: undefined,
      spreadMs: 24 * 3_600_000,
      cpGapMs: 30 * 60_000,
      minRemainingMs: 48 * 3_600_000,
    });
    expect(inv.network.targetMtu).toBe(9216);
    expect(inv.network.bgpRouters).toEqual([{ name: 'tor-1', kind: 'gobgp', host: 'tor-1' }]);
    expect(inv.network.hubble).toEqual({
      kind: 'relay',
      address: 'hubble-relay.kube-system.svc:80',
    });
    expect(inv.ingress).toEqual({ namespace: 'ingress-nginx', cacheZone: 'ingress_cache' });
  });

  it('returns a fresh object each call', () => {
    const a = demoInventory();
    a.nodes[0]!.roles.push('worker');
    expect(demoInventory().nodes[0]!.roles).toEqual(['control-plane', 'etcd']);
  });
});
