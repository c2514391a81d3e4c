/**
 * The cached pki-status path's node scripts and pure parsers (src/nodes/pki-status-fast.ts):
 * the scripts are shellcheck-clean POSIX sh and run under dash and bash against a real
 * directory; the parsers never throw on garbage and ask for the status.sh fallback on
 * anything unexpected; kinds and digests follow status.sh's rules.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, createPrivateKey } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  certDirKeysSection,
  deriveScript,
  describeDerived,
  identityScript,
  keySeparator,
  PkiStatusCache,
  pairStoreutlKeys,
  parseCertDirKeys,
  parseDerive,
  parseIdentity,
  pemKind,
  pubScript,
} from '../../../src/nodes/pki-status-fast.js';
import {
  parseReadCertDir,
  readCertDirScript,
  withDeadline,
} from '../../../src/nodes/remote-scripts.js';
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
      const sep = keySeparator();
      const raw = execFileSync(shell, ['-c', deriveScript(dir, names, 'n0nce', sep).text]);
      const text = raw.toString();
      // No byte of any private key leaves the node, whatever its shape.
      const keyBody = leaf.keyPem.split('\n')[1]!;
      const sec1Body = readFileSync(join(dir, 'ecp-key.pem'), 'utf8').split('\n')[4]!;
      for (const secret of [keyBody, sec1Body, keyBody.slice(0, 24), sec1Body.slice(0, 24)])
        expect(text).not.toContain(secret);
      const d = parseDerive(raw, 'n0nce', names, sep);
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
      // openssl cannot read a one-line PEM (status.sh's answer too): the one storeutl
      // finds no key there, so the file is left to its own `openssl pkey` (pubScript)
      expect(d[5]).toMatchObject({ keyFirst: true, pubPending: true });
      expect(d[5]!.pub).toBeUndefined();
      const again = parseDerive(
        execFileSync(shell, ['-c', pubScript(dir, [{ index: 5, name: names[5]! }], 'n2').text]),
        'n2',
        names,
      );
      expect(again[5]!.pub).toBeNull();
      d[5]!.pub = null;
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
    'derive: a few processes for any number of files, ONE openssl for all the key files',
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
        for (const tool of ['grep', 'openssl', 'wc', 'cat', 'stat', 'base64', 'tr', 'sed', 'awk']) {
          const real = execFileSync('sh', ['-c', `command -v ${tool}`])
            .toString()
            .trim();
          const w = join(bin, tool);
          writeFileSync(w, `#!/bin/sh\necho ${tool} >> '${log}'\nexec '${real}' "$@"\n`);
          chmodSync(w, 0o755);
        }
        const sep = keySeparator();
        const raw = execFileSync(shell, ['-c', deriveScript(many, names, 'n1', sep).text], {
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        });
        const d = parseDerive(raw, 'n1', names, sep);
        expect(d.some((x) => x.pubPending)).toBe(false);
        const want = describeKeyMaterial(leaf.pem).pubkeySha256;
        expect(d.map((x) => describeDerived(x))).toEqual(
          names.map((n) => ({ kind: n.endsWith('-key.pem') ? 'key' : 'cert', pubkeySha256: want })),
        );
        const calls = readFileSync(log, 'utf8').trim().split('\n');
        // one `openssl storeutl` and two `awk` (the files in, the public values out) for
        // the 30 keys, whatever their number
        expect(calls.filter((c) => c === 'openssl')).toHaveLength(1);
        expect(calls.filter((c) => c === 'awk')).toHaveLength(2);
        expect(calls.length).toBeLessThanOrEqual(8);
      } finally {
        rmSync(many, { recursive: true, force: true });
      }
    },
  );
});

describe.each(['dash', 'bash'].filter(have))(
  'the certificate read with its key section, under %s',
  (shell) => {
    it('derives every file the read did not pick; seeded, the status sends no derive and equals a full derive', async () => {
      const sep = keySeparator();
      const out = execFileSync(shell, [
        '-c',
        readCertDirScript(dir, 'rd1', certDirKeysSection('ks1', sep)).text,
      ]);
      const at = out.indexOf('K8OPS-ks1 keysection\n');
      expect(at).toBeGreaterThan(0);
      const read = parseReadCertDir(out.subarray(0, at), 'rd1');
      if (read.kind !== 'listed' || read.identity === undefined)
        throw new Error('expected a listing');
      expect(read.picked).toEqual(['both.pem', 'etcd.pem']);
      const keys = parseCertDirKeys(out, 'ks1', sep)!;
      // every other entry with a safe name, in the shell's C order (a dangling link too)
      expect(keys.names).toEqual([
        'ecp-key.pem',
        'etcd-key.pem',
        'gone.pem',
        'oneline-key.pem',
        'sa.pub',
      ]);
      const byName = new Map(keys.names.map((n, i) => [n, keys.derived[i]!]));
      expect(byName.get('etcd-key.pem')).toMatchObject({ keyFirst: true });
      expect(byName.get('etcd-key.pem')!.pub).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      expect(byName.get('gone.pem')!.content).toBeUndefined();
      expect(byName.get('sa.pub')!.content).toBe(readFileSync(join(dir, 'sa.pub'), 'utf8'));
      // no private byte in what the node sent
      const body = leaf.keyPem.split('\n')[1]!;
      expect(out.toString('latin1')).not.toContain(body.slice(0, 40));
      // seeded as the agent does it: the status derives nothing and says what a full one says
      const ident = parseIdentity(read.identity, 'rd1i');
      if (ident.kind !== 'ok') throw new Error('expected an identity');
      const ids = new Map(ident.entries.map((e) => [e.name, e.id]));
      let n = 0;
      const cache = new PkiStatusCache({ node: 'n', newNonce: () => `k${++n}` });
      expect(cache.isCold(dir)).toBe(true);
      read.picked.forEach((name, i) => {
        const f = read.batch.files[i]!;
        if (f.ok && f.content !== undefined) cache.seed(dir, name, ids.get(name)!, f.content);
      });
      keys.names.forEach((name, i) => {
        const id = ids.get(name);
        if (id !== undefined) cache.seedDerived(dir, name, id, keys.derived[i]!);
      });
      expect(cache.isCold(dir)).toBe(false);
      // gone.pem was not read; the one-line PEM is a key storeutl does not read: the
      // status's own derive (and `openssl pkey`) decides it
      expect(keys.derived.flatMap((d, i) => (d.pubPending ? [keys.names[i]] : []))).toEqual([
        'oneline-key.pem',
      ]);
      expect(cache.stats.seededKeys).toBe(3);
      const sent: string[] = [];
      const run = async (cmd: { text: string }) => {
        sent.push(cmd.text);
        return execFileSync(shell, ['-c', cmd.text]);
      };
      const st = await cache.status(dir, run, async () => ident);
      const calls = sent.flatMap((t) => [
        ...t.matchAll(/\b[cK] \d+ (?:\.\/)?'?([A-Za-z0-9._+@-]+)/g),
      ]);
      expect(new Set(calls.map((c) => c[1]))).toEqual(new Set(['oneline-key.pem']));
      let m = 0;
      const plain = new PkiStatusCache({ node: 'n', newNonce: () => `p${++m}` });
      expect(st).toEqual(await plain.status(dir, run));
    });

    it('no key section when a name is odd (the status runs status.sh then)', () => {
      const odd = mkdtempSync(join(tmpdir(), 'k8ops-keysection-odd-'));
      try {
        writeFileSync(join(odd, 'a-key.pem'), leaf.keyPem, { mode: 0o600 });
        writeFileSync(join(odd, "it's.pem"), root.pem);
        const out = execFileSync(shell, [
          '-c',
          readCertDirScript(odd, 'rd2', certDirKeysSection('ks2', keySeparator())).text,
        ]);
        expect(out.includes('K8OPS-ks2')).toBe(false);
        expect(parseCertDirKeys(out, 'ks2', keySeparator())).toBeUndefined();
      } finally {
        rmSync(odd, { recursive: true, force: true });
      }
    });
  },
);

describe.skipIf(!have('shellcheck'))('shellcheck', () => {
  it('the scripts (as sent: inside withDeadline) are clean POSIX sh', () => {
    const file = join(dir, 'check.sh');
    for (const s of [
      withDeadline(identityScript('/etc/kubernetes/pki', 'abc'), 5),
      withDeadline(deriveScript('/etc/kubernetes/pki', ['a.pem', '-b.pem'], 'abc'), 5),
      withDeadline(pubScript('/etc/kubernetes/pki', [{ index: 1, name: '-b.pem' }], 'abc'), 5),
      // The certificate read: its `stat` is the identity too.
      withDeadline(readCertDirScript('/etc/kubernetes/pki', 'abc'), 5),
      // … and with its key section (a cold read with a status in the same moment)
      withDeadline(
        readCertDirScript('/etc/kubernetes/pki', 'abc', certDirKeysSection('def', keySeparator())),
        5,
      ),
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

describe.each(['dash', 'bash'].filter(have))(
  'seeded from the certificate read, under %s',
  (shell) => {
    it('a seeded file under its identity is not derived again; a key first, another identity or an odd name is', async () => {
      let n = 0;
      const cache = new PkiStatusCache({ node: 'n', newNonce: () => `s${++n}` });
      const sent: string[] = [];
      const run = async (cmd: { text: string }) => {
        sent.push(cmd.text);
        return execFileSync(shell, ['-c', cmd.text]);
      };
      const nonce = 'id1';
      const ident = parseIdentity(
        execFileSync(shell, ['-c', identityScript(dir, nonce).text]).toString(),
        nonce,
      );
      if (ident.kind !== 'ok') throw new Error('expected an identity');
      const idOf = (name: string) => ident.entries.find((e) => e.name === name)!.id;
      const onDisk = (name: string) => readFileSync(join(dir, name), 'utf8');
      cache.seed(dir, 'etcd.pem', idOf('etcd.pem'), onDisk('etcd.pem'));
      cache.seed(`${dir}/`, 'sa.pub', idOf('sa.pub'), onDisk('sa.pub'));
      // Not taken: a private key first (its public key comes from the node), a name that
      // needs quoting, no identity.
      cache.seed(dir, 'etcd-key.pem', idOf('etcd-key.pem'), onDisk('etcd-key.pem'));
      cache.seed(dir, "it's.pem", '1:2:3:4', onDisk('etcd.pem'));
      cache.seed(dir, 'both.pem', '', onDisk('etcd.pem'));
      expect(cache.stats.seeded).toBe(2);
      const st = await cache.status(dir, run);
      if (!('version' in st)) throw new Error('expected a status');
      const derive = sent.find((t) => t.includes(' keysend'))!;
      expect(derive).toBeDefined();
      expect(derive).not.toMatch(/\bc \d+ 'etcd\.pem'/);
      expect(derive).not.toMatch(/\bc \d+ 'sa\.pub'/);
      expect(derive).toMatch(/\bc \d+ 'etcd-key\.pem'/);
      expect(derive).toMatch(/\bc \d+ 'both\.pem'/);
      // The same document as a cache that derived everything.
      let m = 0;
      const plain = new PkiStatusCache({ node: 'n', newNonce: () => `p${++m}` });
      expect(st).toEqual(await plain.status(dir, run));
      // Seeded under an identity the file no longer has: derived again.
      const other = new PkiStatusCache({ node: 'n', newNonce: () => `o${++m}` });
      other.seed(dir, 'etcd.pem', '1:1:1:1', onDisk('etcd.pem'));
      sent.length = 0;
      await other.status(dir, run);
      expect(sent.find((t) => t.includes(' keysend'))).toMatch(/\bc \d+ 'etcd\.pem'/);
    });
  },
);

describe.skipIf(!have('openssl'))('public keys of key files: one storeutl, or openssl pkey', () => {
  it("every key type gets openssl pkey's digest; unusual ones go to their own openssl; no private byte sent", async () => {
    const keys = mkdtempSync(join(tmpdir(), 'k8ops-fast-keys-'));
    const o = (...a: string[]) =>
      execFileSync('openssl', a, { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const k = (n: string) => join(keys, n);
      o('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', k('a-p256-sec1.pem'));
      o('ecparam', '-name', 'secp521r1', '-genkey', '-out', k('b-p521-params.pem'));
      o(
        'genpkey',
        '-algorithm',
        'EC',
        '-pkeyopt',
        'ec_paramgen_curve:P-384',
        '-out',
        k('c-p384-pk8.pem'),
      );
      o('genrsa', '-traditional', '-out', k('d-rsa-pkcs1.pem'), '1024');
      o(
        'genpkey',
        '-algorithm',
        'RSA',
        '-pkeyopt',
        'rsa_keygen_bits:1024',
        '-out',
        k('e-rsa-pk8.pem'),
      );
      o('genpkey', '-algorithm', 'ed25519', '-out', k('f-ed25519.pem'));
      o(
        'genpkey',
        '-algorithm',
        'RSA-PSS',
        '-pkeyopt',
        'rsa_keygen_bits:1024',
        '-out',
        k('g-rsa-pss.pem'),
      );
      o(
        'ecparam',
        '-name',
        'prime256v1',
        '-genkey',
        '-noout',
        '-param_enc',
        'explicit',
        '-out',
        k('h-explicit.pem'),
      );
      o(
        'genpkey',
        '-algorithm',
        'EC',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-aes256',
        '-pass',
        'pass:x',
        '-out',
        k('i-encrypted.pem'),
      );
      writeFileSync(
        k('j-garbage.pem'),
        '-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n',
      );
      // two keys in one file: openssl pkey takes the first
      writeFileSync(
        k('k-two.pem'),
        readFileSync(k('f-ed25519.pem'), 'utf8') + readFileSync(k('a-p256-sec1.pem'), 'utf8'),
      );
      // a key whose file also holds a public key (not the separator) after it
      writeFileSync(
        k('l-with-pub.pem'),
        readFileSync(k('c-p384-pk8.pem'), 'utf8') + pubToPem(leaf.keys.publicKey),
      );
      o(
        'ecparam',
        '-name',
        'secp384r1',
        '-genkey',
        '-noout',
        '-conv_form',
        'compressed',
        '-out',
        k('m-compressed.pem'),
      );
      const names = readdirSync(keys).sort();
      let n = 0;
      const cache = new PkiStatusCache({ node: 'n', newNonce: () => `n${++n}` });
      const sent: string[] = [];
      const st = await cache.status(keys, async (cmd) => {
        const out = execFileSync('sh', ['-c', cmd.text]);
        sent.push(out.toString('latin1'));
        return out;
      });
      if (!('version' in st)) throw new Error('expected a status');
      for (const name of names) {
        let want: string | null = null;
        try {
          const der = o('pkey', '-in', k(name), '-passin', 'pass:', '-pubout', '-outform', 'DER');
          want = createHash('sha256').update(der).digest('hex');
        } catch {}
        const f = st.files.find((x) => x.path.endsWith(`/${name}`))!;
        expect([name, f.kind, f.pubkeySha256]).toEqual([name, 'key', want]);
        // no private value leaves the node: not the PEM body, nor storeutl's priv hex
        const pem = readFileSync(k(name), 'utf8');
        for (const line of pem.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l)))
          for (const out of sent) expect(out).not.toContain(line);
      }
      const allText = sent.join('');
      expect(allText).not.toMatch(/priv|prime1|privateExponent|coefficient/);
      // one identity request, one derive request (one storeutl), one pubScript request for
      // the keys it did not pair: RSA-PSS, explicit parameters, encrypted, garbage (a key
      // written with compressed points is paired: storeutl and pkey -pubout print the point
      // uncompressed)
      expect(cache.stats).toMatchObject({ identity: 1, derive: 1, pubFallback: 4 });
    } finally {
      rmSync(keys, { recursive: true, force: true });
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

  it('pairStoreutlKeys pairs by the separators only; anything off pairs nothing; never throws', () => {
    const sep = 'ab'.repeat(32);
    const sepObj = (i: number) => [`${i}: Public key`, 'ED25519 Public-Key:', 'pub:', `    ${sep}`];
    const ed = (i: number, hex: string) => [
      `${i}: Pkey`,
      'ED25519 Private-Key:',
      'pub:',
      `    ${hex}`,
    ];
    const k1 = '11'.repeat(32);
    // 2 files: the first holds an Ed25519 key (its point need not be valid for Ed25519 x),
    // the second nothing
    const text = [...sepObj(0), ...ed(1, k1), ...sepObj(2), ...sepObj(3)];
    const got = pairStoreutlKeys(text, sep, 2);
    expect(got[0]).toContain('-----BEGIN PUBLIC KEY-----');
    expect(got[1]).toBeUndefined();
    // a separator missing, one too many, or an object before the first: nothing paired
    expect(pairStoreutlKeys(text.slice(0, -4), sep, 2)).toEqual([undefined, undefined]);
    expect(pairStoreutlKeys([...text, ...sepObj(4)], sep, 2)).toEqual([undefined, undefined]);
    expect(pairStoreutlKeys([...ed(0, k1), ...text], sep, 2)).toEqual([undefined, undefined]);
    // another public key in a file is not a separator
    const other = ['9: Public key', 'ED25519 Public-Key:', 'pub:', `    ${'cd'.repeat(32)}`];
    expect(pairStoreutlKeys([...sepObj(0), ...other, ...ed(2, k1), ...sepObj(3)], sep, 1)[0]).toBe(
      got[0],
    );
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 40 }), fc.nat(5), (lines, count) => {
        const r = pairStoreutlKeys([...sepObj(0), ...lines, ...sepObj(1)], sep, count);
        expect(r).toHaveLength(count);
      }),
      { numRuns: 300 },
    );
  });
});
