/**
 * node-exporter textfile metrics for the PKI report (`k8ops certs --prometheus`), in the
 * Prometheus text exposition format 0.0.4. Every certificate of a PEM file is its own
 * series (as x509-certificate-exporter does), labelled with its position in the file so
 * that two certificates with the same CN in one bundle (old and new intermediate during a
 * rotation) never collide. No timestamps (the textfile collector refuses them).
 *
 * Write atomically: `k8ops certs --prometheus > k8ops.prom.$$ && mv k8ops.prom.$$ k8ops.prom`.
 */
import { visible } from '../store/sanitise.js';
import type { PkiReport } from './report.js';
import { treeCerts } from './tree.js';
import type { Severity } from './types.js';

/**
 * Escape a label value: control, C1 and bidi characters made visible first (`cat` of the
 * textfile must not replay them), then backslash, double quote and newline (format 0.0.4).
 */
export function escapeLabelValue(v: string): string {
  return v
    .split('\n')
    .map((part) => visible(part).replace(/\\/g, '\\\\').replace(/"/g, '\\"'))
    .join('\\n');
}

/** Escape HELP text: backslash and newline. */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function labels(l: Record<string, string | number>): string {
  const parts = Object.entries(l).map(([k, v]) => {
    if (!LABEL_NAME.test(k)) throw new Error(`invalid label name ${k}`);
    return `${k}="${escapeLabelValue(String(v))}"`;
  });
  return parts.length ? `{${parts.join(',')}}` : '';
}

const num = (n: number): string =>
  Number.isFinite(n) ? (Number.isInteger(n) ? String(n) : n.toFixed(3)) : 'NaN';

/** The CN of a DN string (`O=k8ops, CN=kubernetes-ca` → `kubernetes-ca`), else the DN. */
function cnOfDn(dn: string): string {
  const m = /(?:^|,\s*)CN=((?:[^,\\]|\\.)*)/.exec(dn);
  return m ? m[1]!.trim() : dn;
}

export interface PrometheusOptions {
  /** Every node asked (for k8ops_pki_node_up). */
  nodes: readonly string[];
}

export function prometheusText(r: PkiReport, opts: PrometheusOptions): string {
  const out: string[] = [];
  const family = (name: string, help: string, type: 'gauge', samples: string[]) => {
    out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`, ...samples);
  };

  const notAfter: string[] = [];
  const notBefore: string[] = [];
  const certs = treeCerts(r.tree);
  const rows: Array<{ key: string; after: string; before: string }> = [];
  for (const t of certs) {
    for (const loc of t.locations) {
      const l = labels({
        node: loc.node,
        path: loc.path,
        index: loc.index,
        cn: t.cert.commonName ?? '',
        issuer: cnOfDn(t.cert.issuer),
        role: t.role,
      });
      rows.push({
        key: `${loc.node}\0${loc.path}\0${String(loc.index).padStart(4, '0')}`,
        after: `k8ops_cert_not_after_seconds${l} ${num(t.cert.notAfter / 1000)}`,
        before: `k8ops_cert_not_before_seconds${l} ${num(t.cert.notBefore / 1000)}`,
      });
    }
  }
  rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const row of rows) {
    notAfter.push(row.after);
    notBefore.push(row.before);
  }
  family(
    'k8ops_cert_not_after_seconds',
    'Certificate notAfter as Unix seconds, per node, file and position in the file.',
    'gauge',
    notAfter,
  );
  family(
    'k8ops_cert_not_before_seconds',
    'Certificate notBefore as Unix seconds, per node, file and position in the file.',
    'gauge',
    notBefore,
  );

  const checkCounts = new Map<string, number>();
  for (const c of r.checks) {
    const l = labels({ node: c.node, path: c.path, check: c.id, severity: c.severity });
    checkCounts.set(l, (checkCounts.get(l) ?? 0) + 1);
  }
  family(
    'k8ops_cert_check',
    'Failing k8ops PKI checks: number of findings per node, file, check and severity.',
    'gauge',
    [...checkCounts]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([l, n]) => `k8ops_cert_check${l} ${n}`),
  );
  const severities: Severity[] = ['critical', 'warning', 'info'];
  family(
    'k8ops_pki_checks',
    'Findings of the k8ops PKI checks by severity.',
    'gauge',
    severities.map((s) => `k8ops_pki_checks${labels({ severity: s })} ${r.counts[s]}`),
  );
  family(
    'k8ops_pki_node_up',
    "Whether the node's certificates could be read (1) or not (0).",
    'gauge',
    opts.nodes.map(
      (n) => `k8ops_pki_node_up${labels({ node: n })} ${r.unreachable.includes(n) ? 0 : 1}`,
    ),
  );
  family('k8ops_pki_certificates', 'Distinct certificates seen.', 'gauge', [
    `k8ops_pki_certificates ${r.certificates}`,
  ]);
  family(
    'k8ops_pki_exit_code',
    'Exit code of `k8ops certs`: 0 ok, 1 warnings, 2 critical, 3 nodes unreachable.',
    'gauge',
    [`k8ops_pki_exit_code ${r.exitCode}`],
  );
  return `${out.join('\n')}\n`;
}
