/**
 * withDeadline (issue 11, item 4): every process of a node request ends by the request's
 * deadline, whatever blocks it, and a request that ends in time leaves nothing behind and
 * keeps its output and exit status. Run by dash and bash, each script in a process group of
 * its own (as sshd gives each session), which is then searched for leftovers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deadlineSeconds, withDeadline } from '../../../src/nodes/remote-scripts.js';
import { argWord, remotePath, type ShellCommand, sh } from '../../../src/ssh/quote.js';

const root = mkdtempSync(join(tmpdir(), 'k8ops-deadline-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SHELLS = ['/bin/dash', '/bin/bash'].filter(
  (s) => spawnSync(s, ['-c', 'exit 0']).status === 0,
);

/** Live (not zombie) processes of process group `pgid`. */
function groupProcesses(pgid: number): string[] {
  const out: string[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[0] === 'Z' || Number(f[2]) !== pgid) continue;
      out.push(`${e} ${readFileSync(`/proc/${e}/cmdline`, 'utf8').replaceAll('\0', ' ')}`);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** What was left in the script's process group right after it ended. */
  left: string[];
}

/** Run `cmd` by `shell` as the leader of a new process group (like an sshd session). */
function runGroup(shell: string, cmd: ShellCommand, stdin = ''): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(shell, ['-c', cmd.text], { detached: true });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    p.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const guard = setTimeout(() => {
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      reject(new Error('did not end within 20 s'));
    }, 20_000);
    p.on('close', (code, signal) => {
      clearTimeout(guard);
      const ms = performance.now() - t0;
      // A moment for anything that was about to exit anyway.
      setTimeout(() => {
        const left = groupProcesses(p.pid!);
        for (const l of left) {
          try {
            process.kill(Number(l.split(' ')[0]), 'SIGKILL');
          } catch {
            // gone
          }
        }
        resolve({ code, signal, stdout, stderr, ms, left });
      }, 200);
    });
    // A script that never reads stdin may exit first: EPIPE is not a test failure.
    p.stdin.on('error', () => {});
    p.stdin.end(stdin);
  });
}

describe('deadlineSeconds', () => {
  it('whole seconds, never shorter than the call, plus a margin', () => {
    expect(deadlineSeconds(15_000)).toBe(16);
    expect(deadlineSeconds(1500)).toBe(3);
    expect(deadlineSeconds(1)).toBe(2);
    expect(deadlineSeconds(0)).toBe(2);
  });
});

describe.each(SHELLS)('withDeadline under %s', (shell) => {
  it('a script that ends in time: same output, stderr and exit status; nothing left behind', async () => {
    const ok = await runGroup(shell, withDeadline(sh`echo out; echo err >&2`, 30));
    expect(ok).toMatchObject({ code: 0, stdout: 'out\n', stderr: 'err\n', left: [] });
    const fail = await runGroup(
      shell,
      withDeadline(sh`f() { echo in-f; exit 3; }; x=$(exit 5); echo "sub $?"; f; echo never`, 30),
    );
    expect(fail).toMatchObject({ code: 3, stdout: 'sub 5\nin-f\n', left: [] });
    expect(fail.ms).toBeLessThan(5000); // not held until the deadline
  });

  it('a script ended by TERM, HUP or PIPE ends the request at once with 128+n; nothing left behind', async () => {
    for (const [sig, code] of [
      ['TERM', 143],
      ['HUP', 129],
      ['PIPE', 141],
    ] as const) {
      // the `sh` is a child of the script's subshell: $PPID is that subshell
      const cmd = sh`echo before; sh -c ${argWord(`kill -${sig} "$PPID"`)}; sleep 20; echo never`;
      const r = await runGroup(shell, withDeadline(cmd, 30));
      expect(r).toMatchObject({ code, stdout: 'before\n', left: [] });
      expect(r.ms).toBeLessThan(10_000); // not held until the deadline (30 s)
    }
  });

  it('stdin still reaches the script (bash -s reads the status script from it)', async () => {
    const r = await runGroup(shell, withDeadline(sh`cat`, 30), 'from stdin\n');
    expect(r).toMatchObject({ code: 0, stdout: 'from stdin\n', left: [] });
  });

  it('a script blocked on a FIFO is killed at the deadline, with everything it started', async () => {
    const fifo = join(root, `fifo-${shell.replaceAll('/', '_')}`);
    spawnSync('mkfifo', [fifo]);
    const cmd = sh`echo started; wc -c -- ${remotePath(fifo)} | cat; echo never`;
    const r = await runGroup(shell, withDeadline(cmd, 1));
    expect(r.stdout).toBe('started\n');
    expect(String(r.signal ?? r.code)).toMatch(/^(SIGKILL|137)$/);
    expect(r.ms).toBeGreaterThan(900);
    expect(r.ms).toBeLessThan(5000);
    expect(r.left).toEqual([]);
  });

  it('many quick requests in one group: no watchdog outlives its request (the group survives them)', async () => {
    const one = withDeadline(sh`echo x`, 1).text;
    // 40 requests in a row (as on a persistent shell), then past every deadline: alive.
    const driver = sh`i=0
while [ "$i" -lt 40 ]; do ( eval "$1" ) </dev/null >/dev/null || exit 9; i=$((i + 1)); done
sleep 2.5
echo survived`;
    const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const p = spawn(shell, ['-c', driver.text, 'sh', one], { detached: true });
      let stdout = '';
      p.stdout.on('data', (b: Buffer) => {
        stdout += b.toString();
      });
      p.on('close', (code) => resolve({ code, stdout }));
    });
    expect(r).toEqual({ code: 0, stdout: 'survived\n' });
  });
});
