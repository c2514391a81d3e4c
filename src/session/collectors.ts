/**
 * The collectors of the foundation: what each (scope × source) refresh does. Each is a
 * plain async function over a NodeAgent / KubeSource; timing, timeouts and backoff are
 * the scheduler's.
 */
import type { KubeNodeStatus, KubeSource } from '../kube/types.js';
import type { NodeAgent, ProbeResult } from '../nodes/agent.js';
import { collectNodeCerts } from '../pki/collect.js';
import type { CertFile } from '../pki/types.js';

export interface SourceSpec {
  intervalMs: number;
  timeoutMs: number;
}

/** Default refresh rates (k9s reconciles tables every 2 s at most; certificates change rarely). */
export const SOURCES = {
  reach: { intervalMs: 10_000, timeoutMs: 8_000 },
  certs: { intervalMs: 60_000, timeoutMs: 20_000 },
  kube: { intervalMs: 10_000, timeoutMs: 8_000 },
} satisfies Record<string, SourceSpec>;

export type ReachValue = ProbeResult;
export type CertsValue = CertFile[];
export type KubeNodesValue = KubeNodeStatus[];

export const collectReach = (agent: NodeAgent, signal: AbortSignal): Promise<ReachValue> =>
  agent.probe({ signal });

export const collectCerts = (
  agent: NodeAgent,
  pkiDir: string,
  signal: AbortSignal,
): Promise<CertsValue> => collectNodeCerts(agent, pkiDir, signal);

export const collectKubeNodes = (kube: KubeSource, signal: AbortSignal): Promise<KubeNodesValue> =>
  kube.listNodes({ signal });
