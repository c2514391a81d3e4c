/**
 * Bindings: a key is declared once, with its help text and (optionally) its hint; key
 * handling, the hint bar, the help overlay and the status line all loop over bindings.
 * A binding stays a pure reducer: (state, context) → [state, effect].
 */
import type { Key } from 'ink';
import type { ActionRequest } from '../../src/actions/types.js';
import type { KeySpec } from './match.js';

/** What a key asks the shell to do beyond changing state. */
export type Effect =
  | { kind: 'quit' }
  /** Refresh every source now, or only the store source `source` (e.g. `mtu-paths`). */
  | { kind: 'refresh'; source?: string }
  | { kind: 'ctx'; name: string }
  | { kind: 'accept-hostkey'; node: string }
  /**
   * Start an action (a pane key builds the request, e.g. rotate on the selected node): the
   * shell asks the session for its plan, shows the typed confirmation, and starts the job
   * only when the operator typed the confirmation text. Refused in a read-only session.
   */
  | { kind: 'action'; request: ActionRequest }
  /** The confirmation overlay's outcome: start the prepared job (with the options chosen), or forget it. */
  | { kind: 'start-job'; token: string; values?: Readonly<Record<string, string>> }
  | { kind: 'discard-job'; token: string }
  /** Show a job's full log in the Jobs pane (`id`), or stop showing it (undefined). */
  | { kind: 'job-log'; id: string | undefined }
  /** Cancel a job this console runs. */
  | { kind: 'cancel-job'; id: string }
  | undefined;

export interface KeyEvent {
  input: string;
  key: Key;
}

export interface Binding<S, C> {
  /** The keys, as specs (match.ts). */
  keys: readonly KeySpec[];
  /** How help shows the keys when the specs would read badly (`1–8`). */
  label?: string;
  /** One line for the help overlay. */
  help: string;
  /** Short text for the hint bar; absent: help only. May depend on the state. */
  hint?: string | ((s: S) => string);
  /** How the hint bar shows the keys (`j/k`); default: the first key's label. */
  hintKeys?: string;
  /** The binding applies only in this state (default: always). */
  when?(s: S): boolean;
  reduce(s: S, ctx: C, ev: KeyEvent): [S, Effect?];
}

/** One entry of the hint bar. */
export interface Hint {
  keys: string;
  text: string;
}
