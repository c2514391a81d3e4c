/**
 * Certificate signature verification: does `issuer`'s public key verify `child`'s signature
 * over its TBSCertificate?
 *
 * Uses node:crypto directly (the same OpenSSL that backs Node's WebCrypto, which
 * @peculiar/x509's `verify` calls): it skips the per-call key import and ASN.1 work of the
 * WebCrypto path, and its callback form runs in libuv's thread pool, so many signatures
 * verify in parallel. A verdict depends only on (certificate, issuer key), so it is cached
 * by (child fingerprint, issuer fingerprint) for the life of the process.
 *
 * Pure in the sense that matters here: no I/O; the same inputs always give the same verdict.
 */
import { type KeyObject, verify, X509Certificate } from 'node:crypto';
import type { CertSummary } from './types.js';

export type SignatureVerdict =
  | { ok: true }
  | { ok: false; reason: 'invalid' | 'unsupported' | 'no-der' | 'malformed'; message: string };

type Verifiable = Pick<CertSummary, 'fingerprint' | 'signatureAlgorithm' | 'der'> &
  Partial<Pick<CertSummary, 'notAfter'>>;

const HASHES: Record<string, string | null> = {
  'ecdsa-with-SHA1': 'sha1',
  'ecdsa-with-SHA224': 'sha224',
  'ecdsa-with-SHA256': 'sha256',
  'ecdsa-with-SHA384': 'sha384',
  'ecdsa-with-SHA512': 'sha512',
  sha1WithRSAEncryption: 'sha1',
  sha256WithRSAEncryption: 'sha256',
  sha384WithRSAEncryption: 'sha384',
  sha512WithRSAEncryption: 'sha512',
  ED25519: null,
  ED448: null,
};

interface Tlv {
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  body: number;
  /** Offset just past the content. */
  end: number;
  tag: number;
}

function readTlv(der: Uint8Array, at: number): Tlv | undefined {
  if (at + 2 > der.length) return undefined;
  const tag = der[at]!;
  const first = der[at + 1]!;
  let len = first;
  let body = at + 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4 || at + 2 + n > der.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i]!;
    body = at + 2 + n;
  }
  const end = body + len;
  return end > der.length ? undefined : { start: at, body, end, tag };
}

/** The signed bytes (TBSCertificate, with its header) and the signature value of a certificate. */
export function splitCertificate(
  der: Uint8Array,
): { tbs: Uint8Array; signature: Uint8Array } | undefined {
  const outer = readTlv(der, 0);
  if (outer?.tag !== 0x30) return undefined;
  const tbs = readTlv(der, outer.body);
  if (tbs?.tag !== 0x30) return undefined;
  const alg = readTlv(der, tbs.end);
  if (alg?.tag !== 0x30) return undefined;
  const bits = readTlv(der, alg.end);
  if (bits?.tag !== 0x03 || bits.end - bits.body < 2 || der[bits.body] !== 0) return undefined;
  return {
    tbs: der.subarray(tbs.start, tbs.end),
    signature: der.subarray(bits.body + 1, bits.end),
  };
}

/**
 * The SubjectPublicKeyInfo (with its header) of a certificate's DER, or undefined when the
 * structure does not lead to one: Certificate → TBSCertificate → [version], serial,
 * signature, issuer, validity, subject, SPKI.
 */
export function subjectPublicKeyInfo(der: Uint8Array): Uint8Array | undefined {
  const outer = readTlv(der, 0);
  if (outer?.tag !== 0x30) return undefined;
  const tbs = readTlv(der, outer.body);
  if (tbs?.tag !== 0x30) return undefined;
  let at = tbs.body;
  const first = readTlv(der, at);
  if (first?.tag === 0xa0) at = first.end;
  // serial, signature, issuer, validity, subject
  for (let i = 0; i < 5; i++) {
    const t = readTlv(der, at);
    if (!t || t.end > tbs.end) return undefined;
    at = t.end;
  }
  const spki = readTlv(der, at);
  if (spki?.tag !== 0x30 || spki.end > tbs.end) return undefined;
  return der.subarray(spki.start, spki.end);
}

const CACHE_MAX = 32_768;
const verdicts = new Map<string, SignatureVerdict>();
const KEY_CACHE_MAX = 1024;
const issuerKeys = new Map<string, KeyObject | Error>();

const cacheKey = (child: Verifiable, issuer: Verifiable): string =>
  `${child.fingerprint}:${issuer.fingerprint}`;

/** Positive verdicts and the child's notAfter (how long the verdict is worth keeping). */
const goodUntil = new Map<string, number>();

function remember(key: string, v: SignatureVerdict, child?: Verifiable): SignatureVerdict {
  if (verdicts.size >= CACHE_MAX) {
    const oldest = verdicts.keys().next().value;
    if (oldest !== undefined) {
      verdicts.delete(oldest);
      goodUntil.delete(oldest);
    }
  }
  verdicts.set(key, v);
  if (v.ok && child?.notAfter !== undefined) goodUntil.set(key, child.notAfter);
  return v;
}

const VALID: SignatureVerdict = Object.freeze({ ok: true });

/**
 * Positive verdicts with the child certificate's notAfter, for a persistent cache
 * (src/pki/verdict-cache.ts): `<child fingerprint>:<issuer fingerprint>` → epoch ms.
 */
export function goodVerdicts(): Array<[string, number]> {
  return [...goodUntil];
}

/** Adopt positive verdicts from a persistent cache (entries already past notAfter are skipped). */
export function adoptGoodVerdicts(entries: Iterable<[string, number]>, now: number): number {
  let n = 0;
  for (const [key, until] of entries) {
    if (!/^[0-9a-f]{64}:[0-9a-f]{64}$/.test(key) || !(until > now) || verdicts.has(key)) continue;
    verdicts.set(key, VALID);
    goodUntil.set(key, until);
    n++;
  }
  return n;
}

function publicKeyOf(issuer: Verifiable & { der: Uint8Array }): KeyObject | Error {
  const hit = issuerKeys.get(issuer.fingerprint);
  if (hit) return hit;
  let key: KeyObject | Error;
  try {
    key = new X509Certificate(issuer.der).publicKey;
  } catch (e) {
    key = e instanceof Error ? e : new Error(String(e));
  }
  if (issuerKeys.size >= KEY_CACHE_MAX) {
    const oldest = issuerKeys.keys().next().value;
    if (oldest !== undefined) issuerKeys.delete(oldest);
  }
  issuerKeys.set(issuer.fingerprint, key);
  return key;
}

type Prepared =
  | { done: SignatureVerdict }
  | { hash: string | null; tbs: Uint8Array; signature: Uint8Array; key: KeyObject; ec: boolean };

function prepare(child: Verifiable, issuer: Verifiable): Prepared {
  if (!child.der || !issuer.der)
    return { done: { ok: false, reason: 'no-der', message: 'certificate bytes not available' } };
  if (!(child.signatureAlgorithm in HASHES)) {
    return {
      done: {
        ok: false,
        reason: 'unsupported',
        message: `signature algorithm ${child.signatureAlgorithm} is not supported`,
      },
    };
  }
  const parts = splitCertificate(child.der);
  if (!parts)
    return { done: { ok: false, reason: 'malformed', message: 'cannot locate the signature' } };
  const key = publicKeyOf(issuer as Verifiable & { der: Uint8Array });
  if (key instanceof Error) {
    return {
      done: { ok: false, reason: 'malformed', message: `issuer key unusable: ${key.message}` },
    };
  }
  return {
    hash: HASHES[child.signatureAlgorithm] ?? null,
    tbs: parts.tbs,
    signature: parts.signature,
    key,
    ec: child.signatureAlgorithm.startsWith('ecdsa'),
  };
}

const INVALID: SignatureVerdict = {
  ok: false,
  reason: 'invalid',
  message: "signature does not verify with the issuer's public key",
};

function outcome(ok: boolean | Error): SignatureVerdict {
  if (ok === true) return { ok: true };
  if (ok instanceof Error) {
    // A key type that does not fit the algorithm (an RSA issuer for an ECDSA signature…).
    return { ok: false, reason: 'invalid', message: `signature check failed: ${ok.message}` };
  }
  return INVALID;
}

/** The cached verdict, if this pair was verified before. */
export function cachedVerdict(child: Verifiable, issuer: Verifiable): SignatureVerdict | undefined {
  return verdicts.get(cacheKey(child, issuer));
}

/** Verify synchronously (≈1 ms for P-521), or return the cached verdict. */
export function verifySignature(child: Verifiable, issuer: Verifiable): SignatureVerdict {
  const key = cacheKey(child, issuer);
  const hit = verdicts.get(key);
  if (hit) return hit;
  const p = prepare(child, issuer);
  if ('done' in p) return remember(key, p.done);
  let ok: boolean | Error;
  try {
    ok = verify(p.hash, p.tbs, p.ec ? { key: p.key, dsaEncoding: 'der' } : p.key, p.signature);
  } catch (e) {
    ok = e instanceof Error ? e : new Error(String(e));
  }
  return remember(key, outcome(ok), child);
}

/**
 * Whether `verifyBatched` may hand this pair to an outside verifier (src/pki/verify-batch.ts):
 * not decided yet, both DERs present, a signature algorithm this module knows. Anything
 * else (and every pair the outside verifier does not confirm) goes through node:crypto.
 */
export function needsVerdict(child: Verifiable, issuer: Verifiable): boolean {
  return (
    !verdicts.has(cacheKey(child, issuer)) &&
    child.der !== undefined &&
    issuer.der !== undefined &&
    child.signatureAlgorithm in HASHES &&
    HASHES[child.signatureAlgorithm] !== null
  );
}

/**
 * Record a signature confirmed by an outside verifier (the system OpenSSL's `verify` with
 * `issuer` as its only trust anchor, src/pki/verify-openssl.ts). Only positive verdicts come
 * this way: a pair the outside verifier rejects is decided by node:crypto.
 */
export function recordVerified(child: Verifiable, issuer: Verifiable): SignatureVerdict {
  return remember(cacheKey(child, issuer), VALID, child);
}

/** Verify in libuv's thread pool (many in parallel), caching the verdict. */
export function verifySignatureAsync(
  child: Verifiable,
  issuer: Verifiable,
): Promise<SignatureVerdict> {
  const key = cacheKey(child, issuer);
  const hit = verdicts.get(key);
  if (hit) return Promise.resolve(hit);
  const p = prepare(child, issuer);
  if ('done' in p) return Promise.resolve(remember(key, p.done));
  return new Promise((resolve) => {
    try {
      verify(
        p.hash,
        p.tbs,
        p.ec ? { key: p.key, dsaEncoding: 'der' } : p.key,
        p.signature,
        (err, ok) => resolve(remember(key, outcome(err ?? ok), child)),
      );
    } catch (e) {
      resolve(remember(key, outcome(e instanceof Error ? e : new Error(String(e))), child));
    }
  });
}

/** Forget every verdict (tests and benchmarks measuring a cold start). */
export function clearVerifyCache(): void {
  verdicts.clear();
  goodUntil.clear();
  issuerKeys.clear();
}
