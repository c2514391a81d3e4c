/**
 * The PKI model: per-node inputs from the store's snapshots (`certs`, `pki-status`) and
 * the layout's plan for each node, turned into the PKI report (checks + tree). Pure (time
 * passed in) so the PKI pane and `k8ops certs` share it.
 */
import type { Inventory } from '../../config/types.js';
import type { NodeCheckInput } from '../../pki/checks.js';
import { type Layout, planNode } from '../../pki/layout.js';
import { defaultLayout } from '../../pki/layout-data.js';
import { buildPkiReport, type PkiReport } from '../../pki/report.js';
import type { TreeNodeProblem } from '../../pki/tree.js';
import type { CertFile, PkiStatus } from '../../pki/types.js';
import { ACME_READS, readAcme, withAcmeBranch } from '../nginx/acme.js';
import type { FeatureDef, SnapshotReader } from '../types.js';
import { certsSource, pkiStatusSource } from './sources.js';

export interface PkiModelOptions {
  layout: Layout;
  /** Restrict to these nodes (`k8ops certs --node`). */
  only?: readonly string[];
  /**
   * Nodes whose real name is unknown (`k8ops certs --path` without `--node`): their plan
   * keeps `{node}` and names built from it are matched by shape.
   */
  anonymous?: ReadonlySet<string>;
  /**
   * Nodes whose addresses are unknown (`k8ops certs --path --node NAME` without an
   * inventory): an IP SAN cannot be told apart from the node's own address.
   */
  addressesUnknown?: ReadonlySet<string>;
  /**
   * `k8ops certs` after waiting for the kube API: Certificates still without an answer are
   * reported as this error (an `acme-unavailable` warning), not left out.
   */
  acmePendingAs?: string;
}

export function pkiInputs(
  inv: Inventory,
  read: SnapshotReader,
  opts: PkiModelOptions,
): { nodes: NodeCheckInput[]; problems: TreeNodeProblem[]; pending: string[] } {
  const nodes: NodeCheckInput[] = [];
  const problems: TreeNodeProblem[] = [];
  const pending: string[] = [];
  for (const n of inv.nodes) {
    if (opts.only && !opts.only.includes(n.name)) continue;
    const certs = read<CertFile[]>(n.name, 'certs');
    const status = read<PkiStatus[]>(n.name, 'pki-status');
    if (certs.error) {
      problems.push({
        kind: 'node',
        key: `node:${n.name}`,
        node: n.name,
        source: 'certs',
        message: `${certs.value ? 'stale: ' : ''}${certs.error.message}`,
      });
    } else if (!certs.value) pending.push(n.name);
    const anonymous = opts.anonymous?.has(n.name) ?? false;
    const input: NodeCheckInput = {
      node: n.name,
      index: n.index,
      plan: planNode(
        opts.layout,
        { name: anonymous ? '{node}' : n.name, roles: n.roles, addresses: n.addresses },
        { pkiDir: inv.pki.dir },
      ),
    };
    if (anonymous) input.anonymous = true;
    if (opts.addressesUnknown?.has(n.name)) input.addressesUnknown = true;
    if (certs.value) input.files = certs.value;
    if (status.value) input.status = status.value;
    else input.statusError = status.error?.message ?? 'no answer yet';
    nodes.push(input);
  }
  return { nodes, problems, pending };
}

export function buildPkiModel(
  inv: Inventory,
  read: SnapshotReader,
  now: number,
  opts: PkiModelOptions,
): PkiReport {
  const { nodes, problems, pending } = pkiInputs(inv, read, opts);
  const report = buildPkiReport({
    nodes,
    problems,
    pending,
    nodeOrder: inv.nodes.map((n) => n.name),
    settings: {
      now,
      layout: opts.layout,
      renewBeforeMs: inv.rotation.renewBeforeMs,
      spreadMs: inv.rotation.spreadMs,
      minRemainingMs: inv.rotation.minRemainingMs,
      nodeCount: inv.nodes.length,
      rootOffline: inv.pki.rootOffline,
    },
  });
  // The cluster's ACME certificates (cert-manager), when the kube watches have any.
  return opts.only ? report : withAcmeBranch(report, readAcme(read, now, opts.acmePendingAs));
}

/** What the PKI pane shows, reduced to a string: a report with the same one changes nothing. */
export function pkiSignature(r: PkiReport): string {
  const parts: string[] = [];
  const walk = (n: PkiReport['tree']['roots'][number]): void => {
    parts.push(n.key, n.worst ?? '-');
    if (n.kind === 'cert') parts.push(String(n.locations.length), n.chain);
    n.children.forEach(walk);
  };
  r.tree.roots.forEach(walk);
  for (const f of r.tree.files) parts.push(f.key, f.severity ?? '-');
  for (const p of r.tree.problems) parts.push(p.key, p.message);
  for (const c of r.checks) parts.push(c.id, c.node, c.path, c.message);
  parts.push(r.pending.join(','));
  return parts.join('\u0000');
}

export const pkiFeature: FeatureDef<PkiReport> = {
  id: 'pki',
  sources: [certsSource, pkiStatusSource],
  reads: ACME_READS,
  model: ({ inventory, read, now }) =>
    buildPkiModel(inventory, read, now, { layout: defaultLayout() }),
  signature: pkiSignature,
};
