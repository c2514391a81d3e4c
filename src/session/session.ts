/**
 * A Session holds the live objects of one run: the inventory, one NodeAgent per node, the
 * kube source (if any), the store and its refresh scheduler, and the shared clock. Views
 * receive a Session and read from its store; they never touch agents directly.
 */
import type { Inventory } from '../config/types.js';
import { bindKubeToStore } from '../kube/collect.js';
import { isLiveKubeSource, type KubeSource } from '../kube/types.js';
import { pkiDirsOf } from '../model/pki.js';
import type { NodeAgent } from '../nodes/agent.js';
import { defaultLayout } from '../pki/layout-data.js';
import { type Clock, createClock } from '../store/clock.js';
import { RefreshScheduler, Store } from '../store/index.js';
import { CLUSTER_SCOPE, type SourceError } from '../store/types.js';
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
  /** The kube source could not be opened: shown as the kube state (with the reason). */
  kubeError?: SourceError;
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
  /** Every source of the first screen has been attempted once (a value or an error). */
  settled(): boolean;
  /** Start, then wait for the first attempt of every source (kube watches bounded by `timeoutMs`). */
  settle(timeoutMs?: number): Promise<void>;
  /** Wait for the kube source's first answer (bounded); at once without one. */
  settleKube(timeoutMs?: number): Promise<void>;
  /** Kube contexts of the loaded kubeconfig (for `:ctx`); empty without a live kube source. */
  kubeContexts(): string[];
  /**
   * Record the unknown host keys on a node's route in known_hosts (like --accept-new, for
   * that node only; a changed key is still refused), then refresh the node.
   */
  acceptHostKey(node: string): Promise<{ ok: boolean; message: string }>;
  /** Switch the kube context without restarting; the result says why not, if not. */
  switchContext(
    name: string,
  ): Promise<{ ok: true; context: string } | { ok: false; message: string }>;
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
  // The sources of the first screen (the Overview); `pki-status` feeds the PKI pane and
  // starts a little later so it does not compete with them.
  const registered: Array<[string, string]> = [];
  for (const node of opts.inventory.nodes) {
    if (opts.agents.has(node.name)) registered.push([node.name, 'reach'], [node.name, 'certs']);
  }
  const kube = opts.kube;
  if (kube) registered.push([CLUSTER_SCOPE, 'kube']);
  // A watch-driven source writes its sections into the store as they change; a plain one
  // is polled. Never both: they would fight over the same snapshot.
  let unbindKube: (() => void) | undefined;
  if (isLiveKubeSource(kube)) unbindKube = bindKubeToStore(kube, store);
  else if (kube) {
    scheduler.add({
      scope: CLUSTER_SCOPE,
      source: 'kube',
      ...SOURCES.kube,
      run: (signal) => collectKubeNodes(kube, signal),
    });
  }
  if (opts.kubeError) store.fail(CLUSTER_SCOPE, 'kube', opts.kubeError, Date.now());

  let closed = false;
  return {
    mode: opts.mode,
    inventory: opts.inventory,
    readOnly: opts.readOnly,
    get context() {
      return kube?.context ?? opts.context;
    },
    hasKube: kube !== undefined || opts.kubeError !== undefined,
    agents: opts.agents,
    store,
    scheduler,
    clock,
    start: () => scheduler.start(),
    refreshAll: () => void scheduler.refresh(),
    settled: () =>
      registered.every(([scope, source]) => store.get(scope, source).attemptedAt !== undefined),
    async settle(timeoutMs = 10_000) {
      scheduler.start();
      // refresh() also runs the tasks whose first run is delayed, and waits for every run.
      await Promise.all([scheduler.refresh(), this.settleKube(timeoutMs)]);
    },
    async settleKube(timeoutMs = 10_000) {
      const settling = kube as { whenSettled?: (ms: number) => Promise<unknown> } | undefined;
      await settling?.whenSettled?.(timeoutMs);
    },
    acceptHostKey: async () => ({
      ok: false,
      message: 'host keys are not used by this session (demo lab)',
    }),
    kubeContexts: () => (isLiveKubeSource(kube) ? kube.contexts().map((c) => c.name) : []),
    async switchContext(name) {
      const sw = kube as
        | {
            switchContext?: (
              n: string,
            ) => Promise<{ ok: boolean; context?: string; error?: { message: string } }>;
          }
        | undefined;
      if (!sw?.switchContext)
        return { ok: false, message: 'this kube source has a single context' };
      const r = await sw.switchContext(name);
      return r.ok
        ? { ok: true, context: r.context ?? name }
        : { ok: false, message: r.error?.message ?? `cannot switch to ${name}` };
    },
    async close() {
      if (closed) return;
      closed = true;
      await scheduler.stop();
      unbindKube?.();
      clock.dispose();
      await Promise.allSettled([
        ...[...opts.agents.values()].map((a) => a.close()),
        kube?.close() ?? Promise.resolve(),
      ]);
      await opts.onClose?.().catch(() => {});
    },
  };
}
