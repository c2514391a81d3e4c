/**
 * Judging `etcdctl endpoint health --cluster` (actions/etcd-health.ts) on output captured from
 * a real 3-member etcd 3.4 cluster (test/fixtures/etcd/capture.sh: all up, one member down,
 * all down; text and -w json; stdout and stderr together, as the gate reads them).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  etcdHealthArgv,
  etcdHealthResult,
  parseEtcdClusterHealth,
} from '../../../src/actions/etcd-health.js';
import type { NodeSpec } from '../../../src/config/types.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'etcd');
/** A capture as an exec result: its last line is `exit N`. */
function capture(name: string) {
  const lines = readFileSync(join(FIX, name), 'utf8').replace(/\n$/, '').split('\n');
  const code = Number(/^exit (\d+)$/.exec(lines.pop()!)![1]);
  return { code, stdout: `${lines.join('\n')}\n`, stderr: '' };
}
const node = (name: string, addr: string, roles: NodeSpec['roles'] = ['etcd']): NodeSpec => ({
  name,
  index: 0,
  host: name,
  addresses: [addr],
  roles,
});

describe('etcd cluster health', () => {
  it('the command: every member (--cluster, JSON), the node first, then its etcd peers', () => {
    const server = { certPath: '/p/etcd-server.pem', keyPath: '/p/etcd-server-key.pem' };
    const n1 = node('cp-1', '10.0.0.1');
    const argv = etcdHealthArgv(n1, server, '/p/etcd-ca.pem', [
      node('cp-2', 'fd00::2'),
      n1,
      node('cp-3', '10.0.0.3'),
    ]);
    expect(argv).toEqual([
      'etcdctl',
      '--endpoints=https://10.0.0.1:2379,https://[fd00::2]:2379,https://10.0.0.3:2379',
      '--cacert',
      '/p/etcd-ca.pem',
      '--cert',
      '/p/etcd-server.pem',
      '--key',
      '/p/etcd-server-key.pem',
      '--command-timeout=5s',
      '-w',
      'json',
      'endpoint',
      'health',
      '--cluster',
    ]);
    expect(etcdHealthArgv(n1, undefined, '/p/etcd-ca.pem')).toBeUndefined();
  });

  it('all up (json and text): healthy, every member listed', () => {
    for (const f of ['health-cluster-ok.json.txt', 'health-cluster-ok.txt']) {
      const r = etcdHealthResult(capture(f));
      expect(r.ok, f).toBe(true);
      expect(r.detail).toMatch(/^3 of 3 members healthy: /);
      expect(r.members!.map((m) => m.endpoint).sort()).toEqual([
        'http://127.0.0.1:22379',
        'http://127.0.0.1:22381',
        'http://127.0.0.1:22383',
      ]);
    }
  });

  it('one member down: unhealthy, naming it (by inventory node when its client URL is known)', () => {
    for (const f of ['health-cluster-one-down.json.txt', 'health-cluster-one-down.txt']) {
      const r = etcdHealthResult(capture(f));
      expect(r.ok, f).toBe(false);
      expect(r.detail).toBe(
        'unhealthy: http://127.0.0.1:22383: context deadline exceeded (2 of 3 members healthy)',
      );
    }
    // With nodes whose client URL matches, the member is named by its node.
    const json = capture('health-cluster-one-down.json.txt');
    const r = etcdHealthResult(
      {
        ...json,
        stdout: json.stdout.replaceAll('http://127.0.0.1:22383', 'https://10.0.0.3:2379'),
      },
      [node('cp-3', '10.0.0.3')],
    );
    expect(r.detail).toMatch(/^unhealthy: cp-3 \(https:\/\/10\.0\.0\.3:2379\): context deadline/);
  });

  it('no member list (every member down): the error line, not a silent pass', () => {
    const r = etcdHealthResult(capture('health-cluster-all-down.json.txt'));
    expect(r).toEqual({
      ok: false,
      detail:
        'exit 1: Error: failed to fetch endpoints from etcd cluster member list: context deadline exceeded',
    });
  });

  it('exit 0 but nothing parseable, or healthy JSON with a non-zero exit: not healthy', () => {
    expect(etcdHealthResult({ code: 0, stdout: '', stderr: '' }).ok).toBe(false);
    const ok = capture('health-cluster-ok.json.txt');
    expect(etcdHealthResult({ ...ok, code: 1 }).ok).toBe(false);
    expect(etcdHealthResult({ ...ok, code: null }).detail).toMatch(/^killed/);
  });

  it('never throws on garbage; control bytes never reach the detail', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.integer({ min: 0, max: 255 })), (s, code) => {
        const r = etcdHealthResult({ code: code ?? null, stdout: s, stderr: s });
        expect(typeof r.detail).toBe('string');
        expect(r.detail).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
        parseEtcdClusterHealth(s);
      }),
      { numRuns: 500 },
    );
    const hostile =
      '[{"endpoint":"https://x\\u001b[2J:2379","health":false,"error":"\\u0007boom"}]';
    const r = etcdHealthResult({ code: 1, stdout: hostile, stderr: '' });
    expect(r.detail).not.toMatch(/[\u0000-\u001f]/);
    expect(r.detail).toMatch(/^unhealthy: https:\/\/x.*boom/);
  });
});
