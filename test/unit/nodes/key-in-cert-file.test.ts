/**
 * A private key inside a certificate file never leaves the node: the node scripts send the
 * file with each key block's body replaced (REDACTED_KEY_BODY), through the batch and the
 * per-file reader, under dash and bash. The certificates of the file are still read, and
 * the checks still see that key material sits there (privateKeyBlocks).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseReadCertDir,
  parseReadFiles,
  REDACTED_KEY_BODY,
  readCertDirScript,
  readFilesScript,
} from '../../../src/nodes/remote-scripts.js';
import { parseCertFile } from '../../../src/pki/x509.js';
import { issue, makeRoot } from '../../helpers/pki-certs.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ops-key-in-cert-'));
const SHELLS = ['/bin/dash', '/bin/bash'].filter(
  (s) => spawnSync(s, ['-c', 'exit 0']).status === 0,
);
let keyBody = '';
let rootPem = '';

beforeAll(async () => {
  const root = await makeRoot();
  const leaf = await issue(root, { cn: 'system:node:worker-1' });
  rootPem = root.pem;
  keyBody = leaf.keyPem
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('');
  // kubelet.pem: certificate, key, then the CA: the key in the middle.
  writeFileSync(join(dir, 'kubelet.pem'), `${leaf.pem}${leaf.keyPem}${root.pem}`, { mode: 0o644 });
  writeFileSync(join(dir, 'ca.pem'), root.pem);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (shell: string, text: string): Buffer => {
  const r = spawnSync('timeout', ['-s', 'KILL', '20', shell, '-c', text], { maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${shell} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
};

/** Every 40-character run of the key's base64: none may appear in what the node sends. */
const keyPieces = () => Array.from({ length: 8 }, (_, i) => keyBody.slice(i * 40, i * 40 + 40));

describe.each(SHELLS)('a key inside a certificate file (%s)', (shell) => {
  it('the directory read sends the file with the key body replaced; certificates still read', () => {
    const out = run(shell, readCertDirScript(dir, 'KEYnonce').text);
    const text = out.toString('latin1');
    for (const piece of keyPieces()) expect(text).not.toContain(piece);
    const got = parseReadCertDir(out, 'KEYnonce');
    expect(got.kind).toBe('listed');
    if (got.kind !== 'listed') return;
    const i = got.picked.indexOf('kubelet.pem');
    const f = got.batch.files[i];
    expect(f?.ok).toBe(true);
    if (!f?.ok) return;
    expect(f.content).toContain(REDACTED_KEY_BODY);
    const parsed = parseCertFile('worker-1', join(dir, 'kubelet.pem'), f.content);
    expect(parsed.certs.map((c) => c.commonName)).toEqual(['system:node:worker-1', 'k8s-root']);
    expect(parsed.privateKeyBlocks?.map((b) => b.label)).toEqual(['PRIVATE KEY']);
    expect(parsed.errors).toEqual([]);
    // The file without a key is sent as it is.
    const ca = got.batch.files[got.picked.indexOf('ca.pem')];
    expect(ca?.ok && ca.content).toBe(rootPem);
  });

  it('the per-file reader redacts the same way', () => {
    const path = join(dir, 'kubelet.pem');
    const out = run(shell, readFilesScript([path], 'KEYnonce2').text).toString('utf8');
    for (const piece of keyPieces()) expect(out).not.toContain(piece);
    const [f] = parseReadFiles(out, 'KEYnonce2', [path]);
    expect(f?.ok && f.content.includes(REDACTED_KEY_BODY)).toBe(true);
  });
});
