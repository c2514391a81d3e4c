/**
 * The health gate between nodes of a roll-out: the node answers over SSH, and — when there
 * is a kube API — is Ready and schedulable, its Cilium agent pod Ready, the API server
 * ready (`/readyz`) after a control-plane node, and etcd healthy after an etcd member.
 * Each check is polled until it passes or the gate's time is up; the gate reports every
 * check with what it last saw.
 */
import type { NodeSpec } from '../../config/types.js';

export interface GateCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface GateResult {
  ok: boolean;
  checks: GateCheck[];
}

/** What the roll-out tells a gate: it cordoned the node itself (drain), uncordoning after. */
export interface GateContext {
  cordoned?: boolean;
}

/** One check: resolves with what it saw (never throws; an error is a failed check). */
export type CheckFn = (node: NodeSpec, signal: AbortSignal, ctx: GateContext) => Promise<GateCheck>;

export interface GateOptions {
  /** How long a check may take to pass (default 5 min). */
  timeoutMs?: number;
  /** Between attempts (default 2 s). */
  intervalMs?: number;
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

/** The checks that apply to `node`, each polled until it passes; all must pass. */
export async function runGate(
  node: NodeSpec,
  checks: ReadonlyArray<{ applies(n: NodeSpec): boolean; run: CheckFn }>,
  signal: AbortSignal,
  opts: GateOptions = {},
  gctx: GateContext = {},
): Promise<GateResult> {
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  const results: GateCheck[] = [];
  for (const c of checks.filter((x) => x.applies(node))) {
    let last: GateCheck;
    for (;;) {
      try {
        last = await c.run(node, signal, gctx);
      } catch (e) {
        last = { name: 'check', ok: false, detail: (e as Error).message };
      }
      if (last.ok || Date.now() >= deadline || signal.aborted) break;
      await sleep(opts.intervalMs ?? 2000, signal);
    }
    results.push(last);
    if (!last.ok) return { ok: false, checks: results };
  }
  return { ok: true, checks: results };
}

/** What the default checks read (the command layer builds it from the session). */
export interface GateSources {
  /** Reaches the node over SSH (rejects when it cannot). */
  probe(node: NodeSpec, signal: AbortSignal): Promise<void>;
  /** Kube's view of a node, fresh; undefined without a kube API. */
  kubeNode?(name: string): { ready: boolean; schedulable: boolean } | undefined;
  /** The Cilium agent pod on the node: Ready? undefined when not known. */
  ciliumReady?(name: string): boolean | undefined;
  /** The API server's readiness (`/readyz`). */
  apiReady?(signal: AbortSignal): Promise<boolean>;
  /** etcd from the node: every member's health (`etcdctl endpoint health --cluster`) or equivalent. */
  etcdHealthy?(node: NodeSpec, signal: AbortSignal): Promise<{ ok: boolean; detail: string }>;
}

export function defaultChecks(
  src: GateSources,
): Array<{ applies(n: NodeSpec): boolean; run: CheckFn }> {
  const all = () => true;
  const checks: Array<{ applies(n: NodeSpec): boolean; run: CheckFn }> = [
    {
      applies: all,
      run: async (n, signal) => {
        try {
          await src.probe(n, signal);
          return { name: 'ssh', ok: true, detail: 'answers' };
        } catch (e) {
          return { name: 'ssh', ok: false, detail: (e as Error).message };
        }
      },
    },
  ];
  if (src.kubeNode) {
    checks.push({
      applies: (n) => n.roles.includes('worker') || n.roles.includes('control-plane'),
      run: async (n, _signal, g) => {
        const k = src.kubeNode!(n.name);
        if (!k)
          return { name: 'node Ready', ok: false, detail: 'not in the API server’s node list' };
        // A node the roll-out cordoned itself is uncordoned after the gate.
        const ok = k.ready && (k.schedulable || g.cordoned === true);
        return {
          name: 'node Ready',
          ok,
          detail: !k.ready
            ? 'NotReady'
            : !k.schedulable
              ? g.cordoned
                ? 'Ready (cordoned for the drain; uncordoned next)'
                : 'cordoned (unschedulable)'
              : 'Ready',
        };
      },
    });
  }
  if (src.ciliumReady) {
    checks.push({
      applies: (n) => n.roles.includes('worker') || n.roles.includes('control-plane'),
      run: async (n) => {
        const r = src.ciliumReady!(n.name);
        return {
          name: 'cilium agent',
          ok: r === true,
          detail: r === undefined ? 'no cilium pod on the node' : r ? 'Ready' : 'not Ready',
        };
      },
    });
  }
  if (src.apiReady) {
    checks.push({
      applies: (n) => n.roles.includes('control-plane'),
      run: async (_n, signal) => {
        const ok = await src.apiReady!(signal);
        return { name: 'API /readyz', ok, detail: ok ? 'ready' : 'not ready' };
      },
    });
  }
  if (src.etcdHealthy) {
    checks.push({
      applies: (n) => n.roles.includes('etcd'),
      run: async (n, signal) => {
        const r = await src.etcdHealthy!(n, signal);
        return { name: 'etcd health', ok: r.ok, detail: r.detail };
      },
    });
  }
  return checks;
}
