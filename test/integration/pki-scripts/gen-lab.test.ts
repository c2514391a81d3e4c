/**
 * gen-lab.sh builds a whole 3-node PKI with the real scripts and cfssl; every file is then
 * checked with the real openssl CLI (and node:crypto for digests) against layout.json as
 * src/pki/layout.ts plans it. status.sh is checked on the same lab.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Layout, type NodePlan, parseLayout, planNode } from '../../../src/pki/layout.js';
import {
  buildLab,
  DEFAULT_LAB_NODES,
  describePki,
  LAYOUT_PATH,
  type Lab,
  PKI_SCRIPTS,
  run,
  runScript,
} from '../../helpers/pki-lab.js';

/** openssl without the system CA store: only what a test passes is trusted (and 5× faster). */
const OPENSSL_ENV = { ...process.env, SSL_CERT_FILE: '/dev/null', SSL_CERT_DIR: '/nonexistent' };
const openssl = (args: string[]) => run('openssl', args, { env: OPENSSL_ENV });

const DAY = 86_400;
const APISERVER_ADDRESS = '10.77.0.10';

function loadLayout(): Layout {
  const parsed = parseLayout(readFileSync(LAYOUT_PATH, 'utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.layout;
}

/** PEM blocks of one type, in order. */
function pemBlocks(text: string, type = 'CERTIFICATE'): string[] {
  const re = new RegExp(`-----BEGIN ${type}-----[\\s\\S]*?-----END ${type}-----`, 'g');
  return text.match(re) ?? [];
}
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

/** `openssl x509 -ext …` output → { 'Key Usage': 'Digital Signature, …', … }. */
function parseExt(out: string): Record<string, string> {
  const ext: Record<string, string> = {};
  let name: string | undefined;
  for (const line of out.split('\n')) {
    const head = /^X509v3 (.+?):( critical)?\s*$/.exec(line);
    if (head) name = head[1];
    else if (name && line.trim()) ext[name] = (ext[name] ? `${ext[name]}, ` : '') + line.trim();
  }
  return ext;
}

/** fd00:77::21 → fd00:77:0:0:0:0:0:21 (openssl's spelling, lowercased). */
function ipv6Full(a: string): string {
  const [h = '', t] = a.split('::');
  const head = h ? h.split(':') : [];
  const tail = t === undefined ? [] : t ? t.split(':') : [];
  const fill = t === undefined ? [] : Array(8 - head.length - tail.length).fill('0');
  return [...head, ...fill, ...tail].map((g) => Number.parseInt(g, 16).toString(16)).join(':');
}
/** A SAN as openssl prints it, normalised for comparison. */
function sanForm(s: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(s)) return `ip address:${s}`;
  if (s.includes(':')) return `ip address:${ipv6Full(s)}`;
  return `dns:${s.toLowerCase()}`;
}
function opensslSans(ext: Record<string, string>): string[] {
  const v = ext['Subject Alternative Name'];
  if (!v) return [];
  return v
    .split(', ')
    .map((item) =>
      item.startsWith('IP Address:') && item.includes(':', 11)
        ? `ip address:${ipv6Full(item.slice(11).toLowerCase())}`
        : item.toLowerCase(),
    )
    .sort();
}

const EKU: Record<string, string> = {
  server: 'TLS Web Server Authentication',
  client: 'TLS Web Client Authentication',
  peer: 'TLS Web Server Authentication, TLS Web Client Authentication',
};
const PURPOSES: Record<string, string[]> = {
  server: ['sslserver'],
  client: ['sslclient'],
  peer: ['sslserver', 'sslclient'],
};

const spkiSha256OfKey = (keyPem: string) =>
  createHash('sha256')
    .update(createPublicKey(keyPem).export({ type: 'spki', format: 'der' }))
    .digest('hex');
const spkiSha256OfCert = (pem: string) =>
  createHash('sha256')
    .update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');

function walk(dir: string): string[] {
  // Symlinks are skipped: install.sh's configured paths link into .pairs/, walked itself.
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isSymbolicLink() ? [] : e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describePki('gen-lab.sh: a 3-node P-521 lab PKI, checked with openssl', () => {
  const layout = loadLayout();
  let tmp: string;
  let lab: Lab;
  let plans: NodePlan[];
  const leaves = () => plans.flatMap((p) => p.certs.map((c) => ({ node: p.node, ...c })));

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'k8ops-genlab-'));
    lab = await buildLab(join(tmp, 'lab'), DEFAULT_LAB_NODES, {
      apiserverAddress: APISERVER_ADDRESS,
    });
    plans = DEFAULT_LAB_NODES.map((n) =>
      planNode(layout, n, { apiserverAddress: APISERVER_ADDRESS, pkiDir: lab.nodes[n.name]!.dir }),
    );
  }, 180_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('lays out offline/, ca/, one directory per node and the spool', () => {
    expect(readdirSync(lab.dir).sort()).toEqual([
      'ca',
      'cp-1',
      'cp-2',
      'offline',
      'spool',
      'worker-1',
    ]);
    expect(readdirSync(join(lab.dir, 'offline')).sort()).toEqual([
      'k8s-root-key.pem',
      'k8s-root.csr',
      'k8s-root.pem',
    ]);
    expect(Object.keys(lab.intermediates).sort()).toEqual([
      'etcd-ca',
      'front-proxy-ca',
      'kubernetes-ca',
    ]);
  });

  it('each node holds exactly what planNode says: certs, keys, bundles, key pairs — nothing else', () => {
    for (const plan of plans) {
      const want = [
        ...plan.certs.flatMap((c) => [c.certPath, c.keyPath]),
        ...plan.bundles.map((b) => b.path),
        ...plan.keypairs.flatMap((k) => [k.keyPath, k.pubPath]),
      ].sort();
      // .pairs/ holds the versioned pairs the certificate and key paths link to (install.sh).
      const have = readdirSync(plan.pkiDir)
        .filter((f) => f !== '.pairs')
        .map((f) => join(plan.pkiDir, f))
        .sort();
      expect(have, plan.node).toEqual(want);
      expect(readdirSync(join(plan.pkiDir, '.pairs')).sort(), plan.node).toEqual(
        plan.certs.map((c) => c.id).sort(),
      );
    }
    expect(plans.find((p) => p.node === 'worker-1')!.certs.map((c) => c.id)).toEqual([
      'kubelet',
      'kubelet-client',
    ]);
  });

  it('every leaf verifies: openssl verify -CAfile root -untrusted intermediate, for its purpose', async () => {
    await Promise.all(
      leaves().map(async (c) => {
        for (const purpose of PURPOSES[c.profile]!) {
          const r = await openssl([
            'verify',
            '-purpose',
            purpose,
            '-CAfile',
            lab.root.cert,
            '-untrusted',
            lab.intermediates[c.ca]!.cert,
            c.certPath,
          ]);
          expect(r.stdout.trim(), `${c.node}/${c.id}: ${r.stderr}`).toBe(`${c.certPath}: OK`);
        }
        // Without the intermediate there is no path to the root.
        const alone = await openssl(['verify', '-CAfile', lab.root.cert, c.certPath]);
        expect(alone.code, `${c.node}/${c.id}`).not.toBe(0);
      }),
    );
  });

  it('leaves live 14 days: -checkend 13 days passes, 15 days fails', async () => {
    await Promise.all(
      leaves().map(async (c) => {
        const ok = await openssl(['x509', '-in', c.certPath, '-noout', '-checkend', `${13 * DAY}`]);
        const late = await openssl([
          'x509',
          '-in',
          c.certPath,
          '-noout',
          '-checkend',
          `${15 * DAY}`,
        ]);
        expect(ok.code, `${c.node}/${c.id}`).toBe(0);
        expect(late.code, `${c.node}/${c.id}`).toBe(1);
      }),
    );
  });

  it('intermediates live 60 days and the root 40 years', async () => {
    for (const { cert } of Object.values(lab.intermediates)) {
      expect(
        (await openssl(['x509', '-in', cert, '-noout', '-checkend', `${59 * DAY}`])).code,
      ).toBe(0);
      expect(
        (await openssl(['x509', '-in', cert, '-noout', '-checkend', `${61 * DAY}`])).code,
      ).toBe(1);
    }
    const root = lab.root.cert;
    expect(
      (await openssl(['x509', '-in', root, '-noout', '-checkend', `${39 * 365 * DAY}`])).code,
    ).toBe(0);
    expect(
      (await openssl(['x509', '-in', root, '-noout', '-checkend', `${41 * 365 * DAY}`])).code,
    ).toBe(1);
  });

  it('SANs, subject, key usages and basic constraints of every leaf are the layout’s', async () => {
    await Promise.all(
      leaves().map(async (c) => {
        const r = await openssl([
          'x509',
          '-in',
          c.certPath,
          '-noout',
          '-ext',
          'subjectAltName,keyUsage,extendedKeyUsage,basicConstraints',
        ]);
        const ext = parseExt(r.stdout);
        const where = `${c.node}/${c.id}`;
        expect(opensslSans(ext), where).toEqual(c.sans.map(sanForm).sort());
        expect(ext['Key Usage'], where).toBe('Digital Signature, Key Encipherment');
        expect(ext['Extended Key Usage'], where).toBe(EKU[c.profile]);
        expect(ext['Basic Constraints'], where).toBe('CA:FALSE');
        const subj = await openssl([
          'x509',
          '-in',
          c.certPath,
          '-noout',
          '-subject',
          '-nameopt',
          'RFC2253',
        ]);
        const want = [`CN=${c.cn}`, ...[...c.o].reverse().map((o) => `O=${o}`)].join(',');
        expect(subj.stdout.trim(), where).toBe(`subject=${want}`);
      }),
    );
    // The expansions that matter, spelled out.
    const api = leaves().find((c) => c.node === 'cp-1' && c.id === 'kube-apiserver')!;
    expect(api.sans).toEqual([
      'cp-1',
      '10.77.0.11',
      '10.96.0.1',
      APISERVER_ADDRESS,
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster',
      'kubernetes.default.svc.cluster.local',
      'localhost',
      '127.0.0.1',
    ]);
    const kubelet = leaves().find((c) => c.node === 'worker-1' && c.id === 'kubelet')!;
    expect(kubelet.cn).toBe('system:node:worker-1');
    expect(kubelet.sans).toEqual(['worker-1', '10.77.0.21', 'fd00:77::21']);
  });

  it('intermediates: CA:TRUE pathlen:0, cert sign + CRL sign, no EKU; root: pathlen:1', async () => {
    for (const { cert } of Object.values(lab.intermediates)) {
      const r = await openssl([
        'x509',
        '-in',
        cert,
        '-noout',
        '-ext',
        'keyUsage,extendedKeyUsage,basicConstraints',
      ]);
      const ext = parseExt(r.stdout);
      expect(ext['Basic Constraints']).toBe('CA:TRUE, pathlen:0');
      expect(ext['Key Usage']).toBe('Certificate Sign, CRL Sign');
      expect(ext['Extended Key Usage']).toBeUndefined();
      const v = await openssl(['verify', '-CAfile', lab.root.cert, cert]);
      expect(v.code).toBe(0);
    }
    const root = parseExt(
      (await openssl(['x509', '-in', lab.root.cert, '-noout', '-ext', 'basicConstraints,keyUsage']))
        .stdout,
    );
    expect(root['Basic Constraints']).toBe('CA:TRUE, pathlen:1');
    expect(root['Key Usage']).toBe('Certificate Sign, CRL Sign');
  });

  it('P-521 and ecdsa-with-SHA512 everywhere: root, intermediates, leaves, every key', async () => {
    const certs = [lab.root.cert, ...Object.values(lab.intermediates).map((i) => i.cert)];
    certs.push(...leaves().map((c) => c.certPath));
    await Promise.all(
      certs.map(async (cert) => {
        const t = (await openssl(['x509', '-in', cert, '-noout', '-text'])).stdout;
        expect(t, cert).toContain('ASN1 OID: secp521r1');
        expect(t.match(/Signature Algorithm: (\S+)/g), cert).toEqual([
          'Signature Algorithm: ecdsa-with-SHA512',
          'Signature Algorithm: ecdsa-with-SHA512',
        ]);
      }),
    );
    const keys = [lab.root.key, ...Object.values(lab.intermediates).map((i) => i.key)];
    keys.push(...leaves().map((c) => c.keyPath));
    keys.push(...plans.flatMap((p) => p.keypairs.map((k) => k.keyPath)));
    await Promise.all(
      keys.map(async (key) => {
        const t = (await openssl(['pkey', '-in', key, '-noout', '-text_pub'])).stdout;
        expect(t, key).toContain('ASN1 OID: secp521r1');
      }),
    );
  });

  it('every private key file is 0600 (and keys match their certificates)', () => {
    const keys = [lab.root.key, ...Object.values(lab.intermediates).map((i) => i.key)];
    for (const key of keys) expect(statSync(key).mode & 0o777, key).toBe(0o600);
    for (const c of leaves()) {
      expect(statSync(c.keyPath).mode & 0o777, c.keyPath).toBe(c.mode);
      expect(statSync(c.certPath).mode & 0o777, c.certPath).toBe(0o644);
      expect(spkiSha256OfKey(readFileSync(c.keyPath, 'utf8')), c.keyPath).toBe(
        spkiSha256OfCert(readFileSync(c.certPath, 'utf8')),
      );
    }
    for (const p of plans)
      for (const k of p.keypairs) expect(statSync(k.keyPath).mode & 0o777, k.keyPath).toBe(k.mode);
  });

  it('chain files are the leaf followed by its issuing intermediate', () => {
    for (const c of leaves()) {
      const blocks = pemBlocks(readFileSync(c.certPath, 'utf8'));
      expect(blocks.length, c.certPath).toBe(2);
      const leaf = new X509Certificate(blocks[0]!);
      const issuer = new X509Certificate(blocks[1]!);
      expect(leaf.ca).toBe(false);
      expect(issuer.fingerprint256).toBe(
        fingerprint(readFileSync(lab.intermediates[c.ca]!.cert, 'utf8')),
      );
      expect(leaf.verify(issuer.publicKey), c.certPath).toBe(true);
    }
  });

  it('trust bundles hold exactly their domain’s intermediate, never the root', () => {
    const rootFp = fingerprint(readFileSync(lab.root.cert, 'utf8'));
    for (const p of plans) {
      for (const b of p.bundles) {
        const fps = pemBlocks(readFileSync(b.path, 'utf8')).map(fingerprint);
        expect(fps, b.path).toEqual(
          b.cas.map((ca) => fingerprint(readFileSync(lab.intermediates[ca]!.cert, 'utf8'))),
        );
        expect(fps).not.toContain(rootFp);
        expect(statSync(b.path).mode & 0o777).toBe(b.mode);
      }
    }
    const cp = plans.find((p) => p.node === 'cp-1')!;
    expect(cp.bundles.map((b) => [b.id, b.cas])).toEqual([
      ['kubernetes-ca-bundle', ['kubernetes-ca']],
      ['etcd-ca-bundle', ['etcd-ca']],
      ['front-proxy-ca-bundle', ['front-proxy-ca']],
    ]);
  });

  it('a leaf of one trust domain does not verify against another domain’s bundle', async () => {
    const cp1 = lab.nodes['cp-1']!.dir;
    const etcdLeaf = join(cp1, 'apiserver-etcd-client.pem');
    const k8sBundle = join(cp1, 'kubernetes-ca.pem');
    const etcdBundle = join(cp1, 'etcd-ca.pem');
    const ok = await openssl(['verify', '-partial_chain', '-CAfile', etcdBundle, etcdLeaf]);
    const cross = await openssl(['verify', '-partial_chain', '-CAfile', k8sBundle, etcdLeaf]);
    expect(ok.code).toBe(0);
    expect(cross.code).not.toBe(0);
  });

  it('the root key exists only under offline/', () => {
    const rootKey = readFileSync(lab.root.key, 'utf8');
    const body = rootKey.split('\n').filter((l) => l && !l.startsWith('-----'));
    const holders = walk(lab.dir).filter((f) => {
      const text = readFileSync(f, 'latin1');
      return body.some((line) => text.includes(line));
    });
    expect(holders.map((f) => relative(lab.dir, f))).toEqual(['offline/k8s-root-key.pem']);
    expect(readdirSync(lab.caDir)).not.toContain('k8s-root-key.pem');
  });

  it('the service-account key pair is P-521, shared by the control-plane nodes only', () => {
    const cp1 = lab.nodes['cp-1']!.dir;
    const cp2 = lab.nodes['cp-2']!.dir;
    const key1 = readFileSync(join(cp1, 'sa-key.pem'), 'utf8');
    expect(readFileSync(join(cp2, 'sa-key.pem'), 'utf8')).toBe(key1);
    expect(statSync(join(cp2, 'sa-key.pem')).mode & 0o777).toBe(0o600);
    const pub = createPublicKey(readFileSync(join(cp1, 'sa.pub'), 'utf8'));
    expect(pub.asymmetricKeyDetails?.namedCurve).toBe('secp521r1');
    expect(spkiSha256OfKey(key1)).toBe(
      createHash('sha256')
        .update(pub.export({ type: 'spki', format: 'der' }))
        .digest('hex'),
    );
    expect(readdirSync(lab.nodes['worker-1']!.dir)).not.toContain('sa-key.pem');
  });

  it('status.sh: JSON of exactly the documented shape, one entry per regular file', async () => {
    for (const name of ['cp-1', 'worker-1']) {
      const dir = lab.nodes[name]!.dir;
      const r = await runScript('status', ['--pki-dir', dir, '--node', name]);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(Object.keys(doc).sort()).toEqual(['files', 'node', 'pkiDir', 'version']);
      expect(doc.version).toBe(1);
      expect(doc.node).toBe(name);
      expect(doc.pkiDir).toBe(dir);
      expect(doc.files.map((f: { path: string }) => f.path).sort()).toEqual(
        readdirSync(dir)
          .map((f) => join(dir, f))
          .filter((f) => !statSync(f).isDirectory())
          .sort(),
      );
      for (const f of doc.files) {
        // A public-key file (several keys during a service-account rotation) has the
        // digest of every key it holds too.
        expect(Object.keys(f).sort()).toEqual(
          [
            'exists',
            'group',
            'kind',
            'mode',
            'owner',
            'path',
            'pubkeySha256',
            'size',
            ...(f.kind === 'pub' ? ['pubkeysSha256'] : []),
          ].sort(),
        );
        if (f.kind === 'pub') expect(f.pubkeysSha256).toEqual([f.pubkeySha256]);
        expect(f.exists).toBe(true);
        expect(f.mode).toMatch(/^0[0-7]{3}$/);
        expect(f.mode).toBe(`0${(statSync(f.path).mode & 0o777).toString(8)}`);
        expect(f.size).toBe(statSync(f.path).size);
        expect(typeof f.owner).toBe('string');
        expect(typeof f.group).toBe('string');
        expect(['cert', 'key', 'pub']).toContain(f.kind);
        expect(f.pubkeySha256).toMatch(/^[0-9a-f]{64}$/);
      }
    }
  });

  it('status.sh: digests are the SPKI SHA-256 — equal for a pair, different across pairs', async () => {
    const dir = lab.nodes['cp-1']!.dir;
    const doc = JSON.parse((await runScript('status', ['--pki-dir', dir])).stdout);
    const byPath = new Map<string, { kind: string; pubkeySha256: string }>(
      doc.files.map((f: { path: string; kind: string; pubkeySha256: string }) => [f.path, f]),
    );
    const plan = plans.find((p) => p.node === 'cp-1')!;
    const digests = new Set<string>();
    for (const c of plan.certs) {
      const cert = byPath.get(c.certPath)!;
      const key = byPath.get(c.keyPath)!;
      expect(cert.kind).toBe('cert');
      expect(key.kind).toBe('key');
      expect(key.pubkeySha256, c.id).toBe(cert.pubkeySha256);
      expect(cert.pubkeySha256).toBe(spkiSha256OfCert(readFileSync(c.certPath, 'utf8')));
      expect(key.pubkeySha256).toBe(spkiSha256OfKey(readFileSync(c.keyPath, 'utf8')));
      digests.add(cert.pubkeySha256);
    }
    expect(digests.size).toBe(plan.certs.length);
    const sa = plan.keypairs[0]!;
    expect(byPath.get(sa.pubPath)!.kind).toBe('pub');
    expect(byPath.get(sa.pubPath)!.pubkeySha256).toBe(byPath.get(sa.keyPath)!.pubkeySha256);
    // A bundle's digest is its (first) intermediate's key, distinct from every leaf.
    expect(digests.has(byPath.get(plan.bundles[0]!.path)!.pubkeySha256)).toBe(false);
  });

  it('status.sh runs from stdin with lib.sh inlined (how k8ops runs it on a node)', async () => {
    const dir = lab.nodes['worker-1']!.dir;
    const sourceLine = /^\.\s+"\$\(dirname -- "\$\{BASH_SOURCE\[0\]\}"\)\/lib\.sh"\s*$/m;
    const status = readFileSync(join(PKI_SCRIPTS, 'status.sh'), 'utf8');
    expect(status).toMatch(sourceLine);
    const lib = readFileSync(join(PKI_SCRIPTS, 'lib.sh'), 'utf8');
    const script = join(tmp, 'status-inlined.sh');
    writeFileSync(
      script,
      status.replace(sourceLine, () => lib),
    );
    const viaStdin = await run(
      'bash',
      ['-c', 'bash -s -- --pki-dir "$1" --node worker-1 <"$2"', 'sh', dir, script],
      {
        cwd: tmp,
      },
    );
    expect(viaStdin.stderr).toBe('');
    expect(viaStdin.code).toBe(0);
    const direct = await runScript('status', ['--pki-dir', dir, '--node', 'worker-1']);
    expect(JSON.parse(viaStdin.stdout)).toEqual(JSON.parse(direct.stdout));
  });

  it('status.sh never prints private key material', async () => {
    const dir = lab.nodes['cp-1']!.dir;
    const out = (await runScript('status', ['--pki-dir', dir])).stdout;
    const keyFiles = readdirSync(dir).filter((f) => f.endsWith('-key.pem'));
    expect(keyFiles.length).toBeGreaterThan(10);
    for (const f of keyFiles) {
      const lines = readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('-----'));
      expect(lines.length).toBeGreaterThan(2);
      for (const line of lines) expect(out).not.toContain(line);
      expect(out).not.toContain(lines.join(''));
    }
    expect(out).not.toContain('PRIVATE KEY');
  });
});
