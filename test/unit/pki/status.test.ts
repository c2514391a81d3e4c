/**
 * The node's PKI status: the pure parser (good, garbage, truncated, wrong shapes), the
 * local computation (demo lab, --path), and remotePkiStatus running the real
 * nix/pki/status.sh through an exec function — they must agree byte for byte.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ExecFn,
  inlineStatusScript,
  loadStatusScript,
  PkiStatusError,
  pkiStatusCommand,
  remotePkiStatus,
} from '../../../src/nodes/pki-status-remote.js';
import { describeKeyMaterial, parsePkiStatus, scanPkiDir } from '../../../src/pki/status.js';
import { type Issued, issue, makeRoot, pubToPem } from '../../helpers/pki-certs.js';

const GOOD = JSON.stringify({
  version: 1,
  node: 'cp-1',
  pkiDir: '/etc/kubernetes/pki',
  files: [
    {
      path: '/etc/kubernetes/pki/kubelet-key.pem',
      kind: 'key',
      exists: true,
      mode: '0600',
      owner: 'root',
      group: 'root',
      size: 365,
      pubkeySha256: 'AB'.repeat(32),
    },
    {
      path: '/etc/kubernetes/pki/notes.txt',
      kind: 'other',
      exists: true,
      mode: '0644',
      owner: 'root',
      group: 'root',
      size: 3,
      pubkeySha256: null,
    },
    {
      path: '/etc/kubernetes/pki/dangling.pem',
      kind: 'other',
      exists: false,
      mode: '0777',
      owner: 'root',
      group: 'root',
      size: 9,
      pubkeySha256: null,
      error: 'dangling symlink',
    },
  ],
});

describe('parsePkiStatus', () => {
  it('parses the status document: modes as numbers, digests lowercase', () => {
    const r = parsePkiStatus(GOOD);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.status.node).toBe('cp-1');
    expect(r.status.files[0]).toEqual({
      path: '/etc/kubernetes/pki/kubelet-key.pem',
      kind: 'key',
      exists: true,
      mode: 0o600,
      owner: 'root',
      group: 'root',
      size: 365,
      pubkeySha256: 'ab'.repeat(32),
    });
    expect(r.status.files[2]).toMatchObject({ exists: false, error: 'dangling symlink' });
  });

  it('garbage, truncation and wrong shapes are typed errors, never exceptions', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['bash: jq: command not found', /not JSON/],
      [GOOD.slice(0, 120), /truncated/],
      ['[]', /not a JSON object/],
      [JSON.stringify({ version: 2, node: 'x', pkiDir: '/p', files: [] }), /version 2/],
      [JSON.stringify({ version: 1, node: 'x', pkiDir: 'rel', files: [] }), /pkiDir/],
      [JSON.stringify({ version: 1, node: 'x', pkiDir: '/p', files: {} }), /files/],
      [GOOD.replace('"0600"', '"rw-------"'), /mode/],
      [GOOD.replace('"key"', '"private"'), /kind/],
      [GOOD.replace('AB'.repeat(32), 'zz'), /pubkeySha256/],
      [GOOD.replace('"/etc/kubernetes/pki/notes.txt"', '"notes.txt"'), /absolute/],
    ];
    for (const [text, re] of cases) {
      const r = parsePkiStatus(text);
      expect(r.ok, text).toBe(false);
      if (!r.ok) {
        expect(r.error.kind).toBe('parse');
        expect(r.error.message).toMatch(re);
      }
    }
    expect(parsePkiStatus(undefined as unknown as string).ok).toBe(false);
  });
});

const haveTools = ['bash', 'jq', 'openssl', 'sha256sum'].every(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);

/** Runs the command with `sh -c`, stdin piped: what an SSH exec does on the node. */
const localExec: ExecFn = (command, stdin) =>
  new Promise((resolve) => {
    const p = spawn('sh', ['-c', command], { env: { ...process.env, LC_ALL: 'C' } });
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

let dir: string;
let root: Issued;
let leaf: Issued;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'k8ops-status-'));
  root = await makeRoot();
  leaf = await issue(root, { cn: 'kube-apiserver', eku: ['serverAuth'] });
  await writeFile(join(dir, 'kube-apiserver.pem'), leaf.pem + root.pem);
  await writeFile(join(dir, 'kube-apiserver-key.pem'), leaf.keyPem, { mode: 0o600 });
  await writeFile(join(dir, 'sa.pub'), pubToPem(leaf.keys.publicKey));
  await writeFile(join(dir, "it's odd.pem"), 'not a certificate\n');
  await writeFile(join(dir, 'loose-key.pem'), root.keyPem);
  await chmod(join(dir, 'loose-key.pem'), 0o644);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('local status (demo agent, --path)', () => {
  it('describes keys, certificates and public keys by the SHA-256 of their SubjectPublicKeyInfo', () => {
    const cert = describeKeyMaterial(leaf.pem);
    const key = describeKeyMaterial(leaf.keyPem);
    const pub = describeKeyMaterial(pubToPem(leaf.keys.publicKey));
    expect(cert.kind).toBe('cert');
    expect(key.kind).toBe('key');
    expect(pub.kind).toBe('pub');
    expect(cert.pubkeySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(key.pubkeySha256).toBe(cert.pubkeySha256);
    expect(pub.pubkeySha256).toBe(cert.pubkeySha256);
    expect(describeKeyMaterial('hello')).toEqual({ kind: 'other', pubkeySha256: null });
    expect(describeKeyMaterial(root.keyPem).pubkeySha256).not.toBe(cert.pubkeySha256);
  });
});

describe.skipIf(!haveTools)('remotePkiStatus with the real nix/pki/status.sh', () => {
  it('builds a quoted bash -s command and refuses unsafe directories and names', () => {
    expect(pkiStatusCommand('/etc/kubernetes/pki')).toBe(
      "bash -s -- --pki-dir '/etc/kubernetes/pki'",
    );
    expect(pkiStatusCommand('/etc/kubernetes/pki', 'cp-1')).toBe(
      "bash -s -- --pki-dir '/etc/kubernetes/pki' --node 'cp-1'",
    );
    for (const bad of ['relative/pki', '/etc/$(reboot)', "/etc/k'; rm -rf /", '/a/../b', '/a b'])
      expect(() => pkiStatusCommand(bad)).toThrow(PkiStatusError);
    expect(() => pkiStatusCommand('/etc/pki', 'cp-1;reboot')).toThrow(/refused node name/);
  });

  it('inlines lib.sh into status.sh so it runs from stdin', async () => {
    const script = await loadStatusScript();
    expect(script).toContain('# --- lib.sh (inlined by k8ops) ---');
    expect(script).not.toMatch(/^\.\s+"\$\(dirname/m);
    expect(() => inlineStatusScript('#!/bin/bash\necho hi\n', '')).toThrow(/sources lib\.sh/);
  });

  it('agrees with the local computation on every file (kind, mode, size, digest)', async () => {
    const remote = await remotePkiStatus(localExec, dir, { node: 'cp-1' });
    const local = await scanPkiDir({
      node: 'cp-1',
      nodeDir: dir,
      hostDir: dir,
      ownerOf: () => ({ owner: 'x', group: 'x' }),
    });
    expect(remote.node).toBe('cp-1');
    expect(remote.pkiDir).toBe(dir);
    const strip = (f: (typeof local.files)[number]) => ({
      path: f.path,
      kind: f.kind,
      exists: f.exists,
      mode: f.mode,
      size: f.size,
      pubkeySha256: f.pubkeySha256,
    });
    expect(remote.files.map(strip)).toEqual(local.files.map(strip));
    const byName = (n: string) => remote.files.find((f) => f.path === join(dir, n))!;
    expect(byName('kube-apiserver-key.pem').pubkeySha256).toBe(
      byName('kube-apiserver.pem').pubkeySha256,
    );
    expect(byName('loose-key.pem')).toMatchObject({ kind: 'key', mode: 0o644 });
    expect(byName("it's odd.pem")).toMatchObject({ kind: 'other', pubkeySha256: null });
  });

  it('a failing script, garbage output or another directory are PkiStatusErrors', async () => {
    await expect(remotePkiStatus(localExec, join(dir, 'missing'))).rejects.toMatchObject({
      kind: 'exit',
      message: expect.stringMatching(/does not exist/),
    });
    const garbage: ExecFn = async () => ({ stdout: '{"version":1,"no', stderr: '', code: 0 });
    await expect(
      remotePkiStatus(garbage, '/etc/kubernetes/pki', { script: 'x' }),
    ).rejects.toMatchObject({
      kind: 'parse',
    });
    const other: ExecFn = async () => ({
      stdout: JSON.stringify({ version: 1, node: 'x', pkiDir: '/elsewhere', files: [] }),
      stderr: '',
      code: 0,
    });
    await expect(
      remotePkiStatus(other, '/etc/kubernetes/pki', { script: 'x' }),
    ).rejects.toMatchObject({
      kind: 'node',
    });
  });
});
