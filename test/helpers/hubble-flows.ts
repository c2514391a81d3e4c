/**
 * Flows shaped like a real agent's (net-apis.md §1: the `hubble observe -o jsonpb` drop of
 * a 1.18.3 agent, values changed), numbered by `i` so a test can check order and content.
 */
import type { FlowObject } from '../../src/demo/hubble-observer.js';

export const T0 = Date.UTC(2026, 11, 6, 4, 0, 0);

export function labFlow(
  i: number,
  o: { verdict?: string; ns?: string; node?: string; reason?: string; port?: number } = {},
): FlowObject {
  const ms = T0 + i;
  const dropped = (o.verdict ?? 'FORWARDED') === 'DROPPED';
  return {
    time: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 + 114 },
    uuid: `3c1f9a2e-8d7b-4c1a-9f7e-${String(i).padStart(12, '0')}`,
    verdict: o.verdict ?? 'FORWARDED',
    ...(dropped ? { drop_reason: 181, drop_reason_desc: o.reason ?? 'POLICY_DENY' } : {}),
    ethernet: { source: '9a:1e:44:02:7c:10', destination: '4e:73:0b:9d:21:e8' },
    IP: { source: '10.42.1.23', destination: '10.42.2.41', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 51544, destination_port: o.port ?? 8080, flags: { SYN: true } } },
    source: {
      ID: 1712,
      identity: 48213,
      cluster_name: 'lab',
      namespace: o.ns ?? 'shop',
      labels: ['k8s:app=frontend'],
      pod_name: `frontend-${i}`,
      workloads: [{ name: 'frontend', kind: 'Deployment' }],
    },
    destination: {
      identity: 30117,
      cluster_name: 'lab',
      namespace: o.ns ?? 'shop',
      labels: ['k8s:app=api'],
      pod_name: 'api-5f6b7c-xk2lp',
    },
    Type: 'L3_L4',
    node_name: o.node ?? 'lab/node-1',
    event_type: { type: dropped ? 1 : 4 },
    traffic_direction: 'EGRESS',
    ...(dropped ? {} : { trace_observation_point: 'TO_ENDPOINT', is_reply: { value: false } }),
    Summary: 'TCP Flags: SYN',
  };
}
