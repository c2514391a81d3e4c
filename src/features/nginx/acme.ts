/**
 * The ACME certificates of the ingress (cert-manager `Certificate`s, `kube.certificates`)
 * checked against what their Secrets actually hold and against the Ingress hosts that use
 * them (`kube.ingresses`): Ready, the real notAfter (the Secret's certificate, not only the
 * status), cert-manager's renewalTime, SANs covering every Ingress host. Pure; shared by the
 * NGINX pane, `k8ops nginx` and the PKI tree's "ACME (cert-manager)" branch.
 */
import type { AcmeCertificate, AcmeCertificates, KubeIngress } from '../../kube/types.js';
import type { CertLocation } from '../../pki/chain.js';
import { countChecks } from '../../pki/checks.js';
import { exitCodeOf, type PkiReport } from '../../pki/report.js';
import type { TreeCert, TreeMissing } from '../../pki/tree.js';
import type { CertSummary, PkiCheck, Severity } from '../../pki/types.js';
import { parseCertFile } from '../../pki/x509.js';
import { CLUSTER_SCOPE } from '../../store/types.js';
import type { SnapshotReader } from '../types.js';

/** Where ACME certificates live in the PKI tree (the `node` of their locations). */
export const ACME_SCOPE = 'cluster';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The ACME finding ids (apart from src/pki/checks/ids.ts: they are not about node files). */
export const ACME_CHECK_IDS = {
  'acme-expired': { severity: 'critical', when: 'the Secret’s certificate is past notAfter' },
  'acme-secret': {
    severity: 'critical',
    when: 'the Secret is missing, unreadable or holds no certificate',
  },
  'acme-host-not-covered': {
    severity: 'critical',
    when: 'an Ingress host using the Secret is not among the certificate’s SANs',
  },
  'acme-not-ready': { severity: 'warning', when: 'the Certificate’s Ready condition is not True' },
  'acme-renewal-overdue': {
    severity: 'warning',
    when: 'renewalTime passed more than an hour ago and the certificate was not renewed',
  },
  'acme-expires-soon': { severity: 'warning', when: 'less than 7 days left' },
  'acme-status-mismatch': {
    severity: 'warning',
    when: 'status.notAfter differs from the Secret’s certificate, or spec.dnsNames from its SANs',
  },
  'acme-unavailable': {
    severity: 'warning',
    when: 'the Certificates could not be read from the kube API (unreachable, forbidden, no answer)',
  },
} as const satisfies Record<string, { severity: Severity; when: string }>;
export type AcmeCheckId = keyof typeof ACME_CHECK_IDS;

export interface AcmeFinding {
  id: AcmeCheckId;
  severity: Severity;
  message: string;
}

export interface AcmeRow {
  namespace: string;
  name: string;
  secretName: string;
  /** `ClusterIssuer/letsencrypt-prod`. */
  issuer: string;
  ready: boolean | undefined;
  readyReason?: string;
  readyMessage?: string;
  issuing: boolean;
  /** Epoch ms: the Secret's certificate's notAfter, else status.notAfter. */
  notAfter?: number;
  notBefore?: number;
  /** From status (what cert-manager believes). */
  statusNotAfter?: number;
  renewalTime?: number;
  /** The Secret's certificate (leaf), when read. */
  cert?: CertSummary;
  secretError?: string;
  /** SANs of the Secret's certificate. */
  sans: string[];
  /** Hosts of the Ingresses whose TLS section names this Secret. */
  ingressHosts: string[];
  /** Ingress hosts the SANs do not cover. */
  uncovered: string[];
  findings: AcmeFinding[];
  worst?: Severity;
}

export interface AcmeModel {
  /** cert-manager not installed (the section's reason). */
  absent?: string;
  error?: string;
  pending: boolean;
  rows: AcmeRow[];
}

const RANK: Record<Severity, number> = { info: 1, warning: 2, critical: 3 };
export const worseOf = (a: Severity | undefined, b: Severity | undefined): Severity | undefined =>
  !a ? b : !b ? a : RANK[b] > RANK[a] ? b : a;

/** A DNS name matched by a SAN (`*.example.com` covers one label). */
export function sanCovers(san: string, host: string): boolean {
  const s = san.toLowerCase();
  const h = host.toLowerCase();
  if (s === h) return true;
  if (s.startsWith('*.')) {
    const dot = h.indexOf('.');
    return dot > 0 && h.slice(dot + 1) === s.slice(2);
  }
  return false;
}

// Parsed Secrets by PEM text (bounded; a Certificate's PEM changes only on renewal).
const parsed = new Map<string, CertSummary | string>();
function parsePem(pem: string, where: string): CertSummary | string {
  const hit = parsed.get(pem);
  if (hit !== undefined) return hit;
  const f = parseCertFile(ACME_SCOPE, where, pem);
  const v = f.certs[0] ?? `tls.crt does not parse: ${f.errors[0]?.message ?? 'no certificate'}`;
  if (parsed.size >= 512) parsed.delete(parsed.keys().next().value as string);
  parsed.set(pem, v);
  return v;
}

/** Base64 DER blocks → PEM text. */
export const toPem = (certs: readonly string[]): string =>
  certs
    .map(
      (b) =>
        `-----BEGIN CERTIFICATE-----\n${b.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
    )
    .join('');

const ms = (iso: string | undefined): number | undefined => {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
};

export function acmeRow(
  c: AcmeCertificate,
  ingresses: readonly KubeIngress[],
  now: number,
): AcmeRow {
  const findings: AcmeFinding[] = [];
  const add = (id: AcmeCheckId, message: string) =>
    findings.push({ id, severity: ACME_CHECK_IDS[id].severity, message });
  const where = `${c.namespace}/${c.secretName}`;
  let cert: CertSummary | undefined;
  let secretError = c.secret?.error;
  if (c.secret?.certs && c.secret.certs.length > 0) {
    const p = parsePem(toPem(c.secret.certs), where);
    if (typeof p === 'string') secretError = p;
    else cert = p;
  }
  const ingressHosts = [
    ...new Set(
      ingresses
        .filter((i) => i.namespace === c.namespace)
        .flatMap((i) => i.tls.filter((t) => t.secretName === c.secretName).flatMap((t) => t.hosts)),
    ),
  ].sort();
  const sans = cert ? [...cert.dnsNames] : [];
  const uncovered = cert ? ingressHosts.filter((h) => !sans.some((s) => sanCovers(s, h))) : [];
  const statusNotAfter = ms(c.notAfter);
  const renewalTime = ms(c.renewalTime);
  const notAfter = cert?.notAfter ?? statusNotAfter;
  const notBefore = cert?.notBefore ?? ms(c.notBefore);

  if (!c.secret) {
    // not read yet: no finding
  } else if (!cert) add('acme-secret', `Secret ${where}: ${secretError ?? 'no certificate'}`);
  if (notAfter !== undefined && notAfter <= now)
    add('acme-expired', `expired ${new Date(notAfter).toISOString()}`);
  else if (notAfter !== undefined && notAfter - now < 7 * DAY)
    add('acme-expires-soon', `expires ${new Date(notAfter).toISOString()}`);
  if (c.ready !== true)
    add(
      'acme-not-ready',
      `Ready is ${c.ready === undefined ? 'absent' : 'False'}${c.readyReason ? ` (${c.readyReason})` : ''}${c.readyMessage ? `: ${c.readyMessage}` : ''}`,
    );
  if (renewalTime !== undefined && now > renewalTime + HOUR && (notBefore ?? 0) < renewalTime)
    add(
      'acme-renewal-overdue',
      `renewal was due ${new Date(renewalTime).toISOString()}${c.issuing ? ' (issuing now)' : ''}`,
    );
  if (uncovered.length > 0)
    add('acme-host-not-covered', `Ingress host(s) not in the certificate: ${uncovered.join(', ')}`);
  if (cert && statusNotAfter !== undefined && Math.abs(statusNotAfter - cert.notAfter) > 1000)
    add(
      'acme-status-mismatch',
      `status.notAfter ${c.notAfter} but the Secret’s certificate ends ${new Date(cert.notAfter).toISOString()}`,
    );
  else if (cert && c.dnsNames.some((d) => !sans.some((s) => s.toLowerCase() === d)))
    add(
      'acme-status-mismatch',
      `spec.dnsNames not yet in the Secret’s certificate: ${c.dnsNames.filter((d) => !sans.includes(d)).join(', ')}`,
    );
  const row: AcmeRow = {
    namespace: c.namespace,
    name: c.name,
    secretName: c.secretName,
    issuer: `${c.issuerKind}/${c.issuerName}`,
    ready: c.ready,
    issuing: c.issuing === true,
    sans,
    ingressHosts,
    uncovered,
    findings,
  };
  if (c.readyReason) row.readyReason = c.readyReason;
  if (c.readyMessage) row.readyMessage = c.readyMessage;
  if (notAfter !== undefined) row.notAfter = notAfter;
  if (notBefore !== undefined) row.notBefore = notBefore;
  if (statusNotAfter !== undefined) row.statusNotAfter = statusNotAfter;
  if (renewalTime !== undefined) row.renewalTime = renewalTime;
  if (cert) row.cert = cert;
  if (secretError) row.secretError = secretError;
  for (const f of findings) row.worst = worseOf(row.worst, f.severity);
  return row;
}

/** The last model and what it was made of (the console asks again every second). */
let lastAcme:
  | {
      value: AcmeCertificates | undefined;
      error: string | undefined;
      ingresses: readonly KubeIngress[] | undefined;
      now: number;
      model: AcmeModel;
    }
  | undefined;

/**
 * The ACME rows of the Certificates, soonest to expire first. Asked again with the very same
 * section, Ingresses and time (the console's model runs every second on the minute's time,
 * and the kube sections keep their identity while unchanged), it returns the same object,
 * so the pane's rows are the same and are not drawn again: the result is a pure function of
 * those three (the Secrets' parse is cached by PEM).
 */
export function acmeModel(
  section: { value?: AcmeCertificates; error?: { message: string } },
  ingresses: readonly KubeIngress[] | undefined,
  now: number,
): AcmeModel {
  const l = lastAcme;
  if (
    l !== undefined &&
    l.value === section.value &&
    l.error === section.error?.message &&
    l.ingresses === ingresses &&
    l.now === now
  )
    return l.model;
  const model = buildAcmeModel(section, ingresses, now);
  lastAcme = { value: section.value, error: section.error?.message, ingresses, now, model };
  return model;
}

function buildAcmeModel(
  section: { value?: AcmeCertificates; error?: { message: string } },
  ingresses: readonly KubeIngress[] | undefined,
  now: number,
): AcmeModel {
  const v = section.value;
  const out: AcmeModel = { pending: v === undefined && section.error === undefined, rows: [] };
  if (section.error) out.error = section.error.message;
  if (v?.absent) out.absent = v.absent;
  out.rows = (v?.certificates ?? [])
    .map((c) => acmeRow(c, ingresses ?? [], now))
    .sort(
      (a, b) =>
        (a.notAfter ?? Number.POSITIVE_INFINITY) - (b.notAfter ?? Number.POSITIVE_INFINITY) ||
        a.name.localeCompare(b.name),
    );
  return out;
}

/**
 * The PKI tree's "ACME (cert-manager)" branch: a stand-in root (the ACME CA is not ours)
 * whose children are the Secrets' certificates as leaves, each with its findings as checks
 * (node `cluster`, path `namespace/secret`), so the PKI pane's countdowns, sorting and
 * "what expires next" include them.
 */
export function acmeBranch(m: AcmeModel): { root: TreeMissing; checks: PkiCheck[] } | undefined {
  if (m.rows.length === 0 && m.error === undefined) return undefined;
  const checks: PkiCheck[] = [];
  // The kube API did not answer: the branch says so (a warning), never an empty "all good".
  if (m.error !== undefined)
    checks.push({
      id: 'acme-unavailable',
      severity: ACME_CHECK_IDS['acme-unavailable'].severity,
      node: ACME_SCOPE,
      path: 'cert-manager.io/v1 certificates',
      message: `ACME certificates not read: ${m.error}`,
    });
  const children: TreeCert[] = [];
  for (const r of m.rows) {
    const path = `${r.namespace}/${r.secretName}`;
    const mine = r.findings.map(
      (f): PkiCheck => ({
        id: f.id,
        severity: f.severity,
        node: ACME_SCOPE,
        path,
        message: f.message,
        ...(r.cert ? { fingerprint: r.cert.fingerprint } : {}),
      }),
    );
    checks.push(...mine);
    if (!r.cert) continue;
    const loc: CertLocation = { node: ACME_SCOPE, path, index: 0 };
    children.push({
      kind: 'cert',
      key: `acme:${r.cert.fingerprint}`,
      cert: r.cert,
      role: 'leaf',
      locations: [loc],
      chain: 'unverifiable',
      checks: mine,
      ...(r.worst ? { severity: r.worst, worst: r.worst } : {}),
      children: [],
    });
  }
  let worst: Severity | undefined;
  for (const c of checks) worst = worseOf(worst, c.severity);
  return {
    root: {
      kind: 'missing',
      key: 'acme',
      subject: 'ACME (cert-manager)',
      note:
        m.error !== undefined
          ? `not read from the kube API: ${m.error}`
          : 'the Secrets of cert-manager Certificates (kube API), issued by an external CA',
      ...(worst ? { worst } : {}),
      children,
    },
    checks,
  };
}

/** The PKI report with the ACME branch added (its checks counted in totals and exit code). */
export function withAcmeBranch(r: PkiReport, m: AcmeModel): PkiReport {
  const b = acmeBranch(m);
  if (!b) return r;
  const checks = [...r.checks, ...b.checks];
  const counts = countChecks(checks);
  return {
    ...r,
    tree: { ...r.tree, roots: [...r.tree.roots, b.root] },
    checks,
    counts,
    certificates: r.certificates + b.root.children.length,
    exitCode: exitCodeOf(counts, r.unreachable.length),
  };
}

/** The store sections the ACME model reads (written by the kube watches). */
export const ACME_READS = [
  { scope: 'cluster', id: 'kube.certificates' },
  { scope: 'cluster', id: 'kube.ingresses' },
] as const;

/**
 * The ACME model from the store's kube sections. `pendingAs`: a one-shot command that waited
 * long enough reports a section still without an answer as this error, not as "none".
 */
export function readAcme(read: SnapshotReader, now: number, pendingAs?: string): AcmeModel {
  const certs = read<AcmeCertificates>(CLUSTER_SCOPE, 'kube.certificates');
  const ing = read<readonly KubeIngress[]>(CLUSTER_SCOPE, 'kube.ingresses');
  const error =
    certs.error ?? (certs.value === undefined && pendingAs ? { message: pendingAs } : undefined);
  return acmeModel(
    {
      ...(certs.value ? { value: certs.value } : {}),
      ...(error ? { error } : {}),
    },
    ing.value,
    now,
  );
}

/**
 * Whether the ACME sections have answered as far as a one-shot command needs: the
 * Certificates listed (or cert-manager absent, or an error) with every Secret read, and the
 * Ingresses listed (or an error).
 */
export function acmeSettled(read: SnapshotReader): boolean {
  const certs = read<AcmeCertificates>(CLUSTER_SCOPE, 'kube.certificates');
  const ing = read<readonly KubeIngress[]>(CLUSTER_SCOPE, 'kube.ingresses');
  if (certs.error === undefined && certs.value === undefined) return false;
  if (ing.error === undefined && ing.value === undefined) return false;
  return (certs.value?.certificates ?? []).every((c) => c.secret !== undefined);
}
