/**
 * cert-manager `Certificate` (cert-manager.io/v1, as cert-manager 1.19 serves it), the
 * `kubernetes.io/tls` Secret it writes, and `Ingress` (networking.k8s.io/v1) hosts. Pure;
 * never throws: a malformed object yields undefined or the readable fields.
 */
import type { AcmeCertificate, KubeIngress } from '../types.js';
import { arr, clip, meta, num, obj, str } from './meta.js';

const host = (v: unknown): string | undefined => {
  const s = str(v);
  return s ? clip(s.toLowerCase(), 253) : undefined;
};

export function parseCertificate(o: unknown): AcmeCertificate | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const spec = obj(obj(o).spec);
  const status = obj(obj(o).status);
  const secretName = str(spec.secretName);
  if (!secretName) return undefined;
  const ref = obj(spec.issuerRef);
  const dnsNames = arr(spec.dnsNames)
    .map(host)
    .filter((h): h is string => h !== undefined);
  const cn = host(spec.commonName);
  if (cn && !dnsNames.includes(cn)) dnsNames.unshift(cn);
  const out: AcmeCertificate = {
    namespace: m.namespace ?? 'default',
    name: m.name,
    secretName: clip(secretName, 253)!,
    issuerName: clip(str(ref.name) ?? '?', 253)!,
    issuerKind: clip(str(ref.kind) ?? 'Issuer', 64)!,
    dnsNames,
  };
  for (const c of arr(status.conditions)) {
    const co = obj(c);
    if (co.type === 'Ready') {
      out.ready = co.status === 'True';
      const reason = str(co.reason);
      if (reason) out.readyReason = clip(reason, 128)!;
      const msg = str(co.message);
      if (msg) out.readyMessage = clip(msg, 512)!;
    } else if (co.type === 'Issuing' && co.status === 'True') out.issuing = true;
  }
  for (const k of ['notBefore', 'notAfter', 'renewalTime'] as const) {
    const v = str(status[k]);
    if (v && !Number.isNaN(Date.parse(v))) out[k] = v;
  }
  const rev = num(status.revision);
  if (rev !== undefined) out.revision = rev;
  return out;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]{1,65536}?-----END CERTIFICATE-----/g;

/**
 * A Secret → the CERTIFICATE blocks of its `tls.crt`, each as one line of base64 (DER; no
 * newline, so the store's sanitiser leaves it as is). `tls.key` and every other key are
 * never read.
 */
export function secretCerts(o: unknown): { certs?: string[]; error?: string } {
  const data = obj(obj(o).data);
  const b64 = str(data['tls.crt']);
  if (!b64) return { error: 'the Secret has no tls.crt' };
  if (b64.length > 1024 * 1024) return { error: 'tls.crt is larger than 768 KiB' };
  const text = Buffer.from(b64, 'base64').toString('latin1');
  const blocks = text.match(PEM_CERT);
  if (!blocks) return { error: 'tls.crt holds no PEM certificate' };
  return {
    certs: blocks.map((b) =>
      b
        .replace('-----BEGIN CERTIFICATE-----', '')
        .replace('-----END CERTIFICATE-----', '')
        .replace(/\s+/g, ''),
    ),
  };
}

export function parseIngress(o: unknown): KubeIngress | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const spec = obj(obj(o).spec);
  const hosts = new Set<string>();
  for (const r of arr(spec.rules)) {
    const h = host(obj(r).host);
    if (h) hosts.add(h);
  }
  const tls = arr(spec.tls).map((t) => {
    const to = obj(t);
    const hs = arr(to.hosts)
      .map(host)
      .filter((h): h is string => h !== undefined);
    for (const h of hs) hosts.add(h);
    const secretName = str(to.secretName);
    return secretName ? { secretName: clip(secretName, 253)!, hosts: hs } : { hosts: hs };
  });
  return { namespace: m.namespace ?? 'default', name: m.name, hosts: [...hosts], tls };
}
