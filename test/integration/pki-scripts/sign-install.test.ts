/**
 * sign.sh refuses what the layout does not allow (and leaves that would outlive their
 * intermediate); install.sh verifies before it touches anything, keeps the previous pair,
 * is idempotent and converges after a crash; node-csr.sh reuses a pending key. All against
 * a real lab built by gen-lab.sh.
 */
import { createHash, X509Certificate } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  buildLab,
  CFSSL_CONFIG_PATH,
  describePki,
  type Lab,
  type LabNode,
  run,
  runScript,
} from '../../helpers/pki-lab.js';

/** One node is enough: worker-1 below is only a name the signer is told. */
const NODES: LabNode[] = [
  { name: 'cp-1', roles: ['control-plane', 'etcd'], addresses: ['10.77.0.11'] },
];
const CP1 = ['--node', 'cp-1', '--roles', 'control-plane,etcd', '--addresses', '10.77.0.11'];

const OPENSSL_ENV = { ...process.env, SSL_CERT_FILE: '/dev/null', SSL_CERT_DIR: '/nonexistent' };
const openssl = (args: string[]) => run('openssl', args, { env: OPENSSL_ENV });
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describePki('sign.sh and install.sh on a real lab', () => {
  let tmp: string;
  let lab: Lab;
  let dir: string; // cp-1's pkiDir
  let spool: string; // cp-1's spool in the lab
  let n = 0;
  const scratch = (name: string) => join(tmp, `${++n}-${name}`);

  /** A P-521 (or other curve) key and CSR made by hand, outside node-csr.sh. */
  async function handCsr(subj: string, opts: { san?: string; curve?: string } = {}) {
    const key = scratch('hand-key.pem');
    const csr = scratch('hand.csr');
    const g = await openssl([
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      `ec_paramgen_curve:${opts.curve ?? 'P-521'}`,
      '-out',
      key,
    ]);
    expect(g.code, g.stderr).toBe(0);
    const args = ['req', '-new', '-key', key, '-sha512', '-subj', subj, '-out', csr];
    if (opts.san) args.push('-addext', `subjectAltName=${opts.san}`);
    const r = await openssl(args);
    expect(r.code, r.stderr).toBe(0);
    return { key, csr };
  }
  const sign = (args: string[]) => runScript('sign', ['--ca-dir', lab.caDir, ...args]);
  const install = (args: string[]) => runScript('install', ['--pki-dir', dir, ...args]);
  const pair = () => ({
    cert: sha(join(dir, 'kubelet-client.pem')),
    key: sha(join(dir, 'kubelet-client-key.pem')),
  });
  const prevPair = () => ({
    cert: sha(join(dir, 'kubelet-client.pem.prev')),
    key: sha(join(dir, 'kubelet-client-key.pem.prev')),
  });
  /** node-csr for cp-1's kubelet-client: a pending key + CSR; returns the CSR path. */
  async function pendingKubeletClient(): Promise<string> {
    const r = await runScript('node-csr', [
      ...CP1,
      '--pki-dir',
      dir,
      '--spool',
      join(tmp, 'spool'),
      '--only',
      'kubelet-client',
      '--new-key',
    ]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
  }

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'k8ops-sign-install-'));
    lab = await buildLab(join(tmp, 'lab'), NODES);
    dir = lab.nodes['cp-1']!.dir;
    spool = lab.nodes['cp-1']!.spool;
  }, 180_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  // ---------------------------------------------------------------------------- sign.sh

  it('sign: the lab’s own CSR signs again (the baseline the refusals below differ from)', async () => {
    const out = scratch('again.pem');
    const r = await sign([
      ...CP1,
      '--csr',
      join(spool, 'kubelet-client.csr'),
      '--id',
      'kubelet-client',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it('sign refuses a leaf that would outlive its intermediate (a 100 h intermediate, 336 h leaf)', async () => {
    const cfg = JSON.parse(readFileSync(CFSSL_CONFIG_PATH, 'utf8'));
    cfg.signing.profiles.intermediate.expiry = '100h';
    const shortCfg = scratch('short-cfssl.json');
    writeFileSync(shortCfg, JSON.stringify(cfg));
    const shortCa = scratch('short-ca');
    const i = await runScript('issue-intermediate', [
      '--config',
      shortCfg,
      '--root-dir',
      join(lab.dir, 'offline'),
      '--ca',
      'kubernetes-ca',
      shortCa,
    ]);
    expect(i.code, i.stderr).toBe(0);
    const int = join(shortCa, 'kubernetes-ca.pem');
    expect((await openssl(['x509', '-in', int, '-noout', '-checkend', `${5 * 86_400}`])).code).toBe(
      1,
    );

    const out = scratch('outlives.pem');
    const r = await runScript('sign', [
      '--ca-dir',
      shortCa,
      ...CP1,
      '--csr',
      join(spool, 'kubelet-client.csr'),
      '--id',
      'kubelet-client',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/would outlive intermediate kubernetes-ca .*refusing/);
    expect(existsSync(out)).toBe(false);

    // And issue-intermediate does not overwrite an existing intermediate.
    const again = await runScript('issue-intermediate', [
      '--root-dir',
      join(lab.dir, 'offline'),
      '--ca',
      'kubernetes-ca',
      shortCa,
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('refusing to overwrite');
    expect(readFileSync(int, 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('sign refuses a CSR whose CN or SANs are not the layout’s for that node', async () => {
    const cases: [string, string[], RegExp][] = [
      // cp-1's kubelet client CSR presented as worker-1's: CN system:node:cp-1 ≠ system:node:worker-1.
      [
        'CN of another node',
        [
          '--node',
          'worker-1',
          '--addresses',
          '10.77.0.21',
          '--csr',
          join(spool, 'kubelet-client.csr'),
          '--id',
          'kubelet-client',
        ],
        /subject 'CN=system:node:cp-1,O=system:nodes' is not what the layout allows .*'CN=system:node:worker-1,O=system:nodes'/,
      ],
      // The right CSR, but the signer knows cp-1 by another address: SAN set differs.
      [
        'SAN address the node does not have',
        [
          '--node',
          'cp-1',
          '--addresses',
          '10.77.0.99',
          '--csr',
          join(spool, 'kube-apiserver.csr'),
          '--id',
          'kube-apiserver',
        ],
        /SANs .* are not what the layout allows/,
      ],
      // A CSR signed for one id presented as another.
      [
        'CSR of another certificate',
        [...CP1, '--csr', join(spool, 'etcd-server.csr'), '--id', 'etcd-peer'],
        /subject 'CN=kube-etcd' is not what the layout allows/,
      ],
    ];
    const evilSan = await handCsr('/CN=kube-apiserver-etcd-client', { san: 'DNS:evil.example' });
    cases.push([
      'extra SAN',
      ['--csr', evilSan.csr, '--id', 'apiserver-etcd-client'],
      /SANs \[dns:evil.example\] are not what the layout allows .*\(\[\]\)/,
    ]);
    const masters = await handCsr('/O=system:masters/CN=kube-scheduler-client');
    cases.push([
      'extra O (system:masters)',
      ['--csr', masters.csr, '--id', 'kube-scheduler-client'],
      /subject 'CN=kube-scheduler-client,O=system:masters' is not what the layout allows/,
    ]);
    const p256 = await handCsr('/CN=kube-apiserver-etcd-client', { curve: 'P-256' });
    cases.push([
      'P-256 key',
      ['--csr', p256.csr, '--id', 'apiserver-etcd-client'],
      /not ECDSA P-521/,
    ]);
    cases.push([
      'disabled certificate',
      ['--csr', join(spool, 'apiserver-etcd-client.csr'), '--id', 'kube-proxy-client'],
      /disabled/,
    ]);
    cases.push([
      'id the roles do not need',
      [
        '--node',
        'worker-1',
        '--roles',
        'worker',
        '--addresses',
        '10.77.0.21',
        '--csr',
        join(spool, 'kube-apiserver.csr'),
        '--id',
        'kube-apiserver',
      ],
      /is for roles control-plane, not for a node with roles worker/,
    ]);
    for (const [what, args, message] of cases) {
      const out = scratch('refused.pem');
      const r = await sign([...args, '--out', out]);
      expect(r.code, `${what}: ${r.stderr}`).toBe(1);
      expect(r.stderr, what).toMatch(message);
      expect(existsSync(out), what).toBe(false);
    }
    // Templates that name the node need --node / --addresses (exit 2: usage).
    const noNode = await sign([
      '--csr',
      join(spool, 'kubelet-client.csr'),
      '--id',
      'kubelet-client',
    ]);
    expect(noNode.code).toBe(2);
    expect(noNode.stderr).toContain('--node is required');
    const noAddr = await sign([
      '--node',
      'cp-1',
      '--csr',
      join(spool, 'kubelet.csr'),
      '--id',
      'kubelet',
    ]);
    expect(noAddr.code).toBe(2);
    expect(noAddr.stderr).toContain('--addresses is required');
  });

  // ---------------------------------------------------------------------------- install.sh

  it('install: rotates a pair — pending key in place, previous pair kept as .prev', async () => {
    const before = pair();
    const csr = await pendingKubeletClient();
    const pending = join(dir, 'kubelet-client-key.pem.new');
    expect(statSync(pending).mode & 0o777).toBe(0o600);
    const pendingSha = sha(pending);
    const chain = scratch('rotated.pem');
    expect(
      (await sign([...CP1, '--csr', csr, '--id', 'kubelet-client', '--out', chain])).code,
    ).toBe(0);

    const r = await install(['--node', 'cp-1', '--id', 'kubelet-client', '--cert', chain]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('installed kubelet-client\n');
    expect(pair()).toEqual({ cert: sha(chain), key: pendingSha });
    expect(existsSync(pending)).toBe(false);
    expect(prevPair()).toEqual(before);
    expect(statSync(join(dir, 'kubelet-client-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'kubelet-client-key.pem.prev')).mode & 0o777).toBe(0o600);
  });

  it('install: the same certificate again is a no-op success', async () => {
    const now = pair();
    const prev = prevPair();
    const mtime = statSync(join(dir, 'kubelet-client.pem')).mtimeMs;
    const chain = scratch('same.pem');
    writeFileSync(chain, readFileSync(join(dir, 'kubelet-client.pem')));
    const r = await install(['--node', 'cp-1', '--id', 'kubelet-client', '--cert', chain]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('unchanged kubelet-client\n');
    expect(pair()).toEqual(now);
    expect(prevPair()).toEqual(prev);
    expect(statSync(join(dir, 'kubelet-client.pem')).mtimeMs).toBe(mtime);
  });

  it('install rejects a certificate whose key is not the pending or current key', async () => {
    const now = pair();
    const prev = prevPair();
    const foreign = await handCsr('/O=system:nodes/CN=system:node:cp-1');
    const chain = scratch('foreign.pem');
    expect(
      (await sign([...CP1, '--csr', foreign.csr, '--id', 'kubelet-client', '--out', chain])).code,
    ).toBe(0);
    const r = await install(['--node', 'cp-1', '--id', 'kubelet-client', '--cert', chain]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not match the pending key .* nor the current key/);
    expect(pair()).toEqual(now);
    expect(prevPair()).toEqual(prev);
  });

  it('install leaves the old pair in place when the chain does not verify against the node’s bundle', async () => {
    const now = pair();
    const prev = prevPair();
    const csr = await pendingKubeletClient();
    const pendingSha = sha(join(dir, 'kubelet-client-key.pem.new'));
    // A second kubernetes-ca, signed by the same root but not in cp-1's bundle.
    const rogueCa = scratch('rogue-ca');
    const i = await runScript('issue-intermediate', [
      '--root-dir',
      join(lab.dir, 'offline'),
      '--ca',
      'kubernetes-ca',
      rogueCa,
    ]);
    expect(i.code, i.stderr).toBe(0);
    const rogue = scratch('rogue.pem');
    const s = await runScript('sign', [
      '--ca-dir',
      rogueCa,
      ...CP1,
      '--csr',
      csr,
      '--id',
      'kubelet-client',
      '--out',
      rogue,
    ]);
    expect(s.code, s.stderr).toBe(0);
    const r = await install(['--node', 'cp-1', '--id', 'kubelet-client', '--cert', rogue]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not verify against .*kubernetes-ca\.pem/);
    expect(pair()).toEqual(now);
    expect(prevPair()).toEqual(prev);
    expect(sha(join(dir, 'kubelet-client-key.pem.new'))).toBe(pendingSha);

    // A leaf without its intermediate is refused too.
    const leafOnly = scratch('leaf-only.pem');
    writeFileSync(
      leafOnly,
      readFileSync(rogue, 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/)[0]!,
    );
    const lo = await install(['--node', 'cp-1', '--id', 'kubelet-client', '--cert', leafOnly]);
    expect(lo.code).toBe(1);
    expect(lo.stderr).toContain('expected the leaf followed by its intermediate');
    expect(pair()).toEqual(now);

    // The pending key is still usable: signed by the real CA it installs.
    const good = scratch('good.pem');
    expect((await sign([...CP1, '--csr', csr, '--id', 'kubelet-client', '--out', good])).code).toBe(
      0,
    );
    const ok = await install(['--node', 'cp-1', '--id', 'kubelet-client', '--cert', good]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(pair()).toEqual({ cert: sha(good), key: pendingSha });
    expect(prevPair()).toEqual(now);
  });

  it('install converges after a crash at any point: leftovers, half-written version, previous already moved', async () => {
    const before = pair();
    const csr = await pendingKubeletClient();
    const pending = join(dir, 'kubelet-client-key.pem.new');
    const pendingSha = sha(pending);
    const chain = scratch('crash.pem');
    expect(
      (await sign([...CP1, '--csr', csr, '--id', 'kubelet-client', '--out', chain])).code,
    ).toBe(0);
    const pairs = join(dir, '.pairs', 'kubelet-client');
    const current = readlinkSync(join(pairs, 'current'));
    // A first run died: its temporary version dir is left, the final version holds only the
    // certificate (a crash inside a copy), and `previous` already points at the pair in use.
    mkdirSync(join(pairs, '.tmp.abcdef'));
    writeFileSync(join(pairs, '.tmp.abcdef', 'key.pem'), 'partial');
    const version = `v-${createHash('sha256').update(readFileSync(chain)).digest('hex').slice(0, 16)}`;
    mkdirSync(join(pairs, version));
    writeFileSync(join(pairs, version, 'cert.pem'), readFileSync(chain));
    rmSync(join(pairs, 'previous'));
    symlinkSync(current, join(pairs, 'previous'));
    expect(pair()).toEqual(before); // nothing a reader sees changed

    const r = await install(['--node', 'cp-1', '--id', 'kubelet-client', '--cert', chain]);
    expect(r.code, r.stderr).toBe(0);
    expect(pair()).toEqual({ cert: sha(chain), key: pendingSha });
    expect(prevPair()).toEqual(before);
    expect(readlinkSync(join(pairs, 'current'))).toBe(version);
    expect(readlinkSync(join(pairs, 'previous'))).toBe(current);
    // Only the two versions remain; the configured paths are links through `current`.
    expect(readdirSync(pairs).sort()).toEqual([current, version, 'current', 'previous'].sort());
    expect(lstatSync(join(dir, 'kubelet-client.pem')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'kubelet-client-key.pem'))).toBe(
      join(pairs, 'current', 'key.pem'),
    );
    const leaf = new X509Certificate(readFileSync(join(dir, 'kubelet-client.pem')));
    expect(leaf.subject).toContain('CN=system:node:cp-1');
  });

  it('install takes in a pair of plain files (the form before versioned pairs) without a mismatch', async () => {
    const plain = scratch('plain-pki');
    mkdirSync(plain);
    for (const f of ['kubelet-client.pem', 'kubelet-client-key.pem', 'kubernetes-ca.pem'])
      writeFileSync(join(plain, f), readFileSync(join(dir, f)), { mode: 0o600 });
    const before = {
      cert: sha(join(plain, 'kubelet-client.pem')),
      key: sha(join(plain, 'kubelet-client-key.pem')),
    };
    const csr = await runScript('node-csr', [
      ...CP1,
      '--pki-dir',
      plain,
      '--spool',
      join(plain, 'spool'),
      '--only',
      'kubelet-client',
    ]);
    expect(csr.code, csr.stderr).toBe(0);
    const chain = scratch('plain-chain.pem');
    expect(
      (await sign([...CP1, '--csr', csr.stdout.trim(), '--id', 'kubelet-client', '--out', chain]))
        .code,
    ).toBe(0);
    const r = await runScript('install', [
      '--pki-dir',
      plain,
      '--node',
      'cp-1',
      '--id',
      'kubelet-client',
      '--cert',
      chain,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(sha(join(plain, 'kubelet-client.pem'))).toBe(sha(chain));
    expect({
      cert: sha(join(plain, 'kubelet-client.pem.prev')),
      key: sha(join(plain, 'kubelet-client-key.pem.prev')),
    }).toEqual(before);
  });

  it('install --rollback restores the previous pair, idempotently', async () => {
    const prev = prevPair();
    const r = await install(['--node', 'cp-1', '--id', 'kubelet-client', '--rollback']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('installed kubelet-client\n');
    expect(pair()).toEqual(prev);
    const again = await install(['--node', 'cp-1', '--id', 'kubelet-client', '--rollback']);
    expect(again.stdout).toBe('unchanged kubelet-client\n');
    expect(pair()).toEqual(prev);
  });

  // ---------------------------------------------------------------------------- node-csr.sh

  it('node-csr reuses a pending key on a re-run, and replaces it with --new-key', async () => {
    const args = [
      ...CP1,
      '--pki-dir',
      dir,
      '--spool',
      join(tmp, 'spool2'),
      '--only',
      'kube-scheduler-client',
    ];
    const first = await runScript('node-csr', args);
    expect(first.code, first.stderr).toBe(0);
    const pending = join(dir, 'kube-scheduler-client-key.pem.new');
    const key1 = sha(pending);
    const second = await runScript('node-csr', args);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('reusing the pending key');
    expect(sha(pending)).toBe(key1);
    const third = await runScript('node-csr', [...args, '--new-key']);
    expect(third.code, third.stderr).toBe(0);
    expect(sha(pending)).not.toBe(key1);
    // Only certificates the node's roles need.
    const w = await runScript('node-csr', [
      '--node',
      'worker-1',
      '--roles',
      'worker',
      '--addresses',
      '10.77.0.21',
      '--pki-dir',
      join(tmp, 'w'),
      '--only',
      'kube-apiserver',
    ]);
    expect(w.code).toBe(1);
    expect(w.stderr).toContain("'kube-apiserver' is not one this node's roles (worker) need");
    rmSync(pending);
  });
});
