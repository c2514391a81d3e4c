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

/** One line (or a few) per node: what its activation would do. */
export function previewLines(s: RebuildSummary): string[] {
  const out: string[] = [];
  for (const r of s.runs) {
    if (!r.report) {
      out.push(`${r.node}: ${r.skipped ? `not previewed (${r.skipped})` : 'no report'}`);
      continue;
    }
    const rep = r.report;
    const parts: string[] = [];
    if (rep.restartsSystemd) parts.push('would restart systemd');
    if (rep.stop.length) parts.push(`stop ${list(rep.stop)}`);
    if (rep.restart.length) parts.push(`restart ${list(rep.restart)}`);
    if (rep.reload.length) parts.push(`reload ${list(rep.reload)}`);
    if (rep.start.length) parts.push(`start ${list(rep.start)}`);
    out.push(
      parts.length
        ? `${r.node}: would ${parts.join('; ').replace(/^would /, '')}`
        : `${r.node}: no unit would stop, restart, reload or start`,
    );
  }
  return out;
}
