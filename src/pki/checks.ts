/**
 * Every PKI check, pure: certificate files per node (already parsed), the node's `status`
 * (modes, owners, public-key digests; private keys never leave the node), the node's plan
 * from the layout, and time/rotation settings in; findings out. Signatures are verified
 * through src/pki/verify.ts (cached; call `prewarmSignatures` first to do it in parallel).
 *
 * | id                  | severity | when                                                                   |
 * |---------------------|----------|------------------------------------------------------------------------|
 * | expired             | critical | now is past notAfter                                                   |
 * | not-yet-valid       | critical | notBefore is more than 5 min ahead of now                              |
 * | bad-signature       | critical | the signature verifies with no certificate named like its issuer       |
 * | issuer-missing      | critical | a leaf whose issuer is on no node (chain cannot be built)              |
 * | self-signed         | critical | a self-signed certificate that is not a CA                             |
 * | issuer-not-ca       | critical | the issuer lacks CA:TRUE or keyCertSign, or its pathlen forbids a CA   |
 * | outlives-issuer     | critical | notAfter is after the issuer's notAfter (cfssl does not cap it)        |
 * | key-mismatch        | critical | the key file's public key is not the certificate's (or sa.pub ≠ key)   |
 * | root-key-online     | critical | the offline root's private key is on a node                            |
 * | renew-window        | warning  | leaf: remaining ≤ renewBefore; CA: < one leaf lifetime + 2 d left      |
 * | rotation-late       | warning  | the scheduled rotation (due + node slot) leaves < minRemaining         |
 * | key-algorithm       | warning  | not an ECDSA P-521 key                                                 |
 * | signature-algorithm | warning  | not ecdsa-with-SHA512                                                  |
 * | cn / o              | warning  | subject CN / O differ from the layout (kubelet: system:node:<name>)    |
 * | san-missing         | warning  | a SAN the layout requires is absent                                    |
 * | san-extra           | info     | a SAN the layout does not list                                         |
 * | key-usage           | warning  | a key usage / EKU the profile requires is absent                       |
 * | key-usage-extra     | info     | an EKU beyond the profile                                              |
 * | wrong-ca            | warning  | issued by a CA other than the layout's (wrong trust domain)            |
 * | ca-constraints      | warning  | leaf with CA:TRUE; CA pathlen ≠ layout; CA with a restricting EKU      |
 * | unverifiable        | warning  | issuer found but the signature algorithm cannot be checked             |
 * | chain-incomplete    | warning  | a certificate file without its intermediate after the leaf             |
 * | chain-order         | warning  | the certificate after the leaf is not the leaf's issuer                |
 * | bundle-missing-ca   | warning  | a trust bundle lacks a layout CA or a CA that signs certificates in use|
 * | bundle-foreign-ca   | warning  | a trust bundle holds the root, another domain's CA, or a non-CA        |
 * | key-mode            | warning  | key file mode ≠ layout (or any key readable by group/others)          |
 * | key-owner           | warning  | key file owner/group ≠ layout                                          |
 * | missing-file        | warning  | a certificate, key, bundle or public key of the plan is absent         |
 * | unknown-file        | warning  | a file in the PKI directory that the layout does not list              |
 * | unparseable         | warning  | garbage, truncated PEM, or a non-certificate block in a cert file      |
 * | status-error        | warning  | the node could not read a file for its status                          |
 * | sa-key-differs      | warning  | service-account public keys differ between control-plane nodes         |
 * | previous-mismatch   | warning  | the previous pair kept by `install` (.prev) does not match: no rollback|
 * | previous-file       | info     | a previous pair kept by `install` (rollback material)                  |
 * | root-unavailable    | info     | a CA whose issuer (the offline root) is on no node: not verified up    |
 * | status-unavailable  | info     | no status from the node: key match, modes and owners not checked       |
 * | file-changed        | info     | the status digest of a cert file ≠ the cert read (changed in between)  |
 */
import { posix } from 'node:path';
import { isIpLiteral } from '../config/validate.js';
import {
  type CertIndex,
  describe,
  type IndexedCert,
  isSelfIssued,
  resolveIssuer,
} from './chain.js';
import { DURATION, formatCountdownCoarse, renewWindowMs } from './expiry.js';
import type { Layout, NodePlan, PlannedCert } from './layout.js';
import { EXPECTED_KEY, EXPECTED_SIGNATURE, PROFILE_USAGES } from './profiles.js';
import type {
  CertFile,
  CertSummary,
  PkiCheck,
  PkiStatus,
  PkiStatusFile,
  Severity,
} from './types.js';

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

/** Tolerated clock skew for notBefore (cfssl backdates 5 min). */
const SKEW_MS = 5 * DURATION.MINUTE;

export const NODE_NAME_PATTERN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';

const base = (p: string): string => posix.basename(p);
const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');
const octal = (m: number): string => m.toString(8).padStart(4, '0');
const short = (hex: string): string => `${hex.slice(0, 12)}…`;
const list = (xs: readonly string[]): string => xs.join(', ');
const cnOf = (c: CertSummary): string => c.commonName ?? c.subject;

type Role = 'root' | 'intermediate' | 'leaf';
export const roleOf = (c: CertSummary): Role =>
  c.isCA ? (isSelfIssued(c) ? 'root' : 'intermediate') : 'leaf';

/** First path per node where `e` lives, in node order of appearance. */
function perNode(e: IndexedCert): Array<{ node: string; path: string }> {
  const seen = new Map<string, string>();
  for (const l of e.locations) if (!seen.has(l.node)) seen.set(l.node, l.path);
  return [...seen].map(([node, path]) => ({ node, path }));
}

/** Matches `actual` against a layout name that may still contain `{node}` (anonymous scan). */
function nameMatches(expected: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  if (!expected.includes('{node}')) return expected === actual;
  const re = new RegExp(
    `^${expected
      .split('{node}')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join(NODE_NAME_PATTERN)}$`,
  );
  return re.test(actual);
}

const PREVIOUS = /^(.*?)(?:[.-](?:prev|previous|old|bak)(?:\.pem)?|~)$/;

/** Run every check. `index` must be built from the files of all `nodes` (indexCerts). */
export function runChecks(
  nodes: readonly NodeCheckInput[],
  index: CertIndex,
  s: CheckSettings,
): PkiCheck[] {
  const out: PkiCheck[] = [];
  const seen = new Set<string>();
  const add = (
    id: string,
    severity: Severity,
    node: string,
    path: string,
    message: string,
    fingerprint?: string,
  ): void => {
    const key = `${id}\0${node}\0${path}\0${fingerprint ?? ''}\0${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    const c: PkiCheck = { id, severity, node, path, message };
    if (fingerprint) c.fingerprint = fingerprint;
    out.push(c);
  };
  const nodeIndex = new Map(nodes.map((n) => [n.node, n.index]));
  const caByCn = new Map(s.layout.cas.map((c) => [c.cn, c]));

  // ---- per certificate (de-duplicated) ---------------------------------------------------
  const links = new Map<string, ReturnType<typeof resolveIssuer>>();
  for (const e of index.byFingerprint.values()) {
    const c = e.cert;
    const fp = c.fingerprint;
    const role = roleOf(c);
    const where = perNode(e);
    const first = where[0];
    if (!first) continue;
    const remaining = c.notAfter - s.now;
    for (const w of where) {
      if (remaining < 0) {
        add(
          'expired',
          'critical',
          w.node,
          w.path,
          `${cnOf(c)} expired ${formatCountdownCoarse(-remaining)} ago (notAfter ${iso(c.notAfter)})`,
          fp,
        );
      } else if (c.notBefore - s.now > SKEW_MS) {
        add(
          'not-yet-valid',
          'critical',
          w.node,
          w.path,
          `${cnOf(c)} is not valid before ${iso(c.notBefore)} (in ${formatCountdownCoarse(c.notBefore - s.now)})`,
          fp,
        );
      } else if (role === 'leaf') {
        const renewBefore = renewWindowMs('leaf', c, s.renewBeforeMs);
        const due = c.notAfter - renewBefore;
        if (remaining <= renewBefore) {
          add(
            'renew-window',
            'warning',
            w.node,
            w.path,
            `${cnOf(c)} is inside its renew window: ${formatCountdownCoarse(remaining)} left (due since ${iso(due)})`,
            fp,
          );
        }
        const i = nodeIndex.get(w.node) ?? 0;
        const offset = s.nodeCount > 0 ? (i * s.spreadMs) / s.nodeCount : 0;
        const scheduled = due + offset;
        if (c.notAfter - scheduled < s.minRemainingMs) {
          add(
            'rotation-late',
            'warning',
            w.node,
            w.path,
            `scheduled rotation at ${iso(scheduled)} leaves ${formatCountdownCoarse(Math.max(0, c.notAfter - scheduled))} before expiry (minimum ${formatCountdownCoarse(s.minRemainingMs)})`,
            fp,
          );
        }
      } else {
        const window = renewWindowMs(role === 'intermediate' ? 'intermediate' : 'root', c);
        if (remaining < window) {
          add(
            'renew-window',
            'warning',
            w.node,
            w.path,
            role === 'intermediate'
              ? `intermediate ${cnOf(c)} is due: ${formatCountdownCoarse(remaining)} left, less than one leaf lifetime + 2 d; issue its successor and add it to the bundles`
              : `root ${cnOf(c)} is inside its renew window: ${formatCountdownCoarse(remaining)} left`,
            fp,
          );
        }
      }
    }

    const { node, path } = first;
    if (c.keyAlgorithm !== EXPECTED_KEY.algorithm || c.curve !== EXPECTED_KEY.curve) {
      add(
        'key-algorithm',
        'warning',
        node,
        path,
        `${cnOf(c)} has a ${c.keyAlgorithm}${c.curve ? ` ${c.curve}` : ''} key; the cluster uses ECDSA P-521`,
        fp,
      );
    }
    if (c.signatureAlgorithm !== EXPECTED_SIGNATURE) {
      add(
        'signature-algorithm',
        'warning',
        node,
        path,
        `${cnOf(c)} is signed with ${c.signatureAlgorithm}; the cluster uses ${EXPECTED_SIGNATURE}`,
        fp,
      );
    }

    const link = resolveIssuer(c, index);
    links.set(fp, link);
    switch (link.kind) {
      case 'self-signed':
        if (!c.isCA)
          add(
            'self-signed',
            'critical',
            node,
            path,
            `${cnOf(c)} is self-signed: no CA of the cluster issued it`,
            fp,
          );
        break;
      case 'verified': {
        const is = link.issuer.cert;
        const problems: string[] = [];
        if (!is.isCA) problems.push('is not a CA (basicConstraints CA:FALSE or absent)');
        if (is.keyUsages.length > 0 && !is.keyUsages.includes('keyCertSign'))
          problems.push('lacks keyCertSign');
        if (c.isCA && is.pathLen === 0) problems.push('has pathlen 0 yet issued a CA');
        if (problems.length > 0) {
          add(
            'issuer-not-ca',
            'critical',
            node,
            path,
            `issuer ${describe(is)} ${problems.join(', ')}: the chain is invalid`,
            fp,
          );
        }
        if (c.notAfter > is.notAfter) {
          add(
            'outlives-issuer',
            'critical',
            node,
            path,
            `${cnOf(c)} (notAfter ${iso(c.notAfter)}) outlives its issuer ${cnOf(is)} (notAfter ${iso(is.notAfter)}): it stops verifying when the issuer expires`,
            fp,
          );
        }
        break;
      }
      case 'bad-signature':
        add('bad-signature', 'critical', node, path, `${cnOf(c)}: ${link.message}`, fp);
        break;
      case 'missing':
        if (c.isCA) {
          add(
            'root-unavailable',
            'info',
            node,
            path,
            `issuer of ${cnOf(c)} (${c.issuer}) is on no node (kept offline): its signature is not verified up to the root`,
            fp,
          );
        } else {
          add(
            'issuer-missing',
            'critical',
            node,
            path,
            `issuer ${c.issuer} of ${cnOf(c)} is on no node: the chain cannot be verified`,
            fp,
          );
        }
        break;
      case 'unverifiable':
        add('unverifiable', 'warning', node, path, `${cnOf(c)}: ${link.message}`, fp);
        break;
    }

    if (role === 'leaf') continue;
    const layoutCa = caByCn.get(c.commonName ?? '');
    const wantPath = layoutCa?.pathlen ?? (role === 'intermediate' ? 0 : undefined);
    if (wantPath !== undefined && c.pathLen !== wantPath) {
      add(
        'ca-constraints',
        'warning',
        node,
        path,
        `${cnOf(c)} has pathlen ${c.pathLen ?? 'unlimited'}, the layout wants ${wantPath}`,
        fp,
      );
    }
    if (c.keyUsages.length > 0 && !c.keyUsages.includes('keyCertSign')) {
      add('ca-constraints', 'warning', node, path, `${cnOf(c)} is a CA without keyCertSign`, fp);
    }
    const eku = c.extKeyUsages;
    if (
      eku.length > 0 &&
      !(eku.includes('serverAuth') && eku.includes('clientAuth')) &&
      !eku.includes('anyExtendedKeyUsage')
    ) {
      add(
        'ca-constraints',
        'warning',
        node,
        path,
        `${cnOf(c)} carries EKU ${list(eku)}, which restricts every certificate below it`,
        fp,
      );
    }
  }

  // In-use issuers per CA name: the intermediates that actually signed leaves somewhere.
  const issuersInUse = new Map<string, Map<string, IndexedCert>>();
  for (const e of index.byFingerprint.values()) {
    const link = links.get(e.cert.fingerprint);
    if (e.cert.isCA || link?.kind !== 'verified') continue;
    const cn = link.issuer.cert.commonName ?? '';
    const m = issuersInUse.get(cn) ?? new Map<string, IndexedCert>();
    m.set(link.issuer.cert.fingerprint, e);
    issuersInUse.set(cn, m);
  }

  // Root public keys (for root-key-online).
  const rootKeys = new Map<string, CertSummary>();
  for (const e of index.byFingerprint.values())
    if (links.get(e.cert.fingerprint)?.kind === 'self-signed' && e.cert.isCA && e.cert.spkiSha256)
      rootKeys.set(e.cert.spkiSha256, e.cert);

  // ---- per node ----------------------------------------------------------------------------
  const saDigests = new Map<string, { path: string; digest: string }>();
  for (const n of nodes) {
    const files = n.files;
    const byPath = new Map((files ?? []).map((f) => [f.path, f]));
    const statusFiles = new Map<string, PkiStatusFile>();
    for (const st of n.status ?? []) for (const f of st.files) statusFiles.set(f.path, f);
    const haveStatus = n.status !== undefined;
    const plan = n.plan;

    if (!haveStatus && files !== undefined) {
      add(
        'status-unavailable',
        'info',
        n.node,
        plan?.pkiDir ?? '',
        `no status from ${n.node}${n.statusError ? ` (${n.statusError})` : ''}: key match, modes and owners not checked`,
      );
    }

    // Unparseable files.
    for (const f of files ?? []) {
      if (f.errors.length === 0) continue;
      const first = f.errors[0]!;
      const more = f.errors.length > 1 ? ` (+${f.errors.length - 1} more)` : '';
      const where = first.block > 0 ? `block ${first.block}: ` : '';
      add('unparseable', 'warning', n.node, f.path, `${where}${first.message}${more}`);
    }

    const keyChecked = new Set<string>();
    const checkKeyFile = (
      keyPath: string,
      want: { mode: number; owner: string; group: string } | undefined,
      what: string,
      fp: string | undefined,
    ): PkiStatusFile | undefined => {
      keyChecked.add(keyPath);
      const k = statusFiles.get(keyPath);
      if (!haveStatus) return undefined;
      if (!k?.exists) {
        add('missing-file', 'warning', n.node, keyPath, `${what} ${base(keyPath)} is missing`, fp);
        return undefined;
      }
      if (k.error)
        add('status-error', 'warning', n.node, keyPath, `${base(keyPath)}: ${k.error}`, fp);
      if (k.mode !== undefined) {
        if (want && k.mode !== want.mode) {
          const loose = (k.mode & 0o077) !== 0;
          add(
            'key-mode',
            'warning',
            n.node,
            keyPath,
            `${base(keyPath)} has mode ${octal(k.mode)}, the layout wants ${octal(want.mode)}${loose ? ' (private key readable by others)' : ''}`,
            fp,
          );
        } else if (!want && (k.mode & 0o077) !== 0) {
          add(
            'key-mode',
            'warning',
            n.node,
            keyPath,
            `${base(keyPath)} has mode ${octal(k.mode)}: private key readable by group or others (want 0600)`,
            fp,
          );
        }
      }
      if (want && k.owner !== undefined && (k.owner !== want.owner || k.group !== want.group)) {
        add(
          'key-owner',
          'warning',
          n.node,
          keyPath,
          `${base(keyPath)} is owned by ${k.owner}:${k.group ?? '?'}, the layout wants ${want.owner}:${want.group}`,
          fp,
        );
      }
      return k;
    };

    if (plan && files !== undefined) {
      const planned = new Set<string>();
      for (const pc of plan.certs) {
        planned.add(pc.certPath);
        planned.add(pc.keyPath);
        checkPlannedCert(pc);
      }
      for (const pb of plan.bundles) {
        planned.add(pb.path);
        const cf = byPath.get(pb.path);
        if (!cf) {
          add(
            'missing-file',
            'warning',
            n.node,
            pb.path,
            `trust bundle ${base(pb.path)} (${list(pb.cas)}) is missing`,
          );
          continue;
        }
        const cas = pb.cas
          .map((id) => s.layout.cas.find((c) => c.id === id))
          .filter((c) => c !== undefined);
        const cns = new Set(cas.map((c) => c.cn));
        const fps = new Set(cf.certs.map((c) => c.fingerprint));
        for (const ca of cas) {
          if (!cf.certs.some((c) => c.isCA && c.commonName === ca.cn)) {
            add(
              'bundle-missing-ca',
              'warning',
              n.node,
              pb.path,
              `${base(pb.path)} does not hold ${ca.cn}`,
            );
            continue;
          }
          for (const [fp, user] of issuersInUse.get(ca.cn) ?? []) {
            if (fps.has(fp)) continue;
            const at = user.locations[0]!;
            add(
              'bundle-missing-ca',
              'warning',
              n.node,
              pb.path,
              `${base(pb.path)} does not hold ${ca.cn} ${short(fp)}, which signs ${base(at.path)} on ${at.node}: those certificates are rejected here`,
            );
          }
        }
        for (const c of cf.certs) {
          if (!c.isCA)
            add(
              'bundle-foreign-ca',
              'warning',
              n.node,
              pb.path,
              `${base(pb.path)} holds ${cnOf(c)}, which is not a CA`,
              c.fingerprint,
            );
          else if (isSelfIssued(c))
            add(
              'bundle-foreign-ca',
              'warning',
              n.node,
              pb.path,
              `${base(pb.path)} holds the root ${cnOf(c)}: every leaf of every trust domain would be accepted`,
              c.fingerprint,
            );
          else if (!cns.has(c.commonName ?? ''))
            add(
              'bundle-foreign-ca',
              'warning',
              n.node,
              pb.path,
              `${base(pb.path)} holds ${cnOf(c)}, which is not in this trust domain (${list([...cns])})`,
              c.fingerprint,
            );
        }
      }
      for (const kp of plan.keypairs) {
        planned.add(kp.keyPath);
        planned.add(kp.pubPath);
        const k = checkKeyFile(kp.keyPath, kp, 'key', undefined);
        if (!haveStatus) continue;
        const pub = statusFiles.get(kp.pubPath);
        if (!pub?.exists) {
          add(
            'missing-file',
            'warning',
            n.node,
            kp.pubPath,
            `public key ${base(kp.pubPath)} is missing`,
          );
          continue;
        }
        if (pub.pubkeySha256) saDigests.set(n.node, { path: kp.pubPath, digest: pub.pubkeySha256 });
        if (k?.pubkeySha256 && pub.pubkeySha256 && k.pubkeySha256 !== pub.pubkeySha256) {
          add(
            'key-mismatch',
            'critical',
            n.node,
            kp.keyPath,
            `${base(kp.pubPath)} is not the public key of ${base(kp.keyPath)} (${short(pub.pubkeySha256)} ≠ ${short(k.pubkeySha256)})`,
          );
        }
      }

      // Files of the PKI directory the layout does not list.
      const inDir = new Set<string>();
      for (const f of files) if (posix.dirname(f.path) === plan.pkiDir) inDir.add(f.path);
      for (const f of statusFiles.values())
        if (f.exists && posix.dirname(f.path) === plan.pkiDir) inDir.add(f.path);
      for (const p of [...inDir].sort()) {
        if (planned.has(p)) continue;
        const name = base(p);
        const prev = PREVIOUS.exec(name);
        if (prev && [...planned].some((q) => base(q) === prev[1] || base(q) === `${prev[1]}.pem`)) {
          add('previous-file', 'info', n.node, p, `${name}: previous pair kept for rollback`);
          continue;
        }
        const disabled = s.layout.certs.find(
          (c) => !c.enabled && (base(c.cert) === name || base(c.key) === name),
        );
        const why = disabled
          ? `layout entry ${disabled.id} is disabled`
          : 'not in the layout for this node';
        add('unknown-file', 'warning', n.node, p, `${name}: ${why}`);
      }
    }

    // Key files outside the plan (CA directory on the signer, unknown keys).
    for (const f of statusFiles.values()) {
      if (!f.exists || f.kind !== 'key') continue;
      if (s.rootOffline && f.pubkeySha256 && rootKeys.has(f.pubkeySha256)) {
        add(
          'root-key-online',
          'critical',
          n.node,
          f.path,
          `${base(f.path)} is the private key of the root ${cnOf(rootKeys.get(f.pubkeySha256)!)}, which must stay offline`,
        );
      }
      if (keyChecked.has(f.path)) continue;
      checkKeyFile(f.path, undefined, 'key', undefined);
      // Name convention X-key.pem ↔ X.pem for files not in the plan.
      const m = /^(.*)-key\.pem$/.exec(f.path);
      const cf = m ? byPath.get(`${m[1]}.pem`) : undefined;
      const leaf = cf?.certs[0];
      if (leaf?.spkiSha256 && f.pubkeySha256 && leaf.spkiSha256 !== f.pubkeySha256) {
        add(
          'key-mismatch',
          'critical',
          n.node,
          f.path,
          `${base(f.path)} does not hold the key of ${base(cf!.path)} (${short(f.pubkeySha256)} ≠ ${short(leaf.spkiSha256)})`,
          leaf.fingerprint,
        );
      }
    }
    for (const f of statusFiles.values()) {
      if (f.error && !keyChecked.has(f.path))
        add('status-error', 'warning', n.node, f.path, `${base(f.path)}: ${f.error}`);
    }

    function checkPlannedCert(pc: PlannedCert): void {
      const cf = byPath.get(pc.certPath);
      const st = statusFiles.get(pc.certPath);
      const leaf = cf?.certs[0];
      const fp = leaf?.fingerprint;
      // The previous pair install.sh keeps (<cert>.prev, <key>.prev) must match for a rollback.
      const prevCert = statusFiles.get(`${pc.certPath}.prev`);
      const prevKey = statusFiles.get(`${pc.keyPath}.prev`);
      if (
        prevCert?.pubkeySha256 &&
        prevKey?.pubkeySha256 &&
        prevCert.pubkeySha256 !== prevKey.pubkeySha256
      ) {
        add(
          'previous-mismatch',
          'warning',
          n.node,
          `${pc.keyPath}.prev`,
          `${base(pc.keyPath)}.prev does not match ${base(pc.certPath)}.prev: a rollback would fail`,
          fp,
        );
      }
      if (!cf) {
        add(
          'missing-file',
          'warning',
          n.node,
          pc.certPath,
          `certificate ${base(pc.certPath)} (${pc.purpose}) is missing`,
        );
      }
      const key = checkKeyFile(pc.keyPath, pc, 'key', fp);
      if (!cf || !leaf) return;
      if (key?.pubkeySha256 && leaf.spkiSha256 && key.pubkeySha256 !== leaf.spkiSha256) {
        add(
          'key-mismatch',
          'critical',
          n.node,
          pc.keyPath,
          `${base(pc.keyPath)} does not hold the key of ${base(pc.certPath)} (public key ${short(key.pubkeySha256)} ≠ ${short(leaf.spkiSha256)})`,
          fp,
        );
      }
      if (st?.pubkeySha256 && leaf.spkiSha256 && st.pubkeySha256 !== leaf.spkiSha256) {
        add(
          'file-changed',
          'info',
          n.node,
          pc.certPath,
          `${base(pc.certPath)} changed between the status and the read (rotation in progress?)`,
          fp,
        );
      }
      if (leaf.isCA) {
        add(
          'ca-constraints',
          'warning',
          n.node,
          pc.certPath,
          `${base(pc.certPath)} holds a CA certificate (${cnOf(leaf)}) where a ${pc.profile} leaf belongs`,
          fp,
        );
      }
      if (!nameMatches(pc.cn, leaf.commonName)) {
        add(
          'cn',
          'warning',
          n.node,
          pc.certPath,
          `CN is ${JSON.stringify(leaf.commonName ?? '')}, the layout wants ${JSON.stringify(pc.cn.replaceAll('{node}', '<node>'))}`,
          fp,
        );
      }
      const wantO = [...pc.o].sort();
      const haveO = [...leaf.organizations].sort();
      if (wantO.join('\n') !== haveO.join('\n')) {
        add(
          'o',
          'warning',
          n.node,
          pc.certPath,
          `O is ${JSON.stringify(haveO)}, the layout wants ${JSON.stringify(wantO)}`,
          fp,
        );
      }
      const sans = pc.sans.filter((x) => !x.includes('{'));
      const isIp = (x: string): boolean => isIpLiteral(x);
      const wantIps = sans.filter(isIp);
      const wantDns = sans.filter((x) => !isIp(x));
      const missing = [
        ...wantDns.filter((d) => !leaf.dnsNames.includes(d)),
        ...wantIps.filter((ip) => !leaf.ipAddresses.includes(ip)),
      ];
      if (missing.length > 0) {
        add(
          'san-missing',
          'warning',
          n.node,
          pc.certPath,
          `missing SAN${missing.length > 1 ? 's' : ''} ${list(missing)}`,
          fp,
        );
      }
      if (!n.anonymous) {
        const extra = [
          ...leaf.dnsNames.filter((d) => !wantDns.includes(d)),
          ...leaf.ipAddresses.filter((ip) => !wantIps.includes(ip)),
        ];
        if (extra.length > 0)
          add(
            'san-extra',
            'info',
            n.node,
            pc.certPath,
            `SAN${extra.length > 1 ? 's' : ''} not in the layout: ${list(extra)}${
              n.addressesUnknown && extra.some(isIp)
                ? " (the node's addresses are unknown: pass --inventory to check them)"
                : ''
            }`,
            fp,
          );
      }
      const prof = PROFILE_USAGES[pc.profile];
      const missingKu = prof.requiredKeyUsages.filter((u) => !leaf.keyUsages.includes(u));
      const missingEku = prof.extKeyUsages.filter((u) => !leaf.extKeyUsages.includes(u));
      if (missingKu.length > 0 || missingEku.length > 0) {
        const has = leaf.extKeyUsages.length > 0 ? leaf.extKeyUsages.join('+') : 'no EKU';
        add(
          'key-usage',
          'warning',
          n.node,
          pc.certPath,
          `${pc.profile} certificate without ${list([...missingKu, ...missingEku])} (has ${has})`,
          fp,
        );
      }
      const extraEku = leaf.extKeyUsages.filter((u) => !prof.extKeyUsages.includes(u));
      if (extraEku.length > 0 && missingEku.length === 0) {
        add(
          'key-usage-extra',
          'info',
          n.node,
          pc.certPath,
          `${pc.profile} certificate also has ${list(extraEku)}`,
          fp,
        );
      }
      const link = links.get(leaf.fingerprint);
      const wantCa = s.layout.cas.find((c) => c.id === pc.ca);
      if (link?.kind === 'verified' && wantCa && link.issuer.cert.commonName !== wantCa.cn) {
        add(
          'wrong-ca',
          'warning',
          n.node,
          pc.certPath,
          `issued by ${cnOf(link.issuer.cert)}, the layout says ${wantCa.cn}`,
          fp,
        );
      }
      if (!isSelfIssued(leaf)) {
        const next = cf.certs[1];
        if (!next) {
          add(
            'chain-incomplete',
            'warning',
            n.node,
            pc.certPath,
            `${base(pc.certPath)} holds only the leaf: its intermediate ${wantCa?.cn ?? leaf.issuer} must follow it`,
            fp,
          );
        } else if (link?.kind === 'verified' && next.fingerprint !== link.issuer.cert.fingerprint) {
          add(
            'chain-order',
            'warning',
            n.node,
            pc.certPath,
            `the certificate after the leaf is ${describe(next)}, not the leaf's issuer ${describe(link.issuer.cert)}`,
            fp,
          );
        }
      }
    }
  }

  // Service-account keys must be the same on every control-plane node.
  const counts = new Map<string, number>();
  for (const { digest } of saDigests.values()) counts.set(digest, (counts.get(digest) ?? 0) + 1);
  if (counts.size > 1) {
    const common = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    for (const [node, { path, digest }] of saDigests) {
      if (digest !== common) {
        add(
          'sa-key-differs',
          'warning',
          node,
          path,
          `${base(path)} differs from the one on the other control-plane nodes (${short(digest)} ≠ ${short(common)}): tokens signed here fail elsewhere`,
        );
      }
    }
  }

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
