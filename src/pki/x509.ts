/**
 * Certificate parsing: DER → CertSummary, PEM file → CertFile.
 * Never throws on any input: failures are `{ok: false, error}` / CertFile errors.
 */
import { createHash } from 'node:crypto';
import { parseDerCertificate } from './der-cert.js';
import { splitPem } from './pem.js';
import type { CertFile, CertSummary, PemBlockError, PrivateKeyBlock } from './types.js';

export type ParseResult = { ok: true; cert: CertSummary } | { ok: false; error: string };

/** Length of the outer DER TLV, or undefined when the header is malformed. */
function outerDerLength(der: Uint8Array): number | undefined {
  if (der.length < 2 || der[0] !== 0x30) return undefined;
  const first = der[1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || der.length < 2 + n) return undefined;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i]!;
  return 2 + n + len;
}

const errorText = (e: unknown): string =>
  e instanceof Error ? e.message : typeof e === 'string' ? e : 'unknown error';

/**
 * Parsed certificates by the SHA-256 of their DER. The same intermediate appears in every
 * chain file and bundle, and the same leaves come back on every refresh: parsing
 * (der-cert.ts) is still the costliest step of a refresh, so each distinct DER is parsed once.
 * Results are frozen; bounded, oldest evicted first.
 */
const PARSE_CACHE_MAX = 4096;
const parseCache = new Map<string, ParseResult>();

/** Parse one DER certificate (cached by the SHA-256 of the DER). */
export function parseCertificateDer(der: Uint8Array): ParseResult {
  if (!(der instanceof Uint8Array) || der.length === 0) return { ok: false, error: 'empty DER' };
  const key = createHash('sha256').update(der).digest('hex');
  const hit = parseCache.get(key);
  if (hit) return hit;
  const result = parseCertificateDerUncached(der, key);
  if (result.ok) {
    Object.freeze(result.cert.dnsNames);
    Object.freeze(result.cert.ipAddresses);
    Object.freeze(result.cert.organizations);
    Object.freeze(result.cert.keyUsages);
    Object.freeze(result.cert.extKeyUsages);
    Object.freeze(result.cert);
  }
  Object.freeze(result);
  if (parseCache.size >= PARSE_CACHE_MAX) {
    const oldest = parseCache.keys().next().value;
    if (oldest !== undefined) parseCache.delete(oldest);
  }
  parseCache.set(key, result);
  return result;
}

function parseCertificateDerUncached(der: Uint8Array, fingerprint: string): ParseResult {
  try {
    if (!(der instanceof Uint8Array) || der.length === 0) return { ok: false, error: 'empty DER' };
    const outer = outerDerLength(der);
    if (outer === undefined) return { ok: false, error: 'not a DER SEQUENCE' };
    if (outer > der.length) {
      return { ok: false, error: `truncated DER: ${der.length} of ${outer} bytes` };
    }
    if (outer < der.length) {
      return { ok: false, error: `${der.length - outer} trailing bytes after the certificate` };
    }
    const cert = parseDerCertificate(der, fingerprint);
    if (!Number.isFinite(cert.notBefore) || !Number.isFinite(cert.notAfter)) {
      return { ok: false, error: 'invalid validity dates' };
    }
    return { ok: true, cert };
  } catch (e) {
    return { ok: false, error: `cannot parse certificate: ${errorText(e)}` };
  }
}

/** Parse a certificate file (single cert, chain, or bundle) read from `node` at `path`. */
export function parseCertFile(node: string, path: string, text: string): CertFile {
  const certs: CertSummary[] = [];
  const errors: PemBlockError[] = [];
  const keys: PrivateKeyBlock[] = [];
  let split: ReturnType<typeof splitPem>;
  try {
    split = splitPem(text);
  } catch (e) {
    return { node, path, certs, errors: [{ block: 0, message: errorText(e) }] };
  }
  errors.push(...split.errors);
  for (const block of split.blocks) {
    if (/PRIVATE KEY$/.test(block.label)) {
      // Not a parse error: key material where it does not belong (checks/keys.ts).
      keys.push({ block: block.index, label: block.label });
      continue;
    }
    if (block.label !== 'CERTIFICATE') {
      errors.push({ block: block.index, message: `${block.label} block is not a CERTIFICATE` });
      continue;
    }
    const r = parseCertificateDer(block.der);
    if (r.ok) certs.push(r.cert);
    else errors.push({ block: block.index, message: r.error });
  }
  errors.sort((a, b) => a.block - b.block);
  const file: CertFile = { node, path, certs, errors };
  if (keys.length > 0) file.privateKeyBlocks = keys;
  return file;
}
