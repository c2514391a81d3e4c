/**
 * A Session holds the live objects of one run: the inventory, one NodeAgent per node, the
 * kube source (if any), the store and its refresh scheduler, and the shared clock. Views
 * receive a Session and read from its store; they never touch agents directly.
 */
import { stateDir as xdgStateDir } from '../config/paths.js';
import type { Inventory } from '../config/types.js';
import { FEATURES, sourcesOf } from '../features/index.js';
import type { ClusterSourceContext, SourceSet, SourceWriter } from '../features/types.js';
import type { KubeNodeOps } from '../kube/node-ops.js';
import type { KubeNodeStatus } from '../kube/types.js';
import { isLiveKubeSource, type KubeSource } from '../kube/types.js';
import type { NodeAgent } from '../nodes/agent.js';
import { type Clock, createClock } from '../store/clock.js';
import { RefreshScheduler, Store } from '../store/index.js';
import { visibleDeep } from '../store/sanitise.js';
import {
  CLUSTER_SCOPE,
  INVENTORY_SOURCE,
  type SourceError,
  type SourceId,
} from '../store/types.js';
import { createSessionJobs, type SessionJobs } from './jobs.js';

export type SessionMode = 'demo' | 'live';

export interface SessionOptions {
  mode: SessionMode;
  inventory: Inventory;
  agents: ReadonlyMap<string, NodeAgent>;
  /** One agent per BGP router (`network.bgpRouters`), by router name; closed with the session. */
  routerAgents?: ReadonlyMap<string, NodeAgent>;
  kube?: KubeSource;
  readOnly: boolean;
  /** Kube context name to show when there is no kube source yet. */
  context?: string;
  /** Released after the agents on close (e.g. the SSH pool they share). */
  onClose?: () => Promise<void>;
  /** The kube source could not be opened: shown as the kube state (with the reason). */
  kubeError?: SourceError;
  /** The features whose sources run (default: every feature). */
  features?: readonly SourceSet[];
  /**
   * Resolves when the node's transport is connected (rejects when it cannot be): waited for
   * before a node source's timeout starts (RefreshTask.prepare), so time spent queued behind
   * other nodes' handshakes never counts against a source. Absent: nothing to wait for.
   */
  nodeReady?: (node: string, signal: AbortSignal) => Promise<void>;
  /** `--ssh-config`: actions that run OpenSSH here (nixos-rebuild) pass it on. */
  sshConfigFile?: string;
  /** Extra trusted CA certificates (PEM) for the addon sync's downloads. */
  fetchCa?: string;
  /** Record a node's unknown host keys (live sessions over SSH); absent: not applicable. */
  acceptHostKey?: (node: string, session: Session) => Promise<{ ok: boolean; message: string }>;
  now?: () => number;
  /**
   * The k8ops state directory: jobs and the audit log (default `$XDG_STATE_HOME/k8ops`;
   * the demo lab uses its own `demo/` under it). Nothing is read or written there until
   * the jobs are looked at or an action starts.
   */
  stateDir?: string;
}

export interface Session {
  readonly mode: SessionMode;
  readonly inventory: Inventory;
  readonly readOnly: boolean;
  readonly context: string | undefined;
  readonly hasKube: boolean;
  /** The kube source, if any (for subcommands that ask it once, e.g. a Service; views never call it). */
  readonly kube: KubeSource | undefined;
  /** One NodeAgent per node (for subcommands and actions; views never call them). */
  readonly agents: ReadonlyMap<string, NodeAgent>;
  readonly store: Store;
  readonly scheduler: RefreshScheduler;
  readonly clock: Clock;
  /**
   * Actions and jobs: prepare an action by name (its plan and the text to type), start it
   * after the confirmation, cancel it; the job store the Jobs pane reads. Every action is
   * refused in a read-only session.
   */
  readonly jobs: SessionJobs;
  /** Start polling every source. */
  start(): void;
  /**
   * The sources on screen now (the console passes what the shown pane and the header read):
   * a source with a `hiddenIntervalMs` ticks at its `intervalMs` while in this set and at
   * the slower one otherwise. `undefined` (the default, and what subcommands keep): every
   * source counts as shown.
   */
  showSources(sources: ReadonlySet<SourceId> | undefined): void;
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
  /** Cordon/drain/uncordon through the kube source (a rebuild's `--drain`); none without one. */
  kubeNodeOps(): KubeNodeOps | undefined;
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
  const kube = opts.kube;
  const sources = sourcesOf(opts.features ?? FEATURES);
  const clusterCtx: ClusterSourceContext = {
    inventory: opts.inventory,
    kube,
    agents: opts.agents,
    ...(opts.routerAgents ? { routers: opts.routerAgents } : {}),
    clock,
  };
  // The (scope, source) pairs the first screen waits for (settled()).
  const firstScreen: Array<[string, string]> = [];
  const unbinds: Array<() => void> = [];
  // What the console shows (showSources); undefined: every source counts as shown.
  let onScreen: ReadonlySet<SourceId> | undefined;
  for (const src of sources) {
    const shown = () => onScreen === undefined || onScreen.has(src.id);
    const timing = {
      intervalMs: src.intervalMs,
      timeoutMs: src.timeoutMs,
      ...(src.initialDelayMs !== undefined ? { initialDelayMs: src.initialDelayMs } : {}),
    };
    if (src.scope === 'node') {
      if (src.enabled && !src.enabled(opts.inventory)) continue;
      for (const node of opts.inventory.nodes) {
        const agent = opts.agents.get(node.name);
        if (!agent) continue;
        const ctx = { inventory: opts.inventory, node, agent, onScreen: shown };
        const ready = opts.nodeReady;
        scheduler.add({
          scope: node.name,
          source: src.id,
          ...timing,
          ...(ready ? { prepare: (signal: AbortSignal) => ready(node.name, signal) } : {}),
          // Everything from outside is made visible where it enters the model.
          run: async (signal) => visibleDeep(await src.collect(ctx, signal)),
        });
        if (src.firstScreen !== false) firstScreen.push([node.name, src.id]);
      }
      continue;
    }
    if (src.enabled && !src.enabled(clusterCtx)) continue;
    if (src.firstScreen !== false) firstScreen.push([CLUSTER_SCOPE, src.id]);
    // A stream-driven source writes into the store itself; a plain one is polled.
    const unbind = src.bind?.(clusterCtx, sanitisingWriter(store));
    if (unbind) unbinds.push(unbind);
    else {
      const ctx: ClusterSourceContext = { ...clusterCtx, onScreen: shown };
      scheduler.add({
        scope: CLUSTER_SCOPE,
        source: src.id,
        ...timing,
        run: async (signal) => visibleDeep(await src.collect(ctx, signal)),
      });
    }
  }
  // The sources that tick slower while no pane shows them (SourceTiming.hiddenIntervalMs).
  const retimed = new Map<SourceId, { shown: number; hidden: number }>();
  for (const src of sources)
    if (src.hiddenIntervalMs !== undefined && src.hiddenIntervalMs !== src.intervalMs)
      retimed.set(src.id, { shown: src.intervalMs, hidden: src.hiddenIntervalMs });
  if (opts.kubeError) store.fail(CLUSTER_SCOPE, 'kube', opts.kubeError, Date.now());

  const jobs = createSessionJobs({
    onEnded: (spec) => {
      for (const source of spec.refresh ?? []) void scheduler.refresh({ source });
    },
    stateDir: opts.stateDir ?? xdgStateDir(),
    readOnly: opts.readOnly,
    deps: {
      inventory: opts.inventory,
      agents: opts.agents,
      mode: opts.mode,
      hasKube: kube !== undefined,
      nodeReady: async (name) => {
        const nodes = store.get<KubeNodeStatus[]>(CLUSTER_SCOPE, 'kube').value;
        return nodes ? nodes.some((n) => n.name === name && n.ready) : undefined;
      },
      // The file now says this: every model reads it from here on; the `inventory`
      // snapshot tells the models that read it (the rotation feature) to rebuild now.
      inventoryChanged: (next) => {
        opts.inventory.rotation = next.rotation;
        opts.inventory.sourceDigest = next.sourceDigest;
        store.succeed(CLUSTER_SCOPE, INVENTORY_SOURCE, { rotation: next.rotation }, Date.now());
      },
      read: (scope, source) => store.get(scope, source),
      nodeOps: () => (isLiveKubeSource(kube) ? kube.nodeOps?.() : undefined),
      ...(opts.sshConfigFile ? { sshConfig: opts.sshConfigFile } : {}),
      ...(opts.fetchCa ? { fetchCa: opts.fetchCa } : {}),
    },
    ...(opts.now ? { now: opts.now } : {}),
  });
  let closed = false;
  const session: Session = {
    mode: opts.mode,
    inventory: opts.inventory,
    readOnly: opts.readOnly,
    get context() {
      return kube?.context ?? opts.context;
    },
    hasKube: kube !== undefined || opts.kubeError !== undefined,
    kube,
    agents: opts.agents,
    store,
    scheduler,
    clock,
    jobs,
    start: () => scheduler.start(),
    showSources(shown) {
      onScreen = shown;
      for (const [source, ms] of retimed)
        scheduler.retime({ source }, !shown || shown.has(source) ? ms.shown : ms.hidden);
    },
    refreshAll: () => void scheduler.refresh(),
    settled: () =>
      firstScreen.every(([scope, source]) => store.get(scope, source).attemptedAt !== undefined),
    async settle(timeoutMs = 10_000) {
      scheduler.start();
      // refresh() also runs the tasks whose first run is delayed, and waits for every run.
      await Promise.all([scheduler.refresh(), this.settleKube(timeoutMs)]);
    },
    async settleKube(timeoutMs = 10_000) {
      if (isLiveKubeSource(kube)) await kube.whenSettled?.(timeoutMs);
    },
    acceptHostKey: (node) =>
      opts.acceptHostKey
        ? opts.acceptHostKey(node, session)
        : Promise.resolve({
            ok: false,
            message:
              opts.mode === 'demo'
                ? 'host keys are not used by this session (demo lab)'
                : 'host keys are not used by this session',
          }),
    kubeContexts: () => (isLiveKubeSource(kube) ? kube.contexts().map((c) => c.name) : []),
    kubeNodeOps: () => (isLiveKubeSource(kube) ? kube.nodeOps?.() : undefined),
    async switchContext(name) {
      if (!isLiveKubeSource(kube) || !kube.switchContext)
        return { ok: false, message: 'this kube source has a single context' };
      const r = await kube.switchContext(name);
      return r.ok
        ? { ok: true, context: r.context ?? name }
        : { ok: false, message: r.error?.message ?? `cannot switch to ${name}` };
    },
    async close() {
      if (closed) return;
      closed = true;
      // Running jobs are cancelled (their signal aborts) before the agents close under them.
      await jobs.shutdown();
      await scheduler.stop();
      for (const unbind of unbinds) unbind();
      clock.dispose();
      await Promise.allSettled([
        ...[...opts.agents.values()].map((a) => a.close()),
        ...[...(opts.routerAgents?.values() ?? [])].map((a) => a.close()),
        kube?.close() ?? Promise.resolve(),
      ]);
      await opts.onClose?.().catch(() => {});
    },
  };
  return session;
}

/** The store as a stream source writes into it: every value made visible on the way in. */
const sanitisingWriter = (store: Store): SourceWriter => ({
  succeed: (scope, source, value, at) => store.succeed(scope, source, visibleDeep(value), at),
  fail: (scope, source, error, at) => store.fail(scope, source, visibleDeep(error), at),
});
