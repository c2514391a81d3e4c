/**
 * The cached pki-status path's node scripts and pure parsers (src/nodes/pki-status-fast.ts):
 * the scripts are shellcheck-clean POSIX sh and run under dash and bash against a real
 * directory; the parsers never throw on garbage and ask for the status.sh fallback on
 * anything unexpected; kinds and digests follow status.sh's rules.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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
  // A certificate and its key in one file (the certificate first): sent redacted.
  writeFileSync(join(dir, 'both.pem'), leaf.pem + leaf.keyPem, { mode: 0o600 });
  // SEC1 with EC PARAMETERS first (openssl ecparam -genkey's shape): still a key first.
  const sec1 = String(createPrivateKey(leaf.keyPem).export({ type: 'sec1', format: 'pem' }));
  writeFileSync(
    join(dir, 'ecp-key.pem'),
    `-----BEGIN EC PARAMETERS-----\nBgUrgQQAIw==\n-----END EC PARAMETERS-----\n${sec1}`,
    { mode: 0o600 },
  );
  // A one-line PEM: the key body shares the BEGIN line (the labels grep must not send it).
  const b64 = leaf.keyPem.split('\n').slice(1, -2).join('');
  writeFileSync(
    join(dir, 'oneline-key.pem'),
    `-----BEGIN PRIVATE KEY-----${b64}-----END PRIVATE KEY-----\n`,
    { mode: 0o600 },
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(['dash', 'bash'].filter(have))('the node scripts under %s', (shell) => {
  it('identity: one line per regular file and dangling symlink, parsed in C order', () => {
    const out = execFileSync(shell, ['-c', identityScript(dir, 'n0nce').text]).toString();
    const r = parseIdentity(out, 'n0nce');
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.entries.map((e) => [e.name, e.type, e.mode])).toEqual([
      ['both.pem', 'file', '0600'],
      ['ecp-key.pem', 'file', '0600'],
      ['etcd-key.pem', 'file', '0600'],
      ['etcd.pem', 'file', expect.stringMatching(/^0[0-7]{3}$/)],
      ['gone.pem', 'dangling', '0777'],
      ['oneline-key.pem', 'file', '0600'],
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
    'derive: a key file sends nothing but its public key; a mixed file comes back redacted; digests agree',
    () => {
      const names = [
        'both.pem',
        'ecp-key.pem',
        'etcd-key.pem',
        'etcd.pem',
        'missing.pem',
        'oneline-key.pem',
        'sa.pub',
      ];
      const raw = execFileSync(shell, ['-c', deriveScript(dir, names, 'n0nce').text]);
      const text = raw.toString();
      // No byte of any private key leaves the node, whatever its shape.
      const keyBody = leaf.keyPem.split('\n')[1]!;
      const sec1Body = readFileSync(join(dir, 'ecp-key.pem'), 'utf8').split('\n')[4]!;
      for (const secret of [keyBody, sec1Body, keyBody.slice(0, 24), sec1Body.slice(0, 24)])
        expect(text).not.toContain(secret);
      const d = parseDerive(raw, 'n0nce', names);
      const want = describeKeyMaterial(leaf.pem).pubkeySha256;
      // both.pem: certificate first → redacted content (the key's label kept), kind cert
      expect(d[0]!.keyFirst).toBeUndefined();
      expect(d[0]!.content).toContain('-----BEGIN PRIVATE KEY-----');
      expect(describeDerived(d[0]!)).toEqual({ kind: 'cert', pubkeySha256: want });
      // key files: no content at all, the node's `keyfirst` and openssl's public key
      for (const i of [1, 2]) {
        expect(d[i]).toMatchObject({ keyFirst: true });
        expect(d[i]!.content).toBeUndefined();
        expect(d[i]!.pub).toContain('-----BEGIN PUBLIC KEY-----');
        expect(describeDerived(d[i]!)).toEqual({ kind: 'key', pubkeySha256: want });
      }
      // openssl cannot read a one-line PEM (status.sh's answer too): a key, no digest
      expect(d[5]).toMatchObject({ keyFirst: true, pub: null });
      expect(describeDerived(d[5]!)).toEqual({
        kind: 'key',
        pubkeySha256: null,
        error: 'openssl could not read the private key (encrypted or corrupt)',
      });
      expect(d[3]!.pub).toBeUndefined(); // no openssl for a certificate
      expect(describeDerived(d[3]!)).toEqual({ kind: 'cert', pubkeySha256: want });
      expect(d[4]!.error).toBe('no such file');
      expect(describeDerived(d[6]!)).toEqual({
        kind: 'pub',
        pubkeySha256: want,
        pubkeysSha256: [want],
      });
    },
  );

  it.skipIf(!have('openssl'))(
    'derive: a few processes for any number of files, plus one openssl per key file',
    () => {
      const many = mkdtempSync(join(tmpdir(), 'k8ops-fast-procs-'));
      const bin = join(many, 'bin');
      const log = join(many, 'calls.log');
      try {
        const names: string[] = [];
        for (let i = 0; i < 30; i++) {
          writeFileSync(join(many, `c${i}.pem`), leaf.pem);
          writeFileSync(join(many, `c${i}-key.pem`), leaf.keyPem, { mode: 0o600 });
          names.push(`c${i}-key.pem`, `c${i}.pem`);
        }
        // Every outside command the script may run, counted through a wrapper on PATH.
        mkdirSync(bin);
        for (const tool of ['grep', 'openssl', 'wc', 'cat', 'stat', 'base64', 'tr', 'sed']) {
          const real = execFileSync('sh', ['-c', `command -v ${tool}`])
            .toString()
            .trim();
          const w = join(bin, tool);
          writeFileSync(w, `#!/bin/sh\necho ${tool} >> '${log}'\nexec '${real}' "$@"\n`);
          chmodSync(w, 0o755);
        }
        const raw = execFileSync(shell, ['-c', deriveScript(many, names, 'n1').text], {
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        });
        const d = parseDerive(raw, 'n1', names);
        const want = describeKeyMaterial(leaf.pem).pubkeySha256;
        expect(d.map((x) => describeDerived(x))).toEqual(
          names.map((n) => ({ kind: n.endsWith('-key.pem') ? 'key' : 'cert', pubkeySha256: want })),
        );
        const calls = readFileSync(log, 'utf8').trim().split('\n');
        expect(calls.filter((c) => c === 'openssl')).toHaveLength(30);
        expect(calls.filter((c) => c !== 'openssl').length).toBeLessThanOrEqual(6);
      } finally {
        rmSync(many, { recursive: true, force: true });
      }
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
      const cache = new PkiStatusCache({
        node: 'cp-1',
        newNonce: () => `n${++n}`,
        deriveChunk: 16,
      });
      let requests = 0;
      let failAt = 3; // identity, derive (16 files), then the second derive fails
      const run = async (cmd: { text: string }) => {
        requests++;
        if (requests === failAt) throw new Error('timed out');
        return execFileSync('sh', ['-c', cmd.text]);
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
      'K8OPS-n user root\nK8OPS-n f 81a4 1 2 3 4 644 root root a.pem\n', // no done, no `.`
      'K8OPS-n user root\nK8OPS-n f zz 1 2 3 4 644 root root a.pem\nK8OPS-n done\n',
      'K8OPS-n user root\nK8OPS-n f 41ed 1 2 3 4 755 root root .\nK8OPS-n f 81a4 1 2 3 4 644 root root a b\nK8OPS-n done\n',
      'K8OPS-n user root\nK8OPS-n f r 41ed 1 2 3 4 755 root root .\nK8OPS-n done\n', // an extra field
      'K8OPS-n user root\nK8OPS-n done\n', // no `.`: not GNU stat
      '\u0000\u0001\u00ff'.repeat(100),
    ];
    for (const s of samples) {
      const r = parseIdentity(s, 'n');
      expect(r.kind).toBe('fallback');
      expect(() => parseDerive(Buffer.from(s), 'n', ['a', 'b', 'c'])).not.toThrow();
    }
    const ok = parseIdentity(
      'K8OPS-n u a.pem\nK8OPS-n user root\nK8OPS-n f 41ed 1 2 3 4 755 root root .\nK8OPS-n f 81a4 9 2 3.5 4.5 644 root root b.pem\nK8OPS-n f 41ed 8 2 3 4 755 root root sub\nK8OPS-n f 81a4 7 2 3 4 600 root root a.pem\nK8OPS-n done\n',
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
      ids: new Map([
        ['b.pem', '9:2:3.5:4.5'],
        ['sub', '8:2:3:4'],
        ['a.pem', '7:2:3:4'],
      ]),
    });
    const d = parseDerive(
      Buffer.from(
        'K8OPS-n 0 data\n\nK8OPS-n 0 end\nK8OPS-n 2 keyfirst\nK8OPS-n 2 pub\n-----BEGIN PUBLIC KEY-----\nK8OPS-n 1 data\n',
      ),
      'n',
      ['a', 'b', 'c'],
    );
    expect(d[0]).toEqual({ content: '' });
    expect(d[1]!.error).toBe('truncated output');
    expect(d[2]).toEqual({ keyFirst: true, pub: null }); // no pubend: no public key
    expect(describeDerived(d[2]!)).toMatchObject({ kind: 'key', pubkeySha256: null });
  });
});
