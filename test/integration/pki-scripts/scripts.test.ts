/**
 * The PKI scripts as programs: shellcheck-clean, usage on -h, arguments validated before
 * anything is touched, and the cfssl profiles consistent with layout.json.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLayout } from '../../../src/pki/layout.js';
import {
  CFSSL_CONFIG_PATH,
  describePki,
  LAYOUT_PATH,
  PKI_SCRIPT_NAMES,
  PKI_SCRIPTS,
  run,
  runScript,
} from '../../helpers/pki-lab.js';

const scripts = PKI_SCRIPT_NAMES.map((n) => join(PKI_SCRIPTS, `${n}.sh`));

describe('nix/pki: the script set', () => {
  it('every *.sh in nix/pki is listed (so shellcheck sees all of them)', () => {
    const onDisk = readdirSync(PKI_SCRIPTS)
      .filter((f) => f.endsWith('.sh'))
      .sort();
    expect(onDisk).toEqual(PKI_SCRIPT_NAMES.map((n) => `${n}.sh`).sort());
  });
});

describePki(
  'nix/pki scripts: shellcheck',
  () => {
    it('shellcheck reports nothing for any script (all severities)', async () => {
      const r = await run('shellcheck', ['-x', '--severity=style', '--format=gcc', ...scripts], {
        cwd: PKI_SCRIPTS,
      });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.code).toBe(0);
      // shellcheck -x follows lib.sh into every script: ~17 s on a busy 2-core machine.
    }, 90_000);

    it('every disable directive carries a justification', () => {
      for (const s of scripts) {
        const lines = readFileSync(s, 'utf8').split('\n');
        lines.forEach((line, i) => {
          if (!/#\s*shellcheck\s+disable=/.test(line)) return;
          // Justified on the same line ("# reason") or in the comment lines just above.
          const sameLine = /disable=\S+\s+#\s*\S/.test(line);
          const above = (lines[i - 1] ?? '').trim().startsWith('#');
          expect(sameLine || above, `${s}:${i + 1}: ${line}`).toBe(true);
        });
      }
    });
  },
  { extraTools: ['shellcheck'] },
);

describePki('nix/pki scripts: usage and argument validation', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'k8ops-pki-args-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('every script prints its usage on -h and exits 0', async () => {
    for (const name of PKI_SCRIPT_NAMES.filter((n) => n !== 'lib')) {
      const r = await runScript(name, ['-h']);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(new RegExp(`^Usage: ${name}\\.sh `));
      expect(r.stdout, name).not.toContain('$');
    }
  });

  it('unknown options and bad values are refused with exit 2, before any file is written', async () => {
    const cases: [string, string[], RegExp][] = [
      ['node-csr', ['--node', 'a;b', '--roles', 'worker', '--addresses', '10.0.0.1'], /node name/],
      ['node-csr', ['--node', 'Cp-1', '--roles', 'worker', '--addresses', '10.0.0.1'], /node name/],
      ['node-csr', ['--node', 'n', '--roles', 'worker,boss', '--addresses', '10.0.0.1'], /role/],
      ['node-csr', ['--node', 'n', '--roles', 'worker', '--addresses', '10.0.0.1;x'], /address/],
      ['node-csr', ['--node', 'n', '--roles', 'worker', '--addresses', '010.0.0.1'], /address/],
      ['node-csr', ['--node', 'n', '--roles', 'worker', '--addresses', 'fd00::1::2'], /address/],
      ['node-csr', ['--node', 'n', '--roles', 'worker'], /--addresses is required/],
      [
        'node-csr',
        [
          '--node',
          'n',
          '--roles',
          'worker',
          '--addresses',
          '10.0.0.1',
          '--apiserver-address',
          '$(id)',
        ],
        /API server address/,
      ],
      ['sign', ['--csr', 'x.csr', '--id', '../etc/passwd'], /invalid id/],
      ['sign', ['--csr', 'x.csr', '--id', 'kubelet', '--bogus'], /unexpected argument/],
      ['install', ['--node', 'n', '--id', 'kubelet'], /--cert is required/],
      ['install', ['--node', 'n', '--id', 'kubelet', '--cert', 'a\nb'], /control characters/],
      ['issue-intermediate', ['--root-dir', tmp, '--ca', 'Bad_Id', join(tmp, 'x')], /invalid id/],
      ['gen-lab', [join(tmp, 'lab'), 'ca:worker:10.0.0.1'], /reserved/],
      ['gen-lab', [join(tmp, 'lab'), 'w-1:worker'], /expected NODE:ROLES:ADDR/],
      ['gen-lab', [join(tmp, 'lab'), 'w-1:worker:1.2.3.4', 'w-1:worker:1.2.3.5'], /twice/],
      ['status', ['--node', 'bad node'], /node name/],
      ['bundles', ['--roles', ''], /no roles/],
    ];
    for (const [name, args, message] of cases) {
      const r = await runScript(name, args, { cwd: tmp });
      expect(r.code, `${name} ${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, `${name} ${args.join(' ')}`).toMatch(message);
    }
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('status fails (exit 1, nothing on stdout) for a missing PKI directory', async () => {
    const r = await runScript('status', ['--pki-dir', join(tmp, 'nope')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('does not exist');
  });

  it('a layout with a path escaping the PKI dir is refused', async () => {
    const bad = JSON.parse(readFileSync(LAYOUT_PATH, 'utf8'));
    bad.certs[0].key = '../../etc/shadow';
    const file = join(tmp, 'bad-layout.json');
    writeFileSync(file, JSON.stringify(bad));
    const r = await runScript('node-csr', [
      '--layout',
      file,
      '--node',
      'n',
      '--roles',
      'worker',
      '--addresses',
      '10.0.0.1',
      '--pki-dir',
      join(tmp, 'never'),
    ]);
    rmSync(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('certs[0]: cert/key: expected relative paths without ".."');
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describePki('status.sh on odd files', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'k8ops-pki-status-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const env = { ...process.env, SSL_CERT_FILE: '/dev/null', SSL_CERT_DIR: '/nonexistent' };

  it('reports kind, digest or error per file, and encodes any file name', async () => {
    const dir = join(tmp, 'pki');
    const ok = async (cmd: string) => {
      const r = await run('bash', ['-euo', 'pipefail', '-c', cmd], { cwd: tmp, env });
      expect(r.code, r.stderr).toBe(0);
    };
    await ok(`mkdir -p pki/subdir
      openssl ecparam -name secp521r1 -genkey -out pki/ecparams-key.pem
      openssl pkey -in pki/ecparams-key.pem -pubout -out pki/ecparams.pub
      openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -aes256 -pass pass:x -out pki/encrypted-key.pem
      openssl req -x509 -new -key pki/ecparams-key.pem -sha512 -subj /CN=t -days 1 -out pki/self.pem
      head -c 300 pki/self.pem > pki/truncated.pem
      head -c 200 /dev/urandom > pki/random.bin
      cp pki/self.pem "pki/we\\"ird
name.pem"
      ln -s /nonexistent pki/dangling.pem
      chmod 0640 pki/ecparams.pub`);
    const r = await runScript('status', ['--pki-dir', dir, '--node', 'n-1']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      files: {
        path: string;
        kind: string;
        exists: boolean;
        mode: string;
        error?: string;
        pubkeySha256: string | null;
      }[];
    };
    const f = Object.fromEntries(doc.files.map((x) => [x.path.slice(dir.length + 1), x]));
    expect(Object.keys(f).sort()).toEqual(
      [
        'dangling.pem',
        'ecparams-key.pem',
        'ecparams.pub',
        'encrypted-key.pem',
        'random.bin',
        'self.pem',
        'truncated.pem',
        'we"ird\nname.pem',
      ].sort(),
    );
    // EC PARAMETERS before the key is skipped: a key, and its digest is its public key's.
    expect(f['ecparams-key.pem']).toMatchObject({ kind: 'key', mode: '0600', exists: true });
    expect(f['ecparams-key.pem']!.pubkeySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(f['ecparams.pub']).toMatchObject({ kind: 'pub', mode: '0640' });
    expect(f['ecparams.pub']!.pubkeySha256).toBe(f['ecparams-key.pem']!.pubkeySha256);
    expect(f['self.pem']!.pubkeySha256).toBe(f['ecparams-key.pem']!.pubkeySha256);
    expect(f['we"ird\nname.pem']).toMatchObject({
      kind: 'cert',
      pubkeySha256: f['self.pem']!.pubkeySha256,
    });
    expect(f['encrypted-key.pem']).toMatchObject({ kind: 'key', pubkeySha256: null });
    expect(f['encrypted-key.pem']!.error).toMatch(/private key/);
    expect(f['truncated.pem']).toMatchObject({ kind: 'cert', pubkeySha256: null });
    expect(f['truncated.pem']!.error).toMatch(/certificate/);
    expect(f['random.bin']).toMatchObject({ kind: 'other', pubkeySha256: null });
    expect(f['random.bin']!.error).toBeUndefined();
    expect(f['dangling.pem']).toMatchObject({ kind: 'other', exists: false, pubkeySha256: null });
  });
});

describe('nix/pki/cfssl-config.json agrees with layout.json', () => {
  const cfg = JSON.parse(readFileSync(CFSSL_CONFIG_PATH, 'utf8')) as {
    signing: {
      default: { expiry: string; usages: string[] };
      profiles: Record<
        string,
        {
          expiry: string;
          usages: string[];
          ca_constraint?: { is_ca: boolean; max_path_len: number; max_path_len_zero?: boolean };
        }
      >;
    };
  };
  const parsed = parseLayout(readFileSync(LAYOUT_PATH, 'utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  const layout = parsed.layout;
  const p = cfg.signing.profiles;

  it('has the profiles root, intermediate, server, client, peer with their lifetimes', () => {
    expect(Object.keys(p).sort()).toEqual(['client', 'intermediate', 'peer', 'root', 'server']);
    expect(p.root?.expiry).toBe('350640h');
    expect(p.intermediate?.expiry).toBe('1440h');
    for (const leaf of ['server', 'client', 'peer']) expect(p[leaf]?.expiry).toBe('336h');
  });

  it('every CA and certificate of the layout names an existing profile; CA lifetimes match', () => {
    for (const ca of layout.cas) {
      expect(p[ca.profile], ca.id).toBeDefined();
      expect(p[ca.profile]?.expiry, ca.id).toBe(ca.lifetime);
      expect(p[ca.profile]?.ca_constraint?.is_ca, ca.id).toBe(true);
    }
    for (const c of layout.certs) expect(p[c.profile], c.id).toBeDefined();
  });

  it('intermediates: cert sign + crl sign, CA with pathlen 0 (max_path_len_zero)', () => {
    expect(p.intermediate?.usages.sort()).toEqual(['cert sign', 'crl sign']);
    expect(p.intermediate?.ca_constraint).toEqual({
      is_ca: true,
      max_path_len: 0,
      max_path_len_zero: true,
    });
  });

  it('leaves carry the key usages Kubernetes requires', () => {
    expect(p.server?.usages).toEqual(['digital signature', 'key encipherment', 'server auth']);
    expect(p.client?.usages).toEqual(['digital signature', 'key encipherment', 'client auth']);
    expect(p.peer?.usages).toEqual([
      'digital signature',
      'key encipherment',
      'server auth',
      'client auth',
    ]);
  });

  it('the default profile is harmless (cfssl 1.2 falls back to it for an unknown profile)', () => {
    expect(cfg.signing.default).toEqual({ expiry: '1h', usages: ['digital signature'] });
  });
});
