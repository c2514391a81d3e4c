/**
 * A small in-memory CA for PKI tests: real certificates built with @peculiar/x509 (P-521 /
 * SHA-512 unless told otherwise), and helpers that turn PEM text into what k8ops reads from
 * a node (CertFile, PkiStatus). Break things on purpose by passing options.
 */
import { KeyObject, randomBytes } from 'node:crypto';
import type { CheckSettings, NodeCheckInput } from '../../src/pki/checks.js';
import { type NodeIdentity, planNode } from '../../src/pki/layout.js';
import { defaultLayout } from '../../src/pki/layout-data.js';
import { describeKeyMaterial } from '../../src/pki/status.js';
import type { PkiStatus, PkiStatusFile } from '../../src/pki/types.js';
import { parseCertFile } from '../../src/pki/x509.js';
import { webcrypto, x509 } from '../../src/pki/x509-lib.js';

export const DAY = 86_400_000;
export const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

export interface KeyPair {
  publicKey: webcrypto.CryptoKey;
  privateKey: webcrypto.CryptoKey;
}
export type KeyKind = 'P-521' | 'P-256' | 'RSA-2048';

export async function genKey(kind: KeyKind = 'P-521'): Promise<KeyPair> {
  if (kind === 'RSA-2048')
    return (await webcrypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    )) as KeyPair;
  return (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: kind }, true, [
    'sign',
    'verify',
  ])) as KeyPair;
}

const signAlg = (k: KeyPair) =>
  k.privateKey.algorithm.name === 'RSASSA-PKCS1-v1_5'
    ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
    : { name: 'ECDSA', hash: 'SHA-512' };

export interface Issued {
  cert: x509.X509Certificate;
  keys: KeyPair;
  pem: string;
  keyPem: string;
}

const serial = () => {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10;
  return b.toString('hex');
};
const KU = x509.KeyUsageFlags;
const toPem = (c: x509.X509Certificate) => `${c.toString('pem').trim()}\n`;
export const keyToPem = (k: webcrypto.CryptoKey): string =>
  String(KeyObject.from(k).export({ type: 'pkcs8', format: 'pem' }));
export const pubToPem = (k: webcrypto.CryptoKey): string =>
  String(KeyObject.from(k).export({ type: 'spki', format: 'pem' }));

function subject(cn: string, o: readonly string[] = []): x509.JsonName {
  return [...o.map((v) => ({ O: [v] })), { CN: [cn] }];
}

export async function makeRoot(opts: { cn?: string; notBefore?: number; days?: number } = {}) {
  const keys = await genKey();
  const notBefore = opts.notBefore ?? NOW - 400 * DAY;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: subject(opts.cn ?? 'k8s-root', ['k8ops']),
    notBefore: new Date(notBefore),
    notAfter: new Date(notBefore + (opts.days ?? 14_610) * DAY),
    keys,
    signingAlgorithm: signAlg(keys),
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(KU.keyCertSign | KU.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, pem: toPem(cert), keyPem: keyToPem(keys.privateKey) } satisfies Issued;
}

export interface IssueOptions {
  cn: string;
  o?: readonly string[];
  dns?: readonly string[];
  ips?: readonly string[];
  notBefore?: number;
  notAfter?: number;
  /** Days from notBefore (default 14 for leaves, 60 for CAs). */
  days?: number;
  ca?: { pathlen?: number };
  keyUsages?: number;
  eku?: readonly ('serverAuth' | 'clientAuth')[];
  keyKind?: KeyKind;
  /** Sign with this key instead of the issuer's (a bad signature). */
  signWith?: KeyPair;
  /** Use this key pair (e.g. another certificate's). */
  keys?: KeyPair;
}

export async function issue(issuer: Issued, o: IssueOptions): Promise<Issued> {
  const keys = o.keys ?? (await genKey(o.keyKind));
  const isCA = o.ca !== undefined;
  const notBefore = o.notBefore ?? NOW - DAY;
  const notAfter = o.notAfter ?? notBefore + (o.days ?? (isCA ? 60 : 14)) * DAY;
  const ext: x509.Extension[] = [
    new x509.BasicConstraintsExtension(isCA, isCA ? o.ca?.pathlen : undefined, true),
    new x509.KeyUsagesExtension(
      o.keyUsages ??
        (isCA ? KU.keyCertSign | KU.cRLSign : KU.digitalSignature | KU.keyEncipherment),
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
  ];
  if (o.eku && o.eku.length > 0)
    ext.push(
      new x509.ExtendedKeyUsageExtension(
        o.eku.map((e) => x509.ExtendedKeyUsage[e]),
        false,
      ),
    );
  const names: x509.JsonGeneralName[] = [
    ...(o.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(o.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length > 0) ext.push(new x509.SubjectAlternativeNameExtension(names, false));
  const signer = o.signWith ?? issuer.keys;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: subject(o.cn, o.o ?? []),
    issuer: issuer.cert.subjectName,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    publicKey: keys.publicKey,
    signingKey: signer.privateKey,
    signingAlgorithm: signAlg(signer),
    extensions: ext,
  });
  return { cert, keys, pem: toPem(cert), keyPem: keyToPem(keys.privateKey) };
}

// ---------------------------------------------------------------------------------------
// A node's files → what k8ops reads

export interface FileSpec {
  content: string;
  mode?: number;
  owner?: string;
  group?: string;
}

/** Files of one node (absolute path → content/mode/owner) as k8ops's inputs. */
export function nodeInput(
  node: NodeIdentity & { index?: number },
  files: Record<string, FileSpec>,
  opts: { pkiDir?: string; status?: boolean } = {},
): NodeCheckInput {
  const pkiDir = opts.pkiDir ?? '/etc/kubernetes/pki';
  const certFiles = Object.entries(files)
    .filter(([p]) => /\.(pem|crt)$/.test(p) && !/-key\.pem$|\.key$/.test(p))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([p, f]) => parseCertFile(node.name, p, f.content));
  const statusFiles: PkiStatusFile[] = Object.entries(files)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, f]) => ({
      path,
      exists: true,
      mode: f.mode ?? (/-key\.pem$/.test(path) ? 0o600 : 0o644),
      owner: f.owner ?? 'root',
      group: f.group ?? f.owner ?? 'root',
      size: f.content.length,
      ...describeKeyMaterial(f.content),
    }));
  const status: PkiStatus = { version: 1, node: node.name, pkiDir, files: statusFiles };
  const input: NodeCheckInput = {
    node: node.name,
    index: node.index ?? 0,
    plan: planNode(defaultLayout(), node, { pkiDir }),
    files: certFiles,
  };
  if (opts.status !== false) input.status = [status];
  else input.statusError = 'status not collected';
  return input;
}

export function settings(over: Partial<CheckSettings> = {}): CheckSettings {
  return {
    now: NOW,
    layout: defaultLayout(),
    spreadMs: DAY,
    minRemainingMs: 2 * DAY,
    nodeCount: 6,
    rootOffline: true,
    ...over,
  };
}
