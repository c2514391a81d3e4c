/**
 * The signature batcher (src/pki/verify-batch.ts) with a recording runner standing in for
 * the outside verifier (the real `openssl` runner is tested in
 * test/integration/pki-openssl-verify.test.ts): what goes into a batch, what never does,
 * and that every verdict equals node:crypto's whatever the runner answers.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CertSummary } from '../../../src/pki/types.js';
import { cachedVerdict, clearVerifyCache, verifySignature } from '../../../src/pki/verify.js';
import {
  type BatchRunner,
  SignatureBatcher,
  takeBatch,
  VerifierUnavailable,
} from '../../../src/pki/verify-batch.js';
import { parseVerifyOk, scratchDir, verifyArgs } from '../../../src/pki/verify-openssl.js';
import { parseCertificateDer } from '../../../src/pki/x509.js';
import { type Issued, issue, makeRoot } from '../../helpers/pki-certs.js';

const summary = (i: Issued): CertSummary => {
  const r = parseCertificateDer(new Uint8Array(i.cert.rawData));
  if (!r.ok) throw new Error(r.error);
  return r.cert;
};

let root: CertSummary;
let kube: CertSummary;
let etcd: CertSummary;
/** A successor of `kube` with the same name (an intermediate rotation). */
let kube2: CertSummary;
let kubeLeaves: CertSummary[];
let etcdLeaves: CertSummary[];
let forged: CertSummary;

beforeAll(async () => {
  const r = await makeRoot();
  const k = await issue(r, { cn: 'kubernetes-ca', ca: { pathlen: 0 } });
  const e = await issue(r, { cn: 'etcd-ca', ca: { pathlen: 0 } });
  const k2 = await issue(r, { cn: 'kubernetes-ca', ca: { pathlen: 0 } });
  root = summary(r);
  kube = summary(k);
  etcd = summary(e);
  kube2 = summary(k2);
  kubeLeaves = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => summary(await issue(k, { cn: `kube-${i}` }))),
  );
  etcdLeaves = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => summary(await issue(e, { cn: `etcd-${i}` }))),
  );
  forged = summary(await issue(k, { cn: 'forged', signWith: r.keys }));
});

interface Call {
  issuers: string[];
  children: number;
}

/** A runner that answers from node:crypto, or with a fixed answer, and records its calls. */
function recorder(answer: 'truth' | 'all-false' | 'throw' | 'unavailable' = 'truth') {
  const calls: Call[] = [];
  const byDer = (der: Uint8Array, set: CertSummary[]) =>
    set.find((c) => Buffer.compare(Buffer.from(c.der!), Buffer.from(der)) === 0)!;
  const all = () => [root, kube, etcd, kube2, ...kubeLeaves, ...etcdLeaves, forged];
  const runner: BatchRunner = async (issuerDers, childDers) => {
    calls.push({
      issuers: issuerDers.map((d) => byDer(d, all()).commonName ?? '?'),
      children: childDers.length,
    });
    if (answer === 'throw') throw new Error('openssl crashed');
    if (answer === 'unavailable') throw new VerifierUnavailable('openssl: not found');
    if (answer === 'all-false') return childDers.map(() => false);
    const issuers = issuerDers.map((d) => byDer(d, all()));
    return childDers.map((d) => {
      const child = byDer(d, all());
      const issuer = issuers.find((i) => i.subject === child.issuer);
      return issuer !== undefined && verifySignature(child, issuer).ok;
    });
  };
  return { calls, runner };
}

const batcher = (runner: BatchRunner, over: Partial<{ minBatch: number; maxBatch: number }> = {}) =>
  new SignatureBatcher({
    runner,
    parallel: 2,
    minBatch: over.minBatch ?? 4,
    maxBatch: over.maxBatch ?? 64,
    windowMs: 5,
  });

beforeEach(() => clearVerifyCache());

describe('SignatureBatcher', () => {
  it('gathers pairs of several issuers into one batch; verdicts are cached', async () => {
    const { calls, runner } = recorder();
    const b = batcher(runner);
    const pairs = [
      ...kubeLeaves.map((c) => [c, kube] as const),
      ...etcdLeaves.map((c) => [c, etcd] as const),
    ];
    const verdicts = await Promise.all(pairs.map(([c, i]) => b.verify(c, i)));
    expect(verdicts.every((v) => v.ok)).toBe(true);
    expect(calls).toEqual([{ issuers: ['kubernetes-ca', 'etcd-ca'], children: 16 }]);
    expect(b.stats()).toMatchObject({ batches: 1, confirmed: 16, fallback: 0 });
    expect(cachedVerdict(kubeLeaves[0]!, kube)).toEqual({ ok: true });
    // Cached now: asking again does not reach the runner.
    await b.verify(kubeLeaves[0]!, kube);
    expect(calls).toHaveLength(1);
  });

  it('takes only confirmations: what the runner does not confirm is decided by node:crypto', async () => {
    const { runner } = recorder('all-false');
    const b = batcher(runner);
    const good = kubeLeaves.slice(0, 5).map((c) => b.verify(c, kube));
    const bad = b.verify(forged, kube);
    const wrong = b.verify(etcdLeaves[0]!, kube);
    expect((await Promise.all(good)).every((v) => v.ok)).toBe(true);
    expect(await bad).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await wrong).toMatchObject({ ok: false, reason: 'invalid' });
    expect(b.stats()).toMatchObject({ batches: 1, confirmed: 0, fallback: 7 });
  });

  it('a runner failure falls back for that batch; an unavailable verifier is turned off', async () => {
    const failing = recorder('throw');
    const b1 = batcher(failing.runner);
    expect(
      (await Promise.all(kubeLeaves.slice(0, 5).map((c) => b1.verify(c, kube)))).every((v) => v.ok),
    ).toBe(true);
    expect(b1.stats().disabled).toBeUndefined();
    clearVerifyCache();
    expect(
      (await Promise.all(kubeLeaves.slice(0, 5).map((c) => b1.verify(c, kube)))).every((v) => v.ok),
    ).toBe(true);
    expect(failing.calls).toHaveLength(2);

    clearVerifyCache();
    const missing = recorder('unavailable');
    const b2 = batcher(missing.runner);
    const first = await Promise.all(kubeLeaves.slice(0, 5).map((c) => b2.verify(c, kube)));
    expect(first.every((v) => v.ok)).toBe(true);
    expect(b2.stats().disabled).toBe('openssl: not found');
    const again = await Promise.all(etcdLeaves.map((c) => b2.verify(c, etcd)));
    expect(again.every((v) => v.ok)).toBe(true);
    expect(missing.calls).toHaveLength(1);
  });

  it('never sends a self-signed pair, a small batch, or a pair without DER', async () => {
    const { calls, runner } = recorder();
    const b = batcher(runner, { minBatch: 4 });
    expect(await b.verify(root, root)).toEqual({ ok: true });
    const few = await Promise.all([b.verify(kube, root), b.verify(etcd, root)]);
    expect(few.every((v) => v.ok)).toBe(true);
    const noDer = { ...kubeLeaves[0]!, der: undefined, fingerprint: 'f'.repeat(64) };
    expect(await b.verify(noDer, kube)).toMatchObject({ ok: false, reason: 'no-der' });
    expect(calls).toEqual([]);
  });

  it('asks once for a pair requested twice while in flight', async () => {
    const { calls, runner } = recorder();
    const b = batcher(runner);
    const twice = [...kubeLeaves.slice(0, 5), ...kubeLeaves.slice(0, 5)];
    await Promise.all(twice.map((c) => b.verify(c, kube)));
    expect(calls).toEqual([{ issuers: ['kubernetes-ca'], children: 5 }]);
  });

  it('splits more pairs than maxBatch into several batches, at most `parallel` at once', async () => {
    let running = 0;
    let most = 0;
    const inner = recorder();
    const runner: BatchRunner = async (i, c) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
      return inner.runner(i, c);
    };
    const b = batcher(runner, { maxBatch: 4 });
    const all = [
      ...kubeLeaves.map((c) => [c, kube] as const),
      ...etcdLeaves.map((c) => [c, etcd] as const),
    ];
    expect((await Promise.all(all.map(([c, i]) => b.verify(c, i)))).every((v) => v.ok)).toBe(true);
    expect(inner.calls.map((c) => c.children)).toEqual([4, 4, 4, 4]);
    expect(most).toBe(2);
    expect(b.stats().confirmed + b.stats().fallback).toBe(16);
  });
});

describe('SignatureBatcher: a long queue is cut evenly', () => {
  it('pairs queued in one burst: batches of even size, a multiple of `parallel`, the serial verdicts', async () => {
    const { calls, runner } = recorder();
    const b = new SignatureBatcher({
      runner,
      parallel: 2,
      minBatch: 2,
      maxBatch: 6,
      windowMs: 5,
      splitAbove: 4,
    });
    // 15 leaves + the forged one: 16 pairs > splitAbove → 2 × ceil(16 / 12) = 4 batches of 4
    // (without the split: 6, 6 and 4, one core idle while the last runs).
    const pairs = [
      ...kubeLeaves.slice(1).map((c) => [c, kube] as const),
      [forged, kube] as const,
      ...etcdLeaves.map((c) => [c, etcd] as const),
    ];
    const batched = await Promise.all(pairs.map(([c, i]) => b.verify(c, i)));
    expect(calls.map((c) => c.children)).toEqual([4, 4, 4, 4]);
    // The serial path: node:crypto, one pair at a time, from a cold cache.
    clearVerifyCache();
    const serial = pairs.map(([c, i]) => verifySignature(c, i));
    expect(batched).toEqual(serial);
    expect(batched.filter((v) => !v.ok)).toHaveLength(1);
  });
});

describe('SignatureBatcher: a queue fed while batches run', () => {
  it('its last round is shared out between the verifiers; the serial verdicts', async () => {
    const { calls, runner: inner } = recorder();
    const runner: BatchRunner = async (i, c) => {
      await new Promise((r) => setTimeout(r, 30));
      return inner(i, c);
    };
    const b = new SignatureBatcher({
      runner,
      parallel: 2,
      minBatch: 1,
      maxBatch: 8,
      windowMs: 1,
      splitAbove: 4,
      tailMin: 1,
    });
    // 5 pairs first (3 and 2 at once), 12 more while those run (EarlyPrewarm's chunks)
    const first = kubeLeaves.slice(0, 5).map((c) => [c, kube] as const);
    const later = [
      ...kubeLeaves.slice(5).map((c) => [c, kube] as const),
      [forged, kube] as const,
      ...etcdLeaves.map((c) => [c, etcd] as const),
    ];
    const a = first.map(([c, i]) => b.verify(c, i));
    await new Promise((r) => setTimeout(r, 10));
    const z = later.map(([c, i]) => b.verify(c, i));
    const batched = await Promise.all([...a, ...z]);
    const sizes = calls.map((c) => c.children);
    expect(sizes.slice(0, 2)).toEqual([3, 2]);
    // 12 queued behind a running batch: 6 (the split), then the 6 left shared out as the
    // verifiers come free, halving (3, then …), not one last batch of 6
    expect(sizes[2]).toBe(6);
    expect(sizes[3]).toBe(3);
    const tail = sizes.slice(3);
    expect(tail.every((n, k) => k === 0 || n <= tail[k - 1]!)).toBe(true);
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(17);
    clearVerifyCache();
    const serial = [...first, ...later].map(([c, i]) => verifySignature(c, i));
    expect(batched).toEqual(serial);
    expect(batched.filter((v) => !v.ok)).toHaveLength(1);
  });
});

describe('takeBatch', () => {
  const p = (child: CertSummary, issuer: CertSummary) => ({ child, issuer });

  it('keeps two issuers of the same name out of one batch, in queue order', () => {
    const queue = [p(kubeLeaves[0]!, kube), p(kubeLeaves[1]!, kube2), p(etcdLeaves[0]!, etcd)];
    const { batch, issuers, rest } = takeBatch(queue, 10);
    expect(batch.map((x) => x.child.commonName)).toEqual(['kube-0', 'etcd-0']);
    expect(issuers.map((i) => i.fingerprint)).toEqual([kube.fingerprint, etcd.fingerprint]);
    expect(rest.map((x) => x.child.commonName)).toEqual(['kube-1']);
  });

  it('names that differ only in case or spaces count as the same name', () => {
    const shouty = { ...kube2, subject: kube.subject.toUpperCase().replace(/=/g, ' = ') };
    const { rest } = takeBatch([p(kubeLeaves[0]!, kube), p(kubeLeaves[1]!, shouty)], 10);
    expect(rest).toHaveLength(1);
  });

  it('never trusts a certificate that is also a child of the batch', () => {
    // kube is verified against the root and also signs a leaf: one of the two must wait.
    const a = takeBatch([p(kube, root), p(kubeLeaves[0]!, kube)], 10);
    expect(a.batch.map((x) => x.child.commonName)).toEqual(['kubernetes-ca']);
    expect(a.rest.map((x) => x.child.commonName)).toEqual(['kube-0']);
    const b = takeBatch([p(kubeLeaves[0]!, kube), p(kube, root)], 10);
    expect(b.batch.map((x) => x.child.commonName)).toEqual(['kube-0']);
    expect(b.issuers.map((i) => i.commonName)).toEqual(['kubernetes-ca']);
  });

  it('stops at max', () => {
    const { batch, rest } = takeBatch(
      kubeLeaves.map((c) => p(c, kube)),
      3,
    );
    expect(batch).toHaveLength(3);
    expect(rest).toHaveLength(kubeLeaves.length - 3);
  });
});

describe('openssl verify output and arguments', () => {
  const fx = join(import.meta.dirname, '..', '..', 'fixtures', 'openssl-verify');

  it('parses the verified files out of captured output (stdout only; failures are on stderr)', () => {
    const stdout = readFileSync(join(fx, 'stdout.txt'), 'utf8');
    const stderr = readFileSync(join(fx, 'stderr.txt'), 'utf8');
    expect(parseVerifyOk(stdout, ['0.der', '1.der', '2.der', '3.der'])).toEqual([
      true,
      false,
      false,
      false,
    ]);
    // stderr never counts, even though it names the files.
    expect(parseVerifyOk(stderr, ['0.der', '1.der', '2.der', '3.der'])).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(parseVerifyOk('0.der: OK\r\n', ['0.der'])).toEqual([true]);
    expect(parseVerifyOk('', ['0.der'])).toEqual([false]);
    expect(parseVerifyOk('10.der: OK\n', ['0.der'])).toEqual([false]);
  });

  it('asks for the issuers as the only trust anchors, without time checks', () => {
    const a = verifyArgs('/d/issuers.pem', ['/d/0.der', '/d/1.der']);
    expect(a[0]).toBe('verify');
    expect(a).toEqual(
      expect.arrayContaining(['-no-CAfile', '-no-CApath', '-no-CAstore', '-partial_chain']),
    );
    expect(a.slice(a.indexOf('-trusted'), a.indexOf('-trusted') + 2)).toEqual([
      '-trusted',
      '/d/issuers.pem',
    ]);
    expect(a.slice(-2)).toEqual(['/d/0.der', '/d/1.der']);
  });

  it('writes batches to $XDG_RUNTIME_DIR, else /dev/shm, else the temp dir', () => {
    const own = mkdtempSync(join(tmpdir(), 'k8ops-runtime-'));
    try {
      expect(scratchDir({ XDG_RUNTIME_DIR: own })).toBe(own);
      const fallback = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
      expect(scratchDir({ XDG_RUNTIME_DIR: join(own, 'absent') })).toBe(fallback);
      writeFileSync(join(own, 'file'), '');
      expect(scratchDir({ XDG_RUNTIME_DIR: join(own, 'file') })).toBe(fallback);
      expect(scratchDir({})).toBe(fallback);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });
});
