/**
 * der-cert.ts (the fast DER reader) against @peculiar/x509 (the reference): the same
 * summary for every certificate — openssl fixtures, the demo generator's, and odd ones
 * (RSA, P-256, IPv6 SANs, DN characters that need escaping, several O values).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DerError, parseDerCertificate } from '../../../src/pki/der-cert.js';
import { splitPem } from '../../../src/pki/pem.js';
import type { CertSummary } from '../../../src/pki/types.js';
import { x509 } from '../../../src/pki/x509-lib.js';
import { issue, makeRoot } from '../../helpers/pki-certs.js';

/** The summary as @peculiar/x509 reads it (the previous implementation of x509.ts). */
function reference(der: Uint8Array): Omit<CertSummary, 'der'> {
  const c = new x509.X509Certificate(der);
  const asn = (
    c as unknown as {
      asn: {
        signatureAlgorithm: { algorithm: string };
        tbsCertificate: {
          subjectPublicKeyInfo: { algorithm: { algorithm: string; parameters?: ArrayBuffer } };
        };
      };
    }
  ).asn;
  const san = c.getExtension(x509.SubjectAlternativeNameExtension);
  const bc = c.getExtension(x509.BasicConstraintsExtension);
  const ku = c.getExtension(x509.KeyUsagesExtension);
  const eku = c.getExtension(x509.ExtendedKeyUsageExtension);
  const F = x509.KeyUsageFlags;
  const kus: Array<[number, string]> = [
    [F.digitalSignature, 'digitalSignature'],
    [F.nonRepudiation, 'nonRepudiation'],
    [F.keyEncipherment, 'keyEncipherment'],
    [F.dataEncipherment, 'dataEncipherment'],
    [F.keyAgreement, 'keyAgreement'],
    [F.keyCertSign, 'keyCertSign'],
    [F.cRLSign, 'cRLSign'],
    [F.encipherOnly, 'encipherOnly'],
    [F.decipherOnly, 'decipherOnly'],
  ];
  const EKU: Record<string, string> = {
    '1.3.6.1.5.5.7.3.1': 'serverAuth',
    '1.3.6.1.5.5.7.3.2': 'clientAuth',
  };
  const KEYS: Record<string, string> = {
    '1.2.840.10045.2.1': 'ECDSA',
    '1.2.840.113549.1.1.1': 'RSA',
  };
  const CURVES: Record<string, string> = {
    '06082a8648ce3d030107': 'P-256',
    '06052b81040022': 'P-384',
    '06052b81040023': 'P-521',
  };
  const SIGS: Record<string, string> = {
    '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
    '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
    '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  };
  const spki = asn.tbsCertificate.subjectPublicKeyInfo.algorithm;
  const out: Omit<CertSummary, 'der'> = {
    subject: c.subject,
    organizations: c.subjectName.getField('O'),
    issuer: c.issuer,
    serial: c.serialNumber.toLowerCase(),
    notBefore: c.notBefore.getTime(),
    notAfter: c.notAfter.getTime(),
    fingerprint: createHash('sha256').update(der).digest('hex'),
    keyAlgorithm: KEYS[spki.algorithm] ?? spki.algorithm,
    signatureAlgorithm: SIGS[asn.signatureAlgorithm.algorithm] ?? asn.signatureAlgorithm.algorithm,
    dnsNames: san ? san.names.items.filter((n) => n.type === 'dns').map((n) => n.value) : [],
    ipAddresses: san ? san.names.items.filter((n) => n.type === 'ip').map((n) => n.value) : [],
    isCA: bc?.ca ?? false,
    keyUsages: ku ? kus.filter(([f]) => (ku.usages & f) !== 0).map(([, n]) => n) : [],
    extKeyUsages: eku ? eku.usages.map((u) => EKU[String(u)] ?? String(u)) : [],
    spkiSha256: createHash('sha256').update(new Uint8Array(c.publicKey.rawData)).digest('hex'),
  };
  const cn = c.subjectName.getField('CN')[0];
  if (cn !== undefined) out.commonName = cn;
  if (spki.algorithm === '1.2.840.10045.2.1' && spki.parameters)
    out.curve = CURVES[Buffer.from(spki.parameters).toString('hex')] ?? 'unknown';
  if (bc?.ca && bc.pathLength !== undefined) out.pathLen = bc.pathLength;
  const ski = c.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const aki = c.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  if (ski) out.subjectKeyId = ski.toLowerCase();
  if (aki) out.authorityKeyId = aki.toLowerCase();
  return out;
}

const fixture = (name: string) =>
  splitPem(readFileSync(new URL(`../../fixtures/pki/${name}`, import.meta.url), 'utf8')).blocks.map(
    (b) => b.der,
  );

const samples: Array<[string, Uint8Array]> = [];

beforeAll(async () => {
  for (const name of ['root.pem', 'chain.pem'])
    for (const [i, d] of fixture(name).entries()) samples.push([`${name}#${i}`, d]);
  const root = await makeRoot();
  const ca = await issue(root, {
    cn: 'kubernetes-ca',
    o: ['k8ops', 'second org'],
    ca: { pathlen: 0 },
  });
  const add = (name: string, c: { cert: x509.X509Certificate }) =>
    samples.push([name, new Uint8Array(c.cert.rawData)]);
  add('root', root);
  add('ca', ca);
  add('rsa', await issue(ca, { cn: 'rsa', keyKind: 'RSA-2048', eku: ['clientAuth'] }));
  add('p256', await issue(ca, { cn: 'p256', keyKind: 'P-256', eku: ['serverAuth', 'clientAuth'] }));
  add(
    'ipv6',
    await issue(ca, {
      cn: 'dual',
      dns: ['a.example', 'b'],
      ips: ['10.0.0.1', 'fd00:77::21', '::1', '2001:db8:0:0:1:0:0:1'],
    }),
  );
  add('escaping', await issue(ca, { cn: ' lead, "q"+x;<y>\\z ', o: ['a#b', ' spaced '] }));
  add('unicode', await issue(ca, { cn: 'nœud-ü', o: ['système'] }));
  add('no-eku', await issue(ca, { cn: 'plain' }));
});

describe('parseDerCertificate', () => {
  it('matches @peculiar/x509 on every sample', () => {
    expect(samples.length).toBeGreaterThan(10);
    for (const [name, der] of samples) {
      const { der: _der, ...mine } = parseDerCertificate(der);
      expect({ name, ...mine }).toEqual({ name, ...reference(der) });
    }
  });

  it('throws DerError on malformed input', () => {
    const der = samples[0]![1];
    expect(() => parseDerCertificate(der.slice(0, 100))).toThrow(DerError);
    expect(() => parseDerCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).toThrow(
      DerError,
    );
  });
});

/**
 * The root fixture with its validity times replaced (same length, so the DER stays
 * well-formed; the signature no longer matches, which parsing does not look at).
 * Its notBefore is a UTCTime (2026), its notAfter a GeneralizedTime (2066).
 */
function rootWithTimes(times: { utc?: string; generalized?: string }): Uint8Array {
  const der = Buffer.from(fixture('root.pem')[0]!);
  const text = der.toString('latin1');
  const m = /\x17\x0d(\d{12}Z)\x18\x0f(\d{14}Z)/.exec(text);
  if (!m) throw new Error('root fixture: validity not found');
  const out = Buffer.from(der);
  const at = m.index;
  if (times.utc !== undefined) {
    if (times.utc.length !== 13) throw new Error('UTCTime replacement must be 13 bytes');
    out.write(times.utc, at + 2, 'latin1');
  }
  if (times.generalized !== undefined) {
    if (times.generalized.length !== 15) throw new Error('GeneralizedTime must be 15 bytes');
    out.write(times.generalized, at + 2 + 13 + 2, 'latin1');
  }
  return new Uint8Array(out);
}

describe('validity times are calendar dates (RFC 5280 §4.1.2.5)', () => {
  const nb = (utc: string) => parseDerCertificate(rootWithTimes({ utc })).notBefore;
  const na = (generalized: string) => parseDerCertificate(rootWithTimes({ generalized })).notAfter;

  it('accepts real dates: leap days of leap years, the last second of a day and of a year', () => {
    expect(nb('261125123439Z')).toBe(Date.UTC(2026, 10, 25, 12, 34, 39)); // unchanged fixture
    expect(nb('240229120000Z')).toBe(Date.UTC(2024, 1, 29, 12, 0, 0));
    expect(nb('000229000000Z')).toBe(Date.UTC(2000, 1, 29)); // 2000: divisible by 400
    expect(nb('961231235959Z')).toBe(Date.UTC(1996, 11, 31, 23, 59, 59));
    expect(nb('491231235959Z')).toBe(Date.UTC(2049, 11, 31, 23, 59, 59));
    expect(nb('500101000000Z')).toBe(Date.UTC(1950, 0, 1));
    expect(na('20480229000000Z')).toBe(Date.UTC(2048, 1, 29));
    expect(na('24000229000000Z')).toBe(Date.UTC(2400, 1, 29)); // divisible by 400
    expect(na('99991231235959Z')).toBe(Date.UTC(9999, 11, 31, 23, 59, 59));
    // Years below 100 are years below 100 (Date.UTC would make 0050 into 1950).
    const y50 = na('00500101000000Z');
    expect(new Date(y50).getUTCFullYear()).toBe(50);
    expect(new Date(y50).toISOString()).toBe('0050-01-01T00:00:00.000Z');
  });

  it.each([
    ['991399999999Z', /month 13 is not 1–12/], // the issue's example: was 2000-04-12
    ['260001000000Z', /month 0 is not 1–12/],
    ['261300010000Z', /month 13 is not 1–12/],
    ['260100120000Z', /day 0 is not 1–31/],
    ['260132120000Z', /day 32 is not 1–31/],
    ['260431120000Z', /day 31 is not 1–30/],
    ['230229120000Z', /day 29 is not 1–28 \(month 2 of 2023\)/],
    ['260230120000Z', /day 30 is not 1–28/],
    ['261125240000Z', /hour 24 is not 0–23/],
    ['261125236000Z', /minute 60 is not 0–59/],
    ['261125235960Z', /second 60 is not 0–59 \(no leap seconds\)/], // cf. 2016-12-31T23:59:60Z
  ])('rejects UTCTime %s', (utc, why) => {
    expect(() => parseDerCertificate(rootWithTimes({ utc }))).toThrow(DerError);
    expect(() => parseDerCertificate(rootWithTimes({ utc }))).toThrow(why);
    expect(() => parseDerCertificate(rootWithTimes({ utc }))).toThrow(/notBefore: .* in UTCTime/);
  });

  it.each([
    ['20660001000000Z', /month 0 is not 1–12/],
    ['20661301000000Z', /month 13 is not 1–12/],
    ['20660100000000Z', /day 0 is not 1–31/],
    ['20661232000000Z', /day 32 is not 1–31/],
    ['20670229000000Z', /day 29 is not 1–28/],
    ['21000229000000Z', /day 29 is not 1–28 \(month 2 of 2100\)/], // centuries are not leap
    ['20661125240000Z', /hour 24 is not 0–23/],
    ['20661125236000Z', /minute 60 is not 0–59/],
    ['20661231235960Z', /second 60 is not 0–59/],
  ])('rejects GeneralizedTime %s', (generalized, why) => {
    expect(() => parseDerCertificate(rootWithTimes({ generalized }))).toThrow(why);
    expect(() => parseDerCertificate(rootWithTimes({ generalized }))).toThrow(
      /notAfter: .* in GeneralizedTime/,
    );
  });
});

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

describe.skipIf(!haveOpenssl)('validity times: k8ops agrees with openssl x509 -dates', () => {
  it('rejects exactly what openssl prints as "Bad time value"', () => {
    const cases: Array<{ utc?: string; generalized?: string }> = [
      { utc: '991399999999Z' },
      { utc: '230229120000Z' },
      { utc: '240229120000Z' },
      { utc: '000229000000Z' },
      { utc: '260431120000Z' },
      { utc: '261125240000Z' },
      { utc: '261125236000Z' },
      { utc: '261125235960Z' },
      { utc: '261125235959Z' },
      { generalized: '21000229000000Z' },
      { generalized: '24000229000000Z' },
      { generalized: '20661231235960Z' },
      { generalized: '20661301000000Z' },
    ];
    for (const c of cases) {
      const der = rootWithTimes(c);
      const r = spawnSync('openssl', ['x509', '-inform', 'DER', '-noout', '-dates'], {
        input: der,
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      const opensslBad = r.stdout.includes('Bad time value');
      let k8opsBad = false;
      try {
        parseDerCertificate(der);
      } catch {
        k8opsBad = true;
      }
      expect({ ...c, bad: k8opsBad }).toEqual({ ...c, bad: opensslBad });
    }
  });
});
