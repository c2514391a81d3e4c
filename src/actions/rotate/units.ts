/**
 * Shared by the rotations of intermediates (ca.ts) and service-account keys (sa.ts): the
 * lock command of lock.sh, and one unit handled after a file it reads changed (restart when
 * it does not pick the file up by itself, then its health gates; a failed gate puts the
 * previous file back, restarts the unit and fails naming the gate), the same gates and
 * polling as a leaf's rotation (job.ts).
 */
import type { NodeSpec } from '../../config/types.js';
import type { NodeAgent } from '../../nodes/agent.js';
import type { Layout, PlannedCert } from '../../pki/layout.js';
import type { JobContext } from '../types.js';
import { type Exec, GateFailedError, type Must, type RotateDeps, sleep, waitGate } from './job.js';
import { defaultGates, type Gate, type LockOwner, type UnitControl } from './plan.js';
import type { UnitPickup } from './reload.js';

/** `lock.sh acquire` of the lock in `dir` (a node's pkiDir, or the signer's CA directory). */
export const lockAcquireArgv = (
  tool: string,
  who: LockOwner,
  dir: string,
  resumePid?: number,
): string[] => [
  tool,
  'acquire',
  '--owner',
  who.owner,
  '--host',
  who.host,
  '--pid',
  String(who.pid),
  ...(resumePid !== undefined ? ['--resume-pid', String(resumePid)] : []),
  '--pki-dir',
  dir,
];
export const lockReleaseArgv = (tool: string, token: string, dir: string): string[] => [
  tool,
  'release',
  '--token',
  token,
  '--pki-dir',
  dir,
];

/** One unit that reads a rotated file: restart or not, why, and its gates. */
export interface UnitStep {
  unit: string;
  restart: boolean;
  why: string[];
  gates: Gate[];
  /** What it reads among the files the step changes (bundle ids, key pair ids). */
  reads: string[];
  /** A key pair's files it reads (`key`, `pub`); absent: every one. */
  files?: string[];
}

/**
 * The units of `node` that read the files `readers` lists (file id → its readers): only the
 * units the node runs (those of the certificates it holds), in restart order, with the
 * default gates of each (or `gates[unit]`).
 */
export function unitSteps(
  readers: Readonly<Record<string, readonly UnitPickup[]>>,
  node: NodeSpec,
  certs: readonly PlannedCert[],
  layout: Layout,
  pkiDir: string,
  o: { hasKube?: boolean; gates?: Readonly<Record<string, Gate[]>>; runs?: ReadonlySet<string> },
): UnitStep[] {
  const runs = o.runs ?? new Set(certs.flatMap((c) => c.units));
  const byUnit = new Map<string, UnitStep>();
  for (const [file, list] of Object.entries(readers)) {
    for (const r of list) {
      if (!runs.has(r.unit)) continue;
      let s = byUnit.get(r.unit);
      if (!s) {
        s = {
          unit: r.unit,
          restart: false,
          why: [],
          gates:
            o.gates?.[r.unit] ??
            defaultGates(
              r.unit,
              node,
              certs.filter((c) => c.units.includes(r.unit)),
              layout,
              pkiDir,
              o.hasKube === true,
            ),
          reads: [],
        };
        byUnit.set(r.unit, s);
      }
      s.restart ||= r.pickup === 'restart';
      s.why.push(`${file}: ${r.why}`);
      if (!s.reads.includes(file)) s.reads.push(file);
      if (r.files) s.files = [...new Set([...(s.files ?? []), ...r.files])];
    }
  }
  // readers' lists are in restart order; the merged list keeps the first unit's rank.
  const order = Object.values(readers).flat();
  return [...byUnit.values()].sort(
    (a, b) => order.findIndex((x) => x.unit === a.unit) - order.findIndex((x) => x.unit === b.unit),
  );
}

/**
 * Handle one unit after the files it reads changed: restart it (when it must), wait for
 * each gate; on a failed gate run `rollback`, restart the unit, wait until it is active and
 * throw GateFailedError with the last log lines.
 */
export async function restartAndGate(
  name: string,
  s: UnitStep,
  units: UnitControl,
  agent: NodeAgent,
  deps: RotateDeps,
  ctx: JobContext,
  exec: Exec,
  must: Must,
  rollback: () => Promise<void>,
  /** What the rollback puts back, for the error (default: the previous file). */
  restored = 'the previous file',
): Promise<boolean> {
  if (s.restart)
    await ctx.step(`${name}: ${s.unit}: restart`, () =>
      must(agent, units.restart(s.unit), 'restart'),
    );
  else ctx.skip(`${name}: ${s.unit}: restart`, `not needed: ${s.why.join('; ')}`);
  for (const gate of s.gates) {
    let failure: string | undefined;
    try {
      await ctx.step(`${name}: ${s.unit}: gate: ${gate.name}`, async () => {
        const f = await waitGate(gate, units, agent, deps, ctx, exec);
        if (f !== undefined) throw new Error(f);
      });
    } catch (e) {
      failure = (e as Error).message;
    }
    if (failure === undefined) continue;
    await ctx.step(`${name}: ${s.unit}: rollback`, async () => {
      await rollback();
      await must(agent, units.restart(s.unit), 'restart after rollback');
      const deadline = Date.now() + (deps.gateTimeoutMs ?? 60_000);
      for (;;) {
        const r = await exec(agent, units.isActive(s.unit), { readOnly: true });
        if (r.code === 0) break;
        if (Date.now() > deadline || ctx.signal.aborted)
          throw new Error(`${s.unit} is not active after the rollback`);
        await sleep(deps.pollMs ?? 1000, ctx.signal);
      }
    });
    const logs = await exec(agent, units.logs(s.unit), { readOnly: true }).catch(() => undefined);
    const lines = (logs?.stdout ?? '').trim().split('\n').filter(Boolean).slice(-10);
    throw new GateFailedError(name, s.unit, gate.name, failure, lines, restored);
  }
  return s.restart;
}
