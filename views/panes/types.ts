/**
 * What a pane is: a feature (its sources and pure model), pane-local UI state with its
 * initial value, key bindings (pure reducers over that state), and a View. The shell —
 * key handling, tabs, hint bar, help overlay, status line, palette — is generated from
 * the registry (panes/index.ts); it has no per-pane branch.
 */
import type { ReactNode } from 'react';
import type { FeatureDef, FeatureId } from '../../src/features/types.js';
import type { Session } from '../../src/session/session.js';
import type { Clock } from '../../src/store/clock.js';
import type { Binding } from '../keys/types.js';

export type PaneId = FeatureId;

/** What the shell knows that a pane may use: nodes, the node filter and selection, its size. */
export interface PaneEnv {
  /** Every node name, inventory order. */
  nodes: readonly string[];
  /** The node list's filter, and the nodes it leaves visible (all of them without one). */
  nodeFilter: string;
  visibleNodes: readonly string[];
  /** Selected node of the node list. */
  selectedNode: string | undefined;
  /** Nodes marked in the node list (Space), inventory order: what `B` acts on. */
  marked: readonly string[];
  /** The pane's area. */
  width: number;
  height: number;
}

/** A pane binding's context: the pane's derived data (its rows as shown) and the env. */
export interface PaneKeyCtx<D> {
  /** Undefined when the pane's data does not exist yet (e.g. just switched to). */
  derived: D | undefined;
  env: PaneEnv;
}

export interface PaneViewProps<M, S, D> {
  /** The feature's model; undefined for a pane without a feature. */
  model: M;
  ui: S;
  derived: D;
  env: PaneEnv;
  clock: Clock;
  width: number;
  height: number;
}

export interface PaneDef<M, S, D> {
  id: PaneId;
  /** The number key that shows it (its tab position). */
  key: string;
  title: string;
  /** Sources and model; absent for a pane whose data source does not exist yet. */
  feature?: FeatureDef<M> | FeatureDef<unknown>;
  /**
   * A model kept by the session outside the store (the Jobs pane's jobs): the shell reads
   * it through one hook (useExternalModel: useSyncExternalStore over `subscribe`/`get`).
   * `get` returns the same object until something changed. Used when `feature` is absent.
   */
  external?: ExternalModel<unknown>;
  /**
   * A pane with both a feature and an external model gets one model made of the two (the
   * Jobs pane: its jobs, and the addons feature for its Addons view). Without it, the
   * feature's model, else the external one.
   */
  combine?(featureModel: unknown, externalModel: unknown): M;
  /** Pane-local UI state (kept out of the shell's state). */
  initial: S;
  /**
   * Data derived from the model and the pane's state, shared by the View and the keys
   * (e.g. the rows as sorted and filtered, so `j` moves over what is on screen).
   */
  derive(model: M, ui: S, env: PaneEnv): D;
  /** Pane keys: tried before the shell's, in order; the first whose `when` holds wins. */
  bindings: readonly Binding<S, PaneKeyCtx<D>>[];
  /**
   * A pane-local `/` filter (what it filters is named by `label`). Absent: `/` filters
   * the node list. `set` may also reset other state (e.g. close details).
   */
  filter?: { label: string; get(ui: S): string; set(ui: S, text: string): S };
  /** For the `:` palette: a command per pane is generated from `id` and `title`. */
  View(p: PaneViewProps<M, S, D>): ReactNode;
}

export interface ExternalModel<M> {
  subscribe(session: Session, listener: () => void): () => void;
  get(session: Session): M;
}

/** A pane with its types erased, as the registry holds it. */
// biome-ignore lint/suspicious/noExplicitAny: the registry is heterogeneous by design; each pane is type-checked where it is defined (definePane).
export type AnyPane = PaneDef<any, any, any>;

/** Type-check a pane where it is defined; the registry then holds it erased. */
export const definePane = <M, S, D>(p: PaneDef<M, S, D>): AnyPane => p;
