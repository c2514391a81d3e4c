// Distinct P-521 leaves for the PKI bench (test/bench/pki.mjs) and the test of the parallel
// verifier (test/e2e/certs-parallel.test.ts): one issuing
// CA and N leaves, each its own certificate (its own serial, CN and SAN, its own signature),
// as PEM files in one directory. Made once and kept in a cache directory: openssl makes the
// CA and one template leaf; node:crypto then re-signs the template's TBSCertificate N times
// with the serial and the name patched (same lengths), which takes ~1.5 ms a leaf instead
// of two openssl processes a leaf.
//
//   distinctLeaves({ dir, count, ca? }) → { dir, files, caFile, generatedMs }
//
// `ca` names the issuing CA (default `Bench Issuing CA`).
//
// The directory holds ca.pem and leaf-NNNNNN.pem; manifest.json says how many and until
// when they are valid (regenerated 30 days before the leaves expire).
import { spawnSync } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DAY = 86_400_000;

function ossl(cwd, args, input) {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function tlv(der, at) {
  const first = der[at + 1];
  let len = first;
  let body = at + 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i];
    body = at + 2 + n;
  }
  return { start: at, body, end: body + len };
}

function header(tag, len) {
  if (len < 0x80) return Buffer.from([tag, len]);
  const bytes = [];
  for (let v = len; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}

const pem = (der) =>
  `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)
    .join('\n')}\n-----END CERTIFICATE-----\n`;

export const leafName = (i) => `leaf-${String(i).padStart(6, '0')}.pem`;

/** N distinct leaves under `dir` (made once; reused while valid). */
export function distinctLeaves({ dir, count, ca = 'Bench Issuing CA' }) {
  const manifest = join(dir, 'manifest.json');
  const files = Array.from({ length: count }, (_, i) => join(dir, leafName(i)));
  if (existsSync(manifest)) {
    try {
      const m = JSON.parse(readFileSync(manifest, 'utf8'));
      if (
        m.count === count &&
        m.ca === ca &&
        m.notAfter - 30 * DAY > Date.now() &&
        files.every(existsSync)
      )
        return { dir, files, caFile: join(dir, 'ca.pem'), generatedMs: 0 };
    } catch {
      // damaged: make it again
    }
  }
  const t0 = performance.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const work = join(dir, '.work');
  mkdirSync(work);
  ossl(work, ['ecparam', '-name', 'secp521r1', '-genkey', '-noout', '-out', 'ca.key']);
  ossl(work, [
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-sha512',
    '-days',
    '400',
    '-subj',
    `/O=k8ops bench/CN=${ca}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    'ca.pem',
  ]);
  ossl(work, ['ecparam', '-name', 'secp521r1', '-genkey', '-noout', '-out', 'leaf.key']);
  const csr = ossl(work, [
    'req',
    '-new',
    '-key',
    'leaf.key',
    '-sha512',
    '-subj',
    '/CN=leaf-000000',
  ]);
  writeFileSync(
    join(work, 'leaf.ext'),
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:leaf-000000.bench.test\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  ossl(
    work,
    [
      'x509',
      '-req',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-sha512',
      '-days',
      '365',
      '-set_serial',
      '0x4b384f50530000000000000000000000',
      '-extfile',
      'leaf.ext',
      '-outform',
      'DER',
      '-out',
      'leaf.der',
    ],
    csr,
  );
  const der = readFileSync(join(work, 'leaf.der'));
  const outer = tlv(der, 0);
  const tbsT = tlv(der, outer.body);
  const algT = tlv(der, tbsT.end);
  const template = Buffer.from(der.subarray(tbsT.start, tbsT.end));
  const alg = der.subarray(algT.start, algT.end);
  // The serial: version [0] first, then the INTEGER; its last 4 bytes carry the index.
  const version = tlv(template, tlv(template, 0).body);
  const serial = tlv(template, version.end);
  const name = Buffer.from('leaf-000000');
  const at = [];
  for (let i = template.indexOf(name); i >= 0; i = template.indexOf(name, i + 1)) at.push(i);
  if (at.length !== 2) throw new Error(`template: ${at.length} names to patch`);
  const caKey = createPrivateKey(readFileSync(join(work, 'ca.key')));
  for (let i = 0; i < count; i++) {
    const tbs = Buffer.from(template);
    tbs.writeUInt32BE(i, serial.end - 4);
    for (const a of at) tbs.write(`leaf-${String(i).padStart(6, '0')}`, a, 'latin1');
    const sig = sign('sha512', tbs, { key: caKey, dsaEncoding: 'der' });
    const bits = Buffer.concat([header(0x03, sig.length + 1), Buffer.from([0]), sig]);
    const body = Buffer.concat([tbs, alg, bits]);
    writeFileSync(files[i], pem(Buffer.concat([header(0x30, body.length), body])));
  }
  writeFileSync(join(dir, 'ca.pem'), readFileSync(join(work, 'ca.pem')));
  const notAfter = Date.parse(
    ossl(work, ['x509', '-noout', '-enddate', '-in', 'ca.pem']).split('=')[1].trim(),
  );
  rmSync(work, { recursive: true, force: true });
  writeFileSync(
    manifest,
    JSON.stringify({ count, ca, notAfter: Math.min(notAfter, Date.now() + 365 * DAY) }),
  );
  return { dir, files, caFile: join(dir, 'ca.pem'), generatedMs: performance.now() - t0 };
}
