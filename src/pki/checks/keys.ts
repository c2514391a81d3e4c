/**
 * Key files, from the node's status (private keys never leave the node; their public-key
 * digests do): each key holds its certificate's public key (planned pairs, sa.key ↔ sa.pub,
 * X-key.pem ↔ X.pem and X.key ↔ X.crt elsewhere), has the layout's mode and owner (any
 * key: not readable by group or others), the offline root's key is on no node, and no
 * certificate file holds a private key. Missing keys and unreadable files are the `files`
 * group's.
 */
import type { CertSummary, PkiStatusFile } from '../types.js';
import type { AddFinding, CheckGroup, NodeView } from './context.js';
import { base, cnOf, octal, short } from './format.js';

interface KeyWant {
  mode: number;
  owner: string;
  group: string;
}

/** Mode and owner of an existing key file; returns its status entry (undefined: not checked). */
function checkKeyFile(
  n: NodeView,
  keyPath: string,
  want: KeyWant | undefined,
  fp: string | undefined,
  add: AddFinding,
): PkiStatusFile | undefined {
  if (!n.haveStatus) return undefined;
  const k = n.statusFiles.get(keyPath);
  if (!k?.exists) return undefined;
  if (k.mode !== undefined) {
    if (want && k.mode !== want.mode) {
      const loose = (k.mode & 0o077) !== 0;
      add(
        'key-mode',
        n.node,
        keyPath,
        `${base(keyPath)} has mode ${octal(k.mode)}, the layout wants ${octal(want.mode)}${loose ? ' (private key readable by others)' : ''}`,
        fp,
      );
    } else if (!want && (k.mode & 0o077) !== 0) {
      add(
        'key-mode',
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
      n.node,
      keyPath,
      `${base(keyPath)} is owned by ${k.owner}:${k.group ?? '?'}, the layout wants ${want.owner}:${want.group}`,
      fp,
    );
  }
  return k;
}

/** The certificate files a key file not in the plan pairs with, by name, in order. */
function certPathsOfKey(keyPath: string): string[] {
  const cfssl = /^(.*)-key\.pem$/.exec(keyPath);
  if (cfssl) return [`${cfssl[1]}.pem`, `${cfssl[1]}.crt`];
  const openssl = /^(.*)\.key$/.exec(keyPath);
  if (openssl) return [`${openssl[1]}.crt`, `${openssl[1]}.pem`];
  return [];
}

/**
 * A private key inside a certificate file. Certificate files are public material: k8ops
 * reads them whole (over SSH: the key leaves the node), as do monitoring exporters, chain
 * and bundle builders and whoever pastes one into a ticket. Readable by every user on the
 * node (o+r, e.g. a 0644 kubelet.pem): `key-exposed`, critical, since the key must be
 * taken as read by someone and the pair replaced. Otherwise `key-in-cert-file`, a warning:
 * not exposed by its mode today, but not where keys belong. Returns the paths reported.
 */
function keyMaterialInCertFiles(n: NodeView, add: AddFinding): Set<string> {
  const reported = new Set<string>();
  for (const f of n.byPath.values()) {
    const blocks = f.privateKeyBlocks;
    if (!blocks || blocks.length === 0) continue;
    reported.add(f.path);
    const st = n.statusFiles.get(f.path);
    const mode = st?.exists ? st.mode : undefined;
    const what = `${base(f.path)} holds a private key (${blocks.map((b) => `block ${b.block}: ${b.label}`).join(', ')})`;
    const fp = f.certs[0]?.fingerprint;
    if (mode !== undefined && (mode & 0o004) !== 0) {
      add(
        'key-exposed',
        n.node,
        f.path,
        `${what} and has mode ${octal(mode)}: readable by every user on the node; take the key as compromised, issue a new pair and keep the key in its own 0600 file`,
        fp,
      );
    } else {
      const how =
        mode === undefined
          ? ' (mode unknown: no status)'
          : (mode & 0o040) !== 0
            ? ` (mode ${octal(mode)}: readable by group ${st?.group ?? '?'})`
            : ` (mode ${octal(mode)})`;
      add(
        'key-in-cert-file',
        n.node,
        f.path,
        `${what}${how}: certificate files are read and copied as public material (k8ops reads them off the node too); move the key to its own key file`,
        fp,
      );
    }
  }
  return reported;
}

export const keys: CheckGroup = {
  name: 'keys',
  run(ctx, add) {
    // Root public keys (for root-key-online).
    const rootKeys = new Map<string, CertSummary>();
    for (const { cert, link } of ctx.certs)
      if (link.kind === 'self-signed' && cert.isCA && cert.spkiSha256)
        rootKeys.set(cert.spkiSha256, cert);

    for (const n of ctx.nodes) {
      for (const { pc, file, leaf } of n.planned) {
        const key = checkKeyFile(n, pc.keyPath, pc, leaf?.fingerprint, add);
        if (!file || !leaf) continue;
        if (key?.pubkeySha256 && leaf.spkiSha256 && key.pubkeySha256 !== leaf.spkiSha256) {
          add(
            'key-mismatch',
            n.node,
            pc.keyPath,
            `${base(pc.keyPath)} does not hold the key of ${base(pc.certPath)} (public key ${short(key.pubkeySha256)} ≠ ${short(leaf.spkiSha256)})`,
            leaf.fingerprint,
          );
        }
      }

      for (const kp of n.plan?.keypairs ?? []) {
        const k = checkKeyFile(n, kp.keyPath, kp, undefined, add);
        const pub = n.statusFiles.get(kp.pubPath);
        if (!n.haveStatus || !pub?.exists) continue;
        // During a service-account key rotation the file holds several public keys (every
        // control-plane node's): the key's own must be one of them.
        const trusted = pub.pubkeysSha256 ?? (pub.pubkeySha256 ? [pub.pubkeySha256] : []);
        if (k?.pubkeySha256 && trusted.length > 0 && !trusted.includes(k.pubkeySha256)) {
          add(
            'key-mismatch',
            n.node,
            kp.keyPath,
            `${base(kp.pubPath)} does not hold the public key of ${base(kp.keyPath)} (${trusted.map(short).join(', ')} ∌ ${short(k.pubkeySha256)})`,
          );
        }
      }

      // Private keys inside certificate files (either block order).
      const keyInCert = keyMaterialInCertFiles(n, add);

      // Every key file the node reports, planned or not (CA directory on the signer, strays).
      for (const f of n.statusFiles.values()) {
        if (!f.exists || f.kind !== 'key') continue;
        const root = f.pubkeySha256 ? rootKeys.get(f.pubkeySha256) : undefined;
        if (ctx.settings.rootOffline && root) {
          add(
            'root-key-online',
            n.node,
            f.path,
            `${base(f.path)} is the private key of the root ${cnOf(root)}, which must stay offline`,
          );
        }
        if (n.plannedKeys.has(f.path) || keyInCert.has(f.path)) continue;
        checkKeyFile(n, f.path, undefined, undefined, add);
        // Name conventions for files not in the plan: X-key.pem ↔ X.pem (cfssl), X.key ↔
        // X.crt (openssl, kubeadm), each also with the other certificate extension.
        const cf = certPathsOfKey(f.path)
          .map((p) => n.byPath.get(p))
          .find((x) => x !== undefined);
        const leaf = cf?.certs[0];
        if (cf && leaf?.spkiSha256 && f.pubkeySha256 && leaf.spkiSha256 !== f.pubkeySha256) {
          add(
            'key-mismatch',
            n.node,
            f.path,
            `${base(f.path)} does not hold the key of ${base(cf.path)} (${short(f.pubkeySha256)} ≠ ${short(leaf.spkiSha256)})`,
            leaf.fingerprint,
          );
        }
      }
    }
  },
};
