/** The store's vocabulary: snapshots of one data source for one node (or the cluster). */

/** A data source; later issues add more (bgp, mtu, nginx, flows…). */
export type SourceId = 'reach' | 'certs' | 'kube' | (string & {});

/** `cluster` for cluster-wide sources, otherwise a node name. */
export type Scope = string;
export const CLUSTER_SCOPE = 'cluster';

/**
 * A cluster snapshot the session writes when it rewrote the inventory file (the rotation
 * settings saved from the Rotation pane): a model that reads inventory values lists it in
 * its feature's `reads` to be rebuilt at once.
 */
export const INVENTORY_SOURCE = 'inventory';

export interface SourceError {
  /** Short machine-readable kind: `timeout`, `unreachable`, `parse`, `auth`, `hostkey`, … */
  kind: string;
  /** One line for the pane. */
  message: string;
}

export interface Snapshot<T = unknown> {
  /** Last good value (kept when a later refresh fails). */
  value?: T;
  /** Error of the last attempt, if it failed. */
  error?: SourceError;
  /** Epoch ms of the last successful refresh. */
  updatedAt?: number;
  /** Epoch ms of the last attempt (success or failure). */
  attemptedAt?: number;
  /** True when the value is missing, older than the source's stale threshold, or the last attempt failed. */
  stale: boolean;
  /** A refresh is in flight. */
  loading: boolean;
}

export const snapshotKey = (scope: Scope, source: SourceId): string => `${scope}\u0000${source}`;
