/**
 * The vocabulary of remote calls and their results that every layer shares (nodes, kube,
 * the transports): options of one call, a file read, a stat, a unit's state. Neutral: it
 * imports nothing, so ssh/ and kube/ need not import nodes/ for it.
 */

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export type FileRead =
  | { path: string; ok: true; content: string }
  | { path: string; ok: false; error: string; missing: boolean };

export type FileStat =
  | {
      path: string;
      ok: true;
      /** Permission bits, e.g. 0o600. */
      mode: number;
      owner: string;
      group: string;
      size: number;
      kind: 'file' | 'dir' | 'link' | 'other';
    }
  | { path: string; ok: false; error: string; missing: boolean };

export type UnitActiveState =
  | 'active'
  | 'inactive'
  | 'failed'
  | 'activating'
  | 'deactivating'
  | 'unknown';
export interface UnitState {
  unit: string;
  state: UnitActiveState;
}
