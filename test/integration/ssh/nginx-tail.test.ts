/**
 * The NGINX pane's log-file source over real OpenSSH: `tail -n N <ingress.logFile>` run by
 * SshNodeAgent.exec on a node behind the bastion (test/helpers/sshd.ts), on lines a real
 * nginx wrote (test/fixtures/nginx/access.log). Successive reads count each line once; a
 * path that is not plain is refused before anything is sent; a missing file is an error
 * naming it.
 */
import { appendFileSync, copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Inventory, NodeSpec } from '../../../src/config/types.js';
import { statsModel } from '../../../src/features/nginx/model.js';
import { collectLogFile } from '../../../src/features/nginx/sources.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { describeLab } from '../../helpers/sshd-suite.js';

const FIXTURE = join(import.meta.dirname, '../../fixtures/nginx/access.log');
const node: NodeSpec = { name: 'node3', index: 0, host: 'node3', addresses: [], roles: ['worker'] };
const inv = (logFile: string): Inventory =>
  ({
    nodes: [node],
    ingress: { namespace: 'ingress-nginx', cacheZone: 'ingress_cache', logFile },
  }) as unknown as Inventory;

describeLab('NGINX log file over real sshd (tail -n through SshNodeAgent.exec)', (lab) => {
  it('reads the log on the node, each line once across reads', async () => {
    const l = lab();
    const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
    const agent = new SshNodeAgent(node, { pool });
    try {
      const file = join(l.dir, 'access.log');
      copyFileSync(FIXTURE, file);
      const lines = readFileSync(FIXTURE, 'utf8').trim().split('\n');
      // The fixture's times are old: judge windows at its own time.
      const signal = new AbortController().signal;
      const now = () => Date.parse('2026-12-06T03:43:10Z');
      const first = await collectLogFile(inv(file), agent, signal, { now, lines: 100 });
      expect(first).toMatchObject({ lines: lines.length, unparseable: 0 });
      appendFileSync(
        file,
        `${lines
          .slice(0, 3)
          .map((x) => x.replace(/[0-9a-f]{32}/, 'f'.repeat(32)))
          .join('\n')}\ngarbage\n`,
      );
      const second = await collectLogFile(inv(file), agent, signal, { now, lines: 100 });
      expect(second).toMatchObject({ lines: lines.length + 4, unparseable: 1, missed: 0 });
      const w = statsModel(second!, now()).overall.windows[2]!;
      expect(w.requests).toBe(lines.length + 3);
      expect(w.cache.HIT).toBe(3 + 2);

      await expect(collectLogFile(inv(join(l.dir, 'missing.log')), agent, signal)).rejects.toThrow(
        /tail .*missing\.log: .*No such file/,
      );
      await expect(collectLogFile(inv('/tmp/x; rm -rf /'), agent, signal)).rejects.toThrow(
        /not a plain absolute path/,
      );
      await expect(collectLogFile(inv('/var/log/../../etc/shadow'), agent, signal)).rejects.toThrow(
        /not a plain absolute path/,
      );
    } finally {
      await agent.close();
      await pool.close();
    }
  }, 60_000);
});
