/**
 * Every PKI check, pure: certificate files per node (already parsed), the node's `status`
 * (modes, owners, public-key digests; private keys never leave the node), the node's plan
 * from the layout, and time/rotation settings in; findings out. Signatures are verified
 * through src/pki/verify.ts (cached; call `prewarmSignatures` first to do it in parallel).
 *
 * The checks are named groups, one file each under src/pki/checks/ (validity, algorithms,
 * chain, ca-constraints, names, usages, keys, bundles, files, service-account), listed in
 * checks/registry.ts. Every id they emit, with its severity, group and when it fires, is in
 * checks/ids.ts (CHECK_IDS).
 */
import type { CertIndex } from './chain.js';
import {
  type AddFinding,
  buildContext,
  type CheckSettings,
  type NodeCheckInput,
} from './checks/context.js';
import { CHECK_IDS } from './checks/ids.js';
import { CHECK_GROUPS } from './checks/registry.js';
import type { PkiCheck, Severity } from './types.js';

export type { CheckSettings, NodeCheckInput } from './checks/context.js';
export { roleOf } from './checks/context.js';
export { CHECK_IDS, type CheckId } from './checks/ids.js';
export { NODE_NAME_PATTERN } from './checks/names.js';

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  critical: 3,
  warning: 2,
  info: 1,
};

/** The worse of two severities (undefined = no finding). */
export function worse(a: Severity | undefined, b: Severity | undefined): Severity | undefined {
  if (!a) return b;
  if (!b) return a;
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

/** Run every check group. `index` must be built from the files of all `nodes` (indexCerts). */
export function runChecks(
  nodes: readonly NodeCheckInput[],
  index: CertIndex,
  s: CheckSettings,
): PkiCheck[] {
  const out: PkiCheck[] = [];
  const seen = new Set<string>();
  const add: AddFinding = (id, node, path, message, fingerprint) => {
    const key = `${id}\0${node}\0${path}\0${fingerprint ?? ''}\0${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    const c: PkiCheck = { id, severity: CHECK_IDS[id].severity, node, path, message };
    if (fingerprint) c.fingerprint = fingerprint;
    out.push(c);
  };
  const ctx = buildContext(nodes, index, s);
  for (const group of CHECK_GROUPS) group.run(ctx, add);
  return out.sort(compareChecks);
}

export function compareChecks(a: PkiCheck, b: PkiCheck): number {
  return (
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    a.node.localeCompare(b.node) ||
    a.path.localeCompare(b.path) ||
    a.id.localeCompare(b.id)
  );
}

export interface CheckCounts {
  critical: number;
  warning: number;
  info: number;
}

export function countChecks(checks: readonly PkiCheck[]): CheckCounts {
  const c: CheckCounts = { critical: 0, warning: 0, info: 0 };
  for (const x of checks) c[x.severity]++;
  return c;
}
