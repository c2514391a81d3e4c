/**
 * Real OpenSSH sshd: failures. A node killed mid-session goes stale and recovers; a frozen
 * node is caught by keepalive; addresses that drop packets time out within the configured
 * bound without delaying other nodes; 12 concurrent commands respect the channel bound;
 * hostile values never reach a shell; output over the cap is an error, not memory growth.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/config/types.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import type { RemoteExecError } from '../../../src/ssh/errors.js';
import { type HostStateEvent, SshPool } from '../../../src/ssh/pool.js';
import { remotePath, sh, UnsafeValueError } from '../../../src/ssh/quote.js';
import type { SshLab } from '../../helpers/sshd.js';
import { describeLab } from '../../helpers/sshd-suite.js';

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** Poll `fn` every 50 ms until true; fail after `ms`. */
async function until(
  what: string,
  fn: () => boolean | Promise<boolean>,
  ms: number,
): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Is a process with exactly this command line running in the host's network namespace? */
function runsOn(l: SshLab, host: keyof SshLab['hosts'], commandLine: string): boolean {
  const pids = execFileSync('ip', ['netns', 'pids', l.hosts[host].ns], { encoding: 'utf8' })
    .split(/\s+/)
    .filter(Boolean);
  return pids.some((p) => {
    try {
      return (
        readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').trim() === commandLine
      );
    } catch {
      return false; // exited meanwhile
    }
  });
}

const node = (name: string, host = name): NodeSpec => ({
  name,
  index: 0,
  host,
  addresses: [],
  roles: ['worker'],
});

describeLab('ssh failure handling against real sshd', (lab) => {
  const pool = () =>
    new SshPool({
      sshConfigFile: lab().configFile,
      agentSocket: 'none',
      backoffInitialMs: 200,
      backoffMaxMs: 1000,
    });

  it('5. sshd killed mid-session: node goes stale at once, the other keeps answering, recovery after restart', async () => {
    const l = lab();
    const p = pool();
    const events: HostStateEvent[] = [];
    p.onStateChange((e) => events.push(e));
    try {
      const n1 = p.host('node1');
      const n2 = p.host('node2');
      await n1.exec(sh`true`);
      await n2.exec(sh`true`);
      const running = rejection(n1.exec(sh`sleep 20`, { timeoutMs: 15_000 }));
      // the command really runs on node1 (not merely queued for a channel)
      await until('sleep running on node1', () => runsOn(l, 'node1', 'sleep 20'), 5000);
      await l.kill('node1');
      // ServerAliveInterval 1 × CountMax 2: the drop must be seen well within that window
      await until(
        'node1 down',
        () => events.some((e) => e.host === 'node1' && e.state === 'down'),
        4000,
      );
      expect(n1.state).toBe('down');
      const e = await running;
      expect((e as RemoteExecError).kind).toBe('unreachable');
      expect(e.message).toMatch(/connection lost/);
      // node2 (same bastion) is unaffected
      expect((await n2.exec(sh`echo up`)).stdout.trim()).toBe('up');
      // while node1 is down, calls fail fast with the reason (bastion refused forwarding)
      const down = (await rejection(n1.exec(sh`true`))) as RemoteExecError;
      expect(down.kind).toBe('unreachable');
      await l.start('node1');
      const took = await until(
        'node1 recovered',
        () =>
          n1.exec(sh`true`, { timeoutMs: 3000 }).then(
            () => true,
            () => false,
          ),
        10_000,
      );
      expect(took).toBeLessThan(10_000);
      expect(n1.state).toBe('ready');
      const last = events.filter((ev) => ev.host === 'node1').at(-1);
      expect(last?.state).toBe('ready');
    } finally {
      await p.close();
      await l.start('node1'); // a no-op when running; later tests need node1
    }
  });

  it('5c. a node dropped before it answers a new session: "connection lost", not a channel failure', async () => {
    const l = lab();
    const p = pool();
    try {
      const n1 = p.host('node1');
      await n1.exec(sh`true`);
      const conn = p.connection((await n1.route()).hops[1]!.key)!;
      // node1 stops answering; the next command's session request stays unanswered…
      l.freeze('node1');
      const pending = rejection(n1.exec(sh`true`, { timeoutMs: 10_000 }));
      await until('session requested', () => conn.channels.inUse === 1, 2000);
      await new Promise((r) => setTimeout(r, 100));
      // …and node1 dies before it answers (well within keepalive's 1 s × 2)
      await l.kill('node1');
      const e = (await pending) as RemoteExecError;
      expect(e.kind).toBe('unreachable');
      expect(e.message).toMatch(/connection lost/);
      expect(e.message).not.toMatch(/session channel|Unable to exec|No response/);
      expect(n1.state).toBe('down');
    } finally {
      await p.close();
      await l.start('node1');
    }
  });

  it('5b. a frozen node (SIGSTOP) is detected by keepalive; others keep answering; thawed, it reconnects', async () => {
    const l = lab();
    const p = pool();
    const events: HostStateEvent[] = [];
    p.onStateChange((e) => events.push(e));
    try {
      const n1 = p.host('node1');
      const n2 = p.host('node2');
      await n1.exec(sh`true`);
      await n2.exec(sh`true`);
      l.freeze('node2');
      try {
        // interval 1 s, count max 2 → about 3 s; bound generously
        await until(
          'node2 down by keepalive',
          () => events.some((e) => e.host === 'node2' && e.state === 'down'),
          8000,
        );
        const ev = events.find((e) => e.host === 'node2' && e.state === 'down')!;
        expect(ev.error?.message).toMatch(/keepalive/i);
        expect((await n1.exec(sh`echo still-here`)).stdout.trim()).toBe('still-here');
      } finally {
        l.thaw('node2');
      }
      await until(
        'node2 recovered',
        () =>
          n2.exec(sh`true`, { timeoutMs: 3000 }).then(
            () => true,
            () => false,
          ),
        10_000,
      );
    } finally {
      await p.close();
    }
  });

  it('6. addresses that drop packets time out within the configured bound; others are not delayed', async () => {
    const l = lab();
    const p = pool();
    try {
      const t0 = Date.now();
      // behind the bastion (ConnectTimeout 1 in ssh_config) and direct (connectTimeoutMs 1000)
      const dead = rejection(p.host('dead').exec(sh`true`));
      const deadDirect = rejection(
        p
          .host('dead-direct', { host: l.deadDirectAddress, jump: [], connectTimeoutMs: 1000 })
          .exec(sh`true`),
      );
      let otherDoneAt = 0;
      await p.host('node1').exec(sh`true`);
      otherDoneAt = Date.now() - t0;
      const [e1, e2] = (await Promise.all([dead, deadDirect])) as RemoteExecError[];
      const elapsed = Date.now() - t0;
      expect(e1!.kind).toBe('timeout');
      expect(e2!.kind).toBe('timeout');
      expect(e1!.message).toMatch(/timed out/);
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(1000 + 3000);
      expect(otherDoneAt).toBeLessThan(elapsed);
    } finally {
      await p.close();
    }
  });

  it('7. 12 concurrent commands on one node all succeed (8 channels at a time, MaxSessions 10)', async () => {
    const p = pool();
    try {
      const h = p.host('node1');
      const rs = await Promise.all(
        Array.from({ length: 12 }, (_, i) => h.exec(sh`sleep 0.3; echo ${remotePath(`/n${i}`)}`)),
      );
      expect(rs.map((r) => r.stdout.trim())).toEqual(
        Array.from({ length: 12 }, (_, i) => `/n${i}`),
      );
      const conn = p.connection((await h.route()).hops[1]!.key)!;
      expect(conn.channels.peak).toBe(8);
    } finally {
      await p.close();
    }
    // Without the bound, sshd's MaxSessions 10 refuses the extra channels.
    const unbounded = new SshPool({
      sshConfigFile: lab().configFile,
      agentSocket: 'none',
      maxChannelsPerConnection: 12,
    });
    try {
      const h = unbounded.host('node1');
      await h.exec(sh`true`);
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, () => h.exec(sh`sleep 1`)),
      );
      const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(failed.length).toBeGreaterThan(0);
      expect((failed[0]!.reason as RemoteExecError).kind).toBe('channel');
    } finally {
      await unbounded.close();
    }
  });

  describe('8. hostile values and output bounds', () => {
    it('rejects hostile host, user and jump values before running anything', async () => {
      const l = lab();
      const p = pool();
      const marker = join(l.dir, 'pwned');
      try {
        for (const req of [
          { host: `-oProxyCommand=touch ${marker}` },
          { host: `node1;touch ${marker}` },
          { host: 'node1', user: `root$(touch ${marker})` },
          { host: 'node1', jump: [`bastion$(touch ${marker})`] },
          { host: 'node1', jump: ['-J'] },
        ]) {
          const e = (await rejection(
            p.host(JSON.stringify(req), req).exec(sh`true`),
          )) as RemoteExecError;
          expect(e.kind).toBe('config');
        }
        expect(existsSync(marker)).toBe(false);
      } finally {
        await p.close();
      }
    });

    it('rejects unsafe paths and unit names; quotes hostile-but-valid file names', async () => {
      const l = lab();
      const p = pool();
      const agent = new SshNodeAgent(node('node1'), { pool: p });
      const marker = join(l.home, 'pwned2'); // sessions start in (the lab's) root home
      try {
        for (const bad of ['relative/path', '/etc/../etc/shadow', '/tmp/a\nb', '/tmp/./x', '']) {
          expect(await rejection(agent.readFiles([bad]))).toBeInstanceOf(UnsafeValueError);
          expect(await rejection(agent.stat([bad]))).toBeInstanceOf(UnsafeValueError);
        }
        expect(await rejection(agent.unitStates(['sshd;reboot']))).toBeInstanceOf(UnsafeValueError);
        expect(await rejection(agent.unitStates(['--all']))).toBeInstanceOf(UnsafeValueError);
        // a file name full of shell syntax is just a name (nodes share this filesystem)
        const dir = join(l.dir, 'hostile');
        mkdirSync(dir);
        const name = join(dir, `it's $(touch pwned2) \`touch pwned2\` ; * "x".txt`);
        writeFileSync(name, 'harmless\n');
        const [r] = await agent.readFiles([name]);
        expect(r).toEqual({ path: name, ok: true, content: 'harmless\n' });
        const [st] = await agent.stat([name]);
        expect(st).toMatchObject({ ok: true, kind: 'file', size: 9 });
        expect(await agent.listDir(dir)).toEqual([name.slice(dir.length + 1)]);
        expect(existsSync(marker)).toBe(false);
      } finally {
        await p.close();
      }
    });

    it('output over the cap ends in an output-limit error (an endless `yes` terminates)', async () => {
      const p = pool();
      try {
        const h = p.host('node1');
        const before = process.memoryUsage().arrayBuffers;
        const e = (await rejection(
          h.exec(sh`yes`, { maxOutputBytes: 1 << 20, timeoutMs: 10_000 }),
        )) as RemoteExecError;
        expect(e.kind).toBe('output-limit');
        expect(e.message).toMatch(/exceeded 1048576 bytes/);
        expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
        // the connection is fine afterwards
        expect((await h.exec(sh`echo ok`)).stdout).toBe('ok\n');
        // and a normal command's exit code / stderr / stdin come back
        const r = await h.exec(sh`cat; echo err >&2; exit 3`, { stdin: 'in\n', reject: false });
        expect(r).toMatchObject({ exitCode: 3, stdout: 'in\n', stderr: 'err\n', signal: null });
        const ex = (await rejection(h.exec(sh`echo boom >&2; exit 7`))) as RemoteExecError;
        expect(ex).toMatchObject({ kind: 'exit', exitCode: 7, host: 'node1' });
        expect(ex.message).toContain('command failed with exit code 7');
        expect(ex.message).toContain('boom');
        const to = (await rejection(h.exec(sh`sleep 10`, { timeoutMs: 500 }))) as RemoteExecError;
        expect(to.kind).toBe('timeout');
      } finally {
        await p.close();
      }
    });
  });
});
