/**
 * Real OpenSSH sshd: persistent shells (SshHost.run). One session serves many requests; a
 * timed-out, over-cap or aborted request resets its shell and the next one works;
 * concurrent collectors each get their own answers; a killed sshd fails the request and
 * the node recovers; a node that refuses the shell falls back to exec; jump hosts get
 * TCP_NODELAY (no ~40 ms delayed-ACK stalls on relayed replies).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/config/types.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import type { RemoteExecError } from '../../../src/ssh/errors.js';
import { type SshHost, SshPool } from '../../../src/ssh/pool.js';
import { intArg, remotePath, sh } from '../../../src/ssh/quote.js';
import type { SshLab } from '../../helpers/sshd.js';
import { describeLab } from '../../helpers/sshd-suite.js';

const node = (name: string): NodeSpec => ({
  name,
  index: 0,
  host: name,
  addresses: [],
  roles: ['worker'],
});

async function rejection(p: Promise<unknown>): Promise<RemoteExecError> {
  try {
    await p;
  } catch (e) {
    return e as RemoteExecError;
  }
  throw new Error('expected a rejection');
}

async function until(what: string, fn: () => boolean | Promise<boolean>, ms: number) {
  const t0 = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sessions sshd started on a lab host so far (LogLevel VERBOSE). */
function sessions(l: SshLab, host: keyof SshLab['hosts']): number {
  const log = readFileSync(join(l.hosts[host].dir, 'sshd.log'), 'utf8');
  return log.match(/Starting session: /g)?.length ?? 0;
}

async function shellsOf(p: SshPool, h: SshHost) {
  const route = await h.route();
  const conn = p.connection(route.hops[route.hops.length - 1]!.key)!;
  return { conn, set: p.shellSet(conn) };
}

describeLab('persistent shells against real sshd', (lab) => {
  const pool = (extra: ConstructorParameters<typeof SshPool>[0] = {}) =>
    new SshPool({
      sshConfigFile: lab().configFile,
      agentSocket: 'none',
      backoffInitialMs: 200,
      backoffMaxMs: 1000,
      ...extra,
    });

  it('one session serves hundreds of requests, each with its own output and status', async () => {
    const l = lab();
    const p = pool();
    try {
      const h = p.host('node1');
      await h.connect();
      const before = sessions(l, 'node1');
      for (let i = 0; i < 300; i++) {
        const arg = remotePath(`/req/${i}`);
        const r = await h.run(
          sh`printf '%s\\n' ${arg}; printf 'e%s' ${arg} >&2; exit ${intArg(i % 4)}`,
          { reject: false },
        );
        expect(r).toMatchObject({
          stdout: `/req/${i}\n`,
          stderr: `e/req/${i}`,
          exitCode: i % 4,
          transport: 'shell',
        });
      }
      const ok = await h.run(sh`echo done`);
      expect(ok).toMatchObject({ stdout: 'done\n', exitCode: 0, signal: null, transport: 'shell' });
      expect(sessions(l, 'node1') - before).toBe(1);
      const { set } = await shellsOf(p, h);
      expect(set.opened).toBe(1);
      expect(set.fallbacks).toBe(0);
      // non-zero exit rejects like exec, with stdout/stderr/exit code
      const e = await rejection(h.run(sh`echo out; echo boom >&2; exit 7`));
      expect(e).toMatchObject({ kind: 'exit', exitCode: 7, host: 'node1', stdout: 'out\n' });
      expect(e.message).toContain('boom');
      // stdin needs a channel of its own: plain exec
      const fed = await h.run(sh`cat`, { stdin: 'fed\n' });
      expect(fed).toMatchObject({ stdout: 'fed\n', transport: 'exec' });
    } finally {
      await p.close();
    }
  });

  it('a timed-out request kills its shell; the next request gets a fresh one', async () => {
    const l = lab();
    const p = pool();
    try {
      const h = p.host('node1');
      await h.run(sh`true`);
      const { conn, set } = await shellsOf(p, h);
      const t0 = Date.now();
      const to = await rejection(h.run(sh`echo started; sleep 31.7`, { timeoutMs: 500 }));
      expect(to.kind).toBe('timeout');
      expect(to.message).toMatch(/timed out after 500 ms/);
      expect(Date.now() - t0).toBeLessThan(2500);
      // sshd refuses signals for root logins: the shell's process group is killed over exec,
      // so the remote command is gone and the session (and its channel slot) ends now
      await until(
        'remote sleep killed',
        () => !execFileSync('ps', ['-eo', 'args']).toString().includes('sleep 31.7'),
        3000,
      );
      const before = sessions(l, 'node1');
      const r = await h.run(sh`echo after`);
      expect(r.stdout).toBe('after\n'); // nothing of the killed request leaks in
      expect(set.opened).toBe(2);
      expect(sessions(l, 'node1') - before).toBe(1);
      // the killed shell's channel slot came back (the reaper's too)
      await until('slot released', () => conn.channels.inUse === set.size, 3000);
      expect(set.reaps).toBe(1);
      // an aborted request: same
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 200);
      expect((await rejection(h.run(sh`sleep 10`, { signal: ac.signal }))).kind).toBe('aborted');
      expect((await h.run(sh`echo again`)).stdout).toBe('again\n');
    } finally {
      await p.close();
    }
  });

  it('output over the cap is an error (an endless `yes` terminates); the next request works', async () => {
    const p = pool();
    try {
      const h = p.host('node1');
      const before = process.memoryUsage().arrayBuffers;
      const e = await rejection(
        h.run(sh`echo partial >&2; sleep 0.2; yes`, { maxOutputBytes: 1 << 20, timeoutMs: 10_000 }),
      );
      expect(e.kind).toBe('output-limit');
      expect(e.message).toMatch(/exceeded 1048576 bytes/);
      expect(e.stderr).toBe('partial\n');
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
      expect((await h.run(sh`echo ok`)).stdout).toBe('ok\n');
      // exactly at the cap is fine
      const r = await h.run(sh`head -c 1000 /dev/zero`, { maxOutputBytes: 1000 });
      expect(r.stdoutBuffer.length).toBe(1000);
    } finally {
      await p.close();
    }
  });

  it('concurrent collectors on one node (and exec beside them) all get their own answers', async () => {
    const l = lab();
    const p = pool();
    const files = join(l.dir, 'concurrent');
    mkdirSync(files);
    const paths = Array.from({ length: 10 }, (_, i) => {
      const f = join(files, `f${i}`);
      writeFileSync(f, `content of ${i}\n`.repeat(i + 1));
      return f;
    });
    const agents = [0, 1, 2].map(() => new SshNodeAgent(node('node2'), { pool: p }));
    try {
      const h = p.host('node2');
      const jobs: Array<Promise<void>> = [];
      for (let i = 0; i < 60; i++) {
        const a = agents[i % 3]!;
        const k = i % 5;
        if (k === 0) {
          const sub = paths.slice(i % 7, (i % 7) + 3);
          jobs.push(
            a.readFiles(sub).then((rs) => {
              expect(rs).toEqual(
                sub.map((f) => ({ path: f, ok: true, content: readFileSync(f, 'utf8') })),
              );
            }),
          );
        } else if (k === 1) {
          jobs.push(
            a.stat([paths[i % 10]!]).then(([st]) => {
              expect(st).toMatchObject({ ok: true, kind: 'file', size: 13 * ((i % 10) + 1) });
            }),
          );
        } else if (k === 2) {
          jobs.push(a.listDir(files).then((ns) => expect(ns).toHaveLength(10)));
        } else {
          const tok = remotePath(`/token/${i}`);
          const nap = (i * 37) % 5 === 0 ? sh`sleep 0.05;` : sh`:;`;
          jobs.push(
            h
              .run(nap)
              .then(() =>
                h
                  .run(sh`printf '%s' ${tok}; printf '%s' ${tok} >&2`)
                  .then((r) =>
                    expect([r.stdout, r.stderr]).toEqual([`/token/${i}`, `/token/${i}`]),
                  ),
              ),
          );
        }
      }
      // plain exec beside the shells: the channel bound holds for both
      const execs = Array.from({ length: 8 }, (_, i) =>
        h.exec(sh`sleep 0.2; echo ${remotePath(`/x${i}`)}`).then((r) => {
          expect(r.stdout).toBe(`/x${i}\n`);
          expect(r.transport).toBe('exec');
        }),
      );
      await Promise.all([...jobs, ...execs]);
      const { conn, set } = await shellsOf(p, h);
      expect(set.size).toBeLessThanOrEqual(2);
      expect(set.fallbacks).toBe(0);
      expect(conn.channels.peak).toBeLessThanOrEqual(8);
    } finally {
      await p.close();
    }
  });

  it('readFiles of a file whose size changes between wc and cat is re-read per file', async () => {
    const p = pool();
    const agent = new SshNodeAgent(node('node1'), { pool: p });
    try {
      // /proc/self/status names the reading process: `wc` and `cat` see different sizes
      const [r] = await agent.readFiles(['/proc/self/status']);
      expect(r).toMatchObject({ ok: true, content: expect.stringMatching(/^Name:/) });
    } finally {
      await p.close();
    }
  });

  it('a node that refuses the shell (forced command) falls back to exec, and stays there', async () => {
    const l = lab();
    const key = join(l.dir, 'id_forced');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'forced', '-f', key]);
    // runs any command except the persistent shell
    const forced = `command="case \\"$SSH_ORIGINAL_COMMAND\\" in 'exec sh -s') echo 'no shells here' >&2; exit 1;; esac; exec sh -c \\"$SSH_ORIGINAL_COMMAND\\"" ${readFileSync(`${key}.pub`, 'utf8')}`;
    appendFileSync(join(l.dir, 'authorized_keys'), forced);
    const cfg = l.writeConfig('ssh_config.forced', {
      extra: `Host node2\n  IdentityFile ${key}\n  IdentitiesOnly yes`,
    });
    const p = new SshPool({ sshConfigFile: cfg, agentSocket: 'none' });
    try {
      const h = p.host('node2');
      const before = sessions(l, 'node2');
      const r = await h.run(sh`echo via-exec`);
      expect(r).toMatchObject({ stdout: 'via-exec\n', transport: 'exec' });
      const { set } = await shellsOf(p, h);
      expect(set.opened).toBe(0);
      expect(set.disabledReason).toMatch(/persistent shell unavailable/);
      expect(sessions(l, 'node2') - before).toBe(2); // the refused shell, then the exec
      // during the cooldown: straight to exec, no new shell attempt
      const agent = new SshNodeAgent(node('node2'), { pool: p });
      const [st] = await agent.stat([l.configFile]);
      expect(st).toMatchObject({ ok: true, kind: 'file' });
      const [rf] = await agent.readFiles([l.configFile]);
      expect(rf).toMatchObject({ ok: true, content: readFileSync(l.configFile, 'utf8') });
      expect(sessions(l, 'node2') - before).toBe(4);
      expect(set.fallbacks).toBe(3);
    } finally {
      await p.close();
    }
  });

  it('jump hosts get TCP_NODELAY (one `exit 0` session): relayed replies do not stall', async () => {
    const l = lab();
    const off = pool({ primeJumpHosts: false });
    try {
      const before = sessions(l, 'bastion');
      await off.host('node2').run(sh`true`);
      await new Promise((r) => setTimeout(r, 300));
      expect(sessions(l, 'bastion')).toBe(before); // nothing ever runs on the jump host
    } finally {
      await off.close();
    }
    const p = pool();
    try {
      const before = sessions(l, 'bastion');
      const h = p.host('node1');
      await h.run(sh`true`);
      await until(
        'priming session on the bastion',
        () => sessions(l, 'bastion') === before + 1,
        3000,
      );
      // A reply written in two bursts (10 ms apart) is relayed by the bastion in two writes:
      // without TCP_NODELAY the second waits for a delayed ACK, ~40 ms every time.
      const t: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        await h.run(sh`echo a; sleep 0.01; echo b`);
        t.push(performance.now() - t0);
      }
      t.sort((a, b) => a - b);
      expect(t[10]).toBeLessThan(30); // ~12 ms with NODELAY, ~44 ms without
      expect(sessions(l, 'bastion')).toBe(before + 1); // once per connection
    } finally {
      await p.close();
    }
  });

  it('sshd killed mid-request: the request fails, the node recovers after restart', async () => {
    const l = lab();
    const p = pool();
    try {
      const n1 = p.host('node1');
      const n2 = p.host('node2');
      await n1.run(sh`true`);
      await n2.run(sh`true`);
      const { set } = await shellsOf(p, n1);
      const running = rejection(n1.run(sh`sleep 20`, { timeoutMs: 15_000 }));
      await until('request running', () => set.busy === 1, 5000);
      await new Promise((r) => setTimeout(r, 200));
      await l.kill('node1');
      const e = await running;
      expect(e.kind).toBe('unreachable');
      expect(e.message).toMatch(/connection lost|while running/);
      // node2, behind the same bastion, keeps answering on its shell
      expect((await n2.run(sh`echo up`)).stdout).toBe('up\n');
      await l.start('node1');
      await until(
        'node1 recovered',
        () =>
          n1.run(sh`echo back`, { timeoutMs: 3000 }).then(
            (r) => r.stdout === 'back\n' && r.transport === 'shell',
            () => false,
          ),
        10_000,
      );
      expect((await shellsOf(p, n1)).set.opened).toBeGreaterThanOrEqual(1);
    } finally {
      await p.close();
    }
  });
});
