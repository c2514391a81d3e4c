import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  checkHostKey,
  entryMatchesName,
  fingerprintSha256,
  hashHostName,
  keyTypeOfBlob,
  knownHostLine,
  knownKeyTypes,
  matchPattern,
  matchPatternList,
  parseKnownHosts,
} from '../../../src/ssh/known-hosts.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'ssh');
const pub = (name: string) =>
  Buffer.from(readFileSync(join(FIX, `hk_${name}.pub`), 'utf8').split(' ')[1]!, 'base64');
const web1 = pub('web1');
const web2 = pub('web2');
const old = pub('old');
const ca = pub('ca');
const plain = parseKnownHosts(
  readFileSync(join(FIX, 'known_hosts.plain'), 'utf8'),
  'known_hosts.plain',
);
const hashed = parseKnownHosts(
  readFileSync(join(FIX, 'known_hosts.hashed'), 'utf8'),
  'known_hosts.hashed',
);

describe('parseKnownHosts', () => {
  it('parses plain, bracketed, marker lines and reports bad lines with numbers', () => {
    expect(
      plain.entries.map((e) => [e.line, e.marker ?? '', e.patterns?.join(','), e.keyType]),
    ).toEqual([
      [2, '', 'web1.example.net,192.0.2.11', 'ssh-ed25519'],
      [3, '', '[web2.example.net]:2222', 'ecdsa-sha2-nistp256'],
      [4, '', '*.lab.example.net,!bad.lab.example.net', 'ssh-ed25519'],
      [5, 'revoked', '*', 'ssh-rsa'],
      [6, 'cert-authority', '*.ca.example.net', 'ssh-ed25519'],
    ]);
    expect(plain.errors.map((e) => e.line)).toEqual([7, 8]);
  });

  it('parses hashed entries written by ssh-keygen -H', () => {
    expect(hashed.errors).toEqual([]);
    expect(hashed.entries).toHaveLength(2);
    expect(hashed.entries.every((e) => e.hashed && !e.patterns)).toBe(true);
    expect(entryMatchesName(hashed.entries[0]!, 'hashed1.example.net')).toBe(true);
    expect(entryMatchesName(hashed.entries[0]!, 'hashed2.example.net')).toBe(false);
    expect(entryMatchesName(hashed.entries[1]!, '[hashed2.example.net]:2200')).toBe(true);
    expect(entryMatchesName(hashed.entries[1]!, 'hashed2.example.net')).toBe(false);
  });

  it('never throws on garbage', () => {
    for (const junk of [
      '',
      '\n\n',
      '@',
      '@revoked',
      '|1|',
      '|1|x|y ssh-ed25519 AAAA',
      'a b c d e',
      '\u0000\u0001',
      'h ssh-ed25519 AAAAC3NzaC1lZDI1NTE5',
    ]) {
      expect(() => parseKnownHosts(junk)).not.toThrow();
    }
  });
});

describe('matching (OpenSSH match_pattern_list semantics)', () => {
  it('wildcards', () => {
    expect(matchPattern('web1.lab.example.net', '*.lab.example.net')).toBe(true);
    expect(matchPattern('lab.example.net', '*.lab.example.net')).toBe(false);
    expect(matchPattern('node-7', 'node-?')).toBe(true);
    expect(matchPattern('node-17', 'node-?')).toBe(false);
    expect(matchPattern('abc', '*')).toBe(true);
    expect(matchPattern('abc', 'a*c*')).toBe(true);
  });
  it('negation wins, case-insensitive', () => {
    expect(
      matchPatternList('x.lab.example.net', ['*.lab.example.net', '!bad.lab.example.net']),
    ).toBe(1);
    expect(
      matchPatternList('bad.lab.example.net', ['*.lab.example.net', '!bad.lab.example.net']),
    ).toBe(-1);
    expect(matchPatternList('WEB1.Example.NET', ['web1.example.net'])).toBe(1);
    expect(matchPatternList('other', ['!bad'])).toBe(0);
  });
});

describe('checkHostKey', () => {
  const all = [...plain.entries, ...hashed.entries];
  it('match by name, address, [host]:port and wildcard', () => {
    expect(checkHostKey(all, 'web1.example.net', 22, web1)).toEqual({
      status: 'match',
      file: 'known_hosts.plain',
      line: 2,
    });
    expect(checkHostKey(all, '192.0.2.11', 22, web1).status).toBe('match');
    expect(checkHostKey(all, 'web2.example.net', 2222, web2).status).toBe('match');
    expect(checkHostKey(all, 'x.lab.example.net', 22, web1)).toMatchObject({
      status: 'match',
      line: 4,
    });
    expect(checkHostKey(all, 'hashed1.example.net', 22, web1)).toMatchObject({
      status: 'match',
      file: 'known_hosts.hashed',
      line: 1,
    });
    expect(checkHostKey(all, 'hashed2.example.net', 2200, web2)).toMatchObject({
      status: 'match',
      line: 2,
    });
  });
  it('port matters: [host]:port entries do not match port 22 and vice versa', () => {
    expect(checkHostKey(all, 'web2.example.net', 22, web2).status).toBe('unknown');
    expect(checkHostKey(all, 'web1.example.net', 2222, web1).status).toBe('unknown');
  });
  it('mismatch names file and line with the expected fingerprint', () => {
    const other = pub('ca'); // another ed25519 key
    expect(checkHostKey(all, 'web1.example.net', 22, other)).toEqual({
      status: 'mismatch',
      file: 'known_hosts.plain',
      line: 2,
      expectedFingerprint: fingerprintSha256(web1),
    });
    expect(checkHostKey(all, 'hashed1.example.net', 22, other)).toMatchObject({
      status: 'mismatch',
      file: 'known_hosts.hashed',
      line: 1,
    });
  });
  it('a key of another type is unknown (not changed), listing the recorded types', () => {
    expect(checkHostKey(all, 'web1.example.net', 22, web2)).toEqual({
      status: 'unknown',
      otherTypes: ['ssh-ed25519'],
      certAuthorityUnsupported: false,
    });
  });
  it('negated host is unknown; @revoked key is refused; @cert-authority reported unsupported', () => {
    expect(checkHostKey(all, 'bad.lab.example.net', 22, web1).status).toBe('unknown');
    expect(checkHostKey(all, 'anything', 22, old)).toEqual({
      status: 'revoked',
      file: 'known_hosts.plain',
      line: 5,
    });
    expect(checkHostKey(all, 'h.ca.example.net', 22, web1)).toEqual({
      status: 'unknown',
      otherTypes: [],
      certAuthorityUnsupported: true,
    });
    expect(checkHostKey(all, 'h.ca.example.net', 22, ca).status).toBe('unknown');
  });
  it('an exact match wins over another line of the same type (OpenSSH HOST_OK)', () => {
    const extra = parseKnownHosts(
      `web1.example.net ${'ssh-ed25519'} ${ca.toString('base64')}\n`,
      'extra',
    ).entries;
    expect(checkHostKey([...extra, ...all], 'web1.example.net', 22, web1).status).toBe('match');
  });
  it('knownKeyTypes lists recorded types for the handshake preference', () => {
    expect(knownKeyTypes(all, 'web2.example.net', 2222)).toEqual(['ecdsa-sha2-nistp256']);
    expect(knownKeyTypes(all, 'hashed1.example.net', 22)).toEqual(['ssh-ed25519']);
  });
});

describe('fingerprints', () => {
  it('equal ssh-keygen -l -E sha256', () => {
    const expected = readFileSync(join(FIX, 'fingerprints.txt'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[1]);
    expect([web1, web2, old, ca].map(fingerprintSha256)).toEqual(expected);
  });
  it('keyTypeOfBlob', () => {
    expect(keyTypeOfBlob(web2)).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOfBlob(old)).toBe('ssh-rsa');
    expect(keyTypeOfBlob(Buffer.from([0, 0, 0, 99, 1]))).toBeUndefined();
    expect(keyTypeOfBlob(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('appendKnownHost', () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ops-kh-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates dir 0700 and file 0600, writes host or [host]:port lines', async () => {
    const file = join(dir, 'sub', 'known_hosts');
    await appendKnownHost(file, 'Node1.Example.net', 22, web1);
    await appendKnownHost(file, '10.0.0.5', 2222, web2);
    expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(
      `node1.example.net ssh-ed25519 ${web1.toString('base64')}\n[10.0.0.5]:2222 ecdsa-sha2-nistp256 ${web2.toString('base64')}\n`,
    );
    const parsed = parseKnownHosts(text, file);
    expect(checkHostKey(parsed.entries, '10.0.0.5', 2222, web2).status).toBe('match');
  });

  it('adds a newline when the file does not end with one; hashes when asked', async () => {
    const file = join(dir, 'kh2');
    writeFileSync(file, `other ssh-ed25519 ${ca.toString('base64')}`);
    await appendKnownHost(file, 'h1', 22, web1, { hash: true });
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28} ssh-ed25519 /);
    expect(checkHostKey(parseKnownHosts(lines.join('\n')).entries, 'h1', 22, web1).status).toBe(
      'match',
    );
  });

  it('hashHostName is what ssh-keygen -H produces for the same salt', () => {
    const line = readFileSync(join(FIX, 'known_hosts.hashed'), 'utf8').split('\n')[0]!;
    const salt = Buffer.from(line.split('|')[2]!, 'base64');
    expect(hashHostName('hashed1.example.net', salt)).toBe(line.split(' ')[0]);
    expect(knownHostLine('hashed1.example.net', 22, web1, { hash: true, salt })).toBe(line.trim());
  });
});
