/**
 * ShellSet (the persistent shells of one connection) over a fake ssh2 client whose exec
 * channels are local processes. Like sshd for a root login, the fake refuses signals and
 * does not end a session on close while its processes run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { PooledConnection } from '../../../src/ssh/pool.js';
import { type ShellCommand, sh } from '../../../src/ssh/quote.js';
import { Semaphore } from '../../../src/ssh/semaphore.js';
import { type ShellLease, ShellSet, type ShellSetOptions } from '../../../src/ssh/shell.js';

const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) {
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

class FakeChannel extends EventEmitter {
  readonly stderr = Object.assign(new EventEmitter(), { resume: () => undefined });
  constructor(private readonly p: ChildProcess) {
    super();
    p.stdout!.on('data', (d) => this.emit('data', d));
    p.stderr!.on('data', (d) => this.stderr.emit('data', d));
    p.stdin!.on('error', () => {});
    p.on('exit', (code) => this.emit('exit', code));
    p.on('close', () => this.emit('close'));
  }
  write(t: string) {
    this.p.stdin!.write(t);
    return true;
  }
  end() {
    this.p.stdin!.end();
  }
  signal(): void {
    throw new Error('session signalling requires privilege separation');
  }
  close() {
    // sshd: the session stays until its processes are gone
    this.p.stdin!.end();
  }
  destroy() {
    this.close();
  }
  resume() {
    return this;
  }
}

class FakeClient {
  readonly execs: string[] = [];
  constructor(private readonly shellArgv: string[] = ['sh', '-s']) {}
  exec(cmd: string, cb: (err: Error | undefined, ch: FakeChannel) => void): void {
    this.execs.push(cmd);
    const argv = cmd === 'exec sh -s' ? this.shellArgv : ['sh', '-c', cmd];
    // its own process group, like an sshd session (setsid)
    const p = spawn(argv[0]!, argv.slice(1), { stdio: 'pipe', detached: true });
    procs.push(p);
    setImmediate(() => cb(undefined, new FakeChannel(p)));
  }
  get shellsStarted() {
    return this.execs.filter((c) => c === 'exec sh -s').length;
  }
}

function setup(opts: Partial<ShellSetOptions> = {}, client = new FakeClient()) {
  const conn = { client, channels: new Semaphore(8) } as unknown as PooledConnection;
  const set = new ShellSet(conn, {
    max: 2,
    spawnDelayMs: 200,
    handshakeTimeoutMs: 2000,
    cooldownMs: 60_000,
    ...opts,
  });
  return { conn, set, client };
}

async function runOn(set: ShellSet, cmd: ShellCommand, signal?: AbortSignal) {
  const lease = await set.acquire(signal);
  if (!lease.shell) return { fallback: lease.fallback };
  try {
    const r = await lease.shell.run(cmd, { maxOutputBytes: 1 << 20 });
    return { stdout: r.stdout.toString(), shell: lease.shell.id };
  } finally {
    lease.release();
  }
}

describe('ShellSet', () => {
  it('a burst of quick requests stays on one shell', async () => {
    const { set, client } = setup();
    const out = await Promise.all(Array.from({ length: 8 }, () => runOn(set, sh`echo hi`)));
    expect(out.every((r) => r.stdout === 'hi\n')).toBe(true);
    expect(client.shellsStarted).toBe(1);
    expect(set.opened).toBe(1);
  });

  it('a slow request does not block the others: a second shell opens after the delay', async () => {
    const { set, client } = setup();
    await runOn(set, sh`true`);
    const t0 = Date.now();
    const slow = runOn(set, sh`sleep 2.5; echo slow`);
    await new Promise((r) => setTimeout(r, 20));
    const quick = await runOn(set, sh`echo quick`);
    const took = Date.now() - t0;
    expect(quick.stdout).toBe('quick\n');
    expect(took).toBeGreaterThanOrEqual(180);
    expect(took).toBeLessThan(2000); // served before the slow one ends
    expect((await slow).stdout).toBe('slow\n');
    expect(client.shellsStarted).toBe(2);
    // never more than `max`
    await Promise.all(Array.from({ length: 5 }, () => runOn(set, sh`sleep 0.5`)));
    expect(client.shellsStarted).toBe(2);
    expect(set.size).toBe(2);
  });

  it('a shell that cannot be established: waiters fall back, then exec only during the cooldown', async () => {
    const client = new FakeClient(['sh', '-c', 'echo "no shells" >&2; exit 1']);
    const { set } = setup({}, client);
    const [a, b] = await Promise.all([runOn(set, sh`true`), runOn(set, sh`true`)]);
    expect(a.fallback).toMatch(/persistent shell unavailable/);
    expect(b.fallback).toMatch(/persistent shell unavailable/);
    expect(set.disabledUntil).toBeGreaterThan(Date.now());
    expect((await runOn(set, sh`true`)).fallback).toBeTruthy();
    expect(client.shellsStarted).toBe(1);
    expect(set.fallbacks).toBe(3);
  });

  it('repeated protocol failures (stray output) disable shells for the cooldown', async () => {
    const { set, client } = setup({ max: 1 });
    for (let i = 0; i < 3; i++) {
      // output after the response: the shell is discarded
      const r = await runOn(set, { text: '(sleep 0.1; echo late) & echo now' });
      expect(r.stdout).toBe('now\n');
      await new Promise((res) => setTimeout(res, 300));
    }
    expect(client.shellsStarted).toBe(3);
    expect(set.disabledReason).toMatch(/failed 3 times/);
    expect((await runOn(set, sh`true`)).fallback).toMatch(/failed 3 times/);
  });

  it('a new connection replaces every shell of the old one', async () => {
    const { set, conn, client } = setup();
    await runOn(set, sh`true`);
    const next = new FakeClient();
    (conn as { client: unknown }).client = next;
    expect((await runOn(set, sh`echo new`)).stdout).toBe('new\n');
    expect(client.shellsStarted).toBe(1);
    expect(next.shellsStarted).toBe(1);
    expect(set.size).toBe(1);
  });

  it('an abort while queued rejects with its reason and leaks nothing', async () => {
    const { set } = setup({ max: 1 });
    const busy = runOn(set, sh`sleep 0.5`);
    await new Promise((r) => setTimeout(r, 50));
    const ac = new AbortController();
    const reason = new Error('gone');
    setTimeout(() => ac.abort(reason), 50);
    await expect(set.acquire(ac.signal)).rejects.toBe(reason);
    await busy;
    const lease = (await set.acquire()) as Extract<ShellLease, { release: () => void }>;
    expect(set.busy).toBe(1);
    lease.release();
    expect(set.busy).toBe(0);
  });

  it('a killed shell whose session stays (signals refused) has its process group killed', async () => {
    const { set, conn, client } = setup();
    const lease = (await set.acquire()) as Extract<ShellLease, { release: () => void }>;
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('timeout')), 100);
    await expect(
      lease.shell.run(sh`sleep 30`, { maxOutputBytes: 1000, signal: ac.signal }),
    ).rejects.toThrow('timeout');
    lease.release();
    const pid = lease.shell.pid!;
    expect(pid).toBeGreaterThan(1);
    const t0 = Date.now();
    while (conn.channels.inUse > 0 && Date.now() - t0 < 3000)
      await new Promise((r) => setTimeout(r, 20));
    expect(conn.channels.inUse).toBe(0); // the shell's slot and the reaper's
    expect(set.reaps).toBe(1);
    expect(client.execs.at(-1)).toBe(`sh -c 'kill -KILL -${pid}'`);
  });
});
