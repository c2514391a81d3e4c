/**
 * k8ops against a lab PKI built by the project's own scripts with real cfssl (gen-lab.sh):
 * the tree and the verdicts k8ops computes (chain by signature, expiry, SANs, key ↔ cert)
 * must agree with the real openssl CLI on every file, the status k8ops computes locally
 * must equal nix/pki/status.sh's on every file, and the checks must find nothing wrong.
 * And a PKI cfssl made under its own file names (not a k8ops layout), scanned like
 * `k8ops certs --path DIR` without --node: judged on its certificates and keys, its names info.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { certsPathCommand } from '../../src/commands/certs.js';
import type { NodeSpec } from '../../src/config/types.js';
import { collectCerts, collectPkiStatus } from '../../src/features/pki/sources.js';
import { FsNodeAgent } from '../../src/nodes/fs-agent.js';
import { type ExecFn, remotePkiStatus } from '../../src/nodes/pki-status-remote.js';
import type { NodeCheckInput } from '../../src/pki/checks.js';
import { planNode } from '../../src/pki/layout.js';
import { defaultLayout } from '../../src/pki/layout-data.js';
import { buildPkiReport, type PkiReport } from '../../src/pki/report.js';
import { type TreeCert, treeCerts } from '../../src/pki/tree.js';
import type { CertFile, PkiCheck, PkiStatus } from '../../src/pki/types.js';
import { buildLab, DEFAULT_LAB_NODES, describePki, type Lab, run } from '../helpers/pki-lab.js';

const OPENSSL_ENV = { ...process.env, SSL_CERT_FILE: '/dev/null', SSL_CERT_DIR: '/nonexistent' };
const openssl = (args: string[]) => run('openssl', args, { env: OPENSSL_ENV });

const localExec: ExecFn = (command, stdin) =>
  new Promise((resolve) => {
    const p = spawn('sh', ['-c', command]);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('close', (code) => resolve({ stdout, stderr, code }));
    // A script that never reads stdin may exit first: EPIPE is not a test failure.
    p.stdin.on('error', () => {});
    p.stdin.end(stdin ?? '');
  });

let base: string;
let lab: Lab;
let report: PkiReport;
const files = new Map<string, CertFile[]>();
const statuses = new Map<string, PkiStatus[]>();

describePki('k8ops agrees with openssl on a gen-lab PKI (real cfssl)', () => {
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'k8ops-agree-'));
    lab = await buildLab(join(base, 'lab'));
    const layout = defaultLayout();
    const signal = new AbortController().signal;
    const inputs: NodeCheckInput[] = [];
    for (const [i, n] of DEFAULT_LAB_NODES.entries()) {
      const dir = lab.nodes[n.name]!.dir;
      const spec: NodeSpec = {
        name: n.name,
        index: i,
        host: 'localhost',
        addresses: n.addresses,
        roles: n.roles,
      };
      const agent = new FsNodeAgent(spec);
      // cp-1 plays the signer: its CA directory (intermediates, root certificate) is read too.
      const dirs = n.name === 'cp-1' ? [dir, lab.caDir] : [dir];
      files.set(n.name, await collectCerts(agent, dirs, signal));
      statuses.set(n.name, await collectPkiStatus(agent, dirs, signal));
      inputs.push({
        node: n.name,
        index: i,
        plan: planNode(layout, n, { pkiDir: dir }),
        files: files.get(n.name)!,
        status: statuses.get(n.name)!,
      });
    }
    report = buildPkiReport({
      nodes: inputs,
      nodeOrder: DEFAULT_LAB_NODES.map((n) => n.name),
      settings: {
        now: Date.now(),
        layout,
        spreadMs: 86_400_000,
        minRemainingMs: 2 * 86_400_000,
        nodeCount: DEFAULT_LAB_NODES.length,
        rootOffline: true,
      },
    });
  }, 300_000);

  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('the checks find nothing wrong (owners aside: this machine has no kubernetes/etcd users)', () => {
    const real = report.checks.filter((c) => c.id !== 'key-owner' && c.severity !== 'info');
    expect(real).toEqual([]);
    expect(report.checks.filter((c) => c.severity === 'info')).toEqual([]);
    expect(report.counts.critical).toBe(0);
  });

  it('one tree: root → three intermediates → every leaf, each verified by signature', () => {
    expect(report.tree.roots).toHaveLength(1);
    const root = report.tree.roots[0] as TreeCert;
    expect(root).toMatchObject({ role: 'root', chain: 'self-signed' });
    expect(root.children.map((c) => (c as TreeCert).cert.commonName)).toEqual([
      'etcd-ca',
      'front-proxy-ca',
      'kubernetes-ca',
    ]);
    const leaves = treeCerts(report.tree).filter((t) => t.role === 'leaf');
    // cp-1, cp-2: 13 leaves each; worker-1: kubelet + kubelet-client.
    expect(leaves).toHaveLength(13 * 2 + 2);
    for (const t of treeCerts(report.tree))
      expect(t.chain === 'verified' || t.chain === 'self-signed').toBe(true);
  });

  it('chain, expiry and SANs agree with openssl on every certificate file', async () => {
    const rootPem = lab.root.cert;
    const byFp = new Map(treeCerts(report.tree).map((t) => [t.key, t]));
    let checked = 0;
    for (const [, fs] of files) {
      for (const f of fs) {
        const leaf = f.certs[0]!;
        const t = byFp.get(leaf.fingerprint)!;
        // k8ops: every link up to the root verified.
        let ok = true;
        for (
          let cur: TreeCert | undefined = t;
          cur && cur.chain !== 'self-signed';
          cur = cur.issuer ? byFp.get(cur.issuer) : undefined
        ) {
          if (cur.chain !== 'verified') ok = false;
        }
        const v = await openssl(['verify', '-CAfile', rootPem, '-untrusted', f.path, f.path]);
        expect({ path: f.path, ok }).toEqual({ path: f.path, ok: v.code === 0 });
        for (const seconds of [0, 13 * 86_400, 15 * 86_400, 61 * 86_400]) {
          const remaining = (leaf.notAfter - Date.now()) / 1000;
          if (Math.abs(remaining - seconds) < 300) continue;
          const e = await openssl(['x509', '-noout', '-checkend', String(seconds), '-in', f.path]);
          expect({ path: f.path, seconds, valid: remaining > seconds }).toEqual({
            path: f.path,
            seconds,
            valid: e.code === 0,
          });
        }
        const san = await openssl(['x509', '-noout', '-ext', 'subjectAltName', '-in', f.path]);
        const names = san.stdout.split('\n').slice(1).join(' ').trim();
        const list = names ? names.split(/,\s*/) : [];
        expect(leaf.dnsNames).toEqual(
          list.filter((x) => x.startsWith('DNS:')).map((x) => x.slice(4)),
        );
        expect(leaf.ipAddresses.length).toBe(
          list.filter((x) => x.startsWith('IP Address:')).length,
        );
        checked++;
      }
    }
    const certFiles = [...files.values()].flat().length;
    expect(checked).toBe(certFiles);
    expect(certFiles).toBeGreaterThan(30);
  }, 120_000);

  it('key ↔ certificate: k8ops matches every chain with its key, as openssl does', async () => {
    for (const [node, fs] of files) {
      const st = statuses.get(node)!.flatMap((s) => s.files);
      for (const f of fs) {
        const keyPath = f.path.replace(/\.pem$/, '-key.pem');
        const key = st.find((x) => x.path === keyPath);
        if (!key) continue; // bundles, CA certificates without a key here
        const a = await openssl(['x509', '-noout', '-pubkey', '-in', f.path]);
        const b = await openssl(['pkey', '-pubout', '-in', keyPath]);
        expect({ path: f.path, same: a.stdout === b.stdout }).toEqual({
          path: f.path,
          same: key.pubkeySha256 === f.certs[0]!.spkiSha256,
        });
      }
    }
  });

  it('the status k8ops computes locally equals nix/pki/status.sh on every file', async () => {
    for (const n of DEFAULT_LAB_NODES) {
      const dir = lab.nodes[n.name]!.dir;
      const remote = await remotePkiStatus(localExec, dir, { node: n.name });
      const local = statuses.get(n.name)![0]!;
      const strip = (f: (typeof local.files)[number]) => [
        f.path,
        f.kind,
        f.exists,
        f.mode,
        f.owner,
        f.group,
        f.size,
        f.pubkeySha256,
      ];
      expect(remote.files.map(strip)).toEqual(local.files.map(strip));
      // One entry per file (a pair's path is a link into `.pairs/`, which is not listed).
      expect(remote.files.length).toBe(
        readdirSync(dir, { withFileTypes: true }).filter((e) => !e.isDirectory()).length,
      );
    }
  });
});

/** A writable that keeps what is written (for calling a command in-process). */
function sink(): NodeJS.WritableStream & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return Object.assign(w, { text: () => chunks.join('') });
}

describePki('k8ops certs --path (no --node) on a PKI cfssl made under its own file names', () => {
  let dir: string;
  let scan: string;
  const cfssl = async (args: string[], out: string): Promise<void> => {
    const r = await run('sh', ['-c', `cfssl "$@" | cfssljson -bare ${out}`, 'sh', ...args], {
      cwd: dir,
    });
    if (r.code !== 0) throw new Error(`cfssl ${args.join(' ')}: ${r.stderr}`);
  };
  const certs = async (path: string) => {
    const out = sink();
    const err = sink();
    const code = await certsPathCommand({ json: true, prometheus: false, path }, out, err, {
      K8OPS_NO_VERDICT_CACHE: '1',
    });
    return { code, err: err.text(), doc: JSON.parse(out.text()) as { checks: PkiCheck[] } };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'k8ops-cfssl-'));
    const key = { algo: 'ecdsa', size: 521 };
    const json = (name: string, v: unknown) => writeFileSync(join(dir, name), JSON.stringify(v));
    json('config.json', {
      signing: {
        default: { expiry: '8760h' },
        profiles: {
          intermediate: {
            usages: ['cert sign', 'crl sign'],
            expiry: '4380h',
            ca_constraint: { is_ca: true, max_path_len: 0, max_path_len_zero: true },
          },
          server: {
            usages: ['digital signature', 'key encipherment', 'server auth'],
            expiry: '720h',
          },
          client: {
            usages: ['digital signature', 'key encipherment', 'client auth'],
            expiry: '720h',
          },
        },
      },
    });
    json('ca-csr.json', { CN: 'Acme Root CA', key, ca: { expiry: '87600h', pathlen: 1 } });
    json('int-csr.json', { CN: 'Acme Issuing CA', key });
    json('server-csr.json', { CN: 'api.acme.test', hosts: ['api.acme.test', '10.1.2.3'], key });
    json('client-csr.json', { CN: 'alice', names: [{ O: 'ops' }], key });
    await cfssl(['gencert', '-initca', 'ca-csr.json'], 'ca');
    await cfssl(['genkey', 'int-csr.json'], 'int');
    await cfssl(
      [
        'sign',
        '-ca',
        'ca.pem',
        '-ca-key',
        'ca-key.pem',
        '-config',
        'config.json',
        '-profile',
        'intermediate',
        'int.csr',
      ],
      'int',
    );
    for (const [n, profile] of [
      ['server', 'server'],
      ['client', 'client'],
    ] as const)
      await cfssl(
        [
          'gencert',
          '-ca',
          'int.pem',
          '-ca-key',
          'int-key.pem',
          '-config',
          'config.json',
          '-profile',
          profile,
          `${n}-csr.json`,
        ],
        n,
      );
    // What a node would hold: the CA certificates, each leaf and its key (CA keys offline).
    scan = join(dir, 'node');
    mkdirSync(scan);
    for (const f of [
      'ca.pem',
      'int.pem',
      'server.pem',
      'client.pem',
      'server-key.pem',
      'client-key.pem',
    ])
      copyFileSync(join(dir, f), join(scan, f));
    for (const f of ['server-key.pem', 'client-key.pem']) chmodSync(join(scan, f), 0o600);
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('openssl verifies every leaf; k8ops: exit 0, each name info (unlisted-file), nothing else', async () => {
    for (const leaf of ['server.pem', 'client.pem']) {
      const at = (f: string) => join(scan, f);
      const v = await openssl([
        'verify',
        '-CAfile',
        at('ca.pem'),
        '-untrusted',
        at('int.pem'),
        at(leaf),
      ]);
      expect({ leaf, code: v.code }).toEqual({ leaf, code: 0 });
    }
    const r = await certs(scan);
    expect(r.err).toBe('');
    expect(r.doc.checks.filter((c) => c.id !== 'unlisted-file')).toEqual([]);
    expect(r.doc.checks.map((c) => [c.path.split('/').pop(), c.severity]).sort()).toEqual(
      ['ca.pem', 'client-key.pem', 'client.pem', 'int.pem', 'server-key.pem', 'server.pem'].map(
        (n) => [n, 'info'],
      ),
    );
    expect(r.code).toBe(0);
  });

  it('the client key under the server key name: openssl sees two public keys, k8ops key-mismatch', async () => {
    copyFileSync(join(dir, 'client-key.pem'), join(scan, 'server-key.pem'));
    try {
      const a = await openssl(['x509', '-noout', '-pubkey', '-in', join(scan, 'server.pem')]);
      const b = await openssl(['pkey', '-pubout', '-in', join(scan, 'server-key.pem')]);
      expect(a.stdout).not.toBe(b.stdout);
      const r = await certs(scan);
      expect(r.doc.checks.filter((c) => c.severity !== 'info')).toEqual([
        expect.objectContaining({
          id: 'key-mismatch',
          severity: 'critical',
          path: join(scan, 'server-key.pem'),
        }),
      ]);
      expect(r.code).toBe(2);
    } finally {
      copyFileSync(join(dir, 'server-key.pem'), join(scan, 'server-key.pem'));
    }
  });
});
