/** parseBgpNodeConfig over the real-shaped payloads in test/fixtures/kube (see its README). */
import { describe, expect, it } from 'vitest';
import { parseBgpNodeConfig } from '../../../../src/kube/parse/bgp.js';
import { fx } from './fixtures.js';

describe('parseBgpNodeConfig', () => {
  it('cilium.io/v2 status: establishedTime, per-family routeCount, timers, conditions', () => {
    const b = parseBgpNodeConfig(fx('ciliumbgpnodeconfig-v2.json'))!;
    expect(b.node).toBe('worker-1');
    expect(b.instances).toEqual([
      {
        name: 'instance-65001',
        localASN: 65001,
        peers: [
          {
            name: 'tor-1',
            peerAddress: '10.77.0.1',
            peerASN: 65000,
            peeringState: 'established',
            establishedTime: '2026-11-24T22:41:07Z',
            routeCount: [{ afi: 'ipv4', safi: 'unicast', received: 1, advertised: 3 }],
            routesReceived: 1,
            routesAdvertised: 3,
            holdTimeSeconds: 90,
            keepaliveSeconds: 30,
          },
        ],
      },
    ]);
    expect(b.conditions[0]).toMatchObject({ type: 'cilium.io/BGPReconcileError', status: 'False' });
  });

  it('the older v2alpha1 status: uptime, routesReceived/routesAdvertised', () => {
    const p = parseBgpNodeConfig(fx('ciliumbgpnodeconfig-v2alpha1.json'))!.instances[0]!.peers[0]!;
    expect(p).toMatchObject({
      peeringState: 'established',
      uptime: '3h12m5s',
      routesReceived: 1,
      routesAdvertised: 2,
      routeCount: [],
    });
  });

  it('no status yet: no instances', () => {
    expect(parseBgpNodeConfig({ metadata: { name: 'w' }, spec: {} })).toEqual({
      node: 'w',
      instances: [],
      conditions: [],
    });
  });
});
