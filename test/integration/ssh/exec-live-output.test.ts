/**
 * NodeAgent.exec with `onOutput` over real OpenSSH (the lab's node3, two hops behind the
 * bastion): the output reaches the caller while the program still runs (what a `runOn: node`
 * rebuild shows live), stdout and stderr apart and in order, the result still carries all of
 * it, and the call's deadline still ends a program that outlives it. Run on Node 22 and 26.
 */
import { expect, it } from 'vitest';
import { rebuildExecutor } from '../../../src/actions/rebuild/execute.js';
import type { Inventory, NodeSpec } from '../../../src/config/types.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { describeLab } from '../../helpers/sshd-suite.js';

const node = (name: string): NodeSpec => ({
  name,
  index: 0,
  host: name,
  addresses: [],
  roles: ['worker'],
});

describeLab('NodeAgent.exec with live output against real sshd', (lab) => {
  it('chunks arrive while it runs (stdout and stderr apart), the result has everything', async () => {
    const pool = new SshPool({ sshConfigFile: lab().configFile, agentSocket: 'none' });
    try {
      const agent = new SshNodeAgent(node('node3'), { pool });
      await agent.probe();
      const seen: Array<{ t: number; stream: string; text: string }> = [];
      const t0 = Date.now();
      const r = await agent.exec(
        ['sh', '-c', 'echo one; sleep 1; echo two >&2; sleep 1; echo three; exit 3'],
        {
          timeoutMs: 20_000,
          onOutput: (text, stream) => seen.push({ t: Date.now() - t0, stream, text }),
        },
      );
      const ended = Date.now() - t0;
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('one\nthree\n');
      expect(r.stderr).toBe('two\n');
      const joined = (s: string) =>
        seen
          .filter((x) => x.stream === s)
          .map((x) => x.text)
          .join('');
      expect(joined('stdout')).toBe('one\nthree\n');
      expect(joined('stderr')).toBe('two\n');
      // `one` was told at least a second before the program ended.
      const first = seen.find((x) => x.text.includes('one'))!;
      expect(ended - first.t).toBeGreaterThan(1500);
      expect(seen.map((x) => x.text.trim()).filter(Boolean)).toEqual(['one', 'two', 'three']);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('the deadline still ends it: the executor says it timed out (runOn: node)', async () => {
    const pool = new SshPool({ sshConfigFile: lab().configFile, agentSocket: 'none' });
    try {
      const n = node('node2');
      const agent = new SshNodeAgent(n, { pool });
      // The node runs `nixos-rebuild` from PATH; here a program that prints and hangs is
      // wrapped in: the executor's argv is the real one, sent through a stand-in agent exec.
      const hanging: typeof agent.exec = (_argv, opts) =>
        agent.exec(['sh', '-c', 'echo building the system configuration...; sleep 30'], opts);
      const inventory = {
        nodes: [n],
        rebuild: { flake: '/etc/cluster', runOn: 'node', timeoutMs: 2000 },
      } as unknown as Inventory;
      const exec = rebuildExecutor({
        inventory,
        action: 'switch',
        request: {},
        agents: new Map([[n.name, { ...agent, exec: hanging } as unknown as SshNodeAgent]]),
      });
      const lines: string[] = [];
      const t0 = Date.now();
      const r = await exec(n, (l) => lines.push(l), new AbortController().signal);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(r).toMatchObject({ code: null, timedOut: true, timeoutMs: 2000 });
      expect(lines).toEqual(['building the system configuration...']);
    } finally {
      await pool.close();
    }
  }, 60_000);
});
