/** Parsers over the real-shaped payloads in test/fixtures/kube (see its README). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addonOf,
  parseBgpNodeConfig,
  parseCiliumConfig,
  parseImage,
  parseNode,
  parsePod,
  parseWorkload,
} from '../../../src/kube/parse.js';

const fx = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'kube', name), 'utf8'));

describe('parseNode', () => {
  it('reads Ready, kubelet version, roles, addresses and conditions of a v1 Node', () => {
    const n = parseNode(fx('node.json'))!;
    expect(n).toMatchObject({
      name: 'cp-1',
      ready: true,
      kubeletVersion: 'v1.33.4',
      roles: ['control-plane'],
      internalIP: '10.77.0.11',
      osImage: 'NixOS 25.05 (Warbler)',
      containerRuntimeVersion: 'containerd://2.0.5',
      addresses: [
        { type: 'InternalIP', address: '10.77.0.11' },
        { type: 'Hostname', address: 'cp-1' },
      ],
    });
    expect(n.reason).toBeUndefined();
    expect(n.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      'MemoryPressure=False',
      'DiskPressure=False',
      'PIDPressure=False',
      'Ready=True',
    ]);
  });

  it('NotReady and Unknown carry the Ready condition reason and message', () => {
    const o = fx('node.json') as { status: { conditions: Array<Record<string, string>> } };
    const ready = o.status.conditions.find((c) => c.type === 'Ready')!;
    Object.assign(ready, {
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
    });
    expect(parseNode(o)).toMatchObject({
      ready: false,
      reason: 'NodeStatusUnknown: Kubelet stopped posting node status.',
    });
    o.status.conditions = [];
    expect(parseNode(o)).toMatchObject({ ready: false, reason: 'no Ready condition reported' });
  });

  it('condition text from the API is made safe for the terminal', () => {
    const o = fx('node.json') as { status: { conditions: Array<Record<string, string>> } };
    Object.assign(o.status.conditions.find((c) => c.type === 'Ready')!, {
      status: 'False',
      reason: 'X',
      message: 'bad\u001b[31m red\nline',
    });
    expect(parseNode(o)?.reason).toBe('X: bad [31m red line');
  });

  it('never throws on junk: no name → undefined; odd fields are skipped', () => {
    expect(parseNode(null)).toBeUndefined();
    expect(parseNode({ metadata: {} })).toBeUndefined();
    expect(
      parseNode({
        metadata: { name: 'x' },
        status: { conditions: 'no', addresses: [1, { type: 2 }] },
      }),
    ).toMatchObject({
      name: 'x',
      ready: false,
      addresses: [],
    });
  });
});

describe('parsePod', () => {
  it('reads a Cilium agent pod like `kubectl get pods -o wide`', () => {
    expect(parsePod(fx('pod-cilium.json'))).toMatchObject({
      namespace: 'kube-system',
      name: 'cilium-x7k2p',
      nodeName: 'cp-1',
      phase: 'Running',
      status: 'Running',
      ready: true,
      containersReady: 1,
      containersTotal: 1,
      restarts: 0,
      podIP: '10.77.0.11',
      containerNames: ['cilium-agent'],
      labels: { 'k8s-app': 'cilium' },
    });
  });

  it('shows a waiting reason (CrashLoopBackOff) and Terminating', () => {
    const o = fx('pod-ingress-nginx-controller.json') as {
      metadata: Record<string, unknown>;
      status: {
        containerStatuses: Array<Record<string, unknown>>;
        conditions: Array<Record<string, string>>;
      };
    };
    o.status.containerStatuses[0]!.state = {
      waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' },
    };
    o.status.containerStatuses[0]!.ready = false;
    o.status.containerStatuses[0]!.restartCount = 7;
    o.status.conditions.find((c) => c.type === 'Ready')!.status = 'False';
    expect(parsePod(o)).toMatchObject({
      status: 'CrashLoopBackOff',
      ready: false,
      restarts: 7,
      containersReady: 0,
    });
    o.metadata.deletionTimestamp = '2026-11-25T12:00:00Z';
    expect(parsePod(o)?.status).toBe('Terminating');
  });
});

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

describe('workloads and addon versions', () => {
  it('prefers app.kubernetes.io/version, else the main image tag', () => {
    expect(
      parseWorkload(fx('deployment-ingress-nginx-controller.json'), 'Deployment'),
    ).toMatchObject({
      addon: 'ingress-nginx',
      version: '1.13.3',
      versionSource: 'label',
      ready: 2,
      desired: 2,
    });
    expect(parseWorkload(fx('daemonset-cilium.json'), 'DaemonSet')).toMatchObject({
      addon: 'cilium',
      version: 'v1.18.2',
      versionSource: 'image',
      ready: 6,
      desired: 6,
    });
    expect(parseWorkload(fx('deployment-cilium-operator.json'), 'Deployment')?.addon).toBe(
      'cilium-operator',
    );
    expect(parseWorkload(fx('deployment-hubble-relay.json'), 'Deployment')?.addon).toBe(
      'hubble-relay',
    );
  });

  it('image references: registry ports, digests, no tag', () => {
    expect(parseImage('c', 'registry.lab:5000/cilium/cilium:v1.18.2@sha256:abcd')).toEqual({
      container: 'c',
      image: 'registry.lab:5000/cilium/cilium:v1.18.2@sha256:abcd',
      tag: 'v1.18.2',
      digest: 'sha256:abcd',
    });
    expect(parseImage('c', 'registry.lab:5000/coredns')).toEqual({
      container: 'c',
      image: 'registry.lab:5000/coredns',
    });
    expect(addonOf('coredns', {})).toBe('coredns');
    expect(addonOf('something', {})).toBe('something');
  });
});
