/** Signature verification: verdicts, the cache, the persistent verdict cache. */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertSummary } from '../../../src/pki/types.js';
import { loadVerdictCache, saveVerdictCache } from '../../../src/pki/verdict-cache.js';
import {
  cachedVerdict,
  clearVerifyCache,
  goodVerdicts,
  splitCertificate,
  verifySignature,
  verifySignatureAsync,
} from '../../../src/pki/verify.js';
import { parseCertificateDer } from '../../../src/pki/x509.js';
import { DAY, type Issued, issue, makeRoot, NOW } from '../../helpers/pki-certs.js';

const summary = (i: Issued): CertSummary => {
  const r = parseCertificateDer(new Uint8Array(i.cert.rawData));
  if (!r.ok) throw new Error(r.error);
  return r.cert;
};

let root: CertSummary;
let ca: CertSummary;
let leaf: CertSummary;
let rsaLeaf: CertSummary;
let forged: CertSummary;
let dir: string;

beforeAll(async () => {
  const r = await makeRoot();
  const c = await issue(r, { cn: 'kubernetes-ca', ca: { pathlen: 0 } });
  root = summary(r);
  ca = summary(c);
  leaf = summary(await issue(c, { cn: 'leaf' }));
  rsaLeaf = summary(await issue(c, { cn: 'rsa', keyKind: 'RSA-2048' }));
  forged = summary(await issue(c, { cn: 'forged', signWith: r.keys }));
  dir = await mkdtemp(join(tmpdir(), 'k8ops-verdicts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('verifySignature', () => {
  it('verifies up the chain, rejects the wrong issuer and a forged signature, sync and async agree', async () => {
    clearVerifyCache();
    expect(verifySignature(leaf, ca)).toEqual({ ok: true });
    expect(verifySignature(ca, root)).toEqual({ ok: true });
    expect(verifySignature(root, root)).toEqual({ ok: true });
    expect(verifySignature(rsaLeaf, ca)).toEqual({ ok: true }); // RSA key, ECDSA-signed
    expect(verifySignature(leaf, root)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(verifySignature(forged, ca)).toMatchObject({ ok: false, reason: 'invalid' });
    clearVerifyCache();
    expect(await verifySignatureAsync(leaf, ca)).toEqual({ ok: true });
    expect(await verifySignatureAsync(forged, ca)).toMatchObject({ ok: false });
    expect(cachedVerdict(leaf, ca)).toEqual({ ok: true });
    // A certificate signed by an RSA-less issuer with an RSA algorithm name: a verdict, not a throw.
    expect(
      verifySignature(
        { ...leaf, signatureAlgorithm: 'sha256WithRSAEncryption', fingerprint: 'x'.repeat(64) },
        ca,
      ).ok,
    ).toBe(false);
    expect(
      verifySignature({ ...leaf, der: undefined, fingerprint: 'y'.repeat(64) }, ca),
    ).toMatchObject({ reason: 'no-der' });
  });

  it('splitCertificate finds the signed bytes and the signature; refuses garbage', () => {
    const p = splitCertificate(leaf.der!)!;
    expect(p.tbs[0]).toBe(0x30);
    expect(p.signature.length).toBeGreaterThan(100);
    expect(splitCertificate(new Uint8Array([0x30, 0x02, 0x05, 0x00]))).toBeUndefined();
  });
});

describe('the persistent verdict cache', () => {
  it('saves positive verdicts (0600), loads them back, skips expired and damaged entries', async () => {
    clearVerifyCache();
    verifySignature(leaf, ca);
    verifySignature(ca, root);
    verifySignature(forged, ca); // negative: never stored
    const file = join(dir, 'k8ops', 'pki-verdicts.json');
    await saveVerdictCache(file, NOW);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(await readFile(file, 'utf8'));
    expect(Object.keys(doc.verdicts).sort()).toEqual(
      [`${leaf.fingerprint}:${ca.fingerprint}`, `${ca.fingerprint}:${root.fingerprint}`].sort(),
    );
    clearVerifyCache();
    expect(await loadVerdictCache(file, NOW)).toBe(2);
    expect(cachedVerdict(leaf, ca)).toEqual({ ok: true });
    expect(cachedVerdict(forged, ca)).toBeUndefined();
    clearVerifyCache();
    expect(await loadVerdictCache(file, NOW + 20 * DAY)).toBe(1); // the leaf has expired by then
    expect(goodVerdicts()).toHaveLength(1);
    await writeFile(file, '{"version":1,"verdicts":{"zz":1,');
    clearVerifyCache();
    expect(await loadVerdictCache(file, NOW)).toBe(0);
    expect(await loadVerdictCache(join(dir, 'missing.json'), NOW)).toBe(0);
  });
});
