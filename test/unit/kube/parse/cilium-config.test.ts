/** parseCiliumConfig over the real-shaped payloads in test/fixtures/kube (see its README). */
import { describe, expect, it } from 'vitest';
import { parseCiliumConfig } from '../../../../src/kube/parse/cilium-config.js';
import { fx } from './fixtures.js';

describe('parseCiliumConfig', () => {
  it('picks routing, kube-proxy replacement, BGP, Hubble, IPAM and MTU', () => {
    expect(parseCiliumConfig(fx('configmap-cilium-config.json'))).toMatchObject({
      namespace: 'kube-system',
      routingMode: 'native',
      tunnelProtocol: 'vxlan',
      kubeProxyReplacement: 'true',
      bgpControlPlane: true,
      hubble: true,
      ipam: 'kubernetes',
      clusterName: 'lab',
      mtu: 9216,
      devices: 'bond0',
    });
  });

  it('understands the pre-1.14 `tunnel` key', () => {
    const c = parseCiliumConfig({
      metadata: { name: 'cilium-config', namespace: 'kube-system' },
      data: { tunnel: 'disabled' },
    });
    expect(c?.routingMode).toBe('native');
    expect(
      parseCiliumConfig({ metadata: { name: 'cilium-config' }, data: { tunnel: 'geneve' } }),
    ).toMatchObject({
      routingMode: 'tunnel',
      tunnelProtocol: 'geneve',
    });
  });
});
