/**
 * The rebuild roll-out's etcd member-health gate against a real etcd (Debian etcd-server)
 * serving client and peer TLS with the P-521 certificates of the project's scripts
 * (gen-lab.sh), on a lab node behind a real sshd in a network namespace — as the rotate
 * tests run it. The gate runs `etcdctl endpoint health --cluster` over mTLS ON the node through
 * NodeAgent.exec (the command rotate's etcd gate runs: src/actions/etcd-health.ts).
 * nixos-rebuild cannot run here: the executor stands in for it (it prints a switch's lines);
 * the gate is the real thing. etcd is supervised by unitctl.sh (the netns has no systemd).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { gateSources } from '../../../src/actions/rebuild/gate-sources.js';
import { defaultChecks, runGate } from '../../../src/actions/rebuild/gates.js';
import { RebuildFailed, rebuildJob } from '../../../src/actions/rebuild/job.js';
import type { Inventory, NodeSpec } from '../../../src/config/types.js';
import type { NodeAgent } from '../../../src/nodes/agent.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { recordingContext } from '../../helpers/job-context.js';
import { buildLab, pkiToolSupport } from '../../helpers/pki-lab.js';
import { describeLab } from '../../helpers/sshd-suite.js';

const UNITCTL = join(import.meta.dirname, '..', 'rotate', 'unitctl.sh');
const ETCD = '/usr/bin/etcd';

function etcdSupport(): string | undefined {
  if (!existsSync(ETCD)) return `${ETCD} missing (apt-get install etcd-server)`;
  if (!existsSync('/usr/bin/etcdctl')) return 'etcdctl missing (apt-get install etcd-client)';
  const p = pkiToolSupport();
  return p.ok ? undefined : p.reason;
}
const missing = etcdSupport();
if (missing && process.env.CI !== 'true')
  process.stderr.write(`[skip] rebuild/etcd-gate: ${missing}\n`);

describeLab('rebuild: the etcd member-health gate against a real etcd behind sshd', (lab) => {
  let tmp = '';
  let pool: SshPool | undefined;
  afterAll(async () => {
    if (tmp) {
      try {
        execFileSync('ip', [
          'netns',
          'exec',
          lab().hosts.node1.ns,
          UNITCTL,
          join(tmp, 'units'),
          'stop',
          'etcd.service',
        ]);
      } catch {
        // not started
      }
    }
    await pool?.close();
  });

  it('has etcd and the PKI tools (etcd-server, etcd-client, cfssl, openssl, jq)', () => {
    if (missing && process.env.CI === 'true') throw new Error(missing);
    if (missing) return;
    expect(missing).toBeUndefined();
  });
  const live = missing ? it.skip : it;

  live(
    'healthy etcd passes the gate; etcd stopped fails it, naming the gate and what etcdctl said, and the roll-out stops',
    async () => {
      const l = lab();
      tmp = mkdtempSync(join(tmpdir(), 'k8ops-etcd-gate-'));
      const ns = l.hosts.node1.ns;
      const addr = l.hosts.node1.address;
      const pki = await buildLab(join(tmp, 'pki'), [
        { name: 'node1', roles: ['etcd', 'worker'], addresses: [addr] },
      ]);
      const dir = pki.nodes.node1!.dir;
      const inNs = (argv: string[]) =>
        execFileSync('ip', ['netns', 'exec', ns, ...argv], {
          encoding: 'utf8',
          timeout: 30_000,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      const udir = join(tmp, 'units');
      execFileSync('mkdir', ['-p', udir, join(tmp, 'etcd-data')]);
      const url = (p: number) => `https://${addr}:${p}`;
      writeFileSync(
        join(udir, 'etcd.service.run'),
        [
          '#!/bin/sh',
          `exec ${ETCD} --name node1 --data-dir ${join(tmp, 'etcd-data')} --logger zap --log-level warn \\`,
          `  --listen-client-urls ${url(2379)} --advertise-client-urls ${url(2379)} \\`,
          `  --cert-file ${dir}/etcd-server.pem --key-file ${dir}/etcd-server-key.pem \\`,
          `  --trusted-ca-file ${dir}/etcd-ca.pem --client-cert-auth \\`,
          `  --listen-peer-urls ${url(2380)} --initial-advertise-peer-urls ${url(2380)} \\`,
          `  --initial-cluster node1=${url(2380)} \\`,
          `  --peer-cert-file ${dir}/etcd-peer.pem --peer-key-file ${dir}/etcd-peer-key.pem \\`,
          `  --peer-trusted-ca-file ${dir}/etcd-ca.pem --peer-client-cert-auth`,
          '',
        ].join('\n'),
      );
      chmodSync(join(udir, 'etcd.service.run'), 0o755);
      inNs([UNITCTL, udir, 'start', 'etcd.service']);

      const node1: NodeSpec = {
        name: 'node1',
        index: 0,
        host: 'node1',
        addresses: [addr],
        roles: ['etcd', 'worker'],
      };
      const node2: NodeSpec = {
        name: 'node2',
        index: 1,
        host: 'node2',
        addresses: [l.hosts.node2.address],
        roles: ['worker'],
      };
      pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
      const agents = new Map<string, NodeAgent>([
        ['node1', new SshNodeAgent(node1, { pool })],
        ['node2', new SshNodeAgent(node2, { pool })],
      ]);
      const inventory = { pki: { dir, rootOffline: true } } as unknown as Inventory;
      const checks = defaultChecks(gateSources({ inventory, agents, hasKube: false }));

      // Healthy (etcd takes a moment to serve): the gate polls until it passes.
      const ok = await runGate(node1, checks, new AbortController().signal, {
        timeoutMs: 60_000,
        intervalMs: 500,
      });
      expect(ok.checks.map((c) => [c.name, c.ok])).toEqual([
        ['ssh', true],
        ['etcd health', true],
      ]);
      // --cluster: the member list of this one-member cluster, each member checked.
      expect(ok.checks[1]!.detail).toBe(`1 of 1 members healthy: https://${addr}:2379`);
      // A worker without the etcd role gets no etcd check.
      const w = await runGate(node2, checks, new AbortController().signal, { timeoutMs: 10_000 });
      expect(w.checks.map((c) => c.name)).toEqual(['ssh']);

      // The roll-out: node1 (etcd) then node2; etcd goes down during node1's "switch".
      const switched: string[] = [];
      const job = rebuildJob({ nodes: [], action: 'switch', parallel: 1 }, [[node1], [node2]], {
        execute: async (n, onLine) => {
          switched.push(n.name);
          onLine('activating the configuration...');
          onLine('restarting the following units: etcd.service');
          if (n.name === 'node1') inNs([UNITCTL, udir, 'stop', 'etcd.service']);
          onLine(`Done. The new configuration is /nix/store/x-nixos-system-${n.name}-25.05`);
          return { code: 0 };
        },
        gate: (n, signal, g) => runGate(n, checks, signal, { timeoutMs: 3000, intervalMs: 500 }, g),
      });
      const ctx = recordingContext();
      const err = (await job.run(ctx).catch((e: unknown) => e)) as RebuildFailed;
      expect(err).toBeInstanceOf(RebuildFailed);
      expect(switched).toEqual(['node1']);
      const gate = err.summary.runs[0]!.gate!;
      expect(gate.checks.map((c) => [c.name, c.ok])).toEqual([
        ['ssh', true],
        ['etcd health', false],
      ]);
      // etcdctl's own words: the endpoint is unhealthy / the connection refused.
      expect(gate.checks[1]!.detail).toMatch(/^exit 1: .*(unhealthy|refused|deadline)/i);
      expect(err.message).toMatch(/^node1 failed while gating: gate etcd health: exit 1: /);
      expect(ctx.steps.map((s) => `${s.state} ${s.name}`)).toEqual([
        'ok node1: nixos-rebuild',
        'failed node1: health gate',
        'skipped node2: nixos-rebuild',
      ]);
      // The gate's command ran on the node: it is the one rotate's etcd gate runs.
      expect(readFileSync(join(udir, 'etcd.service.log'), 'utf8')).not.toMatch(/panic/);
    },
    300_000,
  );
});
