/**
 * The `dry-activate` preview shown before a switch is confirmed (console `B`, and
 * `k8ops rebuild` asked on a terminal): every node's parsed activation report as lines —
 * which units would stop, restart, reload or start, or that nothing would change.
 * Pure.
 */
import type { NodeSpec } from '../../config/types.js';
import type { RebuildSummary } from './job.js';

/** Preview nodes this many at a time (dry-activate changes nothing: no order to keep). */
export const PREVIEW_PARALLEL = 8;

/** Every node of the roll-out, in order, in waves of PREVIEW_PARALLEL. */
export function previewWaves(waves: readonly (readonly NodeSpec[])[]): NodeSpec[][] {
  const all = waves.flat();
  const out: NodeSpec[][] = [];
  for (let i = 0; i < all.length; i += PREVIEW_PARALLEL)
    out.push(all.slice(i, i + PREVIEW_PARALLEL));
  return out;
}

const list = (units: readonly string[], max = 6): string =>
  units.length <= max
    ? units.join(', ')
    : `${units.slice(0, max).join(', ')} and ${units.length - max} more`;

/**
 * Per node what its activation would do: a line with the restarts and reloads (what the
 * operator weighs first), and one below with the units it would stop and start.
 */
export function previewLines(s: RebuildSummary): string[] {
  const out: string[] = [];
  for (const r of s.runs) {
    if (!r.report) {
      out.push(`${r.node}: ${r.skipped ? `not previewed (${r.skipped})` : 'no report'}`);
      continue;
    }
    const rep = r.report;
    const first: string[] = [];
    if (rep.restartsSystemd) first.push('restart systemd');
    if (rep.restart.length) first.push(`restart ${list(rep.restart)}`);
    if (rep.reload.length) first.push(`reload ${list(rep.reload)}`);
    const second: string[] = [];
    if (rep.stop.length) second.push(`stop ${list(rep.stop)}`);
    if (rep.start.length) second.push(`start ${list(rep.start)}`);
    if (!first.length && !second.length) {
      out.push(`${r.node}: no unit would stop, restart, reload or start`);
      continue;
    }
    if (!first.length) first.push('restart or reload nothing');
    out.push(`${r.node}: would ${first.join('; ')}`);
    if (second.length) out.push(`${' '.repeat(r.node.length)}  and ${second.join('; ')}`);
  }
  return out;
}
