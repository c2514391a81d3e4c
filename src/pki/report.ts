/**
 * The PKI report: checks + tree + totals from per-node inputs, its exit code, and its JSON
 * form (`k8ops certs --json`). Pure.
 */
import { indexCerts } from './chain.js';
import {
  type CheckCounts,
  type CheckSettings,
  countChecks,
  type NodeCheckInput,
  runChecks,
} from './checks.js';
import { roleUrgency } from './expiry.js';
import {
  buildTree,
  type PkiTree,
  type TreeCert,
  type TreeNode,
  type TreeNodeProblem,
} from './tree.js';
import type { CertFile, PkiCheck } from './types.js';

export interface PkiReportInput {
  nodes: readonly NodeCheckInput[];
  /** Nodes whose certificates (or status) could not be read. */
  problems?: readonly TreeNodeProblem[];
  /** Nodes with no answer yet (the console's first seconds). */
  pending?: readonly string[];
  settings: CheckSettings;
  nodeOrder?: readonly string[];
}

export interface PkiReport {
  now: number;
  tree: PkiTree;
  checks: PkiCheck[];
  counts: CheckCounts;
  /** Distinct certificates. */
  certificates: number;
  /** Certificate files read. */
  files: number;
  /** Nodes whose certificates could not be read. */
  unreachable: string[];
  pending: string[];
  exitCode: PkiExitCode;
  /** The inventory's renew window for leaves the report was judged with (else a third). */
  renewBeforeMs?: number;
}

/** 0 ok, 1 warnings, 2 critical, 3 nodes unreachable — the highest that applies. */
export type PkiExitCode = 0 | 1 | 2 | 3;

export const PKI_EXIT = { ok: 0, warning: 1, critical: 2, unreachable: 3 } as const;

export function exitCodeOf(counts: CheckCounts, unreachable: number): PkiExitCode {
  if (unreachable > 0) return PKI_EXIT.unreachable;
  if (counts.critical > 0) return PKI_EXIT.critical;
  if (counts.warning > 0) return PKI_EXIT.warning;
  return PKI_EXIT.ok;
}

export function buildPkiReport(input: PkiReportInput): PkiReport {
  const allFiles: CertFile[] = input.nodes.flatMap((n) => n.files ?? []);
  const index = indexCerts(allFiles);
  const checks = runChecks(input.nodes, index, input.settings);
  const problems = [...(input.problems ?? [])];
  const tree = buildTree(index, checks, {
    problems,
    ...(input.nodeOrder ? { nodeOrder: input.nodeOrder } : {}),
  });
  const counts = countChecks(checks);
  const unreachable = [...new Set(problems.filter((p) => p.source === 'certs').map((p) => p.node))];
  return {
    now: input.settings.now,
    tree,
    checks,
    counts,
    certificates: index.byFingerprint.size,
    files: allFiles.length,
    unreachable,
    pending: [...(input.pending ?? [])],
    exitCode: exitCodeOf(counts, unreachable.length),
    ...(input.settings.renewBeforeMs !== undefined
      ? { renewBeforeMs: input.settings.renewBeforeMs }
      : {}),
  };
}

// ---------------------------------------------------------------------------------------
// JSON

const iso = (t: number): string => new Date(t).toISOString();

function certJson(t: TreeCert, now: number, renewBeforeMs: number | undefined): unknown {
  const c = t.cert;
  return {
    fingerprint: c.fingerprint,
    role: t.role,
    subject: c.subject,
    commonName: c.commonName ?? null,
    organizations: c.organizations,
    issuer: c.issuer,
    serial: c.serial,
    notBefore: iso(c.notBefore),
    notAfter: iso(c.notAfter),
    remainingSeconds: Math.floor((c.notAfter - now) / 1000),
    urgency: roleUrgency(t.role, c, now, renewBeforeMs),
    keyAlgorithm: c.keyAlgorithm,
    curve: c.curve ?? null,
    signatureAlgorithm: c.signatureAlgorithm,
    isCA: c.isCA,
    pathLen: c.pathLen ?? null,
    dnsNames: c.dnsNames,
    ipAddresses: c.ipAddresses,
    keyUsages: c.keyUsages,
    extKeyUsages: c.extKeyUsages,
    publicKeySha256: c.spkiSha256 ?? null,
    chain: t.chain,
    issuerFingerprint: t.issuer ?? null,
    severity: t.severity ?? null,
    worst: t.worst ?? null,
    locations: t.locations,
    checks: t.checks.map((x) => x.id),
    children: t.children.map((ch) => nodeJson(ch, now, renewBeforeMs)),
  };
}

function nodeJson(n: TreeNode, now: number, renewBeforeMs: number | undefined): unknown {
  if (n.kind === 'cert') return certJson(n, now, renewBeforeMs);
  return {
    role: 'missing',
    subject: n.subject,
    worst: n.worst ?? null,
    children: n.children.map((ch) => nodeJson(ch, now, renewBeforeMs)),
  };
}

export interface ReportJsonMeta {
  cluster?: string;
  mode?: string;
  source?: string;
  nodes: ReadonlyArray<{ name: string }>;
  renewBeforeMs?: number;
}

/** The document `k8ops certs --json` prints (stable keys; DER never included). */
export function reportToJson(r: PkiReport, meta: ReportJsonMeta): unknown {
  const problemsBy = new Map<string, TreeNodeProblem[]>();
  for (const p of r.tree.problems) problemsBy.set(p.node, [...(problemsBy.get(p.node) ?? []), p]);
  return {
    version: 1,
    generatedAt: iso(r.now),
    cluster: meta.cluster ?? null,
    mode: meta.mode ?? null,
    source: meta.source ?? null,
    exitCode: r.exitCode,
    summary: {
      ...r.counts,
      certificates: r.certificates,
      files: r.files,
      nodes: meta.nodes.length,
      unreachable: r.unreachable,
    },
    nodes: meta.nodes.map((n) => {
      const ps = problemsBy.get(n.name) ?? [];
      const st = r.checks.find((c) => c.node === n.name && c.id === 'status-unavailable');
      return {
        name: n.name,
        certs:
          ps.find((p) => p.source === 'certs')?.message ??
          (r.pending.includes(n.name) ? 'pending' : 'ok'),
        status: st ? st.message : 'ok',
      };
    }),
    tree: r.tree.roots.map((n) => nodeJson(n, r.now, meta.renewBeforeMs)),
    files: r.tree.files.map((f) => ({
      node: f.node,
      path: f.path,
      severity: f.severity ?? null,
      checks: f.checks.map((c) => c.id),
    })),
    checks: r.checks,
  };
}
