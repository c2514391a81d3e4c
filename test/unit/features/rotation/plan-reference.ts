/**
 * The rotation planner as it was before it was made incremental (commit 5d7f5ac), kept
 * verbatim as the oracle of test/unit/features/rotation/plan-incremental.test.ts: the
 * memoised, lazy planner must give the same schedule, value for value.
 */
import {
  type Conflict,
  type IntermediateInput,
  type IntermediateSchedule,
  type LeafInput,
  type LeafPlan,
  type LeafReason,
  type NodeSchedule,
  type PlanInput,
  type PlanSettings,
  type RotationEvent,
  restartOrder,
  type Schedule,
  scheduledAt,
  slotOffsetMs,
} from '../../../../src/features/rotation/plan.js';
import { DURATION, INTERMEDIATE_RENEW_BEFORE_MS } from '../../../../src/pki/expiry.js';

const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');
const hours = (ms: number): string => {
  const h = ms / DURATION.HOUR;
  return Number.isInteger(h) ? `${h} h` : `${Math.round(ms / DURATION.MINUTE)} min`;
};

/** The intermediate that signs `leaf` now: same DN (and key id when both carry one), newest. */
function signerOf(
  leaf: LeafInput,
  intermediates: readonly IntermediateInput[],
): IntermediateInput | undefined {
  let best: IntermediateInput | undefined;
  for (const c of intermediates) {
    if (c.subject !== leaf.issuer) continue;
    if (leaf.authorityKeyId && c.subjectKeyId && leaf.authorityKeyId !== c.subjectKeyId) continue;
    if (!best || c.notAfter > best.notAfter) best = c;
  }
  return best;
}

/** The newest intermediate with the same DN as `c` (the one that will sign from now on). */
function newestOf(
  c: IntermediateInput,
  intermediates: readonly IntermediateInput[],
): IntermediateInput {
  let best = c;
  for (const o of intermediates)
    if (o.subject === c.subject && o.notAfter > best.notAfter) best = o;
  return best;
}

export function referencePlanSchedule(
  input: PlanInput,
  settings: PlanSettings,
  now: number,
): Schedule {
  const conflicts: Conflict[] = [];
  const nodes: NodeSchedule[] = [];
  for (const n of input.nodes) {
    const offsetMs = slotOffsetMs(n.index, input.nodeCount, settings.spreadMs);
    const controlPlane = n.roles.includes('control-plane');
    const leaves: LeafPlan[] = [];
    for (const l of n.leaves) {
      if (l.notAfter === undefined || l.notBefore === undefined) {
        leaves.push({
          id: l.id,
          path: l.path,
          scheduledMs: now,
          reason: 'missing',
          units: l.units,
        });
        continue;
      }
      const cert = { notBefore: l.notBefore, notAfter: l.notAfter };
      const s = scheduledAt(cert, offsetMs, settings.renewBeforeMs);
      const remainingMs = l.notAfter - s.scheduledMs;
      const reason: LeafReason =
        now > l.notAfter ? 'expired' : now >= s.scheduledMs ? 'overdue' : 'scheduled';
      const signer = l.issuer !== undefined ? signerOf(l, input.intermediates) : undefined;
      leaves.push({
        id: l.id,
        path: l.path,
        notAfter: l.notAfter,
        renewBeforeMs: s.renewBeforeMs,
        dueMs: s.dueMs,
        scheduledMs: s.scheduledMs,
        remainingMs,
        reason,
        units: l.units,
        ...(signer ? { intermediate: signer.cn } : {}),
      });
      if (remainingMs < settings.minRemainingMs) {
        conflicts.push({
          kind: 'min-remaining',
          subject: n.name,
          cert: l.id,
          at: s.scheduledMs,
          message: `${n.name} ${l.id}: rotated at ${iso(s.scheduledMs)} with ${hours(Math.max(0, remainingMs))} left (minimum ${hours(settings.minRemainingMs)})`,
        });
      }
      if (signer) {
        // Re-issued at the scheduled time by the intermediate that signs it then: the
        // newest of its name (the successor once issued).
        const lifetime = l.notAfter - l.notBefore;
        const at = Math.max(now, s.scheduledMs);
        const by = newestOf(signer, input.intermediates);
        if (at + lifetime > by.notAfter) {
          conflicts.push({
            kind: 'outlives-intermediate',
            subject: n.name,
            cert: l.id,
            at,
            message: `${n.name} ${l.id}: re-issued at ${iso(at)} it would expire at ${iso(at + lifetime)}, after its intermediate ${by.cn} (${iso(by.notAfter)}); issue the successor first`,
          });
        }
      }
    }
    // One timer run per distinct time: the certificates due together rotate together.
    leaves.sort(
      (a, b) => a.scheduledMs - b.scheduledMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    const events: RotationEvent[] = [];
    for (let i = 0; i < leaves.length; ) {
      const at = leaves[i]!.scheduledMs;
      let j = i + 1;
      while (j < leaves.length && leaves[j]!.scheduledMs === at) j++;
      const group = leaves.slice(i, j);
      events.push({
        node: n.name,
        at,
        certs: group.map((l) => l.id),
        units: restartOrder(group.length === 1 ? group[0]!.units : group.flatMap((l) => l.units)),
        controlPlane,
        overdue: at <= now,
      });
      i = j;
    }
    nodes.push({
      name: n.name,
      index: n.index,
      roles: n.roles,
      controlPlane,
      offsetMs,
      leaves,
      events,
      ...(n.error !== undefined ? { error: n.error } : {}),
      ...(n.pending ? { pending: true } : {}),
    });
  }

  // Control-plane nodes rotate one at a time, at least cpGap apart: every pair of events
  // on two different control-plane nodes closer than that is flagged.
  const cp = nodes
    .filter((n) => n.controlPlane)
    .flatMap((n) => n.events)
    .sort((a, b) => a.at - b.at);
  for (let i = 0; i < cp.length; i++) {
    const a = cp[i]!;
    for (let j = i + 1; j < cp.length && cp[j]!.at - a.at < settings.cpGapMs; j++) {
      const b = cp[j]!;
      if (b.node === a.node) continue;
      conflicts.push({
        kind: 'cp-gap',
        subject: b.node,
        other: a.node,
        at: b.at,
        message: `control-plane ${a.node} (${iso(a.at)}) and ${b.node} (${iso(b.at)}) rotate ${hours(b.at - a.at)} apart (minimum ${hours(settings.cpGapMs)})`,
      });
    }
  }

  const intermediates: IntermediateSchedule[] = [];
  for (const c of input.intermediates) {
    const dueMs = c.notAfter - INTERMEDIATE_RENEW_BEFORE_MS;
    const bundleByMs = dueMs - settings.bundleLeadMs;
    const superseded = newestOf(c, input.intermediates) !== c;
    intermediates.push({
      cn: c.cn,
      subject: c.subject,
      fingerprint: c.fingerprint,
      notAfter: c.notAfter,
      dueMs,
      bundleByMs,
      superseded,
    });
    if (!superseded && now > bundleByMs) {
      conflicts.push({
        kind: 'no-bundle-lead',
        subject: c.cn,
        at: dueMs,
        message: `intermediate ${c.cn} is due at ${iso(dueMs)} and no successor is issued: it needed to be in every bundle by ${iso(bundleByMs)} (${hours(settings.bundleLeadMs)} before it signs)`,
      });
    }
  }
  intermediates.sort((a, b) => a.dueMs - b.dueMs || (a.cn < b.cn ? -1 : 1));
  conflicts.sort((a, b) => a.at - b.at || (a.subject < b.subject ? -1 : 1));
  return { now, settings, nodes, intermediates, conflicts };
}
