/**
 * The demo lab on disk: a real ECDSA P-521 / SHA-512 PKI (offline root, three intermediates,
 * per-node leaves) generated on first start into the cache directory and reused later.
 *
 * Layout of `dir`:
 *   meta.json                          {version, generatedAt, cluster}
 *   offline/k8s-root.pem, -key.pem     the root pair (never under nodes/)
 *   nodes/<node>/<absolute path>       each node's files, e.g. nodes/cp-1/etc/kubernetes/pki/…
 *   nodes/<node>/meta/owners.json      simulated owner/group of each node file
 *
 * Written atomically: generated into a sibling temp directory, then renamed into place.
 */
import { KeyObject, randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Inventory } from '../config/types.js';
import { splitPem } from '../pki/pem.js';
import { PROFILE_USAGES } from '../pki/profiles.js';
import { parseCertFile } from '../pki/x509.js';
import { webcrypto, x509 } from '../pki/x509-lib.js';
import { demoInventory } from './inventory.js';
import {
  CA_IDS,
  type CaId,
  DEMO_CAS,
  type DemoCaSpec,
  type DemoFileSpec,
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

/** Bump when the lab's contents change: older labs are regenerated. (2: built from the layout.) */
export const DEMO_LAB_VERSION = 2;
/** A lab older than this is regenerated, so staggered ages and the renew-window fault stay true. */
export const DEMO_LAB_MAX_AGE_MS = 24 * 3_600_000;

export interface EnsureDemoLabOptions {
  /** Lab directory, normally `$XDG_CACHE_HOME/k8ops/demo-lab`. */
  dir: string;
  /** Epoch ms; defaults to Date.now(). */
  now?: number;
  log?: (message: string) => void;
  /** Defaults to demoInventory(). */
  inventory?: Inventory;
}

export interface DemoLab {
  dir: string;
  generatedAt: number;
  /** True when this call generated the lab, false when it reused an existing one. */
  fresh: boolean;
}

export interface DemoLabMeta {
  version: number;
  generatedAt: number;
  cluster: string;
  /** Wall time the generation took, ms (informational). */
  generationMs?: number;
}

const OWNERS_FILE = 'meta/owners.json';

/** Root directory of one node's files inside the lab. */
export function demoNodeRoot(dir: string, node: string): string {
  return join(dir, 'nodes', node);
}

/** Where a node-absolute path (or an offline file) lives in the lab. */
export function demoLabPath(dir: string, file: Pick<DemoFileSpec, 'node' | 'path'>): string {
  return file.node === undefined
    ? join(dir, 'offline', file.path)
    : join(demoNodeRoot(dir, file.node), file.path.replace(/^\/+/, ''));
}

/** The simulated ownership table written to `nodes/<node>/meta/owners.json`. */
export interface OwnersFile {
  version: 1;
  /** Node-absolute path → owner/group. Paths not listed are root:root. */
  files: Record<string, { owner: string; group: string }>;
}

export function demoOwnersPath(dir: string, node: string): string {
  return join(demoNodeRoot(dir, node), OWNERS_FILE);
}

const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ---------------------------------------------------------------------------------------
// Validation of an existing lab

/**
 * Whether the lab at `dir` can be reused at `now`: its meta when it can (version matches,
 * under 24 h old, every expected file present and parseable), otherwise the reason why not.
 */
export async function checkDemoLab(
  dir: string,
  now: number,
  inv: Inventory = demoInventory(),
): Promise<{ reason: string } | { meta: DemoLabMeta }> {
  let meta: DemoLabMeta;
  try {
    const raw: unknown = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
    if (typeof raw !== 'object' || raw === null) return { reason: 'meta.json is not an object' };
    meta = raw as DemoLabMeta;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { reason: code === 'ENOENT' ? 'no lab yet' : `meta.json unreadable: ${errMsg(e)}` };
  }
  if (meta.version !== DEMO_LAB_VERSION) {
    return { reason: `lab version ${String(meta.version)} ≠ ${DEMO_LAB_VERSION}` };
  }
  if (typeof meta.generatedAt !== 'number' || !Number.isFinite(meta.generatedAt)) {
    return { reason: 'meta.json has no generatedAt' };
  }
  if (meta.cluster !== inv.cluster) return { reason: `lab is for cluster ${String(meta.cluster)}` };
  const age = now - meta.generatedAt;
  if (age > DEMO_LAB_MAX_AGE_MS) return { reason: 'lab is older than 24 h' };
  if (age < -5 * 60_000) return { reason: 'lab was generated in the future' };

  const files = demoLabFiles(inv);
  const problems = await Promise.all(
    files.map(async (f): Promise<string | undefined> => {
      const p = demoLabPath(dir, f);
      let text: string;
      try {
        text = await readFile(p, 'utf8');
      } catch (e) {
        return `${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : errMsg(e)}`;
      }
      if (f.kind === 'key' || f.kind === 'public-key') {
        const s = splitPem(text);
        const want = f.kind === 'key' ? /PRIVATE KEY$/ : /^PUBLIC KEY$/;
        const ok = s.errors.length === 0 && s.blocks.length === 1 && want.test(s.blocks[0]!.label);
        return ok ? undefined : `${p}: not a single ${f.kind}`;
      }
      const cf = parseCertFile(f.node ?? 'offline', f.path, text);
      const want = f.kind === 'chain' ? 2 : 1;
      if (cf.errors.length > 0) return `${p}: ${cf.errors[0]!.message}`;
      return cf.certs.length === want
        ? undefined
        : `${p}: ${cf.certs.length} certificates, want ${want}`;
    }),
  );
  const bad = problems.filter((x): x is string => x !== undefined);
  if (bad.length > 0) return { reason: `${bad.length} damaged file(s), e.g. ${bad[0]}` };
  for (const n of inv.nodes) {
    try {
      JSON.parse(await readFile(demoOwnersPath(dir, n.name), 'utf8'));
    } catch (e) {
      return { reason: `owners.json of ${n.name}: ${errMsg(e)}` };
    }
  }
  return { meta };
}

// ---------------------------------------------------------------------------------------
// Generation

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
export async function generateDemoLab(
  target: string,
  now: number,
  inv: Inventory,
): Promise<number> {
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

// ---------------------------------------------------------------------------------------
// ensureDemoLab

const SCRATCH_RE = /^(.*)\.(tmp|old)-(\d+)-[0-9a-f]+$/;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove temp/old directories left by interrupted runs of dead processes. */
async function sweepScratch(dir: string): Promise<void> {
  const parent = dirname(dir);
  const base = basename(dir);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  await Promise.all(
    names.map(async (n) => {
      const m = SCRATCH_RE.exec(n);
      if (!m || m[1] !== base) return;
      // Keep scratch of live processes (including this one: a concurrent call may own it).
      if (pidAlive(Number(m[3]))) return;
      await rm(join(parent, n), { recursive: true, force: true }).catch(() => undefined);
    }),
  );
}

const scratchName = (dir: string, kind: 'tmp' | 'old'): string =>
  `${dir}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`;

/**
 * Make sure a usable demo lab exists in `dir`: reuse it when its meta version matches, it is
 * complete and parses, and it is less than 24 h old; otherwise generate a fresh one.
 */
export async function ensureDemoLab(opts: EnsureDemoLabOptions): Promise<DemoLab> {
  const { dir } = opts;
  const now = opts.now ?? Date.now();
  const inv = opts.inventory ?? demoInventory();
  const log = opts.log ?? (() => undefined);

  const existing = await checkDemoLab(dir, now, inv);
  if ('meta' in existing) return { dir, generatedAt: existing.meta.generatedAt, fresh: false };

  log(`demo lab: generating a P-521 PKI in ${dir} (${existing.reason})`);
  await mkdir(dirname(dir), { recursive: true, mode: 0o700 });
  await sweepScratch(dir);
  const tmp = scratchName(dir, 'tmp');
  try {
    const ms = await generateDemoLab(tmp, now, inv);
    log(`demo lab: generated in ${ms} ms`);
    const winner = await install(tmp, dir, now, inv);
    if (winner) return { dir, generatedAt: winner.generatedAt, fresh: false };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  return { dir, generatedAt: now, fresh: true };
}

/**
 * Move the generated `tmp` into place at `dir`, replacing an unusable lab. Returns the meta
 * of a good lab another process installed meanwhile (ours is then discarded).
 */
async function install(
  tmp: string,
  dir: string,
  now: number,
  inv: Inventory,
): Promise<DemoLabMeta | undefined> {
  try {
    await rename(tmp, dir);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw e;
  }
  const again = await checkDemoLab(dir, now, inv);
  if ('meta' in again) {
    await rm(tmp, { recursive: true, force: true });
    return again.meta;
  }
  const old = scratchName(dir, 'old');
  await rename(dir, old);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
  return undefined;
}
