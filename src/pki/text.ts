/**
 * Plain-text rendering of the PKI report (`k8ops certs` without --json), and the row
 * labels the PKI pane shares with it. Pure.
 */
import { posix } from 'node:path';
import { formatCountdown } from './expiry.js';
import type { PkiReport } from './report.js';
import { flattenTree, type TreeCert, type TreeRow, type TreeRowItem } from './tree.js';
import type { Severity } from './types.js';

/** One-character markers (readable without colour). */
export const SEVERITY_MARK: Readonly<Record<Severity | 'ok', string>> = {
  critical: '✗',
  warning: '!',
  info: 'i',
  ok: '✓',
};

/**
 * A file's name for a row: its base name, or its path below `root` when one is given
 * (`certs --path` searches subdirectories: `ca.crt` and `etcd/ca.crt` both exist).
 */
export function fileName(path: string, root?: string): string {
  if (root !== undefined) {
    const rel = posix.relative(root, path);
    if (rel !== '' && !rel.startsWith('..')) return rel;
  }
  return posix.basename(path);
}

/** Node + file of a certificate, or a count when it lives in several places. */
export function whereText(t: TreeCert, root?: string): string {
  const locs = t.locations;
  if (locs.length === 0) return '';
  const first = locs[0]!;
  const nodes = new Set(locs.map((l) => l.node));
  const one = `${first.node}:${fileName(first.path, root)}`;
  if (locs.length === 1) return one;
  if (t.role === 'leaf') return `${one} +${locs.length - 1}`;
  return `${locs.length} files on ${nodes.size} node${nodes.size > 1 ? 's' : ''}`;
}

/** The label of a row (without indentation). */
export function rowLabel(item: TreeRowItem, root?: string): string {
  switch (item.kind) {
    case 'cert':
      return item.cert.commonName ?? item.cert.subject;
    case 'missing':
      return item.note ? `${item.subject} — ${item.note}` : `${item.subject} — on no node`;
    case 'file':
      return `${item.node}:${fileName(item.path, root)}`;
    case 'node':
      return `${item.node}: ${item.message}`;
    case 'group':
      return item.title;
  }
}

export function rowSeverity(item: TreeRowItem): Severity | 'ok' | undefined {
  switch (item.kind) {
    case 'cert':
      return item.severity ?? 'ok';
    case 'file':
      return item.severity;
    case 'node':
      return 'critical';
    default:
      return undefined;
  }
}

const pad = (s: string, n: number): string => {
  const len = [...s].length;
  return len >= n ? s : s + ' '.repeat(n - len);
};
const cut = (s: string, n: number): string => {
  const cs = [...s];
  return cs.length <= n ? s : `${cs.slice(0, Math.max(0, n - 1)).join('')}…`;
};

export interface TextOptions {
  title: string;
  /** Name files by their path below this directory (`certs --path`), not by base name. */
  root?: string;
}

export function formatReportText(r: PkiReport, opts: TextOptions): string {
  const rows: TreeRow[] = flattenTree(r.tree);
  const lines: string[] = [];
  const c = r.counts;
  lines.push(
    `${opts.title} · ${r.certificates} certificates in ${r.files} files · ${c.critical} critical, ${c.warning} warning${c.warning === 1 ? '' : 's'}, ${c.info} info${r.unreachable.length ? ` · unreachable: ${r.unreachable.join(', ')}` : ''}`,
  );
  lines.push('');
  const cells = rows.map((row) => {
    const mark = rowSeverity(row.item);
    const label = `${'  '.repeat(row.depth)}${rowLabel(row.item, opts.root)}`;
    const expires = row.item.kind === 'cert' ? formatCountdown(row.item.cert.notAfter - r.now) : '';
    const where = row.item.kind === 'cert' ? whereText(row.item, opts.root) : '';
    return [mark ? SEVERITY_MARK[mark] : ' ', cut(label, 60), expires, where];
  });
  // A row without a countdown or a place (a CA on no node, the ACME branch's note) may run
  // past the column: widening every row for it would push the countdowns far right.
  const w1 = Math.max(11, ...cells.filter((x) => x[2] || x[3]).map((x) => [...x[1]!].length));
  const w2 = Math.max(7, ...cells.map((x) => x[2]!.length));
  lines.push(`  ${pad('CERTIFICATE', w1)}  ${pad('EXPIRES', w2)}  WHERE`);
  for (const [m, l, e, w] of cells)
    lines.push(`${m} ${pad(l!, w1)}  ${pad(e!, w2)}  ${w}`.trimEnd());
  if (r.checks.length > 0) {
    lines.push('', 'FINDINGS');
    for (const x of r.checks)
      lines.push(
        `${SEVERITY_MARK[x.severity]} ${pad(x.severity, 8)} ${pad(x.id, 19)} ${x.node}  ${x.path}  ${x.message}`,
      );
  }
  return `${lines.join('\n')}\n`;
}
