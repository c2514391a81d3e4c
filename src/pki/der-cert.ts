/**
 * A small, strict DER reader for X.509 certificates: exactly the fields k8ops shows and
 * checks (names, serial, validity, key and signature algorithms, SANs, basic constraints,
 * key usages, EKUs, key identifiers). It replaces @peculiar/x509's generic ASN.1 schema
 * machinery on the hot path: a cold `k8ops certs` over a 50-node PKI parses ~650 distinct
 * certificates, where the schema parser costs 1–8 ms each until the JIT warms up, this one
 * a few tens of µs. Output strings follow @peculiar/x509's formats (DN as
 * `O=k8ops, CN=kubernetes-ca` with RFC 4514 escaping, compressed IPv6, lowercase hex).
 *
 * Pure; throws DerError on malformed input (x509.ts turns it into an error value).
 */
import { createHash } from 'node:crypto';
import type { CertSummary } from './types.js';

export class DerError extends Error {
  override readonly name = 'DerError';
}

interface Tlv {
  tag: number;
  /** First byte of the TLV. */
  start: number;
  /** First content byte. */
  body: number;
  /** One past the last content byte. */
  end: number;
}

function tlv(der: Uint8Array, at: number, limit: number, what: string): Tlv {
  if (at + 2 > limit) throw new DerError(`${what}: truncated`);
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`${what}: multi-byte tags are not supported`);
  const first = der[at + 1]!;
  let len = first;
  let body = at + 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new DerError(`${what}: bad length`);
    if (at + 2 + n > limit) throw new DerError(`${what}: truncated`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i]!;
    body = at + 2 + n;
  }
  const end = body + len;
  if (end > limit) throw new DerError(`${what}: truncated`);
  return { tag, start: at, body, end };
}

/** The children of a constructed TLV. */
function children(der: Uint8Array, t: Tlv, what: string): Tlv[] {
  const out: Tlv[] = [];
  for (let at = t.body; at < t.end; ) {
    const c = tlv(der, at, t.end, what);
    out.push(c);
    at = c.end;
  }
  return out;
}

function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}`);
  return t;
}

const hexOf = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function oid(der: Uint8Array, t: Tlv): string {
  const b = der.subarray(t.body, t.end);
  if (b.length === 0) throw new DerError('empty OID');
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      if (parts.length === 0) {
        const first = v < 40 ? 0 : v < 80 ? 1 : 2;
        parts.push(first, v - first * 40);
      } else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

// ---------------------------------------------------------------------------------------
// Names

const NAME_TYPES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'E',
  '2.5.4.42': 'G',
  '2.5.4.43': 'I',
  '2.5.4.4': 'SN',
  '2.5.4.12': 'T',
};

function decodeString(der: Uint8Array, t: Tlv): string | undefined {
  const b = der.subarray(t.body, t.end);
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  switch (t.tag) {
    case 0x0c: // UTF8String
      return buf.toString('utf8');
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x12: // NumericString
    case 0x1a: // VisibleString
      return buf.toString('latin1');
    case 0x14: // TeletexString
      return buf.toString('latin1');
    case 0x1e: {
      // BMPString: UTF-16BE
      const s = Buffer.from(buf);
      return s.swap16().toString('utf16le');
    }
    case 0x1c: {
      // UniversalString: UTF-32BE
      let out = '';
      for (let i = 0; i + 3 < buf.length; i += 4) out += String.fromCodePoint(buf.readUInt32BE(i));
      return out;
    }
    default:
      return undefined;
  }
}

/** RFC 4514 escaping as @peculiar/x509 does it. */
function escapeDn(v: string): string {
  return v
    .replace(/([,+"\\<>;])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/([ ]$)/, '\\$1')
    .replace(/([\r\n\t])/, (c) => `\\${Buffer.from(c, 'utf8').toString('hex').toUpperCase()}`);
}

interface ParsedName {
  text: string;
  fields: Map<string, string[]>;
}

function parseName(der: Uint8Array, t: Tlv, what: string): ParsedName {
  expect(t, 0x30, what);
  const rdns: string[] = [];
  const fields = new Map<string, string[]>();
  for (const set of children(der, t, what)) {
    expect(set, 0x31, `${what} RDN`);
    const attrs: string[] = [];
    for (const atv of children(der, set, what)) {
      expect(atv, 0x30, `${what} attribute`);
      const [type, value] = children(der, atv, what);
      const id = oid(der, expect(type, 0x06, `${what} attribute type`));
      if (!value) throw new DerError(`${what}: attribute without a value`);
      const name = NAME_TYPES[id] ?? id;
      const s = decodeString(der, value);
      if (s !== undefined) {
        attrs.push(`${name}=${escapeDn(s)}`);
        const list = fields.get(name) ?? [];
        list.push(s);
        fields.set(name, list);
      } else {
        attrs.push(`${name}=#${hexOf(der.subarray(value.start, value.end))}`);
      }
    }
    rdns.push(attrs.join('+'));
  }
  return { text: rdns.join(', '), fields };
}

// ---------------------------------------------------------------------------------------
// Time

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * Epoch ms of a calendar date and time, refusing what is not one: month 00 or 13, day 00,
 * the 32nd, 29 February outside a leap year (Gregorian: every 4th year, not centuries
 * unless divisible by 400), hour 24, minute 60, second 60. `Date.UTC` would roll each of
 * those over into a real but different instant (UTCTime 991399999999Z → 2000-04-12).
 *
 * A leap second (ss = 60) is refused too: RFC 5280 §4.1.2.5 times are UTC seconds
 * 00–59 and POSIX time has no 60th second; Go's crypto/x509 (every Kubernetes component)
 * and OpenSSL reject such a certificate, so accepting it would report as valid a
 * certificate the cluster cannot load.
 */
function calendarTime(
  kind: string,
  text: string,
  what: string,
  f: { year: number; month: number; day: number; hour: number; minute: number; second: number },
  ms = 0,
): number {
  const bad = (why: string): never => {
    throw new DerError(`${what}: ${why} in ${kind} ${JSON.stringify(text)}`);
  };
  if (f.month < 1 || f.month > 12) bad(`month ${f.month} is not 1–12`);
  const days = f.month === 2 && isLeapYear(f.year) ? 29 : DAYS_IN_MONTH[f.month - 1]!;
  if (f.day < 1 || f.day > days)
    bad(`day ${f.day} is not 1–${days} (month ${f.month} of ${f.year})`);
  if (f.hour > 23) bad(`hour ${f.hour} is not 0–23`);
  if (f.minute > 59) bad(`minute ${f.minute} is not 0–59`);
  if (f.second > 59) bad(`second ${f.second} is not 0–59 (no leap seconds)`);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  const d = new Date(0);
  d.setUTCFullYear(f.year, f.month - 1, f.day);
  d.setUTCHours(f.hour, f.minute, f.second, ms);
  return d.getTime();
}

function parseTime(der: Uint8Array, t: Tlv, what: string): number {
  const s = Buffer.from(der.subarray(t.body, t.end)).toString('latin1');
  let m: RegExpExecArray | null;
  if (t.tag === 0x17) {
    m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(s);
    if (!m) throw new DerError(`${what}: bad UTCTime ${JSON.stringify(s)}`);
    const yy = Number(m[1]);
    return calendarTime('UTCTime', s, what, {
      year: yy < 50 ? 2000 + yy : 1900 + yy,
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4]),
      minute: Number(m[5]),
      second: Number(m[6] ?? 0),
    });
  }
  if (t.tag === 0x18) {
    m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d+))?Z$/.exec(s);
    if (!m) throw new DerError(`${what}: bad GeneralizedTime ${JSON.stringify(s)}`);
    const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
    return calendarTime(
      'GeneralizedTime',
      s,
      what,
      {
        year: Number(m[1]),
        month: Number(m[2]),
        day: Number(m[3]),
        hour: Number(m[4]),
        minute: Number(m[5]),
        second: Number(m[6]),
      },
      ms,
    );
  }
  throw new DerError(`${what}: not a time`);
}

// ---------------------------------------------------------------------------------------
// Algorithms and extensions

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

/** KeyUsage bits, most significant first (RFC 5280 order). */
const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
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

/** Compressed IPv6 text as @peculiar/asn1-x509's IpConverter writes it. */
function formatIPv6(b: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  let best = -1;
  let bestLen = 0;
  let cur = -1;
  let curLen = 0;
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '0') {
      if (cur === -1) cur = i;
      curLen++;
    } else {
      if (curLen > bestLen) {
        best = cur;
        bestLen = curLen;
      }
      cur = -1;
      curLen = 0;
    }
  }
  if (curLen > bestLen) {
    best = cur;
    bestLen = curLen;
  }
  if (bestLen > 1)
    return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLen).join(':')}`;
  return parts.join(':');
}

function readInteger(der: Uint8Array, t: Tlv): number {
  let v = 0;
  for (let i = t.body; i < t.end; i++) v = v * 256 + der[i]!;
  return v;
}

// ---------------------------------------------------------------------------------------

/**
 * Parse one DER certificate. `der` must be exactly one certificate (the caller checks the
 * outer length). Throws DerError (or RangeError on absurd input) when it is not one.
 */
export function parseDerCertificate(der: Uint8Array, fingerprint?: string): CertSummary {
  const cert = expect(tlv(der, 0, der.length, 'certificate'), 0x30, 'certificate');
  const [tbs, sigAlg, sigValue] = children(der, cert, 'certificate');
  expect(tbs, 0x30, 'tbsCertificate');
  expect(sigAlg, 0x30, 'signatureAlgorithm');
  expect(sigValue, 0x03, 'signatureValue');
  const tf = children(der, tbs!, 'tbsCertificate');
  let i = 0;
  if (tf[0]?.tag === 0xa0) i++; // [0] version
  const serialT = expect(tf[i++], 0x02, 'serialNumber');
  expect(tf[i++], 0x30, 'signature');
  const issuer = parseName(der, expect(tf[i++], 0x30, 'issuer'), 'issuer');
  const validity = children(der, expect(tf[i++], 0x30, 'validity'), 'validity');
  if (validity.length !== 2) throw new DerError('validity: expected two times');
  const notBefore = parseTime(der, validity[0]!, 'notBefore');
  const notAfter = parseTime(der, validity[1]!, 'notAfter');
  const subject = parseName(der, expect(tf[i++], 0x30, 'subject'), 'subject');
  const spki = expect(tf[i++], 0x30, 'subjectPublicKeyInfo');
  const [spkiAlg] = children(der, spki, 'subjectPublicKeyInfo');
  const [keyOid, keyParams] = children(
    der,
    expect(spkiAlg, 0x30, 'key algorithm'),
    'key algorithm',
  );
  const keyAlgOid = oid(der, expect(keyOid, 0x06, 'key algorithm'));

  let serialBytes = der.subarray(serialT.body, serialT.end);
  if (serialBytes.length > 1 && serialBytes[0] === 0 && serialBytes[1]! > 0x7f)
    serialBytes = serialBytes.subarray(1);

  const sigOid = oid(
    der,
    expect(children(der, sigAlg!, 'signatureAlgorithm')[0], 0x06, 'signature algorithm'),
  );

  const summary: CertSummary = {
    subject: subject.text,
    organizations: subject.fields.get('O') ?? [],
    issuer: issuer.text,
    serial: hexOf(serialBytes).toLowerCase(),
    notBefore,
    notAfter,
    fingerprint: fingerprint ?? createHash('sha256').update(der).digest('hex'),
    keyAlgorithm: KEY_ALGORITHMS[keyAlgOid] ?? keyAlgOid,
    signatureAlgorithm: SIGNATURE_ALGORITHMS[sigOid] ?? sigOid,
    dnsNames: [],
    ipAddresses: [],
    isCA: false,
    keyUsages: [],
    extKeyUsages: [],
    spkiSha256: createHash('sha256').update(der.subarray(spki.start, spki.end)).digest('hex'),
    der: Uint8Array.from(der),
  };
  const cn = subject.fields.get('CN')?.[0];
  if (cn !== undefined) summary.commonName = cn;
  if (keyAlgOid === '1.2.840.10045.2.1' && keyParams) {
    const p = hexOf(der.subarray(keyParams.start, keyParams.end));
    summary.curve = CURVES[p] ?? `unknown(${p})`;
  }

  // Optional [1] issuerUniqueID, [2] subjectUniqueID, [3] extensions.
  for (; i < tf.length; i++) {
    const t = tf[i]!;
    if (t.tag !== 0xa3) continue;
    const exts = children(
      der,
      expect(children(der, t, 'extensions')[0], 0x30, 'extensions'),
      'extensions',
    );
    for (const ext of exts) {
      const parts = children(der, expect(ext, 0x30, 'extension'), 'extension');
      const id = oid(der, expect(parts[0], 0x06, 'extension id'));
      const value = expect(parts[parts.length - 1], 0x04, `extension ${id}`);
      const inner = () => tlv(der, value.body, value.end, `extension ${id}`);
      switch (id) {
        case '2.5.29.17': // subjectAltName
          for (const g of children(
            der,
            expect(inner(), 0x30, 'subjectAltName'),
            'subjectAltName',
          )) {
            const b = der.subarray(g.body, g.end);
            if (g.tag === 0x82) summary.dnsNames.push(Buffer.from(b).toString('latin1'));
            else if (g.tag === 0x87) {
              if (b.length === 4) summary.ipAddresses.push(Array.from(b).join('.'));
              else if (b.length === 16) summary.ipAddresses.push(formatIPv6(b));
              else summary.ipAddresses.push(hexOf(b));
            }
          }
          break;
        case '2.5.29.19': {
          // basicConstraints
          const bc = children(der, expect(inner(), 0x30, 'basicConstraints'), 'basicConstraints');
          let k = 0;
          if (bc[k]?.tag === 0x01) {
            summary.isCA = der[bc[k]!.body] !== 0;
            k++;
          }
          if (summary.isCA && bc[k]?.tag === 0x02) summary.pathLen = readInteger(der, bc[k]!);
          break;
        }
        case '2.5.29.15': {
          // keyUsage: BIT STRING, bit 0 = the most significant bit of the first byte
          const bits = expect(inner(), 0x03, 'keyUsage');
          const b = der.subarray(bits.body + 1, bits.end);
          KEY_USAGE_BITS.forEach((name, bit) => {
            const byte = b[bit >> 3];
            if (byte !== undefined && (byte & (0x80 >> (bit & 7))) !== 0)
              summary.keyUsages.push(name);
          });
          break;
        }
        case '2.5.29.37': // extKeyUsage
          for (const o of children(der, expect(inner(), 0x30, 'extKeyUsage'), 'extKeyUsage')) {
            const u = oid(der, expect(o, 0x06, 'extKeyUsage'));
            summary.extKeyUsages.push(EXT_KEY_USAGES[u] ?? u);
          }
          break;
        case '2.5.29.14': {
          // subjectKeyIdentifier
          const k = expect(inner(), 0x04, 'subjectKeyIdentifier');
          summary.subjectKeyId = hexOf(der.subarray(k.body, k.end));
          break;
        }
        case '2.5.29.35': {
          // authorityKeyIdentifier: [0] keyIdentifier
          const a = children(
            der,
            expect(inner(), 0x30, 'authorityKeyIdentifier'),
            'authorityKeyIdentifier',
          );
          const k = a.find((x) => x.tag === 0x80);
          if (k) summary.authorityKeyId = hexOf(der.subarray(k.body, k.end));
          break;
        }
      }
    }
  }
  return summary;
}
