/**
 * Chain building across nodes: every certificate seen anywhere, de-duplicated by
 * fingerprint with every place it lives, and each one's issuer found by subject DN
 * (narrowed by SKI/AKI) and confirmed by signature. Pure apart from the verdict cache.
 */
import type { CertFile, CertSummary } from './types.js';
import { type SignatureVerdict, verifySignature, verifySignatureAsync } from './verify.js';

export interface CertLocation {
  node: string;
  path: string;
  /** Position in the file (0 = first). */
  index: number;
}

export interface IndexedCert {
  cert: CertSummary;
  /** Every node + file (+ position) holding this exact certificate, in input order. */
  locations: CertLocation[];
}

export interface CertIndex {
  byFingerprint: ReadonlyMap<string, IndexedCert>;
  bySubject: ReadonlyMap<string, readonly IndexedCert[]>;
}

export type IssuerLink =
  /** Self-signed and its signature verifies with its own key: a root. */
  | { kind: 'self-signed' }
  /** Issued by `issuer`; the signature verifies. */
  | { kind: 'verified'; issuer: IndexedCert }
  /** Certificates named like the issuer exist, but none verifies the signature. */
  | { kind: 'bad-signature'; candidates: IndexedCert[]; message: string }
  /** No certificate with the issuer's name is on any node. */
  | { kind: 'missing' }
  /** The issuer was found but the signature could not be checked (algorithm, malformed). */
  | { kind: 'unverifiable'; issuer: IndexedCert; message: string };

export function indexCerts(files: readonly CertFile[]): CertIndex {
  const byFingerprint = new Map<string, IndexedCert>();
  const bySubject = new Map<string, IndexedCert[]>();
  for (const f of files) {
    f.certs.forEach((cert, index) => {
      const loc = { node: f.node, path: f.path, index };
      const hit = byFingerprint.get(cert.fingerprint);
      if (hit) {
        hit.locations.push(loc);
        return;
      }
      const entry: IndexedCert = { cert, locations: [loc] };
      byFingerprint.set(cert.fingerprint, entry);
      const list = bySubject.get(cert.subject);
      if (list) list.push(entry);
      else bySubject.set(cert.subject, [entry]);
    });
  }
  return { byFingerprint, bySubject };
}

export const isSelfIssued = (c: CertSummary): boolean => c.subject === c.issuer;

/** Candidates for `c`'s issuer: same DN, and a matching key id when both sides carry one. */
export function issuerCandidates(c: CertSummary, index: CertIndex): IndexedCert[] {
  const named = index.bySubject.get(c.issuer) ?? [];
  const out = named.filter(
    (e) =>
      e.cert.fingerprint !== c.fingerprint &&
      !(c.authorityKeyId && e.cert.subjectKeyId && c.authorityKeyId !== e.cert.subjectKeyId),
  );
  // Newest first: during an intermediate rotation the successor is the likelier signer.
  return out.sort((a, b) => b.cert.notBefore - a.cert.notBefore);
}

/** Find and confirm `c`'s issuer (verifies synchronously when a verdict is not cached yet). */
export function resolveIssuer(c: CertSummary, index: CertIndex): IssuerLink {
  if (isSelfIssued(c) && (!c.authorityKeyId || c.authorityKeyId === c.subjectKeyId)) {
    const v = verifySignature(c, c);
    if (v.ok) return { kind: 'self-signed' };
    const others = issuerCandidates(c, index);
    if (others.length === 0) {
      return v.reason === 'invalid'
        ? { kind: 'bad-signature', candidates: [], message: 'self-signature does not verify' }
        : { kind: 'unverifiable', issuer: { cert: c, locations: [] }, message: v.message };
    }
  }
  const candidates = issuerCandidates(c, index);
  if (candidates.length === 0) return { kind: 'missing' };
  let unverifiable: { issuer: IndexedCert; v: SignatureVerdict & { ok: false } } | undefined;
  for (const cand of candidates) {
    const v = verifySignature(c, cand.cert);
    if (v.ok) return { kind: 'verified', issuer: cand };
    if (v.reason !== 'invalid' && !unverifiable) unverifiable = { issuer: cand, v };
  }
  if (unverifiable)
    return { kind: 'unverifiable', issuer: unverifiable.issuer, message: unverifiable.v.message };
  const n = candidates.length;
  return {
    kind: 'bad-signature',
    candidates,
    message:
      n === 1
        ? `signature does not verify with the public key of ${describe(candidates[0]!.cert)}`
        : `signature verifies with none of the ${n} certificates named ${c.issuer}`,
  };
}

export function describe(c: CertSummary): string {
  return `${c.commonName ?? c.subject} (${c.fingerprint.slice(0, 12)}…)`;
}

/**
 * Verify every (certificate, candidate issuer) pair in the thread pool, so that the
 * synchronous checks afterwards only hit the cache. Resolves when all are done.
 */
export async function prewarmSignatures(
  index: CertIndex,
  verifyAsync: AsyncVerifier = verifySignatureAsync,
): Promise<void> {
  const work: Promise<unknown>[] = [];
  for (const e of index.byFingerprint.values()) {
    const c = e.cert;
    if (isSelfIssued(c)) work.push(verifyAsync(c, c));
    for (const cand of issuerCandidates(c, index)) work.push(verifyAsync(c, cand.cert));
  }
  await Promise.all(work);
}

/**
 * Prewarming while the files are still being parsed (issue 13: a cold scan of thousands of
 * certificates kept one core idle until the last file was parsed): `feed` each parsed
 * chunk, and every (certificate, candidate issuer) pair whose two ends are known so far is
 * handed to `verifyAsync` at once — a certificate as the child of the candidates already
 * seen, and as the candidate of the certificates already seen that name it as issuer.
 * The pairs are those prewarmSignatures would verify (issuerCandidates on the index so far
 * is a subset of the final one); run prewarmSignatures on the whole index after the last
 * chunk all the same: what was queued here is in flight or cached by then.
 */
export class EarlyPrewarm {
  private readonly byFingerprint = new Map<string, IndexedCert>();
  private readonly bySubject = new Map<string, IndexedCert[]>();
  private readonly byIssuer = new Map<string, CertSummary[]>();
  private readonly work: Promise<unknown>[] = [];

  constructor(private readonly verifyAsync: AsyncVerifier = verifySignatureAsync) {}

  feed(files: readonly CertFile[]): void {
    const index: CertIndex = { byFingerprint: this.byFingerprint, bySubject: this.bySubject };
    for (const f of files)
      for (const c of f.certs) {
        if (this.byFingerprint.has(c.fingerprint)) continue;
        const entry: IndexedCert = { cert: c, locations: [] };
        this.byFingerprint.set(c.fingerprint, entry);
        const named = this.bySubject.get(c.subject);
        if (named) named.push(entry);
        else this.bySubject.set(c.subject, [entry]);
        const children = this.byIssuer.get(c.issuer);
        if (children) children.push(c);
        else this.byIssuer.set(c.issuer, [c]);
        if (isSelfIssued(c)) this.work.push(this.verifyAsync(c, c));
        for (const cand of issuerCandidates(c, index))
          this.work.push(this.verifyAsync(c, cand.cert));
        // certificates seen earlier that name this one as their issuer
        for (const child of this.byIssuer.get(c.subject) ?? []) {
          if (child === c) continue;
          if (issuerCandidates(child, index).some((e) => e.cert === c))
            this.work.push(this.verifyAsync(child, c));
        }
      }
  }

  /** Every verification fed so far has settled. */
  async settled(): Promise<void> {
    await Promise.all(this.work);
  }
}

/** How prewarming verifies one pair: node:crypto, or a batcher (src/pki/verify-batch.ts). */
export type AsyncVerifier = (child: CertSummary, issuer: CertSummary) => Promise<SignatureVerdict>;

/** Same as prewarmSignatures, for certificate files not indexed yet. */
export function prewarmFiles(
  files: readonly CertFile[],
  verifyAsync?: AsyncVerifier,
): Promise<void> {
  return prewarmSignatures(indexCerts(files), verifyAsync);
}
