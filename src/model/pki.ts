/**
 * The PKI model: per-node inputs from the store's snapshots (`certs`, `pki-status`) and
 * the layout's plan for each node, turned into the PKI report (checks + tree). Pure (time
 * passed in) so the PKI pane and `k8ops certs` share it.
 */
import type { Inventory, NodeSpec } from '../config/types.js';
import type { NodeCheckInput } from '../pki/checks.js';
import { type Layout, planNode } from '../pki/layout.js';
import { buildPkiReport, type PkiReport } from '../pki/report.js';
import type { TreeNodeProblem } from '../pki/tree.js';
import type { CertFile, PkiStatus } from '../pki/types.js';
import type { SnapshotReader } from './overview.js';

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
}

/** The directories a node's PKI sources read: the PKI dir, plus the CA dir on the signer. */
export function pkiDirsOf(inv: Inventory, layout: Layout, node: NodeSpec): string[] {
  const dirs = [inv.pki.dir];
  if (inv.pki.signer === node.name && layout.caDir !== inv.pki.dir) dirs.push(layout.caDir);
  return dirs;
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
  return buildPkiReport({
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
}
