/**
 * Batched `ssh -G` (SshResolver): hosts asked for in the same tick are resolved by one `sh`
 * child running the real `ssh -G` per host; each answer equals what a lone `ssh -G` gives,
 * a host `ssh -G` refuses fails alone with ssh's message, and values stay arguments.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSshGBatch, SshGStream, SshResolver } from '../../../src/ssh/resolve.js';

const haveSsh = spawnSync('ssh', ['-V']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'k8ops-sshg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cfg = join(dir, 'ssh config'); // a space in the path: an argument, never script text
writeFileSync(
  cfg,
  [
    'Host a',
    '  HostName 10.0.0.1',
    '  User bob',
    'Host b',
    '  HostName 10.0.0.2',
    '  Port 2222',
    '  ProxyJump a',
    'Host bad',
    '  HostName %X',
    '',
  ].join('\n'),
);

describe.skipIf(!haveSsh)('batched ssh -G (real OpenSSH client)', () => {
  it('answers as lone calls do; a refused host fails alone', async () => {
    const batched = new SshResolver({ configFile: cfg, mode: 'ssh-g' });
    const [a, b, c, bad] = await Promise.allSettled([
      batched.resolveHost('a'),
      batched.resolveHost('b', { user: 'carol', port: 2022 }),
      batched.resolveHost('c'),
      batched.resolveHost('bad'),
    ]);
    const lone = new SshResolver({ configFile: cfg, mode: 'ssh-g' });
    const la = await lone.resolveHost('a');
    const lb = await lone.resolveHost('b', { user: 'carol', port: 2022 });
    const lc = await lone.resolveHost('c');
    expect(a).toEqual({ status: 'fulfilled', value: la });
    expect(b).toEqual({ status: 'fulfilled', value: lb });
    expect(c).toEqual({ status: 'fulfilled', value: lc });
    expect(la).toMatchObject({ hostname: '10.0.0.1', user: 'bob' });
    expect(lb).toMatchObject({ hostname: '10.0.0.2', user: 'carol', port: 2022 });
    expect(bad.status).toBe('rejected');
    const e = (bad as PromiseRejectedResult).reason as { kind: string; message: string };
    expect(e.kind).toBe('config');
    expect(e.message).toMatch(/ssh -G failed \(exit 255\)/);
    expect(e.message).toMatch(/percent_expand/);
  });
});

describe('parseSshGBatch', () => {
  it('splits answers by index; cut or garbled output leaves the rest unanswered', () => {
    const out =
      'K8OPS-SSHG 0 ok\nuser a\nK8OPS-SSHG 0 end\nK8OPS-SSHG 1 fail 255\nboom\r\nK8OPS-SSHG 1 end\nK8OPS-SSHG 2 ok\nuser c\n';
    expect(parseSshGBatch(out, 3)).toEqual([
      { ok: true, code: 0, text: 'user a\n' },
      { ok: false, code: 255, text: 'boom\n' },
      undefined,
    ]);
    expect(parseSshGBatch('garbage\n\u0000', 2)).toEqual([undefined, undefined]);
    expect(parseSshGBatch('K8OPS-SSHG 9 ok\nx\nK8OPS-SSHG 9 end\n', 2)).toEqual([
      undefined,
      undefined,
    ]);
  });
});

describe('SshGStream (answers taken as they arrive)', () => {
  it('cut at every byte, gives each answer once and equal to parseSshGBatch', () => {
    const out =
      'K8OPS-SSHG 0 ok\nuser a\nhostname x\nK8OPS-SSHG 0 end\nK8OPS-SSHG 1 fail 255\nboom\r\nK8OPS-SSHG 1 end\n' +
      'K8OPS-SSHG 2 ok\n\nK8OPS-SSHG 2 end\nK8OPS-SSHG 3 ok\nK8OPS-SSHG 3 end\nK8OPS-SSHG 4 ok\nuser e\n';
    const whole = parseSshGBatch(out, 5);
    for (let cut = 0; cut <= out.length; cut++) {
      for (const step of [1, 7]) {
        const s = new SshGStream();
        const got: Array<[number, unknown]> = [...s.push(out.slice(0, cut))];
        for (let i = cut; i < out.length; i += step) got.push(...s.push(out.slice(i, i + step)));
        const byIdx = new Array(5).fill(undefined);
        for (const [i, a] of got) {
          expect(byIdx[i]).toBeUndefined(); // once
          byIdx[i] = a;
        }
        expect(byIdx).toEqual(whole);
      }
    }
    expect(whole[4]).toBeUndefined(); // cut short: no answer
    expect(new SshGStream().push('garbage\n\u0000K8OPS-SSHG x ok\n')).toEqual([]);
  });
});
