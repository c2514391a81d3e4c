/**
 * The rotation feature: the planner's input from the store's `certs` snapshots (the PKI
 * feature's source, the same object) and the layout's plan per node (which certificates
 * the node timer rotates, with their units), and the schedule under the inventory's
 * `rotation` settings. Pure (time passed in): the Rotation pane re-plans the same input
 * with its preview settings; `k8ops rotate plan` prints it.
 */
import type { Inventory, RotationSettings } from '../../config/types.js';
import { isSelfIssued } from '../../pki/chain.js';
import { type Layout, planNode } from '../../pki/layout.js';
import { defaultLayout } from '../../pki/layout-data.js';
import type { CertFile } from '../../pki/types.js';
import { INVENTORY_SOURCE } from '../../store/types.js';
import { certsSource } from '../pki/sources.js';
import type { FeatureDef, SnapshotReader } from '../types.js';
import {
  DEFAULT_BUNDLE_LEAD_MS,
  type IntermediateInput,
  type LeafInput,
  type NodeInput,
  type PlanInput,
  type PlanSettings,
  planSchedule,
  type Schedule,
} from './plan.js';

export interface RotationModel {
  input: PlanInput;
  /** The inventory's settings (what the node timers run with). */
  settings: PlanSettings;
  /** The schedule under `settings`. */
  schedule: Schedule;
  /** Nodes whose certificates could not be read (unreachable or failing). */
  unreachable: string[];
}

export function planSettingsOf(r: RotationSettings): PlanSettings {
  return {
    spreadMs: r.spreadMs,
    ...(r.renewBeforeMs !== undefined ? { renewBeforeMs: r.renewBeforeMs } : {}),
    cpGapMs: r.cpGapMs,
    minRemainingMs: r.minRemainingMs,
    bundleLeadMs: r.bundleLeadMs ?? DEFAULT_BUNDLE_LEAD_MS,
  };
}

/** The planner's input: per node, the layout's certificates as found in its `certs` snapshot. */
export function rotationInput(
  inv: Inventory,
  read: SnapshotReader,
  layout: Layout = defaultLayout(),
): { input: PlanInput; unreachable: string[] } {
  const nodes: NodeInput[] = [];
  const unreachable: string[] = [];
  const cas = new Map<string, IntermediateInput>();
  for (const n of inv.nodes) {
    const snap = read<CertFile[]>(n.name, 'certs');
    const files = snap.value ?? [];
    const byPath = new Map(files.map((f) => [f.path, f]));
    for (const f of files) {
      for (const c of f.certs) {
        if (!c.isCA || isSelfIssued(c) || cas.has(c.fingerprint)) continue;
        cas.set(c.fingerprint, {
          cn: c.commonName ?? c.subject,
          subject: c.subject,
          fingerprint: c.fingerprint,
          notBefore: c.notBefore,
          notAfter: c.notAfter,
          ...(c.subjectKeyId ? { subjectKeyId: c.subjectKeyId } : {}),
        });
      }
    }
    const leaves: LeafInput[] = [];
    if (snap.value) {
      const plan = planNode(layout, n, { pkiDir: inv.pki.dir });
      for (const p of plan.certs) {
        const leaf = byPath.get(p.certPath)?.certs[0];
        leaves.push({
          id: p.id,
          path: p.certPath,
          units: p.units,
          ...(leaf
            ? {
                notBefore: leaf.notBefore,
                notAfter: leaf.notAfter,
                issuer: leaf.issuer,
                ...(leaf.authorityKeyId ? { authorityKeyId: leaf.authorityKeyId } : {}),
              }
            : {}),
        });
      }
    }
    const node: NodeInput = { name: n.name, index: n.index, roles: n.roles, leaves };
    if (snap.error) {
      node.error = snap.error.message;
      unreachable.push(n.name);
    } else if (!snap.value) node.pending = true;
    nodes.push(node);
  }
  return {
    input: { nodes, nodeCount: inv.nodes.length, intermediates: [...cas.values()] },
    unreachable,
  };
}

export function buildRotationModel(
  inv: Inventory,
  read: SnapshotReader,
  now: number,
  layout?: Layout,
): RotationModel {
  const { input, unreachable } = rotationInput(inv, read, layout);
  const settings = planSettingsOf(inv.rotation);
  return { input, settings, schedule: planSchedule(input, settings, now), unreachable };
}

const HOUR = 3_600_000;

/**
 * What the pane shows of a model: the timeline moves per hour (its origin is the hour),
 * the rest changes with the certificates; a rebuild with the same signature draws nothing.
 */
export function rotationSignature(m: RotationModel, now: number): string {
  const s = m.settings;
  const parts: string[] = [
    String(Math.floor(now / HOUR)),
    `${s.spreadMs}/${s.renewBeforeMs}/${s.cpGapMs}/${s.minRemainingMs}/${s.bundleLeadMs}`,
  ];
  for (const n of m.input.nodes) {
    parts.push(n.name, n.error ?? '', n.pending ? 'p' : '');
    for (const l of n.leaves) parts.push(l.id, String(l.notBefore), String(l.notAfter));
  }
  for (const c of m.input.intermediates) parts.push(c.fingerprint);
  for (const c of m.schedule.conflicts) parts.push(c.message);
  return parts.join('\u0000');
}

export const rotationFeature: FeatureDef<RotationModel> = {
  id: 'rotation',
  sources: [certsSource],
  // The settings saved from the pane (`w`): rebuilt with them at once.
  reads: [{ scope: 'cluster', id: INVENTORY_SOURCE }],
  model: ({ inventory, read, now }) => buildRotationModel(inventory, read, now),
  signature: rotationSignature,
};
