/**
 * The rebuild roll-out as a job: wave after wave (plan.ts), each node's nixos-rebuild run
 * with its phase followed from the output, its activation report parsed, then the health
 * gate; the first failure — a failed run, failed units, or a gate that does not pass —
 * stops the roll-out before the next wave and says which node, which phase and the last
 * 20 lines. `dry-activate` runs no gate and changes nothing: it reports, per node, which
 * units would stop, restart, reload or start.
 */
import type { NodeSpec } from '../../config/types.js';
import type { KubeNodeOps } from '../../kube/node-ops.js';
import type { JobContext, JobSpec } from '../types.js';
import { cordonAndDrain, DrainError, type DrainOptions, leftCordoned, uncordon } from './drain.js';
import type { GateResult } from './gates.js';
import {
  type ActivationReport,
  nextPhase,
  outcomeOf,
  parseActivation,
  type RebuildOutcome,
  type RebuildPhase,
} from './output.js';
import type { RebuildRequest } from './plan.js';

export const TAIL_LINES = 20;

export interface NodeRun {
  node: string;
  phase: RebuildPhase;
  outcome?: RebuildOutcome;
  report?: ActivationReport;
  gate?: GateResult;
  /** The last TAIL_LINES lines of its output. */
  tail: string[];
  ms?: number;
  /** Not run: why (the roll-out stopped before its wave). */
  skipped?: string;
  /** Cordoned and drained around the switch (`--drain`): what was evicted. */
  drained?: { evicted: string[]; skipped: string[]; uncordoned: boolean };
}

export interface RebuildSummary {
  action: string;
  runs: NodeRun[];
  /** The first failure, which stopped the roll-out. */
  stopped?: {
    node: string;
    phase: RebuildPhase | 'draining' | 'gating' | 'uncordoning';
    reason: string;
    tail: string[];
    /** The node was left cordoned (a drained worker whose switch or gate failed). */
    cordoned?: boolean;
  };
}

/** Runs nixos-rebuild for one node, line by line (run-local.ts, or NodeAgent.exec on the node). */
export type RebuildExecutor = (
  node: NodeSpec,
  onLine: (line: string) => void,
  signal: AbortSignal,
) => Promise<{ code: number | null; signal?: string; timedOut?: boolean; timeoutMs?: number }>;

export interface RebuildDeps {
  execute: RebuildExecutor;
  /**
   * The gate after a node (absent, or dry-activate: none). `cordoned`: the roll-out
   * cordoned the node itself (drain), so unschedulable is expected until it uncordons.
   */
  gate?: (
    node: NodeSpec,
    signal: AbortSignal,
    opts?: { cordoned?: boolean },
  ) => Promise<GateResult>;
  /** Cordon and drain each worker before its switch, uncordon after its gate (`--drain`). */
  drain?: { ops: KubeNodeOps; options?: DrainOptions };
}

/** The nodes a drain applies to: those that run workloads (the worker role). */
export const drains = (n: NodeSpec): boolean => n.roles.includes('worker');

export class RebuildFailed extends Error {
  override readonly name = 'RebuildFailed';
  constructor(
    message: string,
    readonly summary: RebuildSummary,
  ) {
    super(message);
  }
}

export function rebuildJob(
  req: RebuildRequest,
  waves: readonly (readonly NodeSpec[])[],
  deps: RebuildDeps,
): JobSpec<RebuildSummary> {
  const names = waves.flat().map((n) => n.name);
  const verb = req.rollback ? 'rollback' : req.action;
  return {
    action: 'rebuild',
    title: `rebuild ${verb}: ${names.join(', ')}`,
    targets: names,
    plan: {
      action: verb,
      waves: waves.map((w) => w.map((n) => n.name)),
      ...(deps.drain
        ? {
            drain: waves
              .flat()
              .filter(drains)
              .map((n) => n.name),
          }
        : {}),
    },
    run: (ctx) => rollOut(ctx, req, waves, deps),
    // The nodes' state changed: the overview's reachability and PKI read again.
    refresh: ['reach'],
  };
}

async function rollOut(
  ctx: JobContext,
  req: RebuildRequest,
  waves: readonly (readonly NodeSpec[])[],
  deps: RebuildDeps,
): Promise<RebuildSummary> {
  const dry = req.action === 'dry-activate' && !req.rollback;
  const summary: RebuildSummary = { action: req.rollback ? 'rollback' : req.action, runs: [] };
  // One line per node in the Jobs pane, from the start: every node of the roll-out.
  for (const [w, wave] of waves.entries())
    for (const n of wave) ctx.progress?.(n.name, `waiting (wave ${w + 1} of ${waves.length})`);
  for (const [w, wave] of waves.entries()) {
    if (summary.stopped) {
      for (const n of wave) {
        const why = `stopped after ${summary.stopped.node}`;
        ctx.progress?.(n.name, `not run: ${why}`);
        ctx.skip(`${n.name}: nixos-rebuild`, why);
        summary.runs.push({ node: n.name, phase: 'evaluating', tail: [], skipped: why });
      }
      continue;
    }
    await Promise.all(wave.map((n) => oneNode(ctx, n, dry, deps, summary)));
    if (!summary.stopped && w < waves.length - 1) ctx.log(`wave ${w + 1} of ${waves.length} done`);
  }
  if (summary.stopped) {
    const s = summary.stopped;
    throw new RebuildFailed(
      `${s.node} failed while ${s.phase}: ${s.reason}; the roll-out stopped there${
        s.tail.length ? `\nlast ${s.tail.length} lines of ${s.node}:\n${s.tail.join('\n')}` : ''
      }`,
      summary,
    );
  }
  return summary;
}

async function oneNode(
  ctx: JobContext,
  node: NodeSpec,
  dry: boolean,
  deps: RebuildDeps,
  summary: RebuildSummary,
): Promise<void> {
  const run: NodeRun = { node: node.name, phase: 'evaluating', tail: [] };
  summary.runs.push(run);
  const lines: string[] = [];
  const t0 = performance.now();
  const show = (text: string) => ctx.progress?.(node.name, text);
  const failed = () => {
    const s = summary.stopped;
    if (s?.node === node.name)
      show(
        `FAILED while ${s.phase}${s.cordoned ? ' (left cordoned)' : ''}: ${s.reason.split('\n')[0]}`,
      );
  };
  const drain = !dry && deps.drain && drains(node) ? deps.drain : undefined;
  /** The node is cordoned by now (by us, or before us), so a failure leaves it so. */
  let cordoned = false;
  let cordonedByUs = false;
  if (drain) {
    show('cordoning + draining');
    try {
      const d = await ctx.step(`${node.name}: cordon + drain`, () =>
        cordonAndDrain(drain.ops, node.name, (l) => ctx.log(l), ctx.signal, drain.options),
      );
      cordoned = true;
      cordonedByUs = d.cordonedByUs;
      run.drained = { evicted: d.evicted, skipped: d.skipped, uncordoned: false };
    } catch (e) {
      run.ms = performance.now() - t0;
      summary.stopped ??= {
        node: node.name,
        phase: 'draining',
        reason: (e as Error).message,
        tail: [],
        ...(e instanceof DrainError && e.cordoned ? { cordoned: true } : {}),
      };
      failed();
      return;
    }
  }
  /** A failure's reason, saying when the node is left cordoned. */
  const why = (m: string) => (cordoned ? `${m}; ${leftCordoned(node.name)}` : m);
  ctx.log(`${node.name}: ${run.phase}`);
  show(run.phase);
  let result: { code: number | null; signal?: string };
  try {
    result = await ctx.step(`${node.name}: nixos-rebuild`, async () => {
      const r = await deps.execute(
        node,
        (line) => {
          lines.push(line);
          if (lines.length > 5000) lines.splice(0, lines.length - 5000);
          const p = nextPhase(run.phase, line);
          if (p !== run.phase) {
            run.phase = p;
            ctx.log(`${node.name}: ${p}`);
            show(p);
          }
          ctx.log(`${node.name} | ${line}`);
        },
        ctx.signal,
      );
      run.report = parseActivation(lines);
      run.outcome = outcomeOf(r.code, run.report, r.signal);
      run.tail = lines.slice(-TAIL_LINES);
      if (r.timedOut)
        throw new Error(
          `nixos-rebuild did not finish within ${formatBound(r.timeoutMs)}: killed${
            r.signal ? ` (${r.signal}, with its process group)` : ''
          } (rebuild.timeout)`,
        );
      if (run.outcome.kind === 'units-failed')
        throw new Error(
          `switched, but units failed: ${run.outcome.units.join(', ') || '(not named)'}`,
        );
      if (run.outcome.kind === 'failed')
        throw new Error(`nixos-rebuild exited ${r.signal ?? r.code}`);
      return r;
    });
  } catch (e) {
    run.tail = lines.slice(-TAIL_LINES);
    run.ms = performance.now() - t0;
    summary.stopped ??= {
      node: node.name,
      phase: run.phase,
      reason: why((e as Error).message),
      tail: run.tail,
      ...(cordoned ? { cordoned: true } : {}),
    };
    failed();
    return;
  }
  void result;
  if (!dry) run.phase = 'done';
  if (dry) {
    const r = run.report!;
    const say = (what: string, units: string[]) =>
      units.length && ctx.log(`${node.name}: would ${what}: ${units.join(', ')}`);
    say('stop', r.stop);
    say('restart', r.restart);
    say('reload', r.reload);
    say('start', r.start);
    if (r.restartsSystemd) ctx.log(`${node.name}: would restart systemd`);
    const n = r.stop.length + r.restart.length + r.reload.length + r.start.length;
    show(n ? `dry-activate: ${n} unit(s) would change` : 'dry-activate: nothing would change');
  } else if (deps.gate) {
    const gate = deps.gate;
    show('gating');
    try {
      run.gate = await ctx.step(`${node.name}: health gate`, async () => {
        const g = await gate(node, ctx.signal, cordoned ? { cordoned: true } : {});
        for (const c of g.checks)
          ctx.log(`${node.name}: gate ${c.name}: ${c.ok ? 'ok' : 'FAILED'} (${c.detail})`);
        if (!g.ok) {
          const bad = g.checks.find((c) => !c.ok);
          throw Object.assign(new Error(`gate ${bad?.name ?? '?'}: ${bad?.detail ?? ''}`), {
            gate: g,
          });
        }
        return g;
      });
    } catch (e) {
      run.gate = (e as { gate?: GateResult }).gate;
      summary.stopped ??= {
        node: node.name,
        phase: 'gating',
        reason: why((e as Error).message),
        tail: run.tail,
        ...(cordoned ? { cordoned: true } : {}),
      };
      failed();
      run.ms = performance.now() - t0;
      return;
    }
  }
  if (drain && cordonedByUs) {
    show('uncordoning');
    try {
      await ctx.step(`${node.name}: uncordon`, () =>
        uncordon(drain.ops, node.name, (l) => ctx.log(l), ctx.signal, drain.options),
      );
      if (run.drained) run.drained.uncordoned = true;
    } catch (e) {
      summary.stopped ??= {
        node: node.name,
        phase: 'uncordoning',
        reason: (e as Error).message,
        tail: [],
        cordoned: true,
      };
      failed();
    }
  } else if (drain) ctx.log(`${node.name}: left cordoned, as it was before the roll-out`);
  run.ms = performance.now() - t0;
  if (!dry && summary.stopped?.node !== node.name)
    show(
      [
        `done in ${(run.ms / 1000).toFixed(1)} s`,
        run.gate ? 'gate passed' : undefined,
        run.drained
          ? `drained (${run.drained.evicted.length} evicted)${run.drained.uncordoned ? ', uncordoned' : ', left cordoned'}`
          : undefined,
      ]
        .filter(Boolean)
        .join(' · '),
    );
}

const formatBound = (ms: number | undefined): string =>
  ms === undefined
    ? 'its time'
    : ms % 3_600_000 === 0
      ? `${ms / 3_600_000} h`
      : ms % 60_000 === 0
        ? `${ms / 60_000} min`
        : `${Math.round(ms / 100) / 10} s`;

/** Exit code of a roll-out: 0 done; 4 switched with failed units (and nothing worse); 1 failed. */
export function rebuildExitCode(summary: RebuildSummary): number {
  if (!summary.stopped) return 0;
  const failedRun = summary.runs.find((r) => r.node === summary.stopped!.node);
  return failedRun?.outcome?.kind === 'units-failed' ? 4 : 1;
}
