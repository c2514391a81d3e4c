/**
 * Signature checks through the real `openssl verify` (src/pki/verify-openssl.ts): what it
 * confirms, what it refuses, and that the batched verdicts equal node:crypto's on good and
 * broken certificates alike. Skipped with a visible reason without openssl; fails under CI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CertSummary } from '../../src/pki/types.js';
import { clearVerifyCache, verifySignature } from '../../src/pki/verify.js';
import { SignatureBatcher, VerifierUnavailable } from '../../src/pki/verify-batch.js';
import { opensslRunner } from '../../src/pki/verify-openssl.js';
import { parseCertificateDer } from '../../src/pki/x509.js';
import { DAY, type Issued, issue, makeRoot, NOW } from '../helpers/pki-certs.js';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
const suite = haveOpenssl ? describe : process.env.CI === 'true' ? describe : describe.skip;
if (!haveOpenssl && process.env.CI !== 'true')
  process.stderr.write('[skip] openssl batch verification: openssl is not installed\n');

const summary = (i: Issued): CertSummary => {
  const r = parseCertificateDer(new Uint8Array(i.cert.rawData));
  if (!r.ok) throw new Error(r.error);
  return r.cert;
};

let scratch: string;
let root: CertSummary;
let kube: CertSummary;
let etcd: CertSummary;
let good: CertSummary[];
let etcdLeaf: CertSummary;
let rsaLeaf: CertSummary;
let forged: CertSummary;
let expired: CertSummary;
/** A leaf used as an issuer: it signs, but is not a CA. */
let notCa: CertSummary;
let underNotCa: CertSummary;

suite('openssl verify in batches (real openssl)', () => {
  beforeAll(async () => {
    if (!haveOpenssl) throw new Error('openssl is not installed (CI must run this suite)');
    scratch = mkdtempSync(join(tmpdir(), 'k8ops-osslv-'));
    const r = await makeRoot();
    const k = await issue(r, { cn: 'kubernetes-ca', ca: { pathlen: 0 } });
    const e = await issue(r, { cn: 'etcd-ca', ca: { pathlen: 0 } });
    const n = await issue(k, { cn: 'not-a-ca' });
    root = summary(r);
    kube = summary(k);
    etcd = summary(e);
    notCa = summary(n);
    good = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => summary(await issue(k, { cn: `leaf-${i}` }))),
    );
    etcdLeaf = summary(await issue(e, { cn: 'etcd-server' }));
    rsaLeaf = summary(await issue(k, { cn: 'rsa', keyKind: 'RSA-2048' }));
    forged = summary(await issue(k, { cn: 'forged', signWith: r.keys }));
    expired = summary(
      await issue(k, { cn: 'expired', notBefore: NOW - 30 * DAY, notAfter: NOW - 16 * DAY }),
    );
    underNotCa = summary(await issue(n, { cn: 'under-not-a-ca' }));
  });
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  beforeEach(() => clearVerifyCache());

  const der = (c: CertSummary) => c.der as Uint8Array;

  it('confirms good signatures (P-521 and RSA keys, expired too); refuses forged, foreign and non-CA-issued', async () => {
    const run = opensslRunner({ tmpDir: scratch });
    const children = [...good, rsaLeaf, expired, forged, etcdLeaf, underNotCa];
    const oks = await run([der(kube), der(notCa)], children.map(der));
    expect(oks).toEqual([true, true, true, true, true, true, false, false, false]);
    // Two issuers in one batch, each child chained to its own.
    expect(await run([der(kube), der(etcd)], [der(good[0]!), der(etcdLeaf)])).toEqual([true, true]);
    // The batch directory is gone afterwards.
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('a missing binary is VerifierUnavailable', async () => {
    const run = opensslRunner({ bin: join(scratch, 'no-such-openssl'), tmpDir: scratch });
    await expect(run([der(kube)], [der(good[0]!)])).rejects.toBeInstanceOf(VerifierUnavailable);
  });

  it('a binary that refuses the arguments is VerifierUnavailable; one that verifies nothing is not', async () => {
    const refuse = opensslRunner({ bin: 'false', tmpDir: scratch });
    await expect(refuse([der(kube)], [der(good[0]!)])).rejects.toBeInstanceOf(VerifierUnavailable);
    // `true` exits 0 and prints nothing: nothing confirmed, everything falls back.
    const silent = opensslRunner({ bin: 'true', tmpDir: scratch });
    expect(await silent([der(kube)], [der(good[0]!)])).toEqual([false]);
  });

  it('batched verdicts equal node:crypto verdicts on every pair, good or broken', async () => {
    const b = new SignatureBatcher({
      runner: opensslRunner({ tmpDir: scratch }),
      parallel: 2,
      minBatch: 2,
      maxBatch: 4,
      windowMs: 2,
    });
    const pairs: Array<[CertSummary, CertSummary]> = [
      ...[...good, rsaLeaf, expired, forged, etcdLeaf].map((c): [CertSummary, CertSummary] => [
        c,
        kube,
      ]),
      [etcdLeaf, etcd],
      [good[0]!, etcd],
      [kube, root],
      [etcd, root],
      [underNotCa, notCa],
      [root, root],
      [kube, kube],
    ];
    const batched = await Promise.all(pairs.map(([c, i]) => b.verify(c, i)));
    expect(b.stats().confirmed).toBeGreaterThan(0);
    clearVerifyCache();
    const direct = pairs.map(([c, i]) => verifySignature(c, i));
    expect(batched).toEqual(direct);
    expect(batched.filter((v) => v.ok)).toHaveLength(11);
  });
});
