/**
 * The cached pki-status path's node scripts and pure parsers (src/nodes/pki-status-fast.ts):
 * the scripts are shellcheck-clean POSIX sh and run under dash and bash against a real
 * directory; the parsers never throw on garbage and ask for the status.sh fallback on
 * anything unexpected; kinds and digests follow status.sh's rules.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deriveScript,
  describeDerived,
  identityScript,
  PkiStatusCache,
  parseDerive,
  parseIdentity,
  pemKind,
} from '../../../src/nodes/pki-status-fast.js';
import { withDeadline } from '../../../src/nodes/remote-scripts.js';
import { describeKeyMaterial } from '../../../src/pki/status.js';
import { type Issued, issue, makeRoot, pubToPem } from '../../helpers/pki-certs.js';

const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

let dir: string;
let root: Issued;
let leaf: Issued;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'k8ops-fast-status-'));
  root = await makeRoot();
  leaf = await issue(root, { cn: 'etcd', eku: ['serverAuth'] });
  writeFileSync(join(dir, 'etcd.pem'), leaf.pem + root.pem);
  writeFileSync(join(dir, 'etcd-key.pem'), leaf.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'sa.pub'), pubToPem(leaf.keys.publicKey));
  symlinkSync(join(dir, 'nowhere'), join(dir, 'gone.pem'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(['dash', 'bash'].filter(have))('the node scripts under %s', (shell) => {
  it('identity: one line per regular file and dangling symlink, parsed in C order', () => {
    const out = execFileSync(shell, ['-c', identityScript(dir, 'n0nce').text]).toString();
    const r = parseIdentity(out, 'n0nce');
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.entries.map((e) => [e.name, e.type, e.mode])).toEqual([
      ['etcd-key.pem', 'file', '0600'],
      ['etcd.pem', 'file', expect.stringMatching(/^0[0-7]{3}$/)],
      ['gone.pem', 'dangling', '0777'],
      ['sa.pub', 'file', expect.stringMatching(/^0[0-7]{3}$/)],
    ]);
    expect(r.entries[0]!.id).toMatch(/^\d+:\d+:\d+(\.\d+)?:\d+(\.\d+)?$/);
    expect(
      parseIdentity(
        execFileSync(shell, ['-c', identityScript(join(dir, 'no'), 'x').text]).toString(),
        'x',
      ),
    ).toEqual({ kind: 'nodir' });
  });

  it.skipIf(!have('openssl'))(
    'derive: the key file comes back redacted with its public key; digests agree',
    () => {
      const names = ['etcd-key.pem', 'etcd.pem', 'sa.pub', 'missing.pem'];
      const out = execFileSync(shell, ['-c', deriveScript(dir, names, 'n0nce').text]).toString();
      const d = parseDerive(out, 'n0nce', names.length);
      const keyBody = leaf.keyPem.split('\n')[1]!;
      expect(d[0]!.content).toContain('-----BEGIN PRIVATE KEY-----');
      expect(d[0]!.content).not.toContain(keyBody);
      expect(d[0]!.pub).toContain('-----BEGIN PUBLIC KEY-----');
      expect(d[1]!.pub).toBeUndefined(); // no openssl for a certificate
      expect(d[3]!.error).toBe('missing');
      const want = describeKeyMaterial(leaf.pem).pubkeySha256;
      expect(describeDerived(d[0]!)).toEqual({ kind: 'key', pubkeySha256: want });
      expect(describeDerived(d[1]!)).toEqual({ kind: 'cert', pubkeySha256: want });
      expect(describeDerived(d[2]!)).toEqual({ kind: 'pub', pubkeySha256: want });
    },
  );
});

describe.skipIf(!have('shellcheck'))('shellcheck', () => {
  it('both scripts (as sent: inside withDeadline) are clean POSIX sh', () => {
    const file = join(dir, 'check.sh');
    for (const s of [
      withDeadline(identityScript('/etc/kubernetes/pki', 'abc'), 5),
      withDeadline(deriveScript('/etc/kubernetes/pki', ['a.pem', '-b.pem'], 'abc'), 5),
    ]) {
      writeFileSync(file, `#!/bin/sh\n${s.text}\n`);
      const r = spawnSync('shellcheck', ['-s', 'sh', file]);
      expect(r.stdout.toString()).toBe('');
      expect(r.status).toBe(0);
    }
  });
});

describe.skipIf(!have('openssl'))('PkiStatusCache (scripts run by a local sh)', () => {
  it('a refresh cut short keeps what it derived; the next one derives only the rest', async () => {
    const big = mkdtempSync(join(tmpdir(), 'k8ops-fast-chunks-'));
    try {
      for (let i = 0; i < 20; i++)
        writeFileSync(join(big, `c${String(i).padStart(2, '0')}.pem`), root.pem);
      let n = 0;
      const cache = new PkiStatusCache({ node: 'cp-1', newNonce: () => `n${++n}` });
      let requests = 0;
      let failAt = 3; // identity, derive (16 files), then the second derive fails
      const run = async (cmd: { text: string }) => {
        requests++;
        if (requests === failAt) throw new Error('timed out');
        return execFileSync('sh', ['-c', cmd.text]).toString();
      };
      await expect(cache.status(big, run)).rejects.toThrow('timed out');
      expect(cache.stats.derived).toBe(16);
      failAt = 0;
      const st = await cache.status(big, run);
      if (!('version' in st)) throw new Error('expected a status');
      expect(cache.stats.derived).toBe(20); // only the 4 left
      expect(st.files).toHaveLength(20);
      const want = describeKeyMaterial(root.pem).pubkeySha256;
      expect(st.files.every((f) => f.kind === 'cert' && f.pubkeySha256 === want)).toBe(true);
      const before = requests;
      await cache.status(big, run);
      expect(requests - before).toBe(1); // warm: the identity request alone
    } finally {
      rmSync(big, { recursive: true, force: true });
    }
  });
});

describe('pure parts', () => {
  it('pemKind follows status.sh: first block, EC PARAMETERS skipped', () => {
    expect(
      pemKind(
        '-----BEGIN EC PARAMETERS-----\nx\n-----END EC PARAMETERS-----\n-----BEGIN EC PRIVATE KEY-----\n',
      ),
    ).toBe('key');
    expect(pemKind(`${leaf.pem}${leaf.keyPem}`)).toBe('cert');
    expect(pemKind('-----BEGIN RSA PUBLIC KEY-----')).toBe('pub');
    expect(pemKind('-----BEGIN X509 CRL-----')).toBe('other');
    expect(pemKind('hello')).toBe('other');
  });

  it('describeDerived: status.sh error texts; unreadable content is an error, not a throw', () => {
    expect(
      describeDerived({
        content: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
        pub: null,
      }),
    ).toEqual({
      kind: 'key',
      pubkeySha256: null,
      error: 'openssl could not read the private key (encrypted or corrupt)',
    });
    expect(
      describeDerived({ content: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' })
        .error,
    ).toBe('openssl could not read the first certificate');
    expect(describeDerived({ error: 'denied' })).toMatchObject({
      kind: 'other',
      pubkeySha256: null,
    });
  });

  it('garbage, truncation and forged lines never throw; identity asks for the fallback', () => {
    const samples = [
      '',
      'K8OPS-n user root\n',
      'K8OPS-n user root\nK8OPS-n f r 81a4 1 2 3 4 644 root root a.pem\n', // no done, no `.`
      'K8OPS-n user root\nK8OPS-n f r zz 1 2 3 4 644 root root a.pem\nK8OPS-n done\n',
      'K8OPS-n user root\nK8OPS-n f r 41ed 1 2 3 4 755 root root .\nK8OPS-n f r 81a4 1 2 3 4 644 root root a b\nK8OPS-n done\n',
      'K8OPS-n user root\nK8OPS-n done\n', // no `.`: not GNU stat
      '\u0000\u0001\u00ff'.repeat(100),
    ];
    for (const s of samples) {
      const r = parseIdentity(s, 'n');
      expect(r.kind).toBe('fallback');
      expect(() => parseDerive(s, 'n', 3)).not.toThrow();
    }
    const ok = parseIdentity(
      'K8OPS-n user root\nK8OPS-n f r 41ed 1 2 3 4 755 root root .\nK8OPS-n f r 81a4 9 2 3.5 4.5 644 root root b.pem\nK8OPS-n f r 41ed 8 2 3 4 755 root root sub\nK8OPS-n f - 81a4 7 2 3 4 600 root root a.pem\nK8OPS-n done\n',
      'n',
    );
    expect(ok).toEqual({
      kind: 'ok',
      user: 'root',
      entries: [
        {
          name: 'a.pem',
          type: 'file',
          id: '7:2:3:4',
          mode: '0600',
          owner: 'root',
          group: 'root',
          size: 2,
          readable: false,
        },
        {
          name: 'b.pem',
          type: 'file',
          id: '9:2:3.5:4.5',
          mode: '0644',
          owner: 'root',
          group: 'root',
          size: 2,
          readable: true,
        },
      ],
    });
    const d = parseDerive('K8OPS-n 0 data\n\nK8OPS-n 0 end\nK8OPS-n 1 data\n', 'n', 3);
    expect(d[0]).toEqual({ content: '' });
    expect(d[1]!.error).toBe('truncated output');
    expect(d[2]!.error).toBe('truncated output');
  });
});
