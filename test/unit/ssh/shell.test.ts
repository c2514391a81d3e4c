/**
 * PersistentShell against real local shells (dash as sh, bash --posix), through a child
 * process standing in for the SSH exec channel: framing, isolation between requests,
 * aborts, the output cap, stray output, a shell that dies, handshakes.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type ShellCommand, sh } from '../../../src/ssh/quote.js';
import { PersistentShell, type ShellChannel, ShellRunError } from '../../../src/ssh/shell.js';

const open: PersistentShell[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.kill('test done');
});

function childChannel(argv: string[]): ShellChannel {
  const p = spawn(argv[0]!, argv.slice(1), { stdio: 'pipe' });
  p.stdin.on('error', () => {});
  return {
    write: (t) => {
      if (!p.stdin.writable) throw new Error('stdin closed');
      p.stdin.write(t);
    },
    onStdout: (fn) => p.stdout.on('data', fn),
    onStderr: (fn) => p.stderr.on('data', fn),
    onClose: (fn) => p.once('close', () => fn()),
    onExit: (fn) => p.once('exit', () => fn()),
    end: () => p.stdin.end(),
    kill: () => p.kill('SIGKILL'),
  };
}

async function shell(argv: string[]): Promise<PersistentShell> {
  const s = new PersistentShell(childChannel(argv));
  open.push(s);
  await s.open(5000);
  return s;
}

const raw = (text: string): ShellCommand => ({ text }); // test-only scripts
const run = (s: PersistentShell, cmd: ShellCommand, maxOutputBytes = 1 << 24) =>
  s.run(cmd, { maxOutputBytes });

const shells: Array<[string, string[]]> = [['dash (sh)', ['sh', '-s']]];
if (existsSync('/bin/bash') || existsSync('/usr/bin/bash'))
  shells.push(['bash --posix', ['bash', '--posix', '-s']]);

describe.each(shells)('PersistentShell over %s', (_name, argv) => {
  it('survives many requests; each gets exactly its own stdout, stderr and status', async () => {
    const s = await shell(argv);
    for (let i = 0; i < 150; i++) {
      const r = await run(
        s,
        raw(`printf 'out%s\\n' ${i}; printf 'err%s' ${i} >&2; [ ${i % 4} -eq 0 ] || exit ${i % 4}`),
      );
      expect(r.stdout.toString()).toBe(`out${i}\n`);
      expect(r.stderr.toString()).toBe(`err${i}`);
      expect(r.exitCode).toBe(i % 4);
    }
    expect(s.requests).toBe(150);
    expect(s.closed).toBe(false);
  });

  it('binary, marker-like and large output come back byte for byte', async () => {
    const s = await shell(argv);
    const r = await run(
      s,
      sh`printf 'a\\000b\\r\\n\\nK8SH-x e 0\\nK8SH-x b\\n\\n'; printf 'no newline at end'`,
    );
    expect(r.stdout).toEqual(
      Buffer.from('a\u0000b\r\n\nK8SH-x e 0\nK8SH-x b\n\nno newline at end'),
    );
    const big = await run(s, sh`head -c 3000000 /dev/zero`);
    expect(big.stdout.length).toBe(3_000_000);
    expect((await run(s, sh`:`)).stdout.length).toBe(0);
  });

  it('isolates requests: cd, variables, functions, exit, syntax errors, stdin', async () => {
    const s = await shell(argv);
    const cwd = (await run(s, sh`pwd`)).stdout.toString();
    await run(s, sh`cd /; x=1; f() { :; }; trap 'echo trapped' EXIT; set -e`);
    const r = await run(
      s,
      sh`pwd; echo "\${x-unset}"; command -v f || echo no-f; false; echo after`,
    );
    expect(r.stdout.toString()).toBe(`${cwd}unset\nno-f\nafter\n`);
    expect((await run(s, sh`exit 42`)).exitCode).toBe(42);
    const syn = await run(s, raw('if then fi ('));
    expect(syn.exitCode).toBeGreaterThan(0);
    expect(syn.stderr.length).toBeGreaterThan(0);
    // stdin is /dev/null: `cat` cannot swallow the protocol stream
    expect((await run(s, sh`cat; echo done`)).stdout.toString()).toBe('done\n');
    expect((await run(s, sh`echo still-here`)).stdout.toString()).toBe('still-here\n');
    expect(s.closed).toBe(false);
  });

  it('an aborted request kills the shell; the rejection is the signal reason', async () => {
    const s = await shell(argv);
    const reason = new Error('deadline');
    const ac = new AbortController();
    setTimeout(() => ac.abort(reason), 150);
    const t0 = Date.now();
    await expect(s.run(sh`sleep 10`, { maxOutputBytes: 1000, signal: ac.signal })).rejects.toBe(
      reason,
    );
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(s.closed).toBe(true);
    expect(s.protocolFailure).toBe(false);
    await expect(run(s, sh`true`)).rejects.toBeInstanceOf(ShellRunError);
    // a fresh shell works
    const s2 = await shell(argv);
    expect((await run(s2, sh`echo ok`)).stdout.toString()).toBe('ok\n');
  });

  it('output over the cap kills the shell (an endless `yes` terminates)', async () => {
    const s = await shell(argv);
    const e = await run(s, sh`echo partial >&2; sleep 0.2; yes`, 100_000).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ShellRunError);
    expect((e as ShellRunError).kind).toBe('output-limit');
    expect((e as ShellRunError).stderr?.toString()).toBe('partial\n');
    expect(s.closed).toBe(true);
  });

  it('stray output after a response (a background writer) discards the shell', async () => {
    const s = await shell(argv);
    const r = await run(s, raw('(sleep 0.2; echo late) & echo now'));
    expect(r.stdout.toString()).toBe('now\n');
    await new Promise((res) => setTimeout(res, 600));
    expect(s.closed).toBe(true);
    expect(s.protocolFailure).toBe(true);
    expect(s.deathReason).toMatch(/while idle/);
  });

  it('a shell that dies mid-request rejects with `closed`', async () => {
    const s = await shell(argv);
    // `sleep` keeps the stdout pipe open: the shell's exit alone must end the request
    const t0 = Date.now();
    const e = await run(s, raw('echo before; kill -9 $$; sleep 5')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ShellRunError);
    expect((e as ShellRunError).kind).toBe('closed');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(s.closed).toBe(true);
  });

  it('one request at a time', async () => {
    const s = await shell(argv);
    const first = run(s, sh`sleep 0.2; echo one`);
    await expect(run(s, sh`echo two`)).rejects.toThrow(/busy/);
    expect((await first).stdout.toString()).toBe('one\n');
  });
});

describe('PersistentShell handshake', () => {
  it('skips login noise on both streams', async () => {
    const s = await shell(['sh', '-c', 'echo Welcome; echo "rc: warning" >&2; exec sh -s']);
    expect((await run(s, sh`echo ok`)).stdout.toString()).toBe('ok\n');
  });
  it('times out when nothing answers (a ForceCommand that ignores stdin)', async () => {
    const s = new PersistentShell(childChannel(['sh', '-c', 'cat >/dev/null']));
    open.push(s);
    const t0 = Date.now();
    await expect(s.open(300)).rejects.toThrow(/no handshake within 300 ms/);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(s.closed).toBe(true);
  });
  it('fails at once when the command exits (no sh)', async () => {
    const s = new PersistentShell(childChannel(['sh', '-c', 'echo "sh: not found" >&2; exit 127']));
    open.push(s);
    await expect(s.open(5000)).rejects.toBeInstanceOf(ShellRunError);
    expect(s.closed).toBe(true);
  });
});
