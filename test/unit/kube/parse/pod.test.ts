/** parsePod over the real-shaped payloads in test/fixtures/kube (see its README). */
import { describe, expect, it } from 'vitest';
import { parsePod } from '../../../../src/kube/parse/pod.js';
import { fx } from './fixtures.js';

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
