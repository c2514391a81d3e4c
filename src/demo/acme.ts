/**
 * The demo lab's cert-manager Certificates: one per demo Ingress host, each with the
 * certificate its Secret holds — real ECDSA P-256 leaves (90 days, like Let's Encrypt's),
 * signed by a throwaway demo issuer made here ("(STAGING) k8ops demo ACME", no real CA).
 * `static` is inside cert-manager's renew window (renewal due in 6 h, 30 days left), `shop`
 * and `api` are fresh. Shaped like what src/kube/parse/certificate.ts reads from
 * cert-manager 1.19.
 */
import { webcrypto, x509 } from '../pki/x509-lib.js';

const DAY = 86_400_000;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface DemoAcmeCert {
  namespace: string;
  name: string;
  secretName: string;
  issuerName: string;
  issuerKind: string;
  dnsNames: string[];
  ready: boolean;
  readyReason: string;
  readyMessage: string;
  notBefore: string;
  notAfter: string;
  renewalTime: string;
  revision: number;
  secret: { certs: string[] };
}

/** host → days since issue (90-day certificates; cert-manager renews at 2/3 of the lifetime). */
export async function demoAcmeCertificates(
  hosts: Readonly<Record<string, string>>,
  now: number,
): Promise<DemoAcmeCert[]> {
  const gen = (): Promise<webcrypto.CryptoKeyPair> =>
    webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;
  const caKeys = await gen();
  const caName = 'CN=(STAGING) k8ops demo ACME E1, O=k8ops demo lab';
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: caName,
    notBefore: new Date(now - 365 * DAY),
    notAfter: new Date(now + 365 * DAY),
    keys: caKeys,
    signingAlgorithm: SIGN,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  const age: Record<string, number> = { shop: 12, static: 60.25 - 0.5, api: 3 };
  const out: DemoAcmeCert[] = [];
  let serial = 0x1000;
  for (const [key, host] of Object.entries(hosts)) {
    const keys = await gen();
    const notBefore = now - (age[key] ?? 10) * DAY;
    const notAfter = notBefore + 90 * DAY;
    const renewal = notBefore + 60 * DAY;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: (serial++).toString(16),
      subject: `CN=${host}`,
      issuer: ca.subjectName,
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: host }]),
      ],
    });
    const iso = (t: number) =>
      new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    out.push({
      namespace: 'shop',
      name: `${key}-tls`,
      secretName: `${key}-tls`,
      issuerName: 'letsencrypt-staging',
      issuerKind: 'ClusterIssuer',
      dnsNames: [host],
      ready: true,
      readyReason: 'Ready',
      readyMessage: 'Certificate is up to date and has not expired',
      notBefore: iso(notBefore),
      notAfter: iso(notAfter),
      renewalTime: iso(renewal),
      revision: key === 'static' ? 2 : 1,
      secret: { certs: [cert.toString('base64'), ca.toString('base64')] },
    });
  }
  return out;
}
