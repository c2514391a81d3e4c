/**
 * What every check group reads. `buildContext` derives, once per run, what several groups
 * need: each certificate's issuer link and the places it lives, each node's files and status
 * entries by path, and its planned certificates with what was found at their paths. Groups
 * only read the context and report through `add`.
 */
import {
  type CertIndex,
  type IndexedCert,
  type IssuerLink,
  isSelfIssued,
  resolveIssuer,
} from '../chain.js';
import type { Layout, NodePlan, PlannedCert } from '../layout.js';
import type { CertFile, CertSummary, PkiStatus, PkiStatusFile } from '../types.js';
import type { CheckId } from './ids.js';

export interface NodeCheckInput {
  node: string;
  /** Inventory index (rotation slot i of N). */
  index: number;
  /** What the node must hold, from the layout; undefined = no plan checks. */
  plan?: NodePlan;
  /** Certificate files read from the node; undefined when they could not be read. */
  files?: readonly CertFile[];
  /** The node's status documents (PKI dir, CA dir on the signer); undefined when unavailable. */
  status?: readonly PkiStatus[];
  /** Why there is no status. */
  statusError?: string;
  /**
   * The node's name is unknown (`k8ops certs --path` without `--node`): the plan was made
   * with `{node}` left in, and names built from it are matched by shape only.
   */
  anonymous?: boolean;
  /** The node's addresses are not known: extra IP SANs say so instead of blaming the layout. */
  addressesUnknown?: boolean;
}

export interface CheckSettings {
  now: number;
  layout: Layout;
  /** Renew this long before notAfter; undefined = one third of the lifetime. */
  renewBeforeMs?: number;
  spreadMs: number;
  minRemainingMs: number;
  /** N of the rotation slot formula (inventory size). */
  nodeCount: number;
  /** The root key must never be on a node. */
  rootOffline: boolean;
}

type Role = 'root' | 'intermediate' | 'leaf';
export const roleOf = (c: CertSummary): Role =>
  c.isCA ? (isSelfIssued(c) ? 'root' : 'intermediate') : 'leaf';

export interface Place {
  node: string;
  path: string;
}

/** One distinct certificate (by fingerprint) of the index. */
export interface CertView {
  cert: CertSummary;
  entry: IndexedCert;
  role: Role;
  /** The first path per node holding it, in node order of appearance. */
  where: readonly Place[];
  /** Where findings about the certificate itself are reported: the first place it was seen. */
  first: Place;
  /** Its issuer, found by name and confirmed by signature. */
  link: IssuerLink;
}

/** One node's input, indexed. */
export interface NodeView {
  input: NodeCheckInput;
  node: string;
  byPath: ReadonlyMap<string, CertFile>;
  /** Every status entry (PKI dir, CA dir) by path. */
  statusFiles: ReadonlyMap<string, PkiStatusFile>;
  haveStatus: boolean;
  /** The node's plan when its files were read too: the plan checks need both. */
  plan: NodePlan | undefined;
  /** Key files of `plan` (certificates' and key pairs'): checked against it, not as stray keys. */
  plannedKeys: ReadonlySet<string>;
  /** The certificates of `plan`, with what was found at their paths. */
  planned: readonly PlannedCertView[];
}

/** A certificate of a node's plan, with the file found at its path. */
export interface PlannedCertView {
  pc: PlannedCert;
  file: CertFile | undefined;
  /** The file's first certificate (the leaf of a chain file). */
  leaf: CertSummary | undefined;
}

export interface CheckContext {
  settings: CheckSettings;
  /** Every certificate once, in index order. */
  certs: readonly CertView[];
  /** Issuer links by certificate fingerprint. */
  links: ReadonlyMap<string, IssuerLink>;
  /** Inventory index by node name (rotation slots). */
  nodeIndex: ReadonlyMap<string, number>;
  /** In input order. Node names need not be unique: per-node checks go node by node. */
  nodes: readonly NodeView[];
}

/** Report one finding; its severity comes from CHECK_IDS. Duplicates are dropped. */
export type AddFinding = (
  id: CheckId,
  node: string,
  path: string,
  message: string,
  fingerprint?: string,
) => void;

/** A named group of checks: pure, reads the context, reports through `add`. */
export interface CheckGroup {
  /** The file's name (src/pki/checks/<name>.ts) and the `group` of its ids in CHECK_IDS. */
  name: string;
  run(ctx: CheckContext, add: AddFinding): void;
}

/** First path per node where `e` lives, in node order of appearance. */
function perNode(e: IndexedCert): Place[] {
  const seen = new Map<string, string>();
  for (const l of e.locations) if (!seen.has(l.node)) seen.set(l.node, l.path);
  return [...seen].map(([node, path]) => ({ node, path }));
}

function nodeView(input: NodeCheckInput): NodeView {
  const statusFiles = new Map<string, PkiStatusFile>();
  for (const st of input.status ?? []) for (const f of st.files) statusFiles.set(f.path, f);
  const plan = input.plan && input.files !== undefined ? input.plan : undefined;
  const byPath = new Map((input.files ?? []).map((f) => [f.path, f]));
  return {
    input,
    node: input.node,
    byPath,
    statusFiles,
    haveStatus: input.status !== undefined,
    plan,
    plannedKeys: new Set([
      ...(plan?.certs ?? []).map((pc) => pc.keyPath),
      ...(plan?.keypairs ?? []).map((kp) => kp.keyPath),
    ]),
    planned: (plan?.certs ?? []).map((pc) => {
      const file = byPath.get(pc.certPath);
      return { pc, file, leaf: file?.certs[0] };
    }),
  };
}

/** `index` must be built from the files of all `inputs` (indexCerts). */
export function buildContext(
  inputs: readonly NodeCheckInput[],
  index: CertIndex,
  settings: CheckSettings,
): CheckContext {
  const certs: CertView[] = [];
  const links = new Map<string, IssuerLink>();
  for (const entry of index.byFingerprint.values()) {
    const where = perNode(entry);
    const first = where[0];
    if (!first) continue;
    const link = resolveIssuer(entry.cert, index);
    links.set(entry.cert.fingerprint, link);
    certs.push({ cert: entry.cert, entry, role: roleOf(entry.cert), where, first, link });
  }
  return {
    settings,
    certs,
    links,
    nodeIndex: new Map(inputs.map((n) => [n.node, n.index])),
    nodes: inputs.map(nodeView),
  };
}
