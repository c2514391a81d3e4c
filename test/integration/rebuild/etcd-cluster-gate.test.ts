/**
 * The etcd gate checks the whole cluster, not one endpoint: a real 3-member etcd cluster
 * (Debian etcd-server 3.4) with client and peer mTLS from the project's scripts (gen-lab.sh,
 * P-521), on two lab nodes behind a real sshd in a network namespace — member m1 on node1's
 * address, m2 on node2's, m3 on node1's address at another port. The gate runs
 * `etcdctl -w json endpoint health --cluster` over mTLS ON node1 through NodeAgent.exec
 * (actions/etcd-health.ts, the command rotate's etcd gate runs too): with every member up it
 * passes; with m2 stopped it fails on node1 — whose own member is healthy — naming node2's
 * member. etcd is supervised by unitctl.sh (the netns has no systemd).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { gateSources } from '../../../src/actions/rebuild/gate-sources.js';
import { defaultChecks, runGate } from '../../../src/actions/rebuild/gates.js';
import type { Inventory, NodeSpec } from '../../../src/config/types.js';
import type { NodeAgent } from '../../../src/nodes/agent.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { buildLab, pkiToolSupport } from '../../helpers/pki-lab.js';
import { describeLab } from '../../helpers/sshd-suite.js';

const UNITCTL = join(import.meta.dirname, '..', 'rotate', 'unitctl.sh');
const ETCD = '/usr/bin/etcd';
const MEMBERS = ['m1', 'm2', 'm3'] as const;

function etcdSupport(): string | undefined {
  if (!existsSync(ETCD)) return `${ETCD} missing (apt-get install etcd-server)`;
  if (!existsSync('/usr/bin/etcdctl')) return 'etcdctl missing (apt-get install etcd-client)';
  const p = pkiToolSupport();
  return p.ok ? undefined : p.reason;
}
const missing = etcdSupport();
if (missing && process.env.CI !== 'true')
  process.stderr.write(`[skip] rebuild/etcd-cluster-gate: ${missing}\n`);

describeLab(
  'rebuild/rotate etcd gate: member health of a real 3-member etcd cluster behind sshd',
  (lab) => {
    let tmp = '';
    let pool: SshPool | undefined;
    const inNs = (argv: string[]) =>
      execFileSync('ip', ['netns', 'exec', lab().hosts.node1.ns, ...argv], {
        encoding: 'utf8',
        timeout: 30_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    afterAll(async () => {
      if (tmp)
        for (const m of MEMBERS) {
          try {
            inNs([UNITCTL, join(tmp, 'units'), 'stop', `etcd-${m}.service`]);
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
      'all members up: the gate passes, every member listed; m2 (node2) stopped: the gate on node1 fails naming node2',
      async () => {
        const l = lab();
        expect(l.hosts.node2.ns).toBe(l.hosts.node1.ns);
        tmp = mkdtempSync(join(tmpdir(), 'k8ops-etcd-cluster-'));
        const a1 = l.hosts.node1.address;
        const a2 = l.hosts.node2.address;
        const pki = await buildLab(join(tmp, 'pki'), [
          { name: 'node1', roles: ['etcd', 'control-plane'], addresses: [a1] },
          { name: 'node2', roles: ['etcd', 'control-plane'], addresses: [a2] },
        ]);
        const udir = join(tmp, 'units');
        mkdirSync(udir, { recursive: true });
        const spec = {
          m1: { addr: a1, client: 2379, peer: 2380, dir: pki.nodes.node1!.dir },
          m2: { addr: a2, client: 2379, peer: 2380, dir: pki.nodes.node2!.dir },
          m3: { addr: a1, client: 12379, peer: 12380, dir: pki.nodes.node1!.dir },
        } as const;
        const url = (m: (typeof MEMBERS)[number], kind: 'client' | 'peer') =>
          `https://${spec[m].addr}:${spec[m][kind]}`;
        const initial = MEMBERS.map((m) => `${m}=${url(m, 'peer')}`).join(',');
        for (const m of MEMBERS) {
          const s = spec[m];
          const run = join(udir, `etcd-${m}.service.run`);
          writeFileSync(
            run,
            [
              '#!/bin/sh',
              `exec ${ETCD} --name ${m} --data-dir ${join(tmp, `data-${m}`)} --logger zap --log-level warn \\`,
              `  --listen-client-urls ${url(m, 'client')} --advertise-client-urls ${url(m, 'client')} \\`,
              `  --cert-file ${s.dir}/etcd-server.pem --key-file ${s.dir}/etcd-server-key.pem \\`,
              `  --trusted-ca-file ${s.dir}/etcd-ca.pem --client-cert-auth \\`,
              `  --listen-peer-urls ${url(m, 'peer')} --initial-advertise-peer-urls ${url(m, 'peer')} \\`,
              `  --initial-cluster ${initial} --initial-cluster-state new \\`,
              `  --peer-cert-file ${s.dir}/etcd-peer.pem --peer-key-file ${s.dir}/etcd-peer-key.pem \\`,
              `  --peer-trusted-ca-file ${s.dir}/etcd-ca.pem --peer-client-cert-auth`,
              '',
            ].join('\n'),
          );
          chmodSync(run, 0o755);
          inNs([UNITCTL, udir, 'start', `etcd-${m}.service`]);
        }

        const node = (name: string, index: number, addr: string): NodeSpec => ({
          name,
          index,
          host: name,
          addresses: [addr],
          roles: ['etcd', 'control-plane'],
        });
        const node1 = node('node1', 0, a1);
        const node2 = node('node2', 1, a2);
        pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
        const agents = new Map<string, NodeAgent>([
          ['node1', new SshNodeAgent(node1, { pool })],
          ['node2', new SshNodeAgent(node2, { pool })],
        ]);
        const inventory = {
          nodes: [node1, node2],
          pki: { dir: pki.nodes.node1!.dir, rootOffline: true },
        } as unknown as Inventory;
        const checks = defaultChecks(gateSources({ inventory, agents, hasKube: false }));

        // Every member up. The cluster takes a moment to elect, and a member is in the member
        // list's client URLs only once it has published them (etcdctl --cluster skips a member
        // that never started): wait, bounded, until all three answer.
        let ok = await runGate(node1, checks, new AbortController().signal, {
          timeoutMs: 60_000,
          intervalMs: 500,
        });
        for (let i = 0; i < 60 && !/^3 of 3 /.test(ok.checks[1]?.detail ?? ''); i++) {
          await new Promise((r) => setTimeout(r, 500));
          ok = await runGate(node1, checks, new AbortController().signal, {
            timeoutMs: 10_000,
            intervalMs: 500,
          });
        }
        expect(ok.checks.map((c) => [c.name, c.ok])).toEqual([
          ['ssh', true],
          ['etcd health', true],
        ]);
        const detail = ok.checks[1]!.detail;
        expect(detail).toMatch(/^3 of 3 members healthy: /);
        expect(detail).toContain(`node1 (${url('m1', 'client')})`);
        expect(detail).toContain(`node2 (${url('m2', 'client')})`);
        expect(detail).toContain(url('m3', 'client'));

        // m2 down: node1's own member is healthy, the cluster is not — the gate on node1 fails.
        inNs([UNITCTL, udir, 'stop', 'etcd-m2.service']);
        const bad = await runGate(node1, checks, new AbortController().signal, {
          timeoutMs: 2_000,
          intervalMs: 500,
        });
        expect(bad.ok).toBe(false);
        const failed = bad.checks.find((c) => c.name === 'etcd health')!;
        expect(failed.ok).toBe(false);
        expect(failed.detail).toMatch(
          new RegExp(
            `^unhealthy: node2 \\(${url('m2', 'client').replaceAll('.', '\\.')}\\): .*\\(2 of 3 members healthy\\)$`,
          ),
        );
        expect(failed.detail).not.toMatch(/node1 \(/);

        // Back up: the gate passes again (a stopped member is the only cause).
        inNs([UNITCTL, udir, 'start', 'etcd-m2.service']);
        const again = await runGate(node1, checks, new AbortController().signal, {
          timeoutMs: 60_000,
          intervalMs: 500,
        });
        expect(again.ok).toBe(true);
      },
      300_000,
    );
  },
);
