/**
 * The cluster source's knobs: the tunnel mode, the bounds on what is kept, and the timing
 * of requests, watches, logs and reachability checks. Every watch reads them from its
 * WatchContext; `cluster-source.ts` re-exports them.
 */
import type { KubeHttpOptions } from './http.js';
import type { LogTiming } from './logs.js';
import type { WatchTiming } from './watch.js';

/** `off`: direct only. `always`: only through the SSH tunnel. `auto`: direct, falling back to the tunnel. */
export type TunnelMode = 'off' | 'auto' | 'always';

export interface KubeLimits {
  maxNodes: number;
  /** Per pod selector. */
  maxPods: number;
  /** Deployments/DaemonSets per namespace. */
  maxWorkloads: number;
  maxBgpNodeConfigs: number;
  /** Per kind of BGP configuration (peer configs, advertisements, cluster configs). */
  maxBgpConfigs: number;
  /** Services, every namespace. */
  maxServices: number;
  maxEventBytes: number;
  /** Ingress log ring: lines and bytes. */
  logLines: number;
  logBytes: number;
  logMaxLineBytes: number;
  /** Controller pods followed at once. */
  maxLogPods: number;
}

export const DEFAULT_KUBE_LIMITS: KubeLimits = {
  maxNodes: 5000,
  maxPods: 2000,
  maxWorkloads: 500,
  maxBgpNodeConfigs: 5000,
  maxBgpConfigs: 1000,
  maxServices: 10000,
  maxEventBytes: 4 * 1024 * 1024,
  logLines: 2000,
  logBytes: 2 * 1024 * 1024,
  logMaxLineBytes: 16 * 1024,
  maxLogPods: 4,
};

export interface KubeTiming {
  http: Partial<KubeHttpOptions>;
  watch: Partial<WatchTiming>;
  log: Partial<LogTiming>;
  /** `/version` check bound. */
  probeTimeoutMs: number;
  /** Reachability re-check period. */
  healthIntervalMs: number;
  /** Earliest re-check after a watch reported a transport error. */
  minProbeGapMs: number;
  /** Re-discovery of a Cilium BGP CRD when it is not served. */
  rediscoverMs: number;
  /** Backoff while no route works. */
  connectBackoffInitialMs: number;
  connectBackoffMaxMs: number;
  /** Change notifications are coalesced over this window (0: next microtask). */
  coalesceMs: number;
}

export const DEFAULT_KUBE_TIMING: KubeTiming = {
  http: {},
  watch: {},
  log: {},
  probeTimeoutMs: 5000,
  healthIntervalMs: 30_000,
  minProbeGapMs: 2000,
  rediscoverMs: 60_000,
  connectBackoffInitialMs: 1000,
  connectBackoffMaxMs: 30_000,
  coalesceMs: 100,
};
