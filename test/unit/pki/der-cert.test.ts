/**
 * der-cert.ts (the fast DER reader) against @peculiar/x509 (the reference): the same
 * summary for every certificate — openssl fixtures, the demo generator's, and odd ones
 * (RSA, P-256, IPv6 SANs, DN characters that need escaping, several O values).
 */
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
