/**
 * Issue 13, a warm refresh's CPU: what a node answered the same as last time is not parsed
 * again — certificate files (per agent, directory and path: the same CertFile while the
 * content is the same) and `ip -j -d link show` (the same value while the answer is the
 * same). What changed, appeared or vanished is what a fresh parse gives; nothing of one
 * node or directory is reused for another.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/config/types.js';
import { collectLinks } from '../../../src/features/mtu/sources.js';
import { collectNodeCerts } from '../../../src/features/pki/sources.js';
import type { NodeAgent } from '../../../src/nodes/agent.js';
import { parseCertFile } from '../../../src/pki/x509.js';
import type { FileRead, NodeExecResult } from '../../../src/store/io.js';

const fixture = (dir: string, name: string) =>
  readFileSync(new URL(`../../fixtures/${dir}/${name}`, import.meta.url), 'utf8');

const spec = (name: string): NodeSpec => ({
  name,
  index: 0,
  host: name,
  addresses: [],
  roles: ['worker'],
});

/** An agent whose certificate directory and `ip` answer the test sets. */
function agent(name: string) {
  const state = {
    files: new Map<string, string>(),
    ip: { stdout: '[]', stderr: '', code: 0 } as NodeExecResult,
    reads: 0,
  };
  const a = {
    node: spec(name),
    readCertFiles: async (dir: string): Promise<FileRead[]> => {
      state.reads++;
      return [...state.files].map(([n, content]) => ({
        path: `${dir}/${n}`,
        ok: true as const,
        content,
      }));
    },
    exec: async () => ({ ...state.ip }),
  } as unknown as NodeAgent;
  return { a, state };
}

describe('warm refresh: unchanged answers are not parsed again', () => {
  const root = fixture('pki', 'root.pem');
  const chain = fixture('pki', 'chain.pem');
  const garbage = fixture('pki', 'garbage.pem');

  it('certificate files: the same CertFile while the content holds; a change, a new file and a removed one as a fresh parse', async () => {
    const { a, state } = agent('n1');
    state.files.set('ca.pem', root);
    state.files.set('chain.pem', chain);
    const first = await collectNodeCerts(a, '/pki');
    expect(first).toEqual([
      parseCertFile('n1', '/pki/ca.pem', root),
      parseCertFile('n1', '/pki/chain.pem', chain),
    ]);
    const again = await collectNodeCerts(a, '/pki');
    expect(again[0]).toBe(first[0]);
    expect(again[1]).toBe(first[1]);
    // chain.pem rewritten, bad.pem added
    state.files.set('chain.pem', root);
    state.files.set('bad.pem', garbage);
    const changed = await collectNodeCerts(a, '/pki');
    expect(changed[0]).toBe(first[0]);
    expect(changed[1]).not.toBe(first[1]);
    expect(changed).toEqual([
      parseCertFile('n1', '/pki/ca.pem', root),
      parseCertFile('n1', '/pki/chain.pem', root),
      parseCertFile('n1', '/pki/bad.pem', garbage),
    ]);
    // bad.pem removed, then back with the same content: parsed again (not remembered past
    // the read that no longer had it)
    state.files.delete('bad.pem');
    expect((await collectNodeCerts(a, '/pki')).map((f) => f.path)).toEqual([
      '/pki/ca.pem',
      '/pki/chain.pem',
    ]);
    state.files.set('bad.pem', garbage);
    const back = await collectNodeCerts(a, '/pki');
    expect(back[2]).not.toBe(changed[2]);
    expect(back[2]).toEqual(changed[2]);
    // another directory of the same agent, another agent with the same files: their own
    const other = await collectNodeCerts(a, '/ca');
    expect(other[0]).not.toBe(back[0]);
    expect(other[0]).toEqual(parseCertFile('n1', '/ca/ca.pem', root));
    const b = agent('n2');
    b.state.files = new Map(state.files);
    const theirs = await collectNodeCerts(b.a, '/pki');
    expect(theirs[0]!.node).toBe('n2');
    expect(theirs[0]).toEqual(parseCertFile('n2', '/pki/ca.pem', root));
  });

  it('ip -j -d link show: the same value while the answer is the same; a new answer parsed; a failure never cached', async () => {
    const { a, state } = agent('n1');
    const links = fixture('mtu', 'ip-link-host-nic.json');
    state.ip = { stdout: links, stderr: '', code: 0 };
    const first = await collectLinks(a);
    expect(first.ok).toBe(true);
    expect(await collectLinks(a)).toBe(first);
    const other = fixture('mtu', 'ip-link-cilium-node.json');
    state.ip = { stdout: other, stderr: '', code: 0 };
    const second = await collectLinks(a);
    expect(second).not.toBe(first);
    state.ip = { stdout: '', stderr: 'ip: boom', code: 1 };
    expect(await collectLinks(a)).toMatchObject({ ok: false });
    state.ip = { stdout: other, stderr: '', code: 0 };
    expect(await collectLinks(a)).toBe(second);
    state.ip = { stdout: 'not json', stderr: '', code: 0 };
    expect(await collectLinks(a)).toMatchObject({ ok: false });
    // a fresh agent with the same answer parses it itself, to the same value
    const fresh = agent('n3');
    fresh.state.ip = { stdout: other, stderr: '', code: 0 };
    const theirs = await collectLinks(fresh.a);
    expect(theirs).not.toBe(second);
    expect(theirs).toEqual(second);
  });
});
