/**
 * What a feature is: its sources (as data: which store source, per node or for the
 * cluster, how often, with what timeout, and what one refresh does) and a pure model from
 * the store's snapshots, shared by its pane and its `--json` subcommand. The session
 * registers the sources of every feature in features/index.ts; nothing lists them twice.
 */

import type { Inventory, NodeSpec } from '../config/types.js';
import type { KubeSource } from '../kube/types.js';
import type { NodeAgent } from '../nodes/agent.js';
import type { Clock } from '../store/clock.js';
import type { Store } from '../store/store.js';

/** What a stream-driven source writes into the store with. */
export type SourceWriter = Pick<Store, 'succeed' | 'fail'>;

import type { Snapshot, SourceId } from '../store/types.js';

/** The feature ids, in pane order (DESIGN.md). */
export type FeatureId =
  | 'overview'
  | 'pki'
  | 'rotation'
  | 'flows'
  | 'bgp'
  | 'nginx'
  | 'mtu'
  | 'jobs'
  | 'addons';

export type SnapshotReader = <T>(scope: string, source: SourceId) => Snapshot<T>;

export interface SourceTiming {
  intervalMs: number;
  timeoutMs: number;
  /** Delay of the first run (a source that must not compete with the first screen). */
  initialDelayMs?: number;
  /**
   * The interval while no pane on screen shows the source (`Session.showSources`): a fast
   * source only one pane shows ticks at `intervalMs` while that pane is up, and at this
   * (slower) interval otherwise. Default: `intervalMs` always.
   */
  hiddenIntervalMs?: number;
  /**
   * Whether the first screen waits for it (`settled()`, the first complete frame).
   * Default true.
   */
  firstScreen?: boolean;
}

/** Whether a pane on screen reads the source (issue 13: a hidden source may do less). */
export interface OnScreen {
  /**
   * False while the console shows no pane that reads this source (`Session.showSources`);
   * true otherwise, and absent (= true) for sessions no console drives (subcommands).
   */
  onScreen?(): boolean;
}

export interface NodeSourceContext extends OnScreen {
  inventory: Inventory;
  node: NodeSpec;
  agent: NodeAgent;
}

export interface ClusterSourceContext extends OnScreen {
  inventory: Inventory;
  kube: KubeSource | undefined;
  /** One agent per BGP router of the inventory (`network.bgpRouters`), by router name. */
  routers?: ReadonlyMap<string, NodeAgent>;
  /** The nodes' agents, by node name (a cluster source that reaches something through a node). */
  agents?: ReadonlyMap<string, NodeAgent>;
  /**
   * The session's clock: a stream-driven source that writes at most once a second writes on
   * its ticks, so its redraw is the countdowns' redraw (one frame a second, not two).
   */
  clock?: Clock;
}

/** A source read on every node (through its NodeAgent), one snapshot per node. */
export interface NodeSourceDef<T = unknown> extends SourceTiming {
  id: SourceId;
  scope: 'node';
  /** Registered only when this says so (default: always). */
  enabled?(inventory: Inventory): boolean;
  collect(ctx: NodeSourceContext, signal: AbortSignal): Promise<T>;
}

/**
 * A cluster-wide source. Polled with `collect`, or — when `bind` returns an unbind
 * function — written by a stream (kube watches) and never polled: never both, they would
 * fight over the same snapshot. Registered only when `enabled` says so (default: always).
 */
export interface ClusterSourceDef<T = unknown> extends SourceTiming {
  id: SourceId;
  scope: 'cluster';
  enabled?(ctx: ClusterSourceContext): boolean;
  bind?(ctx: ClusterSourceContext, store: SourceWriter): (() => void) | undefined;
  collect(ctx: ClusterSourceContext, signal: AbortSignal): Promise<T>;
}

export type SourceDef = NodeSourceDef | ClusterSourceDef;

export interface ModelInput {
  inventory: Inventory;
  read: SnapshotReader;
  /** Epoch ms (the pane passes the minute of the shared clock). */
  now: number;
  /** A kube source is configured (otherwise kube readiness is `no-source`, not unknown). */
  hasKube: boolean;
}

export interface FeatureDef<M = unknown> {
  id: FeatureId;
  /** Sources the feature needs; a source shared with another feature is the same object. */
  sources: readonly SourceDef[];
  /** Store sources the model reads besides its own (kube watch sections, by store id). */
  reads?: ReadonlyArray<{ scope: 'node' | 'cluster'; id: SourceId }>;
  model(input: ModelInput): M;
  /**
   * What the pane shows of a model, as a string (time passed in): a rebuild with the same
   * signature changes nothing on screen, so the previous object is kept and nothing is
   * drawn. Default: every rebuild counts.
   */
  signature?(model: M, now: number): string;
  /**
   * For a feature whose sources write faster than anyone reads (the flows): the pane reads
   * its model on the shared clock's ticks of this granularity, not on every write. On a whole
   * second that tick is the countdowns' own, so the pane and the clock draw one frame, not
   * two (issue 13: idle CPU). Default: on every write the feature reads.
   */
  drawEvery?: 'half-second' | 'second';
}

/** What a session runs: the sources of some features (or of a command that needs a few). */
export type SourceSet = Pick<FeatureDef, 'sources'>;

/** The (scope kind, source id) pairs a feature's model reads: its sources and `reads`. */
export function featureReads(
  f: Pick<FeatureDef, 'sources' | 'reads'>,
): Array<{ scope: 'node' | 'cluster'; id: SourceId }> {
  const out = new Map<string, { scope: 'node' | 'cluster'; id: SourceId }>();
  for (const s of [...f.sources, ...(f.reads ?? [])])
    out.set(`${s.scope}\u0000${s.id}`, { scope: s.scope, id: s.id });
  return [...out.values()];
}
