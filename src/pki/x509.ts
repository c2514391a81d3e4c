/**
 * Certificate parsing: DER → CertSummary, PEM file → CertFile.
 * Never throws on any input: failures are `{ok: false, error}` / CertFile errors.
 */
import { createHash } from 'node:crypto';
import { splitPem } from './pem.js';
import type { CertFile, CertSummary, PemBlockError } from './types.js';
import { x509 } from './x509-lib.js';

/** The bits of @peculiar/asn1-x509's Certificate we read (X509Certificate keeps it protected). */
interface AsnCertificate {
  signatureAlgorithm: { algorithm: string };
  tbsCertificate: {
    subjectPublicKeyInfo: { algorithm: { algorithm: string; parameters?: ArrayBuffer | null } };
  };
}

export type ParseResult = { ok: true; cert: CertSummary } | { ok: false; error: string };

const SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassa-pss',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
};

const KEY_ALGORITHMS: Record<string, string> = {
  '1.2.840.10045.2.1': 'ECDSA',
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.113549.1.1.10': 'RSA-PSS',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};

/** DER of the namedCurve OID in id-ecPublicKey parameters → curve name. */
const CURVES: Record<string, string> = {
  '06082a8648ce3d030107': 'P-256',
  '06052b81040022': 'P-384',
  '06052b81040023': 'P-521',
  '06052b8104000a': 'secp256k1',
};

const KEY_USAGES: [number, string][] = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
  [x509.KeyUsageFlags.encipherOnly, 'encipherOnly'],
  [x509.KeyUsageFlags.decipherOnly, 'decipherOnly'],
];

const EXT_KEY_USAGES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

const hex = (bytes: ArrayBuffer | Uint8Array): string =>
  Buffer.from(bytes as Uint8Array).toString('hex');

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

/** Parse one DER certificate. */
/**
 * Parsed certificates by the SHA-256 of their DER. The same intermediate appears in every
 * chain file and bundle, and the same leaves come back on every refresh: parsing (asn1js)
 * is the costliest step of a certificate refresh, so each distinct DER is parsed once.
 * Results are frozen; bounded, oldest evicted first.
 */
const PARSE_CACHE_MAX = 4096;
const parseCache = new Map<string, ParseResult>();

export function parseCertificateDer(der: Uint8Array): ParseResult {
  if (!(der instanceof Uint8Array) || der.length === 0) return { ok: false, error: 'empty DER' };
  const key = createHash('sha256').update(der).digest('hex');
  const hit = parseCache.get(key);
  if (hit) return hit;
  const result = parseCertificateDerUncached(der);
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

function parseCertificateDerUncached(der: Uint8Array): ParseResult {
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
    const cert = new x509.X509Certificate(der);
    const asn = (cert as unknown as { asn: AsnCertificate }).asn;
    const spki = asn.tbsCertificate.subjectPublicKeyInfo.algorithm;
    const keyAlgorithm = KEY_ALGORITHMS[spki.algorithm] ?? spki.algorithm;
    let curve: string | undefined;
    if (spki.algorithm === '1.2.840.10045.2.1' && spki.parameters) {
      const p = hex(spki.parameters);
      curve = CURVES[p] ?? `unknown(${p})`;
    }
    const sigOid = asn.signatureAlgorithm.algorithm;
    const notBefore = cert.notBefore.getTime();
    const notAfter = cert.notAfter.getTime();
    if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter)) {
      return { ok: false, error: 'invalid validity dates' };
    }

    const dnsNames: string[] = [];
    const ipAddresses: string[] = [];
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    if (san) {
      for (const name of san.names.items) {
        if (name.type === 'dns') dnsNames.push(name.value);
        else if (name.type === 'ip') ipAddresses.push(name.value);
      }
    }
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    const keyUsages = ku
      ? KEY_USAGES.filter(([flag]) => (ku.usages & flag) !== 0).map(([, n]) => n)
      : [];
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    const extKeyUsages = eku ? eku.usages.map((u) => EXT_KEY_USAGES[String(u)] ?? String(u)) : [];

    const summary: CertSummary = {
      subject: cert.subject,
      organizations: cert.subjectName.getField('O'),
      issuer: cert.issuer,
      serial: cert.serialNumber.toLowerCase(),
      notBefore,
      notAfter,
      fingerprint: createHash('sha256').update(der).digest('hex'),
      keyAlgorithm,
      signatureAlgorithm: SIGNATURE_ALGORITHMS[sigOid] ?? sigOid,
      dnsNames,
      ipAddresses,
      isCA: bc?.ca ?? false,
      keyUsages,
      extKeyUsages,
    };
    const cn = cert.subjectName.getField('CN')[0];
    if (cn !== undefined) summary.commonName = cn;
    if (curve !== undefined) summary.curve = curve;
    if (bc?.ca && bc.pathLength !== undefined) summary.pathLen = bc.pathLength;
    return { ok: true, cert: summary };
  } catch (e) {
    return { ok: false, error: `cannot parse certificate: ${errorText(e)}` };
  }
}

/** Parse a certificate file (single cert, chain, or bundle) read from `node` at `path`. */
export function parseCertFile(node: string, path: string, text: string): CertFile {
  const certs: CertSummary[] = [];
  const errors: PemBlockError[] = [];
  let split: ReturnType<typeof splitPem>;
  try {
    split = splitPem(text);
  } catch (e) {
    return { node, path, certs, errors: [{ block: 0, message: errorText(e) }] };
  }
  errors.push(...split.errors);
  for (const block of split.blocks) {
    if (block.label !== 'CERTIFICATE') {
      const what = /PRIVATE KEY/.test(block.label) ? ' (a private key in a certificate file)' : '';
      errors.push({
        block: block.index,
        message: `${block.label} block is not a CERTIFICATE${what}`,
      });
      continue;
    }
    const r = parseCertificateDer(block.der);
    if (r.ok) certs.push(r.cert);
    else errors.push({ block: block.index, message: r.error });
  }
  errors.sort((a, b) => a.block - b.block);
  return { node, path, certs, errors };
}
