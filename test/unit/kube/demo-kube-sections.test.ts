import { describe, expect, it } from 'vitest';
import { demoInventory } from '../../../src/demo/inventory.js';
import { DemoKubeSource } from '../../../src/kube/demo-kube.js';

const { nodes } = demoInventory();
const worker = nodes[nodes.length - 1]!.name;

describe('demo kube source: sections keep their identity while only the log moves', () => {
  it('a log line makes a new snapshot whose other sections are the same objects', () => {
    const k = new DemoKubeSource(nodes, 'demo-lab');
    const a = k.snapshot();
    k.pushIngressLog('ingress-nginx-controller-0', 'a line');
    const b = k.snapshot();
    expect(b).not.toBe(a);
    expect(b.ingressLog).not.toBe(a.ingressLog);
    expect(b.ingressLog.total).toBe(a.ingressLog.total + 1);
    for (const key of Object.keys(a) as Array<keyof typeof a>) {
      if (key === 'ingressLog') continue;
      expect(b[key], key).toBe(a[key]);
    }
    void k.close();
  });

  it('a node going NotReady or the API going away rebuilds the sections', () => {
    const k = new DemoKubeSource(nodes, 'demo-lab');
    const a = k.snapshot();
    k.setNodeReady(worker, false);
    const b = k.snapshot();
    expect(b.nodes).not.toBe(a.nodes);
    expect(b.nodes.value?.find((n) => n.name === worker)?.ready).toBe(false);
    k.setReachable(false);
    const c = k.snapshot();
    expect(c.api.reachable).toBe(false);
    expect(c.nodes.error?.kind).toBe('unreachable');
    void k.close();
  });
});
