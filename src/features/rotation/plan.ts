/**
 * The rotation planner (DESIGN.md "Rotation schedule"): one schedule from the certificates
 * k8ops sees and the inventory's `rotation` settings, computed the way the node timer
 * computes it (nix/lib/rotation.nix for the slot, nix/modules/scripts/k8ops-rotate-due.sh
 * for the time), to the second:
 *
 *   offset(i)       = ⌊i × spread / N⌋               whole seconds (Nix integer division)
 *   renewBefore     = configured, else ⌊lifetime / 3⌋ whole seconds (renewWindowMs, floored)
 *   scheduled(leaf) = notAfter − renewBefore + offset(i)
 *
 * and the conflicts the preview flags: two control-plane rotations closer than `cpGap`, a
 * leaf rotated with less than `minRemaining` left, a leaf that would outlive the
 * intermediate signing it, an intermediate whose successor cannot be in the bundles
 * `bundleLead` before it signs. Pure: time and settings are passed in.
 */

import { UNIT_ORDER } from '../../actions/rotate/reload.js';
import { DEFAULTS } from '../../config/defaults.js';
import type { Role } from '../../config/types.js';
import { DURATION, INTERMEDIATE_RENEW_BEFORE_MS, renewWindowMs } from '../../pki/expiry.js';

const SECOND = DURATION.SECOND;

export interface PlanSettings {
  /** Jitter spread across nodes (node i of N: offset i × spread / N). */
  spreadMs: number;
  /** Leaf renew window; undefined = a third of each certificate's lifetime. */
  renewBeforeMs?: number;
  /** Minimum gap between two control-plane rotations. */
  cpGapMs: number;
  /** A rotation leaving less than this before notAfter is flagged. */
  minRemainingMs: number;
  /** The successor intermediate is in every bundle this long before it signs (DESIGN.md: 24 h). */
  bundleLeadMs: number;
}

/** DESIGN.md: `bundleLead` default 24 h (the inventory's rotation.bundleLead). */
export const DEFAULT_BUNDLE_LEAD_MS = DEFAULTS.rotation.bundleLeadMs;

export interface LeafInput {
  /** The layout's certificate id (what the node timer's plan names). */
  id: string;
  path: string;
  /** Absent: the file is missing or unreadable (the timer rotates it at once). */
  notBefore?: number;
  notAfter?: number;
  /** Units restarted after installing it (the layout's). */
  units: readonly string[];
  /** Issuer DN and authority key id (to find the intermediate that signed it). */
  issuer?: string;
  authorityKeyId?: string;
}

export interface NodeInput {
  name: string;
  /** Inventory index (0-based). */
  index: number;
  roles: readonly Role[];
  leaves: readonly LeafInput[];
  /** The certificates could not be read (unreachable, or no answer yet). */
  error?: string;
  pending?: boolean;
}

export interface IntermediateInput {
  cn: string;
  subject: string;
  fingerprint: string;
  notBefore: number;
  notAfter: number;
  subjectKeyId?: string;
}

export interface PlanInput {
  nodes: readonly NodeInput[];
  /** N of the slot formula: every node of the inventory (not only those shown). */
  nodeCount: number;
  intermediates: readonly IntermediateInput[];
}

export type LeafReason = 'scheduled' | 'overdue' | 'expired' | 'missing';

export interface LeafPlan {
  id: string;
  path: string;
  notAfter?: number;
  renewBeforeMs?: number;
  /** notAfter − renewBefore. */
  dueMs?: number;
  /** due + the node's offset (now for a missing certificate). */
  scheduledMs: number;
  /** notAfter − scheduled. */
  remainingMs?: number;
  reason: LeafReason;
  units: readonly string[];
  /** CN of the intermediate that signs it (when found). */
  intermediate?: string;
}

/** One run of the node timer: the certificates it rotates together, in restart order. */
export interface RotationEvent {
  node: string;
  at: number;
  certs: string[];
  /** Units restarted one at a time, in the hook's order (etcd first, kubelet last). */
  units: string[];
  controlPlane: boolean;
  /** The scheduled time is past: the next timer run rotates it. */
  overdue: boolean;
}

export interface NodeSchedule {
  name: string;
  index: number;
  roles: readonly Role[];
  controlPlane: boolean;
  offsetMs: number;
  leaves: LeafPlan[];
  events: RotationEvent[];
  error?: string;
  pending?: boolean;
}

export interface IntermediateSchedule {
  cn: string;
  subject: string;
  fingerprint: string;
  notAfter: number;
  /** notAfter − (leaf lifetime + 2 d): the successor signs from here. */
  dueMs: number;
  /** due − bundleLead: the successor must be in every bundle by then. */
  bundleByMs: number;
  /** A newer certificate of the same name exists (the successor is issued). */
  superseded: boolean;
}

export type ConflictKind = 'cp-gap' | 'min-remaining' | 'outlives-intermediate' | 'no-bundle-lead';

export interface Conflict {
  kind: ConflictKind;
  /** The node (cp-gap: the later of the two), or the intermediate's CN. */
  subject: string;
  /** cp-gap: the other node. */
  other?: string;
  cert?: string;
  at: number;
  message: string;
}

export interface Schedule {
  now: number;
  settings: PlanSettings;
  nodes: NodeSchedule[];
  intermediates: IntermediateSchedule[];
  conflicts: Conflict[];
}

/**
 * The slot offset of node `index` of `count`: ⌊index × spread / count⌋ in whole seconds,
 * exactly what nix/lib/rotation.nix evaluates (spread taken in whole seconds, as the
 * module passes it).
 */
export function slotOffsetMs(index: number, count: number, spreadMs: number): number {
  if (count < 1 || index < 0) return 0;
  const spreadS = Math.floor(Math.max(0, spreadMs) / SECOND);
  return Math.floor((index * spreadS) / count) * SECOND;
}

/**
 * A leaf's renew window in whole seconds: renewWindowMs (configured, else a third of the
 * lifetime), floored as the timer's shell arithmetic floors ⌊lifetime / 3⌋.
 */
export function leafRenewBeforeMs(
  cert: { notBefore: number; notAfter: number },
  renewBeforeMs: number | undefined,
): number {
  const nb = Math.floor(cert.notBefore / SECOND) * SECOND;
  const na = Math.floor(cert.notAfter / SECOND) * SECOND;
  return (
    Math.floor(renewWindowMs('leaf', { notBefore: nb, notAfter: na }, renewBeforeMs) / SECOND) *
    SECOND
  );
}

/** When the timer rotates a leaf: notAfter − renewBefore + offset (whole seconds). */
export function scheduledAt(
  cert: { notBefore: number; notAfter: number },
  offsetMs: number,
  renewBeforeMs: number | undefined,
): { dueMs: number; scheduledMs: number; renewBeforeMs: number } {
  const rb = leafRenewBeforeMs(cert, renewBeforeMs);
  const dueMs = Math.floor(cert.notAfter / SECOND) * SECOND - rb;
  return { dueMs, scheduledMs: dueMs + offsetMs, renewBeforeMs: rb };
}

/** The restart order of the rotate action and the node timer's hook (src/actions/rotate). */
export { UNIT_ORDER };

/** Units of `certs`, each once, in the hook's restart order (unknown units last, by name). */
export function restartOrder(units: readonly string[]): string[] {
  if (units.length <= 1) return [...units];
  const rank = (u: string) => {
    const i = UNIT_ORDER.indexOf(u);
    return i < 0 ? UNIT_ORDER.length : i;
  };
  return [...new Set(units)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The hook's health gate for one unit (it checks `systemctl is-active`, then rolls back). */
export const healthGate = (unit: string): string =>
  `${unit} active within 120 s (systemctl is-active), else the previous pair is restored`;

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

/**
 * What planning one node needs that depends neither on the spread nor on `now`: per leaf
 * (input order) its renew window, due time and signer, in flat arrays (no object per
 * leaf). The last input's are kept (a single entry: the input is immutable, and the
 * Rotation pane re-plans the same input on every `+`, `-`), so a preview step costs the
 * arithmetic of the slots, not the lookups.
 */
interface NodePrep {
  /** What it was prepared from (a node whose list was replaced is prepared again). */
  leaves: readonly LeafInput[];
  /** Renew window and due time (NaN: a missing certificate). */
  renewBeforeMs: number[];
  dueMs: number[];
  /** The intermediate that signs it now, and the newest of that name (signs from now on). */
  signer: Array<IntermediateInput | undefined>;
  by: Array<IntermediateInput | undefined>;
}

let prepared:
  | {
      nodes: readonly NodeInput[];
      intermediates: readonly IntermediateInput[];
      renewBeforeMs: number | undefined;
      preps: NodePrep[];
    }
  | undefined;

function prepareNode(
  n: NodeInput,
  intermediates: readonly IntermediateInput[],
  renewBeforeMs: number | undefined,
): NodePrep {
  const count = n.leaves.length;
  const p: NodePrep = {
    leaves: n.leaves,
    renewBeforeMs: new Array<number>(count),
    dueMs: new Array<number>(count),
    signer: new Array<IntermediateInput | undefined>(count),
    by: new Array<IntermediateInput | undefined>(count),
  };
  for (let k = 0; k < count; k++) {
    const l = n.leaves[k]!;
    if (l.notAfter === undefined || l.notBefore === undefined) {
      p.renewBeforeMs[k] = Number.NaN;
      p.dueMs[k] = Number.NaN;
      p.signer[k] = undefined;
      p.by[k] = undefined;
      continue;
    }
    const s = scheduledAt(l as { notBefore: number; notAfter: number }, 0, renewBeforeMs);
    const signer = l.issuer !== undefined ? signerOf(l, intermediates) : undefined;
    p.renewBeforeMs[k] = s.renewBeforeMs;
    p.dueMs[k] = s.dueMs;
    p.signer[k] = signer;
    p.by[k] = signer ? newestOf(signer, intermediates) : undefined;
  }
  return p;
}

function prepare(input: PlanInput, renewBeforeMs: number | undefined): NodePrep[] {
  const c = prepared;
  const same =
    c !== undefined &&
    c.nodes === input.nodes &&
    c.preps.length === input.nodes.length &&
    c.intermediates === input.intermediates &&
    c.renewBeforeMs === renewBeforeMs;
  const preps = input.nodes.map((n, i) => {
    const hit = same ? c.preps[i] : undefined;
    return hit && hit.leaves === n.leaves && hit.dueMs.length === n.leaves.length
      ? hit
      : prepareNode(n, input.intermediates, renewBeforeMs);
  });
  prepared = { nodes: input.nodes, intermediates: input.intermediates, renewBeforeMs, preps };
  return preps;
}

/** A node's leaves and timer runs at its offset (built when first read: see planSchedule). */
function nodePlan(
  n: NodeInput,
  p: NodePrep,
  offsetMs: number,
  controlPlane: boolean,
  now: number,
): { leaves: LeafPlan[]; events: RotationEvent[] } {
  const leaves: LeafPlan[] = [];
  for (let k = 0; k < n.leaves.length; k++) {
    const l = n.leaves[k]!;
    if (l.notAfter === undefined || l.notBefore === undefined) {
      leaves.push({ id: l.id, path: l.path, scheduledMs: now, reason: 'missing', units: l.units });
      continue;
    }
    const dueMs = p.dueMs[k]!;
    const scheduledMs = dueMs + offsetMs;
    const reason: LeafReason =
      now > l.notAfter ? 'expired' : now >= scheduledMs ? 'overdue' : 'scheduled';
    const plan: LeafPlan = {
      id: l.id,
      path: l.path,
      notAfter: l.notAfter,
      renewBeforeMs: p.renewBeforeMs[k]!,
      dueMs,
      scheduledMs,
      remainingMs: l.notAfter - scheduledMs,
      reason,
      units: l.units,
    };
    const signer = p.signer[k];
    if (signer) plan.intermediate = signer.cn;
    leaves.push(plan);
  }
  // One timer run per distinct time: the certificates due together rotate together.
  leaves.sort((a, b) => a.scheduledMs - b.scheduledMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
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
  return { leaves, events };
}

/**
 * The schedule. Each node's `leaves` and `events` are built when first read (a getter that
 * keeps what it built): the conflicts below need only numbers, and the pane reads the
 * nodes on screen, so a preview step over 500 nodes × 30 certificates builds ~40 nodes'
 * lists, not 15,000 leaves. The values are those of an eager plan (the test
 * plan-incremental.test.ts compares them with the previous planner, kept as its oracle).
 */
export function planSchedule(input: PlanInput, settings: PlanSettings, now: number): Schedule {
  const conflicts: Conflict[] = [];
  const nodes: NodeSchedule[] = [];
  const preps = prepare(input, settings.renewBeforeMs);
  for (let i = 0; i < input.nodes.length; i++) {
    const n = input.nodes[i]!;
    const p = preps[i]!;
    const offsetMs = slotOffsetMs(n.index, input.nodeCount, settings.spreadMs);
    const controlPlane = n.roles.includes('control-plane');
    // The conflicts of each leaf, in the input order of the leaves.
    for (let k = 0; k < n.leaves.length; k++) {
      const l = n.leaves[k]!;
      if (l.notAfter === undefined || l.notBefore === undefined) continue;
      const scheduledMs = p.dueMs[k]! + offsetMs;
      const remainingMs = l.notAfter - scheduledMs;
      if (remainingMs < settings.minRemainingMs) {
        conflicts.push({
          kind: 'min-remaining',
          subject: n.name,
          cert: l.id,
          at: scheduledMs,
          message: `${n.name} ${l.id}: rotated at ${iso(scheduledMs)} with ${hours(Math.max(0, remainingMs))} left (minimum ${hours(settings.minRemainingMs)})`,
        });
      }
      const by = p.by[k];
      if (by) {
        // Re-issued at the scheduled time by the intermediate that signs it then: the
        // newest of its name (the successor once issued).
        const lifetime = l.notAfter - l.notBefore;
        const at = Math.max(now, scheduledMs);
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
    let built: { leaves: LeafPlan[]; events: RotationEvent[] } | undefined;
    const build = () => {
      built ??= nodePlan(n, p, offsetMs, controlPlane, now);
      return built;
    };
    nodes.push({
      name: n.name,
      index: n.index,
      roles: n.roles,
      controlPlane,
      offsetMs,
      get leaves() {
        return build().leaves;
      },
      set leaves(v: LeafPlan[]) {
        build().leaves = v;
      },
      get events() {
        return build().events;
      },
      set events(v: RotationEvent[]) {
        build().events = v;
      },
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

/** The events of every node, in time order (ties by node index). */
export function allEvents(s: Schedule): RotationEvent[] {
  const idx = new Map(s.nodes.map((n) => [n.name, n.index]));
  return s.nodes
    .flatMap((n) => n.events)
    .sort((a, b) => a.at - b.at || (idx.get(a.node) ?? 0) - (idx.get(b.node) ?? 0));
}
