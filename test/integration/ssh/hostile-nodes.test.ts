/**
 * Real OpenSSH sshd, hostile input on a node (issue 11, items 2–4): a FIFO or a device by a
 * certificate name, a 200 MB certificate, and requests k8ops abandons. The node stays
 * reachable, its good certificates are read, and nothing is left running on it: node3 is
 * alone in its network namespace, so every process there but its sshd listener belongs to
 * the test's sessions (orphans included, which are no longer the sshd's descendants).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/config/types.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import type { RemoteExecError } from '../../../src/ssh/errors.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { BIN, ensureBuilt } from '../../helpers/build.js';
import type { LabProcess, SshLab } from '../../helpers/sshd.js';
import { describeLab } from '../../helpers/sshd-suite.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'pki');
const PEM = (n: string) => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----\n`;
const NOT_REGULAR = 'not a regular file';
const TOO_LARGE = 'larger than 1 MiB';

const node = (name: string): NodeSpec => ({
  name,
  index: 0,
  host: name,
  addresses: [],
  roles: ['worker'],
});

const writers: ChildProcess[] = [];
afterAll(() => {
  for (const w of writers) w.kill('SIGKILL');
});

/** A writer blocked opening `fifo`: it prints `opened` if anything ever opens it to read. */
function fifoWithWriter(fifo: string): () => string {
  execFileSync('mkfifo', [fifo]);
  const w = spawn('sh', ['-c', 'exec 3>"$1"; echo opened', 'sh', fifo]);
  writers.push(w);
  let opened = '';
  w.stdout.on('data', (b: Buffer) => {
    opened += b.toString();
  });
  return () => opened;
}

/** Processes on the node other than its sshd sessions and the pool's persistent shells. */
const strays = (l: SshLab): LabProcess[] =>
  l.processes('node3').filter((p) => !/^sshd:/.test(p.args) && p.args !== 'sh -s');

/**
 * Samples strays every 50 ms until stopped: the last sample that found some (how many, and
 * when, in ms after the start), so that a test knows its request was running on the node.
 */
function watchStrays(l: SshLab): { stop: () => { last: number; lastAt: number } } {
  const t0 = Date.now();
  let last = 0;
  let lastAt = -1;
  const iv = setInterval(() => {
    const n = strays(l).length;
    if (n > 0) {
      last = n;
      lastAt = Date.now() - t0;
    }
  }, 50);
  return {
    stop: () => {
      clearInterval(iv);
      return { last, lastAt };
    },
  };
}

async function until(what: string, fn: () => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (fn()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Nothing of the test's requests runs on node3 any more (checked, then waited for). */
async function nothingLeft(l: SshLab, ms: number, what = 'no stray process on node3') {
  let last: LabProcess[] = [];
  try {
    return await until(
      what,
      () => {
        last = strays(l);
        return last.length === 0;
      },
      ms,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}: ${JSON.stringify(last)}`);
  }
}

async function rejection(p: Promise<unknown>): Promise<RemoteExecError> {
  try {
    await p;
  } catch (e) {
    return e as RemoteExecError;
  }
  throw new Error('expected a rejection');
}

beforeAll(() => ensureBuilt(), 120_000);

describeLab('hostile files and abandoned requests on a node (real sshd)', (lab) => {
  const pool = () => new SshPool({ sshConfigFile: lab().configFile, agentSocket: 'none' });

  // Each test judges only what it started: anything an earlier (failed) test left on node3
  // is killed first.
  beforeEach(() => {
    for (const p of strays(lab())) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  it('2. a FIFO and a device by certificate names are reported, never opened; the other certificates are read', async () => {
    const l = lab();
    const p = pool();
    const agent = new SshNodeAgent(node('node3'), { pool: p, timeoutMs: 8000 });
    try {
      const d = join(l.dir, 'pki-fifo');
      mkdirSync(d);
      writeFileSync(join(d, 'ca.pem'), PEM('ca'));
      writeFileSync(join(d, 'kubelet.pem'), PEM('kubelet'));
      writeFileSync(join(d, 'kubelet-key.pem'), 'SECRET PRIVATE KEY\n', { mode: 0o600 });
      const opened = fifoWithWriter(join(d, 'stuck.pem'));
      const openedOdd = fifoWithWriter(join(d, 'ünï.pem')); // read with readFiles (not ASCII)
      symlinkSync('/dev/zero', join(d, 'zero.pem'));
      const t0 = Date.now();
      const files = await agent.readCertFiles(d);
      expect(Date.now() - t0).toBeLessThan(5000); // not the 8 s timeout
      const byName = Object.fromEntries(files.map((f) => [f.path.slice(d.length + 1), f]));
      expect(Object.keys(byName).sort()).toEqual(
        ['ca.pem', 'kubelet.pem', 'stuck.pem', 'zero.pem', 'ünï.pem'].sort(),
      );
      expect(byName['ca.pem']).toEqual({ path: join(d, 'ca.pem'), ok: true, content: PEM('ca') });
      expect(byName['kubelet.pem']).toMatchObject({ ok: true, content: PEM('kubelet') });
      for (const n of ['stuck.pem', 'zero.pem', 'ünï.pem'])
        expect(byName[n], n).toEqual({
          path: join(d, n),
          ok: false,
          missing: false,
          error: NOT_REGULAR,
        });
      expect(JSON.stringify(files)).not.toContain('SECRET');
      expect(opened()).toBe('');
      expect(openedOdd()).toBe('');
      await nothingLeft(l, 3000); // no wc/cat blocked on the FIFO, none reading /dev/zero
    } finally {
      await agent.close();
      await p.close();
    }
    await until('node3 sessions closed', () => l.processes('node3').length === 0, 5000);
  });

  it('3. a 200 MB certificate is reported larger than 1 MiB without being read; the rest is read', async () => {
    const l = lab();
    const p = pool();
    const agent = new SshNodeAgent(node('node3'), { pool: p, timeoutMs: 8000 });
    const outputs: number[] = [];
    const run = agent.host.run.bind(agent.host);
    agent.host.run = async (script, opts) => {
      const r = await run(script, opts);
      outputs.push(r.stdoutBuffer.length);
      return r;
    };
    try {
      const d = join(l.dir, 'pki-big');
      mkdirSync(d);
      writeFileSync(join(d, 'ca.pem'), PEM('ca'));
      writeFileSync(join(d, 'etcd.crt'), PEM('etcd'));
      writeFileSync(join(d, 'big.pem'), '');
      truncateSync(join(d, 'big.pem'), 200 * 1024 * 1024); // sparse
      const files = await agent.readCertFiles(d);
      expect(files).toEqual([
        { path: join(d, 'big.pem'), ok: false, missing: false, error: TOO_LARGE },
        { path: join(d, 'ca.pem'), ok: true, content: PEM('ca') },
        { path: join(d, 'etcd.crt'), ok: true, content: PEM('etcd') },
      ]);
      expect(outputs).toHaveLength(1); // one request, and it carried none of big.pem
      expect(outputs[0]).toBeLessThan(4096);
      // readFiles applies the same cap to a path asked for directly
      const [big] = await agent.readFiles([join(d, 'big.pem')]);
      expect(big).toMatchObject({ ok: false, error: TOO_LARGE });
      await nothingLeft(l, 3000);
    } finally {
      await agent.close();
      await p.close();
    }
  });

  it('2+3. `k8ops certs --json`: the node stays reachable and its good certificate is listed', async () => {
    const l = lab();
    const d = join(l.dir, 'pki-cli');
    mkdirSync(d);
    copyFileSync(join(FIXTURES, 'chain.pem'), join(d, 'kube-apiserver.pem'));
    const opened = fifoWithWriter(join(d, 'stuck.pem'));
    symlinkSync('/dev/zero', join(d, 'zero.pem'));
    writeFileSync(join(d, 'big.pem'), '');
    truncateSync(join(d, 'big.pem'), 200 * 1024 * 1024);
    const inv = join(l.dir, 'k8ops-hostile.yaml');
    writeFileSync(
      inv,
      [
        'cluster: sshlab',
        'nodes:',
        '  - name: node3',
        '    roles: [worker]',
        'pki:',
        `  dir: ${d}`,
      ].join('\n'),
    );
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const c = spawn(
          'node',
          [BIN, 'certs', '--json', '--inventory', inv, '--ssh-config', l.configFile],
          {
            env: {
              PATH: process.env.PATH ?? '',
              HOME: l.home,
              XDG_CACHE_HOME: join(l.home, 'cache'),
              XDG_STATE_HOME: join(l.home, 'state'),
            },
            timeout: 60_000,
          },
        );
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (b) => (stdout += b));
        c.stderr.on('data', (b) => (stderr += b));
        c.on('close', (code) => resolve({ code, stdout, stderr }));
      },
    );
    const doc = JSON.parse(r.stdout) as {
      exitCode: number;
      summary: { unreachable: string[]; certificates: number };
      nodes: Array<{ name: string; certs: string }>;
      checks: Array<{ id: string; path: string; message: string }>;
    };
    expect(doc.summary.unreachable).toEqual([]);
    expect(doc.nodes).toEqual([expect.objectContaining({ name: 'node3', certs: 'ok' })]);
    expect(doc.exitCode).not.toBe(3);
    expect(r.code).toBe(doc.exitCode);
    expect(doc.summary.certificates).toBeGreaterThan(0);
    const unparseable = Object.fromEntries(
      doc.checks.filter((c) => c.id === 'unparseable').map((c) => [c.path, c.message]),
    );
    expect(unparseable[join(d, 'stuck.pem')]).toContain(NOT_REGULAR);
    expect(unparseable[join(d, 'zero.pem')]).toContain(NOT_REGULAR);
    expect(unparseable[join(d, 'big.pem')]).toContain(TOO_LARGE);
    expect(unparseable[join(d, 'kube-apiserver.pem')]).toBeUndefined();
    expect(opened()).toBe('');
    // The command has ended: nothing of it runs on the node (its sessions closed too).
    await until('node3 idle after the command', () => l.processes('node3').length === 0, 5000);
  }, 90_000);

  /**
   * A PKI directory whose status run takes seconds: 800 key files no openssl can read (a
   * private key label over a body that is not one), which the one `openssl storeutl` of
   * the derive request passes over quickly and then leaves to their own `openssl pkey`
   * each (certificates and readable keys no longer cost a process per file).
   */
  function slowStatusDir(l: SshLab, name: string): string {
    const d = join(l.dir, name);
    mkdirSync(d);
    const key = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
    for (let i = 0; i < 800; i++)
      writeFileSync(join(d, `c${String(i).padStart(4, '0')}-key.pem`), key, { mode: 0o600 });
    return d;
  }

  it('4. a status run k8ops gave up on (timeout) does not go on running on the node', async () => {
    const l = lab();
    const d = slowStatusDir(l, 'pki-slow-timeout');
    const p = pool();
    const agent = new SshNodeAgent(node('node3'), { pool: p, timeoutMs: 1500 });
    try {
      await agent.probe(); // connected: the timeout is the status run's alone
      const seen = watchStrays(l);
      const e = await rejection(agent.pkiStatus(d));
      const inFlight = seen.stop();
      expect(e.kind).toBe('timeout');
      // it ran on the node until k8ops gave up (its requests, their openssl: the last of
      // them a few ms before, as the key files go one `openssl pkey` after the other)
      expect(inFlight.last).toBeGreaterThan(0);
      expect(inFlight.lastAt).toBeGreaterThan(1000);
      // the node-side deadline (1.5 s → 3 s after the start) ends it
      const waited = await nothingLeft(l, 4000, 'the abandoned status run ended on node3');
      console.log(`status run gone ${waited} ms after the timeout`);
    } finally {
      await agent.close();
      await p.close();
    }
  }, 30_000);

  it('4. an aborted status run does not go on running on the node', async () => {
    const l = lab();
    const d = slowStatusDir(l, 'pki-slow-abort');
    const p = pool();
    const agent = new SshNodeAgent(node('node3'), { pool: p, timeoutMs: 2500 });
    try {
      await agent.probe();
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 700);
      const seen = watchStrays(l);
      const e = await rejection(agent.pkiStatus(d, { signal: ac.signal }));
      const inFlight = seen.stop();
      expect(e.kind).toBe('aborted');
      expect(inFlight.last).toBeGreaterThan(0);
      expect(inFlight.lastAt).toBeGreaterThan(400);
      // by the node-side deadline of the call (2.5 s → 4 s after the start) at the latest
      const waited = await nothingLeft(l, 5000, 'the aborted status run ended on node3');
      console.log(`status run gone ${waited} ms after the abort`);
    } finally {
      await agent.close();
      await p.close();
    }
  }, 30_000);
});
