/**
 * Every default of the inventory file, in one place (k8ops.example.yaml documents the same
 * values). Its own module, free of zod, so that code which needs a default (the rotation
 * planner, the rotate actions) does not load the schema's validator.
 */
import type { HubbleSource } from './types.js';

const HOUR = 3_600_000;

export const DEFAULTS = {
  ssh: { jump: [] as string[], connectTimeoutMs: 5_000 },
  kube: { tunnel: false },
  pki: { dir: '/etc/kubernetes/pki', rootOffline: true },
  rotation: {
    spreadMs: 24 * HOUR,
    cpGapMs: 30 * 60_000,
    minRemainingMs: 48 * HOUR,
    /** DESIGN.md: an intermediate's successor is in every bundle 24 h before it signs. */
    bundleLeadMs: 24 * HOUR,
    /** DESIGN.md: the old service-account public keys stay trusted 24 h plus margin. */
    saOverlapMs: 48 * HOUR,
  },
  network: {
    targetMtu: 9216,
    hubble: { kind: 'node-socket', socket: '/var/run/cilium/hubble.sock' } as HubbleSource,
  },
  ingress: { namespace: 'ingress-nginx', cacheZone: 'ingress_cache' },
} as const;
