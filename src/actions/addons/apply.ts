/**
 * Applying synced pins: the addon sync's last two phases. The pins reach the cluster
 * through kube-addon-manager, which runs on the control-plane nodes (nix/lib/pki-options.nix:
 * `components.addonManager = isControlPlane`; inventory `addons.applyOn` names others), so
 * applying them is a rebuild of those nodes — the rebuild roll-out itself (rebuild/job.ts,
 * its executor and health gate), run as a step of the sync job — and then a watch of the
 * deployed versions (the kube watches' addon workloads, judged by drift.ts as the Addons
 * view judges them) until every synced addon runs its declared version or the bound
 * (`addons.convergeTimeout`, default 10 min) passes.
 */
import type { Inventory, NodeSpec } from '../../config/types.js';
import { KUBE_STORE_SOURCES } from '../../kube/collect.js';
import type { AddonVersion } from '../../kube/types.js';
import type { NodeAgent } from '../../nodes/agent.js';
import { visible } from '../../store/sanitise.js';
import { CLUSTER_SCOPE, type Snapshot } from '../../store/types.js';
import { rebuildExecutor } from '../rebuild/execute.js';
import { gateSources } from '../rebuild/gate-sources.js';
import { defaultChecks, runGate } from '../rebuild/gates.js';
import { type RebuildSummary, rebuildJob } from '../rebuild/job.js';
import { planRollout, type RebuildRequest } from '../rebuild/plan.js';
import type { JobContext, JobSpec } from '../types.js';
import { norm, rowFor } from './drift.js';
import type { AddonDecl } from './manifest.js';

export const DEFAULT_CONVERGE_TIMEOUT_MS = 600_000;
const DEFAULT_CONVERGE_INTERVAL_MS = 2_000;
/** A gate check of the apply's rebuild may take this long to pass (as `k8ops rebuild`'s default). */
const GATE_TIMEOUT_MS = 300_000;

/** The nodes running the addon manager: `addons.applyOn`, else the control-plane nodes. */
export function addonManagerNodes(
  inv: Inventory,
): { ok: true; nodes: NodeSpec[] } | { ok: false; error: string } {
  const names = inv.addons.applyOn;
  if (names?.length) {
    const nodes: NodeSpec[] = [];
    for (const n of names) {
      const spec = inv.nodes.find((x) => x.name === n);
      if (!spec) return { ok: false, error: `addons.applyOn: no node "${visible(n)}"` };
      nodes.push(spec);
    }
    return { ok: true, nodes };
  }
  const cp = inv.nodes.filter((n) => n.roles.includes('control-plane'));
  if (cp.length === 0)
    return {
      ok: false,
      error:
        'no node runs the addon manager: the inventory has no control-plane node; set addons.applyOn',
    };
  return { ok: true, nodes: cp };
}

export type ConvergeState =
  /** Runs the declared version. */
  | 'converged'
  /** Still runs another version. */
  | 'old-version'
  /** None of its workloads found. */
  | 'not-found'
  /** It runs, but publishes no version (kube-prometheus): not waited for. */
  | 'version-unknown'
  /** A node binary (format cli): nothing in the cluster to wait for. */
  | 'not-deployed';

export interface ConvergeRow {
  name: string;
  declared: string;
  state: ConvergeState;
  /** The versions seen (distinct). */
  running: string[];
  detail: string;
}

/** Whether `state` still needs waiting for. */
export const pending = (s: ConvergeState): boolean => s === 'old-version' || s === 'not-found';

/** Each addon's convergence, from the declarations written and the workloads seen (pure). */
export function convergence(
  decls: readonly AddonDecl[],
  workloads: readonly AddonVersion[],
): ConvergeRow[] {
  return decls.map((d) => {
    const r = rowFor(d, workloads);
    const running = [...new Set(r.running.map((x) => x.version))];
    const old = running.filter((v) => norm(v) !== norm(d.version));
    const state: ConvergeState =
      r.state === 'in-sync'
        ? 'converged'
        : r.state === 'drift'
          ? 'old-version'
          : r.state === 'not-running'
            ? 'not-found'
            : r.state === 'not-deployed'
              ? 'not-deployed'
              : 'version-unknown';
    const detail =
      state === 'converged'
        ? `converged: runs ${d.version}`
        : state === 'old-version'
          ? `still old version ${old.join(', ')} (declared ${d.version})`
          : state === 'not-found'
            ? 'not found: no workload of it runs (or its namespace is not visible)'
            : state === 'not-deployed'
              ? 'node binary (format cli): nothing to converge in the cluster'
              : 'runs; its workloads do not name the release version (not waited for)';
    return { name: d.name, declared: d.version, state, running, detail };
  });
}

export interface ConvergeOutcome {
  converged: boolean;
  rows: ConvergeRow[];
  /** Why it could not be watched (no kube API, the watch's error), when so. */
  error?: string;
  ms: number;
}

export interface ApplyPlan {
  nodes: readonly NodeSpec[];
  /** The rebuild roll-out of those nodes (rebuild/job.ts), run inside the sync job. */
  rebuild: JobSpec<RebuildSummary>;
  /**
   * What runs in the cluster now (the kube watches' addon workloads); undefined: no kube
   * API, so convergence cannot be watched.
   */
  workloads?: () => { value?: readonly AddonVersion[]; error?: string };
  timeoutMs: number;
  intervalMs?: number;
}

export interface ApplyOutcome {
  nodes: string[];
  rebuild?: RebuildSummary;
  converge?: ConvergeOutcome;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Poll until every addon of `decls` runs its declared version (or publishes none), or the
 * bound passes; each addon's state into its progress line and the log as it changes.
 */
export async function watchConvergence(
  ctx: JobContext,
  decls: readonly AddonDecl[],
  plan: Pick<ApplyPlan, 'workloads' | 'timeoutMs' | 'intervalMs'>,
): Promise<ConvergeOutcome> {
  const t0 = Date.now();
  const deadline = t0 + plan.timeoutMs;
  const interval = plan.intervalMs ?? DEFAULT_CONVERGE_INTERVAL_MS;
  const shown = new Map<string, string>();
  let rows: ConvergeRow[] = [];
  let error: string | undefined;
  if (!plan.workloads) {
    for (const d of decls) ctx.progress?.(d.name, 'convergence not watched: no kube API');
    return {
      converged: false,
      rows: [],
      error: 'no kube API configured: the deployed versions cannot be watched',
      ms: 0,
    };
  }
  for (let round = 0; round < 1_000_000; round++) {
    const w = plan.workloads();
    error = w.error;
    if (w.value) {
      rows = convergence(decls, w.value);
      for (const r of rows) {
        if (shown.get(r.name) === r.detail) continue;
        shown.set(r.name, r.detail);
        ctx.progress?.(r.name, r.detail);
        ctx.log(`${r.name}: ${r.detail}`);
      }
      if (!rows.some((r) => pending(r.state))) break;
    }
    if (Date.now() >= deadline || ctx.signal.aborted) break;
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), ctx.signal);
  }
  const ms = Date.now() - t0;
  const converged = rows.length === decls.length && !rows.some((r) => pending(r.state));
  const out: ConvergeOutcome = { converged, rows, ms };
  if (!rows.length) out.error = error ?? 'the kube API has not listed the addon workloads';
  else if (!converged && error) out.error = error;
  return out;
}

export interface ApplyBuildDeps {
  inventory: Inventory;
  agents: ReadonlyMap<string, NodeAgent>;
  /** The session store's reader (kube watches). */
  read?: <T>(scope: string, source: string) => Snapshot<T>;
  hasKube: boolean;
  /** The console's `--ssh-config` (NIX_SSHOPTS). */
  sshConfig?: string;
  /** Bound of the convergence watch (default: `addons.convergeTimeout`, else 10 min). */
  timeoutMs?: number;
  intervalMs?: number;
  gateTimeoutMs?: number;
}

/**
 * The apply phase for a session: `nixos-rebuild switch` of the addon-manager nodes through
 * the rebuild roll-out (the executor and gate `k8ops rebuild` and `B` use), then the watch.
 */
export function buildAddonApply(
  d: ApplyBuildDeps,
): { ok: true; plan: ApplyPlan } | { ok: false; error: string } {
  const inv = d.inventory;
  if (!inv.rebuild?.flake)
    return { ok: false, error: 'applying needs rebuild.flake in the inventory' };
  const target = addonManagerNodes(inv);
  if (!target.ok) return target;
  const req: RebuildRequest = {
    nodes: target.nodes.map((n) => n.name),
    action: 'switch',
    parallel: 1,
  };
  const rollout = planRollout(inv, req);
  if (!rollout.ok) return { ok: false, error: rollout.error };
  const checks = defaultChecks(
    gateSources({
      inventory: inv,
      agents: d.agents,
      ...(d.read ? { read: d.read } : {}),
      hasKube: d.hasKube,
    }),
  );
  const rebuild = rebuildJob(req, rollout.waves, {
    execute: rebuildExecutor({
      inventory: inv,
      action: 'switch',
      request: req,
      agents: d.agents,
      ...(d.sshConfig ? { sshConfig: d.sshConfig } : {}),
    }),
    gate: (n, signal, g) =>
      runGate(n, checks, signal, { timeoutMs: d.gateTimeoutMs ?? GATE_TIMEOUT_MS }, g),
  });
  const read = d.read;
  const plan: ApplyPlan = {
    nodes: rollout.waves.flat(),
    rebuild,
    timeoutMs: d.timeoutMs ?? inv.addons.convergeTimeoutMs ?? DEFAULT_CONVERGE_TIMEOUT_MS,
    ...(d.intervalMs !== undefined ? { intervalMs: d.intervalMs } : {}),
  };
  if (d.hasKube && read)
    plan.workloads = () => {
      const s = read<readonly AddonVersion[]>(CLUSTER_SCOPE, KUBE_STORE_SOURCES.addons);
      return {
        ...(s.value ? { value: s.value } : {}),
        ...(s.error ? { error: s.error.message } : {}),
      };
    };
  return { ok: true, plan };
}
