/** parseNode over the real-shaped payloads in test/fixtures/kube (see its README). */
import { describe, expect, it } from 'vitest';
import { parseNode } from '../../../../src/kube/parse/node.js';
import { fx } from './fixtures.js';

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
