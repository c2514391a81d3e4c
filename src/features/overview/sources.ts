/**
 * The Overview's own sources: `reach` (a cheap probe per node: latency, route, OS, auth)
 * and `kube` (the API server's nodes: polled from a plain KubeSource, or written by the
 * watches of a live one together with the other kube sections). Its countdowns come
 * from the PKI feature's `certs`.
 */
import { bindKubeToStore } from '../../kube/collect.js';
import { isLiveKubeSource, type KubeNodeStatus } from '../../kube/types.js';
import type { ProbeResult } from '../../nodes/agent.js';
import type { ClusterSourceDef, NodeSourceDef } from '../types.js';

export type ReachValue = ProbeResult;
export type KubeNodesValue = KubeNodeStatus[];

export const reachSource: NodeSourceDef<ReachValue> = {
  id: 'reach',
  scope: 'node',
  intervalMs: 10_000,
  timeoutMs: 8_000,
  collect: ({ agent }, signal) => agent.probe({ signal }),
};

/**
 * The kube source: a live one is watch-driven and writes each section (`kube`, `kube.api`,
 * `kube.cilium-pods`, …: KUBE_STORE_SOURCES) when it changes; a plain one is polled.
 */
export const kubeSource: ClusterSourceDef<KubeNodesValue> = {
  id: 'kube',
  scope: 'cluster',
  intervalMs: 10_000,
  timeoutMs: 8_000,
  enabled: ({ kube }) => kube !== undefined,
  bind: ({ kube }, store) => (isLiveKubeSource(kube) ? bindKubeToStore(kube, store) : undefined),
  collect: ({ kube }, signal) =>
    kube ? kube.listNodes({ signal }) : Promise.reject(new Error('no kube source')),
};
