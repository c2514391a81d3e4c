/**
 * The Overview model: one row per node from the store's snapshots, plus cluster totals.
 * Pure (no I/O, time passed in) so the pane and `k8ops overview --json` share it.
 */
import type { Inventory, Role } from '../../config/types.js';
import { KUBE_STORE_SOURCES } from '../../kube/collect.js';
import type { KubeApiStatus, KubeNodeStatus } from '../../kube/types.js';
import type { ProbeResult } from '../../nodes/agent.js';
import { type Urgency, urgency, worstCert } from '../../pki/expiry.js';
import type { CertFile } from '../../pki/types.js';
import { CLUSTER_SCOPE } from '../../store/types.js';
import { certsSource } from '../pki/sources.js';
import type { FeatureDef, SnapshotReader } from '../types.js';
import { kubeSource, reachSource } from './sources.js';

export type Health = 'ok' | 'warn' | 'bad' | 'pending';
export type ReachState = 'up' | 'down' | 'pending';
export type KubeState = 'Ready' | 'NotReady' | 'unknown' | 'no-source' | 'pending';

export interface WorstCert {
  notAfter: number;
  path: string;
  commonName?: string;
  urgency: Urgency;
}

export interface OverviewRow {
  name: string;
  index: number;
  roles: Role[];
  reach: ReachState;
  rttMs?: number;
  route?: string;
  os?: string;
  /** SSH auth method used (`agent`, `publickey`; `demo` in the demo lab). */
  auth?: string;
  /** Why the node is unreachable or its data is stale. */
  reachError?: string;
  kube: KubeState;
  kubeReason?: string;
  worst?: WorstCert;
  certError?: string;
  /** Certificate files that failed to parse (each reported in the PKI pane). */
  badCertFiles: number;
  /** Epoch ms of the newest successful refresh of any of this node's sources. */
  lastRefresh?: number;
  stale: boolean;
  health: Health;
}

export interface OverviewTotals {
  nodes: number;
  reachable: number;
  ready: number;
  /** Nodes whose worst certificate is expired or inside its renew window. */
  certsDue: number;
  worst?: WorstCert & { node: string };
  /** The API server as k8ops reaches it (live kube sources only). */
  api?: ApiReach;
}

export interface ApiReach {
  reachable: boolean | null;
  /** `direct` or `tunnel` (over the SSH chain). */
  via: string | null;
  serverVersion: string | null;
  /** e.g. "not reachable directly; using the SSH tunnel". */
  notice: string | null;
  error: string | null;
}

export interface Overview {
  rows: OverviewRow[];
  totals: OverviewTotals;
}

export type { SnapshotReader } from '../types.js';

export interface OverviewOptions {
  /** A kube source is configured (otherwise kube readiness is `no-source`, not unknown). */
  hasKube: boolean;
  renewBeforeMs?: number;
}

export function buildOverview(
  inv: Inventory,
  read: SnapshotReader,
  now: number,
  opts: OverviewOptions,
): Overview {
  const kubeSnap = read<KubeNodeStatus[]>(CLUSTER_SCOPE, 'kube');
  const kubeByName = new Map((kubeSnap.value ?? []).map((n) => [n.name, n]));
  const rows = inv.nodes.map((node): OverviewRow => {
    const reachSnap = read<ProbeResult>(node.name, 'reach');
    const certSnap = read<CertFile[]>(node.name, 'certs');

    const reach: ReachState = reachSnap.error ? 'down' : reachSnap.value ? 'up' : 'pending';

    let kube: KubeState;
    let kubeReason: string | undefined;
    if (!opts.hasKube) kube = 'no-source';
    else if (kubeSnap.error && !kubeSnap.value) {
      kube = 'unknown';
      kubeReason = kubeSnap.error.message;
    } else if (!kubeSnap.value) kube = 'pending';
    else {
      const k = kubeByName.get(node.name);
      if (!k) {
        kube = 'unknown';
        kubeReason = 'not registered with the API server';
      } else {
        kube = k.ready ? 'Ready' : 'NotReady';
        kubeReason = k.ready ? undefined : k.reason;
      }
    }

    const files = certSnap.value ?? [];
    const w = worstCert(files, now);
    const worst: WorstCert | undefined = w && {
      notAfter: w.cert.notAfter,
      path: w.path,
      commonName: w.cert.commonName,
      urgency: urgency(w.cert, now, opts.renewBeforeMs),
    };
    const badCertFiles = files.filter((f) => f.errors.length > 0).length;
    const stamps = [reachSnap.updatedAt, certSnap.updatedAt].filter(
      (t): t is number => t !== undefined,
    );
    const stale = reachSnap.stale || certSnap.stale;

    let health: Health = 'ok';
    if (reach === 'pending' && !certSnap.value) health = 'pending';
    else if (reach === 'down' || kube === 'NotReady' || worst?.urgency === 'expired')
      health = 'bad';
    else if (
      stale ||
      worst?.urgency === 'renew' ||
      badCertFiles > 0 ||
      certSnap.error ||
      kube === 'unknown'
    )
      health = 'warn';

    return {
      name: node.name,
      index: node.index,
      roles: node.roles,
      reach,
      rttMs: reachSnap.value?.rttMs,
      route: reachSnap.value?.route,
      os: reachSnap.value?.os,
      auth: reachSnap.value?.auth,
      reachError: reachSnap.error?.message,
      kube,
      kubeReason,
      worst,
      certError: certSnap.error?.message,
      badCertFiles,
      lastRefresh: stamps.length ? Math.max(...stamps) : undefined,
      stale,
      health,
    };
  });

  const apiSnap = read<KubeApiStatus>(CLUSTER_SCOPE, KUBE_STORE_SOURCES.api);
  const api: ApiReach | undefined =
    apiSnap.value || apiSnap.error
      ? {
          reachable: apiSnap.error ? false : (apiSnap.value?.reachable ?? null),
          via: apiSnap.value?.via ?? null,
          serverVersion: apiSnap.value?.serverVersion ?? null,
          notice: apiSnap.value?.notice ?? null,
          error: apiSnap.error?.message ?? apiSnap.value?.error?.message ?? null,
        }
      : undefined;
  let worst: OverviewTotals['worst'];
  for (const r of rows)
    if (r.worst && (!worst || r.worst.notAfter < worst.notAfter))
      worst = { ...r.worst, node: r.name };
  return {
    rows,
    totals: {
      nodes: rows.length,
      reachable: rows.filter((r) => r.reach === 'up').length,
      ready: rows.filter((r) => r.kube === 'Ready').length,
      certsDue: rows.filter(
        (r) => r.worst && (r.worst.urgency === 'expired' || r.worst.urgency === 'renew'),
      ).length,
      worst,
      ...(api ? { api } : {}),
    },
  };
}

/** Compact age: `3s`, `4m`, `2h`, `5d`. */
export function formatAge(ms: number): string {
  if (ms < 0) ms = 0;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** What the Overview shows, with refresh times reduced to the minute the Age column shows. */
export function overviewSignature(o: Overview, minute: number): string {
  return JSON.stringify([
    o.totals,
    o.rows.map((r) => ({
      ...r,
      lastRefresh:
        r.lastRefresh === undefined ? null : Math.floor((minute - r.lastRefresh) / 60_000),
    })),
  ]);
}

export const overviewFeature: FeatureDef<Overview> = {
  id: 'overview',
  sources: [reachSource, certsSource, kubeSource],
  reads: [{ scope: 'cluster', id: KUBE_STORE_SOURCES.api }],
  model: ({ inventory, read, now, hasKube }) =>
    buildOverview(inventory, read, now, {
      hasKube,
      renewBeforeMs: inventory.rotation.renewBeforeMs,
    }),
  signature: overviewSignature,
};
