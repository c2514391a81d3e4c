/**
 * Issue 13, cause 3 — a call's timeout never counts its wait for one of the pool's
 * handshake slots (real OpenSSH sshd, bastion + nodes in network namespaces). A node is
 * unreachable only when its own connection fails (ConnectTimeout, from the start of its
 * own handshake) or its own request overruns its budget after the node is connected.
 *
 * No timing windows: each queued call waits many times its own timeout and must succeed;
 * the only bounds asserted are lower ones (the wait really happened).
 */
import { expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/config/types.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import type { RemoteExecError } from '../../../src/ssh/errors.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { sh } from '../../../src/ssh/quote.js';
import { describeLab } from '../../helpers/sshd-suite.js';

async function rejection(p: Promise<unknown>): Promise<RemoteExecError> {
  try {
    await p;
  } catch (e) {
    return e as RemoteExecError;
  }
  throw new Error('expected a rejection');
}

async function until(what: string, fn: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const node = (name: string): NodeSpec => ({
  name,
  index: 0,
  host: name,
  addresses: [],
  roles: ['worker'],
});

describeLab('queued calls are not timed out while they wait for a handshake slot', (lab) => {
  const pool = (extra: ConstructorParameters<typeof SshPool>[0] = {}) =>
    new SshPool({
      sshConfigFile: lab().configFile,
      agentSocket: 'none',
      backoffInitialMs: 200,
      backoffMaxMs: 1000,
      ...extra,
    });

  it('a slow node holding the only handshake slot for 6× a call timeout: the healthy node queued behind it is read; the slow one fails on its own connect timeout', async () => {
    const p = pool({ maxHandshakes: 1 });
    try {
      await p.host('bastion').connect(); // the shared hop, so only node handshakes queue
      // `dead` sits behind the bastion at an address whose packets are dropped: its connect
      // holds the single slot until its own ConnectTimeout (6 s here).
      const slow = rejection(
        p.host('dead', { host: 'dead', connectTimeoutMs: 6000 }).run(sh`true`, { timeoutMs: 1000 }),
      );
      await until('the slow node holds the handshake slot', () => p.handshakes.inUse === 1, 5000);
      const t0 = Date.now();
      const r = await p.host('node1').run(sh`echo read`, { timeoutMs: 1000 });
      const waited = Date.now() - t0;
      expect(r).toMatchObject({ stdout: 'read\n', exitCode: 0 });
      expect(waited).toBeGreaterThanOrEqual(4000); // it really queued ≥ 4× its own timeout
      const e = await slow;
      expect(e.kind).toBe('timeout');
      expect(e.message).toMatch(/connect timed out/);
      expect(e.message).not.toMatch(/timed out after 1000 ms/);
    } finally {
      await p.close();
    }
  });

  it('with every handshake slot held for 8× the timeout, run, exec and probe all wait and then succeed', async () => {
    const p = pool({ maxHandshakes: 2 });
    // A controllable stand-in for slow nodes: the slots are taken directly.
    const held = [await p.handshakes.acquire(), await p.handshakes.acquire()];
    try {
      const agent = new SshNodeAgent(node('node2'), { pool: p, timeoutMs: 1000 });
      const settled = { run: false, exec: false, probe: false };
      const run = p
        .host('node2')
        .run(sh`echo run`, { timeoutMs: 1000 })
        .finally(() => {
          settled.run = true;
        });
      const exec = p
        .host('node2')
        .exec(sh`echo exec`, { timeoutMs: 1000 })
        .finally(() => {
          settled.exec = true;
        });
      const probe = agent.probe({ timeoutMs: 1000 }).finally(() => {
        settled.probe = true;
      });
      for (const x of [run, exec, probe]) x.catch(() => {}); // inspected below
      await sleep(8000);
      expect(settled).toEqual({ run: false, exec: false, probe: false });
      expect(p.handshakes.waiting).toBe(1); // node2's one connection attempt, queued
      for (const release of held) release();
      const [r, x, pr] = await Promise.all([run, exec, probe]);
      expect(r).toMatchObject({ stdout: 'run\n', transport: 'shell' });
      expect(x).toMatchObject({ stdout: 'exec\n', transport: 'exec' });
      expect(pr.route).toBe('via bastion');
    } finally {
      for (const release of held) release();
      await p.close();
    }
  });

  it('an abort still ends a queued call at once', async () => {
    const p = pool({ maxHandshakes: 1 });
    const held = await p.handshakes.acquire();
    try {
      const ac = new AbortController();
      const call = rejection(p.host('node1').run(sh`true`, { timeoutMs: 1000, signal: ac.signal }));
      await sleep(200);
      ac.abort();
      const e = await call;
      expect(e.kind).toBe('aborted');
    } finally {
      held();
      await p.close();
    }
  });

  it('after connecting, a request over its own budget still times out', async () => {
    const p = pool();
    try {
      await p.host('node1').connect();
      const e = await rejection(p.host('node1').run(sh`sleep 5`, { timeoutMs: 500 }));
      expect(e.kind).toBe('timeout');
      expect(e.message).toMatch(/timed out after 500 ms/);
    } finally {
      await p.close();
    }
  });
});
