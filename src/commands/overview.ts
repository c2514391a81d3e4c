/**
 * `k8ops overview [--json]`: the Overview pane headless, from the same model.
 * Exit code: 0 all good; 1 a node unreachable or NotReady, or a certificate expired.
 */

import { formatAge, type Overview, overviewFeature } from '../features/overview/model.js';
import { formatCountdown } from '../pki/expiry.js';
import type { Session } from '../session/session.js';
import { safeJson } from '../store/sanitise.js';
import { EXIT, formatTable, type Out, settleOnce } from './common.js';

export function overviewExitCode(o: Overview): number {
  const bad = o.rows.some(
    (r) => r.reach !== 'up' || r.kube === 'NotReady' || r.worst?.urgency === 'expired',
  );
  return bad ? EXIT.problem : EXIT.ok;
}

export async function overviewCommand(session: Session, json: boolean, out: Out): Promise<number> {
  await settleOnce(session);
  const now = Date.now();
  const o = overviewFeature.model({
    inventory: session.inventory,
    read: (s, src) => session.store.get(s, src),
    now,
    hasKube: session.hasKube,
  });
  if (json) {
    const doc = {
      cluster: session.inventory.cluster,
      mode: session.mode,
      context: session.context ?? null,
      generatedAt: new Date(now).toISOString(),
      totals: {
        ...o.totals,
        worst: o.totals.worst
          ? { ...o.totals.worst, notAfter: new Date(o.totals.worst.notAfter).toISOString() }
          : null,
      },
      nodes: o.rows.map((r) => ({
        ...r,
        worst: r.worst
          ? {
              ...r.worst,
              notAfter: new Date(r.worst.notAfter).toISOString(),
              remainingSeconds: Math.floor((r.worst.notAfter - now) / 1000),
            }
          : null,
        lastRefresh: r.lastRefresh ? new Date(r.lastRefresh).toISOString() : null,
      })),
    };
    out.write(`${safeJson(doc, 2)}\n`);
  } else {
    const header = ['NAME', 'ROLES', 'SSH', 'KUBE', 'NEXT EXPIRY', 'CERT', 'AGE'];
    const rows = o.rows.map((r) => [
      r.name,
      r.roles.join(','),
      r.reach === 'up'
        ? `up ${Math.round(r.rttMs ?? 0)}ms`
        : r.reach === 'down'
          ? `down: ${r.reachError ?? ''}`
          : 'pending',
      r.kube,
      r.worst ? formatCountdown(r.worst.notAfter - now) : (r.certError ?? '-'),
      r.worst ? (r.worst.path.split('/').pop() ?? '') : '',
      r.lastRefresh ? formatAge(now - r.lastRefresh) : '-',
    ]);
    out.write(`${formatTable(header, rows).join('\n')}\n`);
  }
  return overviewExitCode(o);
}
