/**
 * request-batch (issue 13): the quick reads of one refresh in one request. The script is
 * run by real dash and bash (inside withDeadline, as SshNodeAgent sends it), and its output
 * split back into each part's stdout, stderr and exit status; a part cannot disturb the
 * next (exit, cd, variables) nor forge a frame; a cut-short answer fails the parts it lacks
 * and never throws (fast-check).
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deadlineSeconds, newNonce, withDeadline } from '../../../src/nodes/remote-scripts.js';
import { batchScript, isShellBuiltin, parseBatch } from '../../../src/nodes/request-batch.js';
import { argvCommand, sh, token } from '../../../src/ssh/quote.js';

const SHELLS = ['/bin/dash', '/bin/bash'].filter(
  (s) => spawnSync(s, ['-c', 'exit 0']).status === 0,
);

/** In a session (and process group) of its own, as sshd runs a request: the deadline's
 * watchdog kills that group. */
function runLocal(shell: string, text: string) {
  const r = spawnSync('setsid', ['-w', shell, '-c', text], { timeout: 20_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe.each(SHELLS)('batchScript under %s', (shell) => {
  it('gives each part its own stdout, stderr and exit status, in order', () => {
    const nonce = newNonce();
    const parts = [
      sh`printf 'one\\n'; printf 'err one\\n' >&2`,
      sh`cd /; X=set; printf '%s' "$PWD"; exit 3`,
      sh`printf '[%s]' "\${X-unset}"; printf 'no newline'`,
      sh`printf 'K8B-%s 3 e 0\\n' notthenonce; printf 'K8B-${token(nonce)} 9 e 0\\n'; head -c 3 /dev/zero`,
      sh`cat; echo "stdin gave $?"`,
    ];
    const r = runLocal(shell, withDeadline(batchScript(parts, nonce), deadlineSeconds(5000)).text);
    const got = parseBatch(r.stdout, r.stderr, nonce, parts.length);
    expect(got.map((p) => p.ok)).toEqual([true, true, true, true, true]);
    const ok = got.filter((p) => p.ok);
    expect(ok[0]!.stdout.toString()).toBe('one\n');
    expect(ok[0]!.stderr.toString()).toBe('err one\n');
    expect(ok[0]!.exitCode).toBe(0);
    expect(ok[1]!.stdout.toString()).toBe('/');
    expect(ok[1]!.exitCode).toBe(3);
    // the previous part's `cd`, variables and `exit` stayed in its subshell
    expect(ok[2]!.stdout.toString()).toBe('[unset]no newline');
    // a marker with another nonce, or with this nonce but another part number, is payload
    expect(ok[3]!.stdout.toString()).toBe(`K8B-notthenonce 3 e 0\nK8B-${nonce} 9 e 0\n\0\0\0`);
    // stdin is /dev/null: a part cannot read the protocol stream
    expect(ok[4]!.stdout.toString()).toBe('stdin gave 0\n');
    expect(ok[4]!.stderr.length).toBe(0);
  });

  it('argv parts: in a subshell without eval (one fork fewer) or as a program of the batch shell; same answers; a builtin stays in its subshell', () => {
    const nonce = newNonce();
    // the program prints its parent's pid and that parent's parent (/proc/PID/stat)
    const parents = argvCommand([
      'sh',
      '-c',
      'read -r _ _ _ gp _ < "/proc/$PPID/stat"; echo "$PPID $gp"; echo err >&2; exit 4',
    ]);
    const parts = [
      parents,
      parents,
      parents,
      argvCommand(['exit', '5']),
      argvCommand(['cd', '/']),
      sh`pwd`,
    ];
    const modes = ['argv', 'script', 'program', 'argv', 'argv', 'script'] as const;
    const r = runLocal(
      shell,
      withDeadline(batchScript(parts, nonce, modes), deadlineSeconds(5000)).text,
    );
    const got = parseBatch(r.stdout, r.stderr, nonce, parts.length);
    expect(got.map((p) => p.ok)).toEqual([true, true, true, true, true, true]);
    const [asArgv, viaEval, asProgram, exit5, , pwd] = got.map((p) => (p.ok ? p : undefined));
    const [argvParent] = asArgv!.stdout.toString().trim().split(' ');
    const [evalParent, evalGrandparent] = viaEval!.stdout.toString().trim().split(' ');
    const [programParent] = asProgram!.stdout.toString().trim().split(' ');
    // `argv`: the part's subshell became the program (exec), so its parent is the batch
    // shell, as for `program`; through eval the subshell forks once more
    expect(argvParent).toMatch(/^\d+$/);
    expect(programParent).toBe(argvParent);
    expect(evalGrandparent).toBe(argvParent);
    expect(evalParent).not.toBe(argvParent);
    for (const p of [asArgv!, viaEval!, asProgram!]) {
      expect(p.exitCode).toBe(4);
      expect(p.stderr.toString()).toBe('err\n');
    }
    // a builtin as argv[0] stays in its subshell: the batch goes on, in its own directory
    expect(exit5!.exitCode).toBe(5);
    expect(pwd!.stdout.toString()).not.toBe('/\n');
  });

  it('a part killed by the deadline fails it and every part after it; the earlier keep their answers', () => {
    const nonce = newNonce();
    const parts = [sh`printf 'first'`, sh`sleep 30`, sh`printf 'never'`];
    const t0 = Date.now();
    const r = runLocal(shell, withDeadline(batchScript(parts, nonce), 1).text);
    expect(Date.now() - t0).toBeLessThan(15_000);
    const got = parseBatch(r.stdout, r.stderr, nonce, parts.length);
    expect(got[0]).toMatchObject({ ok: true, exitCode: 0 });
    expect(got[0]!.ok && got[0]!.stdout.toString()).toBe('first');
    expect(got[1]).toMatchObject({ ok: false });
    expect(got[2]).toMatchObject({ ok: false });
  });
});

describe('isShellBuiltin', () => {
  it("every builtin and reserved word of bash (a superset of dash's); none of the programs k8ops runs", () => {
    // bash lists its own; dash's (it has no such list) are all bash's too
    const names = spawnSync('bash', ['-c', 'compgen -b -k'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean);
    expect(names.length).toBeGreaterThan(50);
    for (const n of names) expect([n, isShellBuiltin(n)]).toEqual([n, true]);
    for (const p of ['ip', 'sh', 'stat', 'openssl', 'gobgp', 'birdc', 'ping', '/usr/bin/env'])
      expect(isShellBuiltin(p)).toBe(false);
  });
});

describe('parseBatch', () => {
  const nonce = 'abcDEF123_-x';
  const frame = (i: number, body: string, rc?: number) =>
    `K8B-${nonce} ${i} b\n${body}\nK8B-${nonce} ${i} e${rc === undefined ? '' : ` ${rc}`}\n`;

  it('reads well-formed frames and rejects garbled ones', () => {
    const out = Buffer.from(frame(0, 'a', 0) + frame(1, 'b\nc', 2));
    const err = Buffer.from(frame(0, '') + frame(1, 'oops'));
    expect(parseBatch(out, err, nonce, 2)).toEqual([
      { ok: true, stdout: Buffer.from('a'), stderr: Buffer.from(''), exitCode: 0 },
      { ok: true, stdout: Buffer.from('b\nc'), stderr: Buffer.from('oops'), exitCode: 2 },
    ]);
    // the wrong nonce, a missing status, a status that is not a number, frames out of order
    for (const bad of [
      frame(0, 'a', 0).replace(nonce, 'other'),
      frame(0, 'a'),
      frame(0, 'a', 0).replace(' e 0', ' e x'),
      frame(1, 'a', 0),
    ]) {
      const got = parseBatch(Buffer.from(bad), Buffer.from(frame(0, '')), nonce, 1);
      expect(got).toHaveLength(1);
      expect(got[0]!.ok).toBe(false);
    }
    // missing stderr frame
    expect(parseBatch(out, Buffer.alloc(0), nonce, 2).map((p) => p.ok)).toEqual([false, false]);
  });

  it('never throws, always one answer per part (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(5),
        (a, b, n) => {
          const got = parseBatch(Buffer.from(a), Buffer.from(b), nonce, n);
          expect(got).toHaveLength(n);
        },
      ),
      { numRuns: 300 },
    );
    // real frames with random payloads (the payload cannot end a frame early)
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 60 }), { maxLength: 4 }), (bodies) => {
        const out = Buffer.from(bodies.map((s, i) => frame(i, s, i)).join(''));
        const err = Buffer.from(bodies.map((_, i) => frame(i, '')).join(''));
        const got = parseBatch(out, err, nonce, bodies.length);
        got.forEach((p, i) => {
          expect(p.ok).toBe(true);
          if (p.ok) expect(p.stdout.toString()).toBe(bodies[i]);
        });
      }),
      { numRuns: 300 },
    );
  });
});
