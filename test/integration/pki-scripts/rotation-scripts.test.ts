/**
 * ca-rotate.sh, issue-intermediate.sh --csr, bundle-install.sh and sa-rotate.sh as programs,
 * against a real lab built by gen-lab.sh: what each refuses (before touching anything), that
 * each step is idempotent, and that a step cut at any point on disk (the states a crash
 * leaves, made by hand) converges on the next run.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLab, describePki, type Lab, run, runScript } from '../../helpers/pki-lab.js';

const CA = 'front-proxy-ca';
const OPENSSL_ENV = { ...process.env, SSL_CERT_FILE: '/dev/null', SSL_CERT_DIR: '/nonexistent' };

describePki('the rotation scripts on a real lab', () => {
  let tmp: string;
  let lab: Lab;
  let dir: string;
  let caDir: string;
  let n = 0;
  const scratch = (name: string) => join(tmp, `${++n}-${name}`);
  const ca = (...args: string[]) => runScript('ca-rotate', [...args, '--ca-dir', caDir]);
  const status = async () => JSON.parse((await ca('status', '--ca', CA)).stdout);
  const state = () => join(caDir, '.cas', CA);
  const ceremony = async (csr: string) => {
    const f = scratch('succ.csr');
    writeFileSync(f, csr);
    const out = scratch('succ.pem');
    const r = await runScript('issue-intermediate', [
      '--root-dir',
      join(lab.dir, 'offline'),
      '--ca',
      CA,
      '--csr',
      f,
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    return out;
  };
  const bundle = (...args: string[]) => runScript('bundle-install', [...args, '--pki-dir', dir]);
  const sa = (...args: string[]) => runScript('sa-rotate', [...args, '--pki-dir', dir]);

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'k8ops-rot-scripts-'));
    lab = await buildLab(join(tmp, 'lab'), [
      { name: 'cp-1', roles: ['control-plane', 'etcd'], addresses: ['10.77.0.11'] },
    ]);
    dir = lab.nodes['cp-1']!.dir;
    caDir = lab.caDir;
  }, 300_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('usage: actions, ids and values are checked before anything is touched (exit 2)', async () => {
    for (const [name, args, msg] of [
      ['ca-rotate', ['frobnicate', '--ca', CA], /unknown action/],
      ['ca-rotate', ['status', '--ca', '../etc'], /invalid id/],
      ['ca-rotate', ['switch', '--ca', CA, '--min-lead', '-1'], /--min-lead/],
      ['ca-rotate', ['mark-bundled', '--ca', CA, '--version', 'v-xyz'], /invalid version/],
      ['ca-rotate', ['accept', '--ca', CA], /accept needs --cert/],
      ['ca-rotate', ['bundle'], /bundle needs --bundle/],
      ['bundle-install', ['--bundle', 'a;b', '--certs', '-'], /invalid id/],
      ['bundle-install', ['--bundle', 'x', '--check', '--restarted'], /exclude each other/],
      ['bundle-install', ['--bundle', 'x'], /--certs is required/],
      ['sa-rotate', ['trust'], /trust needs --pubs/],
      ['sa-rotate', ['switch', '--pubs', '-'], /--pubs goes with trust/],
      ['sa-rotate', ['nope'], /unknown action/],
    ] as const) {
      const r = await runScript(name, [...args]);
      expect(r.code, `${name} ${args.join(' ')}`).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    // The root is never rotated here; an unknown CA or bundle is named.
    expect((await ca('stage', '--ca', 'k8s-root')).stderr).toMatch(
      /is the root: its key is offline/,
    );
    expect((await ca('stage', '--ca', 'nope')).stderr).toMatch(/not in the layout/);
    expect((await bundle('--bundle', 'nope', '--show')).stderr).toMatch(/not in the layout/);
  });

  it('issue-intermediate --csr (the ceremony) signs only a P-521 CSR with the CA subject of the layout', async () => {
    const key = scratch('k.pem');
    execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      key,
    ]);
    const p256 = scratch('p256.csr');
    execFileSync(
      'openssl',
      ['req', '-new', '-key', key, '-subj', `/O=k8ops/CN=${CA}`, '-out', p256],
      { env: OPENSSL_ENV },
    );
    const root = ['--root-dir', join(lab.dir, 'offline'), '--ca', CA, '--csr'];
    const a = await runScript('issue-intermediate', [...root, p256]);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/not ECDSA P-521/);
    const key5 = scratch('k5.pem');
    execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-521',
      '-out',
      key5,
    ]);
    const other = scratch('other.csr');
    execFileSync(
      'openssl',
      ['req', '-new', '-key', key5, '-subj', '/O=k8ops/CN=kubernetes-ca', '-out', other],
      { env: OPENSSL_ENV },
    );
    const b = await runScript('issue-intermediate', [...root, other]);
    expect(b.stderr).toMatch(/is not intermediate front-proxy-ca's/);
    const c = await runScript('issue-intermediate', [...root, other, 'OUTDIR']);
    expect(c.code).toBe(2);
  });

  it('a whole rotation step by step: stage (idempotent), accept (checked), bundle, mark, switch (lead), retire (time rule), finish', async () => {
    expect((await status()).phase).toBe('steady');
    const s1 = await ca('stage', '--ca', CA);
    expect(s1.code, s1.stderr).toBe(0);
    const s2 = await ca('stage', '--ca', CA);
    const pub = (csr: string) =>
      execFileSync('openssl', ['req', '-noout', '-pubkey'], { input: csr, encoding: 'utf8' });
    expect(pub(s2.stdout)).toBe(pub(s1.stdout));
    expect((await status()).phase).toBe('pending');
    // <ca>.pem / <ca>-key.pem are now links through `current` (same bytes as before).
    expect(readlinkSync(join(caDir, `${CA}.pem`))).toBe(`.cas/${CA}/current/cert.pem`);
    // accept refuses what the root did not sign, and a certificate without the pending key.
    const selfSigned = scratch('self.pem');
    const k = scratch('self-key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-521',
        '-nodes',
        '-keyout',
        k,
        '-subj',
        `/O=k8ops/CN=${CA}`,
        '-days',
        '30',
        '-out',
        selfSigned,
      ],
      { env: OPENSSL_ENV },
    );
    const bad = await ca('accept', '--ca', CA, '--cert', selfSigned);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/does not carry the pending key/);
    expect((await ca('accept', '--ca', CA, '--cert', scratch('missing.pem'))).code).toBe(1);
    const garbage = scratch('garbage.pem');
    writeFileSync(
      garbage,
      '-----BEGIN CERTIFICATE-----\n\u001b[31mnot base64\n-----END CERTIFICATE-----\n',
    );
    expect((await ca('accept', '--ca', CA, '--cert', garbage)).code).toBe(1);
    const succ = await ceremony(s1.stdout);
    const acc = await ca('accept', '--ca', CA, '--cert', succ);
    expect(acc.code, acc.stderr).toBe(0);
    expect(acc.stdout).toMatch(/^accepted front-proxy-ca v-[0-9a-f]{16}\n$/);
    expect((await ca('accept', '--ca', CA, '--cert', succ)).stdout).toMatch(/^unchanged /);
    const st = await status();
    expect(st.phase).toBe('issued');
    expect(existsSync(join(state(), 'pending-key.pem'))).toBe(false);
    // bundle: current then next; the node's bundle takes it, with a restart marked.
    const b = await ca('bundle', '--bundle', 'front-proxy-ca-bundle');
    expect(b.stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const bf = scratch('bundle.pem');
    writeFileSync(bf, b.stdout);
    expect((await bundle('--bundle', 'front-proxy-ca-bundle', '--certs', bf)).stdout).toBe(
      'installed front-proxy-ca-bundle\n',
    );
    expect((await bundle('--bundle', 'front-proxy-ca-bundle', '--certs', bf)).stdout).toBe(
      'pending front-proxy-ca-bundle\n',
    );
    const shown = JSON.parse((await bundle('--bundle', 'front-proxy-ca-bundle', '--show')).stdout);
    expect(shown).toMatchObject({ exists: true, restartPending: true });
    expect(shown.fingerprints).toEqual([st.current.fingerprint, st.next.fingerprint]);
    await bundle('--bundle', 'front-proxy-ca-bundle', '--restarted');
    expect((await bundle('--bundle', 'front-proxy-ca-bundle', '--certs', bf)).stdout).toBe(
      'unchanged front-proxy-ca-bundle\n',
    );
    // switch: refused before mark-bundled, and before the lead has passed.
    expect((await ca('switch', '--ca', CA)).stderr).toMatch(/not marked as in every bundle/);
    expect((await ca('mark-bundled', '--ca', CA, '--version', 'v-0000000000000000')).code).toBe(1);
    expect((await ca('mark-bundled', '--ca', CA, '--version', st.next.version)).stdout).toMatch(
      /^bundled /,
    );
    expect((await ca('mark-bundled', '--ca', CA, '--version', st.next.version)).stdout).toMatch(
      /^unchanged /,
    );
    expect((await ca('switch', '--ca', CA, '--min-lead', '3600')).stderr).toMatch(
      /needs 3600 s of bundle lead/,
    );
    // A stage now is refused: a successor is issued.
    expect((await ca('stage', '--ca', CA)).stdout).toBe('');
    const sw = await ca('switch', '--ca', CA);
    expect(sw.stdout).toBe(`switched ${CA} ${st.next.version}\n`);
    expect((await ca('switch', '--ca', CA)).stdout).toBe(`unchanged ${CA} ${st.next.version}\n`);
    // sign.sh signs with the successor now: the link through current switched.
    const fp = (f: string) =>
      execFileSync('openssl', ['x509', '-in', f, '-noout', '-fingerprint', '-sha256'], {
        encoding: 'utf8',
      });
    expect(fp(join(caDir, `${CA}.pem`))).toBe(fp(succ));
    const after = await status();
    expect(after).toMatchObject({ phase: 'switched', old: { version: st.current.version } });
    expect(after.retireFrom).toBe(after.switchedAt + after.leafMaxSeconds);
    // retire: the time rule (switch + longest leaf lifetime), unless --early.
    const early = await ca('retire', '--ca', CA);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/may be valid until .* \(switch \+ 1209600 s\)/);
    // A stage is refused until the old one is gone from every bundle.
    expect((await ca('stage', '--ca', CA)).stderr).toMatch(/previous rotation is not finished/);
    // The node refuses a bundle without the old version while its leaf needs it.
    const without = scratch('without.pem');
    writeFileSync(
      without,
      (await ca('bundle', '--bundle', 'front-proxy-ca-bundle', '--without-old')).stdout,
    );
    const strand = await bundle('--bundle', 'front-proxy-ca-bundle', '--certs', without, '--check');
    expect(strand.code).toBe(1);
    expect(strand.stderr).toMatch(/front-proxy-client .* would not verify against the new bundle/);
    expect((await bundle('--bundle', 'front-proxy-ca-bundle', '--certs', without)).code).toBe(1);
    expect(readFileSync(join(dir, 'front-proxy-ca.pem'), 'utf8')).toBe(b.stdout);
    const r = await ca('retire', '--ca', CA, '--early');
    expect(r.stdout).toBe(`retired ${CA} ${st.current.version}\n`);
    expect((await status()).phase).toBe('retired');
    expect((await ca('retire', '--ca', CA, '--early')).stdout).toMatch(/^unchanged /);
    expect(existsSync(join(state(), st.current.version))).toBe(false);
    expect((await ca('finish', '--ca', CA)).stdout).toBe(`finished ${CA}\n`);
    expect((await ca('finish', '--ca', CA)).stdout).toBe(`unchanged ${CA}\n`);
    expect((await status()).phase).toBe('steady');
  });

  it('cut on disk: a half-made version, a switch after its first rename, a retire after its record: each converges on the next run', async () => {
    const s = await ca('stage', '--ca', CA);
    const succ = await ceremony(s.stdout);
    // An accept cut while it wrote the version directory (a half-written key; `next` not
    // pointed yet, the pending key still there): the next accept rebuilds it.
    const norm = execFileSync('openssl', ['x509', '-in', succ], { encoding: 'utf8' });
    const v = `v-${execFileSync('sha256sum', { input: norm, encoding: 'utf8' }).slice(0, 16)}`;
    execFileSync('mkdir', ['-p', join(state(), v)]);
    writeFileSync(join(state(), v, 'cert.pem'), norm);
    writeFileSync(join(state(), v, 'key.pem'), '-----BEGIN PRIVATE KEY-----\n');
    const acc = await ca('accept', '--ca', CA, '--cert', succ);
    expect(acc.stdout).toBe(`accepted ${CA} ${v}\n`);
    const pair = (f: string) =>
      execFileSync(
        'openssl',
        f.endsWith('key.pem')
          ? ['pkey', '-in', f, '-pubout']
          : ['x509', '-in', f, '-noout', '-pubkey'],
        {
          encoding: 'utf8',
        },
      );
    expect(pair(join(state(), v, 'key.pem'))).toBe(pair(join(state(), v, 'cert.pem')));
    // Cut after `next` was pointed, before the pending key was removed: unchanged, tidied.
    writeFileSync(join(state(), 'pending-key.pem'), readFileSync(join(state(), v, 'key.pem')));
    expect((await ca('accept', '--ca', CA, '--cert', succ)).stdout).toBe(`unchanged ${CA} ${v}\n`);
    expect(existsSync(join(state(), 'pending-key.pem'))).toBe(false);
    // The bundle holds it; the switch, the retire and the finish of this one.
    await ca('mark-bundled', '--ca', CA, '--version', v);
    await ca('switch', '--ca', CA);
    await ca('retire', '--ca', CA, '--early');
    await ca('finish', '--ca', CA);
    expect((await status()).phase).toBe('steady');
    // Start over cleanly, then cut the switch after its first rename (old -> current).
    const s2 = await ca('stage', '--ca', CA);
    const succ2 = await ceremony(s2.stdout);
    const v2 = (await ca('accept', '--ca', CA, '--cert', succ2)).stdout.trim().split(' ')[2]!;
    await ca('mark-bundled', '--ca', CA, '--version', v2);
    const cur = readlinkSync(join(state(), 'current'));
    writeFileSync(join(state(), 'switched'), `${cur} ${v2} ${Math.floor(Date.now() / 1000)}\n`);
    symlinkSync(cur, join(state(), 'old'));
    expect((await status()).phase).toBe('switched');
    expect(readlinkSync(join(state(), 'current'))).toBe(cur); // still signing with the old one
    const sw = await ca('switch', '--ca', CA);
    expect(sw.stdout).toBe(`switched ${CA} ${v2}\n`);
    expect(readlinkSync(join(state(), 'current'))).toBe(v2);
    expect(existsSync(join(state(), 'next'))).toBe(false);
    // A retire cut after its record: the next run finishes it without a second time check.
    writeFileSync(join(state(), 'retired'), `${cur} ${Math.floor(Date.now() / 1000)}\n`);
    const r = await ca('retire', '--ca', CA);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`retired ${CA} ${cur}\n`);
    expect((await ca('finish', '--ca', CA)).stdout).toBe(`finished ${CA}\n`);
    expect((await status()).phase).toBe('steady');
  });

  it('bundle-install refuses a root, a foreign CA, too many certificates, garbage; --rollback restores the previous content', async () => {
    const rootPem = readFileSync(lab.root.cert, 'utf8');
    const etcd = readFileSync(join(caDir, 'etcd-ca.pem'), 'utf8');
    const own = readFileSync(join(dir, 'front-proxy-ca.pem'), 'utf8');
    const f = (content: string) => {
      const p = scratch('b.pem');
      writeFileSync(p, content);
      return p;
    };
    const cases: [string, RegExp][] = [
      [rootPem + own, /self-signed: a root never goes into a bundle/],
      [etcd, /is not one of its CAs/],
      [own.repeat(17), /at most 16/],
      ['\u001b]0;owned\u0007 nothing here\n', /no certificate given/],
    ];
    for (const [content, msg] of cases) {
      const r = await bundle('--bundle', 'front-proxy-ca-bundle', '--certs', f(content));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(msg);
      expect(readFileSync(join(dir, 'front-proxy-ca.pem'), 'utf8')).toBe(own);
    }
    // Duplicates dropped; then a rollback puts the content before that back.
    const twice = await bundle(
      '--bundle',
      'front-proxy-ca-bundle',
      '--certs',
      f(own + own + readFileSync(join(caDir, `${CA}.pem`), 'utf8')),
    );
    expect(twice.code, twice.stderr).toBe(0);
    const rb = await bundle('--bundle', 'front-proxy-ca-bundle', '--rollback');
    expect(rb.stdout).toBe('installed front-proxy-ca-bundle\n');
    expect(readFileSync(join(dir, 'front-proxy-ca.pem'), 'utf8')).toBe(own);
    await bundle('--bundle', 'front-proxy-ca-bundle', '--restarted');
  });

  it('sa-rotate: trust must keep the node key, switch needs its key trusted, finish refuses a pending key; a switch cut before its rename converges', async () => {
    const key = join(dir, 'sa-key.pem');
    const old = readFileSync(key, 'utf8');
    const oldPub = execFileSync('openssl', ['pkey', '-in', key, '-pubout'], { encoding: 'utf8' });
    const staged = await sa('stage');
    expect(staged.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect((await sa('switch')).stderr).toMatch(/does not trust the pending key yet/);
    const f = (content: string) => {
      const p = scratch('pubs.pem');
      writeFileSync(p, content);
      return p;
    };
    expect((await sa('trust', '--pubs', f(staged.stdout))).stderr).toMatch(
      /do not include this node's signing key/,
    );
    const p256 = scratch('p256.pem');
    execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      p256,
    ]);
    const p256pub = execFileSync('openssl', ['pkey', '-in', p256, '-pubout'], { encoding: 'utf8' });
    expect((await sa('trust', '--pubs', f(oldPub + p256pub))).stderr).toMatch(
      /is not a secp521r1 key/,
    );
    expect((await sa('finish')).stdout).toBe('unchanged service-account\n');
    expect((await sa('trust', '--pubs', f(staged.stdout + oldPub))).stdout).toBe(
      'installed service-account\n',
    );
    // The node's own key stays first (what sa-keygen.sh and the checks expect).
    expect(readFileSync(join(dir, 'sa.pub'), 'utf8').startsWith(oldPub)).toBe(true);
    // A switch cut after it kept the previous key but before the rename: run again.
    const prev = join(dir, '.sa', 'service-account', 'previous-key.pem');
    writeFileSync(prev, old, { mode: 0o600 });
    expect((await sa('switch')).stdout).toBe('switched service-account\n');
    expect(readFileSync(prev, 'utf8')).toBe(old);
    expect(readFileSync(key, 'utf8')).not.toBe(old);
    expect(readFileSync(join(dir, 'sa.pub'), 'utf8').startsWith(staged.stdout)).toBe(true);
    const st = JSON.parse((await sa('status')).stdout);
    expect(st).toMatchObject({ pending: null, restartPending: true });
    expect(st.trusted).toHaveLength(2);
    expect(JSON.stringify(st)).not.toMatch(/PRIVATE KEY/); // public material only
    // Back: rollback (the new key pending again), then forward and finish.
    expect((await sa('rollback')).stdout).toBe('rolledback service-account\n');
    expect(readFileSync(key, 'utf8')).toBe(old);
    expect((await sa('finish')).code).toBe(0);
    expect((await sa('switch')).stdout).toBe('switched service-account\n');
    expect((await sa('stage')).stdout).toBe(''); // switched: nothing to stage until finish
    expect((await sa('finish')).stdout).toBe('finished service-account\n');
    expect(existsSync(prev)).toBe(false);
    await sa('restarted');
  });

  it('every new script is shellcheck-clean under bash and prints its usage', async () => {
    for (const s of ['ca-rotate', 'bundle-install', 'sa-rotate']) {
      const h = await runScript(s, ['-h']);
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`^Usage: ${s}\\.sh `));
    }
    const r = await run('bash', ['-n', join(import.meta.dirname, '../../../nix/pki/ca-rotate.sh')]);
    expect(r.code).toBe(0);
  });
});
