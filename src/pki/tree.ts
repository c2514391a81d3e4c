/**
 * The PKI tree across nodes: root → intermediates → leaves, each certificate once (by
 * fingerprint) with every node + file it lives in, its chain verdict and its findings.
 * Files that hold no certificate (garbage, missing, keys with problems) and nodes that
 * could not be read are listed beside the tree. Pure.
 */
import { textMatcher } from '../store/filter.js';
import { type CertIndex, type CertLocation, type IssuerLink, resolveIssuer } from './chain.js';
import { roleOf, SEVERITY_RANK, worse } from './checks.js';
import type { CertSummary, PkiCheck, Severity } from './types.js';

export type ChainState =
  | 'self-signed'
  | 'verified'
  | 'bad-signature'
  | 'issuer-missing'
  | 'unverifiable';

export interface TreeCert {
  kind: 'cert';
  /** The fingerprint. */
  key: string;
  cert: CertSummary;
  role: 'root' | 'intermediate' | 'leaf';
  locations: CertLocation[];
  chain: ChainState;
  /** Fingerprint of the verified issuer. */
  issuer?: string;
  checks: PkiCheck[];
  /** Worst finding of this certificate. */
  severity?: Severity;
  /** Worst finding here or below. */
  worst?: Severity;
  children: TreeNode[];
}

/** Stand-in for an issuer that is on no node (the offline root, a missing intermediate). */
export interface TreeMissing {
  kind: 'missing';
  key: string;
  subject: string;
  /** What the branch is, when it is not a missing issuer (the ACME branch). */
  note?: string;
  worst?: Severity;
  children: TreeNode[];
}

export type TreeNode = TreeCert | TreeMissing;

/** A file with findings but no certificate to hang them on. */
export interface TreeFile {
  kind: 'file';
  key: string;
  node: string;
  path: string;
  checks: PkiCheck[];
  severity?: Severity;
}

/** A node whose certificates could not be read. */
export interface TreeNodeProblem {
  kind: 'node';
  key: string;
  node: string;
  source: 'certs';
  message: string;
}

export interface PkiTree {
  roots: TreeNode[];
  files: TreeFile[];
  problems: TreeNodeProblem[];
}

export interface BuildTreeOptions {
  /** Node names in inventory order (sorting leaves by node). */
  nodeOrder?: readonly string[];
  problems?: readonly TreeNodeProblem[];
}

const chainState = (l: IssuerLink): ChainState =>
  l.kind === 'missing' ? 'issuer-missing' : l.kind;

export function buildTree(
  index: CertIndex,
  checks: readonly PkiCheck[],
  opts: BuildTreeOptions = {},
): PkiTree {
  const nodes = new Map<string, TreeCert>();
  const byLocation = new Map<string, TreeCert>();
  const locKey = (node: string, path: string) => `${node}\0${path}`;
  for (const e of index.byFingerprint.values()) {
    const link = resolveIssuer(e.cert, index);
    const t: TreeCert = {
      kind: 'cert',
      key: e.cert.fingerprint,
      cert: e.cert,
      role: roleOf(e.cert),
      locations: [...e.locations],
      chain: chainState(link),
      checks: [],
      children: [],
    };
    if (link.kind === 'verified') t.issuer = link.issuer.cert.fingerprint;
    else if (link.kind === 'unverifiable') t.issuer = link.issuer.cert.fingerprint;
    nodes.set(t.key, t);
    for (const l of e.locations) {
      // The leaf (first certificate) of a file speaks for the file.
      if (l.index === 0 || !byLocation.has(locKey(l.node, l.path)))
        byLocation.set(locKey(l.node, l.path), t);
    }
  }

  const files = new Map<string, TreeFile>();
  for (const c of checks) {
    const owner =
      (c.fingerprint !== undefined ? nodes.get(c.fingerprint) : undefined) ??
      byLocation.get(locKey(c.node, c.path));
    if (owner) {
      owner.checks.push(c);
      owner.severity = worse(owner.severity, c.severity);
      continue;
    }
    const k = `file:${c.node}:${c.path}`;
    const f = files.get(k) ?? { kind: 'file', key: k, node: c.node, path: c.path, checks: [] };
    f.checks.push(c);
    f.severity = worse(f.severity, c.severity);
    files.set(k, f);
  }

  // Link children to parents; issuers that are nowhere get a stand-in.
  const roots: TreeNode[] = [];
  const missing = new Map<string, TreeMissing>();
  for (const t of nodes.values()) {
    const parent = t.issuer !== undefined && t.issuer !== t.key ? nodes.get(t.issuer) : undefined;
    if (parent) {
      parent.children.push(t);
      continue;
    }
    if (t.chain === 'self-signed') {
      roots.push(t);
      continue;
    }
    const subject = t.cert.issuer;
    let m = missing.get(subject);
    if (!m) {
      m = { kind: 'missing', key: `missing:${subject}`, subject, children: [] };
      missing.set(subject, m);
      roots.push(m);
    }
    m.children.push(t);
  }

  const order = new Map((opts.nodeOrder ?? []).map((n, i) => [n, i]));
  const tree: PkiTree = {
    roots,
    files: [...files.values()].sort(
      (a, b) => nodeRank(order, a.node) - nodeRank(order, b.node) || a.path.localeCompare(b.path),
    ),
    problems: [...(opts.problems ?? [])],
  };
  for (const r of roots) fillWorst(r);
  return sortTree(tree, 'tree', opts.nodeOrder);
}

function fillWorst(n: TreeNode): Severity | undefined {
  let w = n.kind === 'cert' ? n.severity : undefined;
  for (const c of n.children) w = worse(w, fillWorst(c));
  n.worst = w;
  return w;
}

const nodeRank = (order: ReadonlyMap<string, number>, node: string): number =>
  order.get(node) ?? order.size;

const ROLE_RANK = { root: 0, intermediate: 1, leaf: 2 } as const;

export type TreeOrder = 'tree' | 'worst';

/**
 * Sort siblings. `tree`: CAs by name, leaves by node (inventory order) then file.
 * `worst`: worst finding in the subtree first, then the sooner expiry.
 */
export function sortTree(tree: PkiTree, order: TreeOrder, nodeOrder?: readonly string[]): PkiTree {
  const ranks = new Map((nodeOrder ?? []).map((n, i) => [n, i]));
  const sev = (n: TreeNode | TreeFile): number => {
    const s = n.kind === 'file' ? n.severity : n.worst;
    return s ? SEVERITY_RANK[s] : 0;
  };
  const notAfter = (n: TreeNode): number => (n.kind === 'cert' ? n.cert.notAfter : Infinity);
  const name = (n: TreeNode): string =>
    n.kind === 'cert' ? (n.cert.commonName ?? n.cert.subject) : n.subject;
  const firstLoc = (n: TreeNode) => (n.kind === 'cert' ? n.locations[0] : undefined);
  const treeCmp = (a: TreeNode, b: TreeNode): number => {
    const ra = a.kind === 'cert' ? ROLE_RANK[a.role] : 0;
    const rb = b.kind === 'cert' ? ROLE_RANK[b.role] : 0;
    if (ra !== rb) return ra - rb;
    const la = firstLoc(a);
    const lb = firstLoc(b);
    if (a.kind === 'cert' && b.kind === 'cert' && a.role === 'leaf' && la && lb) {
      return (
        nodeRank(ranks, la.node) - nodeRank(ranks, lb.node) ||
        la.path.localeCompare(lb.path) ||
        a.cert.notBefore - b.cert.notBefore
      );
    }
    return name(a).localeCompare(name(b)) || notAfter(a) - notAfter(b);
  };
  const worstCmp = (a: TreeNode, b: TreeNode): number =>
    sev(b) - sev(a) || notAfter(a) - notAfter(b) || treeCmp(a, b);
  const cmp = order === 'worst' ? worstCmp : treeCmp;
  const sortNode = (n: TreeNode): TreeNode => ({
    ...n,
    children: n.children.map(sortNode).sort(cmp),
  });
  const files =
    order === 'worst'
      ? [...tree.files].sort((a, b) => sev(b) - sev(a) || a.key.localeCompare(b.key))
      : tree.files;
  return { ...tree, roots: tree.roots.map(sortNode).sort(cmp), files };
}

// ---------------------------------------------------------------------------------------
// Rows for a list view

export type TreeRowItem =
  | TreeNode
  | TreeFile
  | TreeNodeProblem
  | { kind: 'group'; key: string; title: string };

export interface TreeRow {
  key: string;
  depth: number;
  item: TreeRowItem;
}

/** Text a filter matches against: names, nodes, paths, SANs, check ids. */
function haystack(item: TreeRowItem): string {
  switch (item.kind) {
    case 'cert':
      return [
        item.cert.subject,
        item.cert.issuer,
        item.role,
        ...item.cert.dnsNames,
        ...item.cert.ipAddresses,
        ...item.locations.flatMap((l) => [l.node, l.path]),
        ...item.checks.map((c) => `${c.id} ${c.severity}`),
        item.key,
      ].join('\n');
    case 'missing':
      return item.subject;
    case 'file':
      return [item.node, item.path, ...item.checks.map((c) => `${c.id} ${c.severity}`)].join('\n');
    case 'node':
      return `${item.node}\n${item.message}`;
    case 'group':
      return '';
  }
}

export interface FlattenOptions {
  /** Case-insensitive regex (or substring when it does not compile). Matches keep their ancestors. */
  filter?: string;
  /** Only certificates and files on these nodes. */
  nodes?: ReadonlySet<string>;
}

/** Depth-first rows: the tree, then files without certificates, then unreadable nodes. */
export function flattenTree(tree: PkiTree, opts: FlattenOptions = {}): TreeRow[] {
  const match = textMatcher(opts.filter ?? '');
  const onNodes = opts.nodes;
  const visibleHere = (item: TreeRowItem): boolean => {
    if (onNodes) {
      if (item.kind === 'cert' && !item.locations.some((l) => onNodes.has(l.node))) return false;
      if ((item.kind === 'file' || item.kind === 'node') && !onNodes.has(item.node)) return false;
    }
    return !match || match(haystack(item));
  };
  const rows: TreeRow[] = [];
  const walk = (n: TreeNode, depth: number): TreeRow[] => {
    const below = n.children.flatMap((c) => walk(c, depth + 1));
    // A row shows when it matches or when something below it does (as context).
    if (below.length === 0 && (!visibleHere(n) || (n.kind === 'missing' && (match || onNodes))))
      return [];
    return [{ key: n.key, depth, item: n }, ...below];
  };
  for (const r of tree.roots) rows.push(...walk(r, 0));
  const files = tree.files.filter(visibleHere);
  if (files.length > 0) {
    rows.push({
      key: 'group:files',
      depth: 0,
      item: { kind: 'group', key: 'group:files', title: 'files without a certificate' },
    });
    for (const f of files) rows.push({ key: f.key, depth: 1, item: f });
  }
  const problems = tree.problems.filter(visibleHere);
  if (problems.length > 0) {
    rows.push({
      key: 'group:nodes',
      depth: 0,
      item: { kind: 'group', key: 'group:nodes', title: 'nodes not read' },
    });
    for (const p of problems) rows.push({ key: p.key, depth: 1, item: p });
  }
  return rows;
}

/** Every certificate node of the tree, depth-first. */
export function treeCerts(tree: PkiTree): TreeCert[] {
  const out: TreeCert[] = [];
  const walk = (n: TreeNode) => {
    if (n.kind === 'cert') out.push(n);
    n.children.forEach(walk);
  };
  tree.roots.forEach(walk);
  return out;
}
