/**
 * TLS files for a hubble-relay stand-in, made by the real `openssl` as the Cilium chart
 * makes relay's (`relay.gen-certs`: a CA `hubble-ca.cilium.io`, a server certificate for
 * `*.hubble-relay.cilium.io`), plus a client certificate for mTLS and a second CA that
 * signed none of them (a client trusting it must refuse relay). ECDSA P-256.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RelayTlsFiles {
  dir: string;
  ca: string;
  otherCa: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  read(path: string): Buffer;
  cleanup(): void;
}

export function makeRelayTls(): RelayTlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'k8ops-relay-tls-'));
  const o = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  for (const [name, cn] of [
    ['ca', 'hubble-ca.cilium.io'],
    ['other-ca', 'not-hubble-ca.example'],
  ] as const)
    o([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-subj',
      `/CN=${cn}`,
      '-days',
      '3',
    ]);
  const leaf = (name: string, cn: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    o([
      'req',
      '-new',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    ]);
    o([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      String(Date.now()),
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ]);
  };
  leaf(
    'server',
    '*.hubble-relay.cilium.io',
    'subjectAltName=DNS:*.hubble-relay.cilium.io\nextendedKeyUsage=serverAuth\n',
  );
  leaf(
    'client',
    'operator.hubble-relay-client.cilium.io',
    'subjectAltName=DNS:operator.hubble-relay-client.cilium.io\nextendedKeyUsage=clientAuth\n',
  );
  const p = (f: string) => join(dir, f);
  return {
    dir,
    ca: p('ca.pem'),
    otherCa: p('other-ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    read: (path) => readFileSync(path),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
