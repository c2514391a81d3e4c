/**
 * The demo lab's generator (loaded by src/demo/lab.ts only when a lab must be made): a real
 * ECDSA P-521 / SHA-512 PKI from the layout — offline root, three intermediates, per-node
 * leaves, bundles, the service-account pair — with simulated ownership, written into a
 * directory that does not exist yet (lab.ts renames it into place).
 */
import { KeyObject, randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Inventory } from '../config/types.js';
import { PROFILE_USAGES } from '../pki/profiles.js';
import { webcrypto, x509 } from '../pki/x509-lib.js';
import {
  DEMO_LAB_VERSION,
  type DemoLabMeta,
  demoLabPath,
  demoOwnersPath,
  type OwnersFile,
} from './lab.js';
import { demoNginxFiles } from './nginx-cache.js';
import {
  CA_IDS,
  type CaId,
  DEMO_CAS,
  type DemoCaSpec,
  type DemoLeafSpec,
  demoLabFiles,
  demoLeaves,
  demoPlan,
  INTERMEDIATE_LIFETIME_MS,
  LEAF_LIFETIME_MS,
  ROOT_ID,
  ROOT_LIFETIME_MS,
  ROOT_SPEC,
  SIGNER_CA_DIR,
} from './pki-plan.js';

const EC = { name: 'ECDSA', namedCurve: 'P-521' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-512' } as const;
const KU = x509.KeyUsageFlags;

interface KeyPair {
  publicKey: webcrypto.CryptoKey;
  privateKey: webcrypto.CryptoKey;
}

interface Issued {
  cert: x509.X509Certificate;
  keys: KeyPair;
}

const genKey = async (): Promise<KeyPair> =>
  (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as KeyPair;

/** A positive 128-bit serial, hex. */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10;
  return b.toString('hex');
}

function name(cn: string, orgs: readonly string[]): x509.JsonName {
  return [...orgs.map((o) => ({ O: [o] })), { CN: [cn] }];
}

const pem = (c: x509.X509Certificate): string => `${c.toString('pem').trim()}\n`;
const keyPem = (k: webcrypto.CryptoKey): string =>
  String(KeyObject.from(k).export({ type: 'sec1', format: 'pem' }));
const pubPem = (k: webcrypto.CryptoKey): string =>
  String(KeyObject.from(k).export({ type: 'spki', format: 'pem' }));

const KU_BY_NAME: Record<string, number> = {
  digitalSignature: KU.digitalSignature,
  nonRepudiation: KU.nonRepudiation,
  keyEncipherment: KU.keyEncipherment,
  dataEncipherment: KU.dataEncipherment,
  keyAgreement: KU.keyAgreement,
  keyCertSign: KU.keyCertSign,
  cRLSign: KU.cRLSign,
};
const EKU_BY_NAME: Record<string, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
};
const kuFlags = (names: readonly string[]): number =>
  names.reduce((acc, n) => acc | (KU_BY_NAME[n] ?? 0), 0);

async function issueRoot(keys: KeyPair, now: number): Promise<Issued> {
  const notBefore = new Date(now - ROOT_SPEC.ageMs);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: name(ROOT_SPEC.commonName, ROOT_SPEC.organizations),
    notBefore,
    notAfter: new Date(notBefore.getTime() + ROOT_LIFETIME_MS),
    keys: keys,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, ROOT_SPEC.pathlen, true),
      new x509.KeyUsagesExtension(kuFlags(PROFILE_USAGES.root.keyUsages), true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function issue(
  issuer: Issued,
  keys: KeyPair,
  subject: x509.JsonName,
  notBefore: number,
  lifetimeMs: number,
  extensions: x509.Extension[],
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: issuer.cert.subjectName,
    notBefore: new Date(notBefore),
    notAfter: new Date(notBefore + lifetimeMs),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [
      ...extensions,
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
  });
}

async function issueIntermediate(root: Issued, keys: KeyPair, ca: DemoCaSpec, notBefore: number) {
  const cert = await issue(
    root,
    keys,
    name(ca.commonName, ca.organizations),
    notBefore,
    INTERMEDIATE_LIFETIME_MS,
    [
      new x509.BasicConstraintsExtension(true, ca.pathlen, true),
      new x509.KeyUsagesExtension(kuFlags(PROFILE_USAGES.intermediate.keyUsages), true),
    ],
  );
  return { cert, keys };
}

/** What cfssl's server/client/peer profiles put into a leaf (src/pki/profiles.ts). */
function leafExtensions(l: DemoLeafSpec): x509.Extension[] {
  const prof = PROFILE_USAGES[l.kind];
  const ext: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(kuFlags(prof.keyUsages), true),
    new x509.ExtendedKeyUsageExtension(
      prof.extKeyUsages.map((u) => EKU_BY_NAME[u]!),
      false,
    ),
  ];
  const names: x509.JsonGeneralName[] = [
    ...l.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...l.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length > 0) ext.push(new x509.SubjectAlternativeNameExtension(names, false));
  return ext;
}

interface Output {
  path: string;
  data: string;
  mode: number;
}

/** Generate the whole lab into `target` (which must not exist). Returns generation ms. */
export async function writeDemoLab(target: string, now: number, inv: Inventory): Promise<number> {
  const t0 = performance.now();
  const leaves = inv.nodes.flatMap((n) => demoLeaves(n, inv.pki.dir));
  const [rootKeys, saKeys, caKeys, leafKeys] = await Promise.all([
    genKey(),
    genKey(),
    Promise.all(DEMO_CAS.map(() => genKey())),
    Promise.all(leaves.map(() => genKey())),
  ]);
  const root = await issueRoot(rootKeys, now);
  const cas = new Map<CaId, Issued>(
    await Promise.all(
      DEMO_CAS.map(
        async (ca, i): Promise<[CaId, Issued]> => [
          ca.id,
          await issueIntermediate(root, caKeys[i]!, ca, now - ca.ageMs),
        ],
      ),
    ),
  );
  const caOf = (id: CaId): Issued => {
    const ca = cas.get(id);
    if (!ca) throw new Error(`layout names an unknown CA ${id}`);
    return ca;
  };
  const leafCerts = await Promise.all(
    leaves.map((l, i) =>
      issue(
        caOf(l.ca),
        leafKeys[i]!,
        name(l.commonName, l.organizations),
        now - l.ageMs,
        LEAF_LIFETIME_MS,
        leafExtensions(l),
      ),
    ),
  );

  const out: Output[] = [];
  const nodePath = (node: string, abs: string): string => demoLabPath(target, { node, path: abs });

  out.push({ path: join(target, 'offline', `${ROOT_ID}.pem`), data: pem(root.cert), mode: 0o644 });
  out.push({
    path: join(target, 'offline', `${ROOT_ID}-key.pem`),
    data: keyPem(root.keys.privateKey),
    mode: 0o600,
  });
  leaves.forEach((l, i) => {
    // Certificate files carry leaf + intermediate (the scripts append it; cfssl writes the leaf only).
    const chain = pem(leafCerts[i]!) + pem(caOf(l.ca).cert);
    out.push({ path: nodePath(l.node, l.certPath), data: chain, mode: 0o644 });
    out.push({
      path: nodePath(l.node, l.keyPath),
      data: keyPem(leafKeys[i]!.privateKey),
      mode: l.keyMode,
    });
  });
  for (const n of inv.nodes) {
    const plan = demoPlan(n, inv.pki.dir);
    for (const b of plan.bundles) {
      out.push({
        path: nodePath(n.name, b.path),
        data: b.cas.map((id) => pem(caOf(id).cert)).join(''),
        mode: b.mode,
      });
    }
    for (const k of plan.keypairs) {
      out.push({ path: nodePath(n.name, k.pubPath), data: pubPem(saKeys.publicKey), mode: 0o644 });
      out.push({
        path: nodePath(n.name, k.keyPath),
        data: keyPem(saKeys.privateKey),
        mode: k.mode,
      });
    }
  }
  const signer =
    inv.pki.signer !== undefined ? inv.nodes.find((n) => n.name === inv.pki.signer) : undefined;
  if (signer) {
    out.push({
      path: nodePath(signer.name, `${SIGNER_CA_DIR}/${ROOT_ID}.pem`),
      data: pem(root.cert),
      mode: 0o644,
    });
    for (const id of CA_IDS) {
      const ca = caOf(id);
      out.push({
        path: nodePath(signer.name, `${SIGNER_CA_DIR}/${id}.pem`),
        data: pem(ca.cert),
        mode: 0o644,
      });
      out.push({
        path: nodePath(signer.name, `${SIGNER_CA_DIR}/${id}-key.pem`),
        data: keyPem(ca.keys.privateKey),
        mode: 0o600,
      });
    }
  }

  // The ingress controllers' nginx configuration, as their nodes see it (/proc/<pid>/root).
  for (const f of demoNginxFiles(inv))
    out.push({ path: nodePath(f.node, f.path), data: f.data, mode: 0o644 });

  // Simulated ownership, as a real node would report it.
  const files = demoLabFiles(inv);
  for (const n of inv.nodes) {
    const owners: OwnersFile = { version: 1, files: {} };
    for (const f of files)
      if (f.node === n.name) owners.files[f.path] = { owner: f.owner, group: f.group };
    out.push({
      path: demoOwnersPath(target, n.name),
      data: `${JSON.stringify(owners, null, 2)}\n`,
      mode: 0o644,
    });
  }

  const dirs = new Set(out.map((o) => dirname(o.path)));
  await mkdir(target, { recursive: true, mode: 0o700 });
  await chmod(target, 0o700);
  for (const d of [...dirs].sort()) await mkdir(d, { recursive: true, mode: 0o755 });
  await chmod(join(target, 'offline'), 0o700);
  if (signer) await chmod(nodePath(signer.name, SIGNER_CA_DIR), 0o700);
  await Promise.all(
    out.map(async (o) => {
      await writeFile(o.path, o.data, { mode: o.mode });
      await chmod(o.path, o.mode);
    }),
  );
  const generationMs = Math.round(performance.now() - t0);
  const meta: DemoLabMeta = {
    version: DEMO_LAB_VERSION,
    generatedAt: now,
    cluster: inv.cluster,
    generationMs,
  };
  // meta.json last: a lab without it is never reused.
  await writeFile(join(target, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o644 });
  return generationMs;
}
