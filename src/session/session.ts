/**
 * A Session holds the live objects of one run: the inventory, one NodeAgent per node, the
 * kube source (if any), the store and its refresh scheduler, and the shared clock. Views
 * receive a Session and read from its store; they never touch agents directly.
 */
import type { Inventory } from '../config/types.js';
import type { KubeSource } from '../kube/types.js';
import { pkiDirsOf } from '../model/pki.js';
import type { NodeAgent } from '../nodes/agent.js';
import { defaultLayout } from '../pki/layout-data.js';
import { type Clock, createClock } from '../store/clock.js';
import { RefreshScheduler, Store } from '../store/index.js';
import { CLUSTER_SCOPE } from '../store/types.js';
import {
  collectCerts,
  collectKubeNodes,
  collectPkiStatus,
  collectReach,
  SOURCES,
} from './collectors.js';

export type SessionMode = 'demo' | 'live';

export interface SessionOptions {
  mode: SessionMode;
  inventory: Inventory;
  agents: ReadonlyMap<string, NodeAgent>;
  kube?: KubeSource;
  readOnly: boolean;
  /** Kube context name to show when there is no kube source yet. */
  context?: string;
  /** Released after the agents on close (e.g. the SSH pool they share). */
  onClose?: () => Promise<void>;
  now?: () => number;
}

export interface Session {
  readonly mode: SessionMode;
  readonly inventory: Inventory;
  readonly readOnly: boolean;
  readonly context: string | undefined;
  readonly hasKube: boolean;
  /** One NodeAgent per node (for subcommands and actions; views never call them). */
  readonly agents: ReadonlyMap<string, NodeAgent>;
  readonly store: Store;
  readonly scheduler: RefreshScheduler;
  readonly clock: Clock;
  /** Start polling every source. */
  start(): void;
  /** Ctrl-R: refresh everything now (in-flight refreshes are not doubled). */
  refreshAll(): void;
  /** Every source has been attempted at least once (its snapshot has a value or an error). */
  settled(): boolean;
  close(): Promise<void>;
}

export function createSession(opts: SessionOptions): Session {
  const store = new Store();
  const scheduler = new RefreshScheduler(store, opts.now ? { now: opts.now } : {});
  const clock = createClock(opts.now ? { now: opts.now } : {});
  const layout = defaultLayout();

  for (const node of opts.inventory.nodes) {
    const dirs = pkiDirsOf(opts.inventory, layout, node);
    const agent = opts.agents.get(node.name);
    if (!agent) continue;
    scheduler.add({
      scope: node.name,
      source: 'reach',
      ...SOURCES.reach,
      run: (signal) => collectReach(agent, signal),
    });
    scheduler.add({
      scope: node.name,
      source: 'certs',
      ...SOURCES.certs,
      run: (signal) => collectCerts(agent, dirs, signal),
    });
    scheduler.add({
      scope: node.name,
      source: 'pki-status',
      ...SOURCES['pki-status'],
      run: (signal) => collectPkiStatus(agent, dirs, signal),
    });
  }
  const registered: Array<[string, string]> = [];
  for (const node of opts.inventory.nodes) {
    if (opts.agents.has(node.name))
      registered.push([node.name, 'reach'], [node.name, 'certs'], [node.name, 'pki-status']);
  }
  const kube = opts.kube;
  if (kube) registered.push([CLUSTER_SCOPE, 'kube']);
  if (kube) {
    scheduler.add({
      scope: CLUSTER_SCOPE,
      source: 'kube',
      ...SOURCES.kube,
      run: (signal) => collectKubeNodes(kube, signal),
    });
  }

  let closed = false;
  return {
    mode: opts.mode,
    inventory: opts.inventory,
    readOnly: opts.readOnly,
    context: kube?.context ?? opts.context,
    hasKube: kube !== undefined,
    agents: opts.agents,
    store,
    scheduler,
    clock,
    start: () => scheduler.start(),
    refreshAll: () => void scheduler.refresh(),
    settled: () =>
      registered.every(([scope, source]) => store.get(scope, source).attemptedAt !== undefined),
    async close() {
      if (closed) return;
      closed = true;
      await scheduler.stop();
      clock.dispose();
      await Promise.allSettled([
        ...[...opts.agents.values()].map((a) => a.close()),
        kube?.close() ?? Promise.resolve(),
      ]);
      await opts.onClose?.().catch(() => {});
    },
  };
}
