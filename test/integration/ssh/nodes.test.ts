/**
 * Real OpenSSH sshd: SshNodeAgent operations through the bastion, and `k8ops nodes`
 * (nodesReport: rows for --json, exit codes, host key states, --accept-new).
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Inventory, NodeSpec } from '../../../src/config/types.js';
import { formatNodesTable, nodesReport } from '../../../src/nodes/report.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { describeLab } from '../../helpers/sshd-suite.js';

const node = (name: string, index: number, host = name): NodeSpec => ({
  name,
  index,
  host,
  addresses: [],
  roles: ['worker'],
});

function inventory(nodes: NodeSpec[], knownHosts?: string): Inventory {
  const ssh: Inventory['ssh'] = { jump: [], connectTimeoutMs: 5000 };
  if (knownHosts) ssh.knownHosts = knownHosts;
  return {
    source: '<test>',
    cluster: 'lab',
    nodes,
    ssh,
    kube: { tunnel: false },
    pki: { dir: '/var/lib/kubernetes/secrets', rootOffline: true },
    rotation: { spreadMs: 86_400_000, cpGapMs: 1_800_000, minRemainingMs: 172_800_000 },
    network: { targetMtu: 9216, bgpRouters: [] },
    ingress: { namespace: 'ingress-nginx', cacheZone: 'static' },
    addons: {},
  };
}

describeLab('SshNodeAgent and `k8ops nodes` against real sshd', (lab) => {
  it('reads many files in one round trip, stats, lists, probes and reads links', async () => {
    const l = lab();
    const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
    const agent = new SshNodeAgent(node('node3', 0), { pool });
    try {
      const d = join(l.dir, 'files');
      mkdirSync(d);
      const paths: string[] = [];
      for (let i = 0; i < 20; i++) {
        const p = join(d, `cert-${i}.pem`);
        writeFileSync(
          p,
          `-----BEGIN CERTIFICATE-----\n${'A'.repeat(i * 50)}\n-----END CERTIFICATE-----\n`,
          {
            mode: 0o640,
          },
        );
        paths.push(p);
      }
      writeFileSync(join(d, 'empty'), '');
      writeFileSync(join(d, '.hidden'), 'x');
      writeFileSync(join(d, 'bin'), Buffer.from([0, 1, 2, 255, 10]));
      symlinkSync(join(d, 'cert-0.pem'), join(d, 'link'));
      const asked = [...paths, join(d, 'missing'), d, join(d, 'empty')];
      const logins = () =>
        readFileSync(join(l.hosts.node3.dir, 'sshd.log'), 'utf8').match(
          /session opened|Starting session/g,
        )?.length ?? 0;
      const before = logins();
      const reads = await agent.readFiles(asked);
      expect(logins() - before).toBe(1); // one exec session for 23 paths
      expect(reads).toHaveLength(23);
      for (let i = 0; i < 20; i++)
        expect(reads[i]).toEqual({
          path: paths[i],
          ok: true,
          content: readFileSync(paths[i]!, 'utf8'),
        });
      expect(reads[20]).toEqual({
        path: join(d, 'missing'),
        ok: false,
        missing: true,
        error: 'no such file',
      });
      expect(reads[21]).toMatchObject({
        path: d,
        ok: false,
        missing: false,
        error: 'is a directory',
      });
      expect(reads[22]).toEqual({ path: join(d, 'empty'), ok: true, content: '' });

      const st = await agent.stat([paths[0]!, d, join(d, 'link'), join(d, 'missing')]);
      expect(st[0]).toMatchObject({
        ok: true,
        mode: 0o640,
        owner: 'root',
        group: 'root',
        kind: 'file',
      });
      expect(st[1]).toMatchObject({ ok: true, kind: 'dir' });
      expect(st[2]).toMatchObject({ ok: true, kind: 'link' });
      expect(st[3]).toMatchObject({ ok: false, missing: true });

      const names = await agent.listDir(d);
      expect(names).toEqual(
        ['.hidden', 'bin', ...paths.map((p) => p.slice(d.length + 1)), 'empty', 'link'].sort(),
      );
      await expect(agent.listDir(join(d, 'missing'))).rejects.toMatchObject({
        kind: 'exit',
        exitCode: 3,
      });

      const probe = await agent.probe();
      expect(probe.route).toBe('via bastion,hop2');
      expect(probe.auth).toBe('publickey');
      expect(probe.rttMs).toBeGreaterThan(0);
      const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(
        readFileSync('/etc/os-release', 'utf8'),
      )?.[1];
      expect(probe.os).toBe(pretty);

      const ip = await agent.exec(['ip', '-j', '-d', 'link', 'show'], { readOnly: true });
      expect(ip.code).toBe(0);
      const links = JSON.parse(ip.stdout) as Array<{ ifname: string }>;
      expect(links.map((x) => x.ifname)).toContain('lo');
      expect(links.map((x) => x.ifname)).toContain(`k8s${l.slot}dn`); // node3's veth, in its own netns

      // exec: each argument arrives as one word, whatever it holds; exit status and stdin
      // come back; a refused program never reaches the node.
      const hostile = `a b;$(touch /tmp/k8ops-pwned)'"\\ \t*`;
      const echoed = await agent.exec(['printf', '%s|', hostile, '']);
      expect(echoed).toEqual({ stdout: `${hostile}||`, stderr: '', code: 0 });
      expect(existsSync('/tmp/k8ops-pwned')).toBe(false);
      expect((await agent.exec(['sh', '-c', 'exit 3'])).code).toBe(3);
      expect((await agent.exec(['cat'], { stdin: 'piped\n' })).stdout).toBe('piped\n');
      await expect(agent.exec(['-rf'])).rejects.toThrow(/refused program/);
      await expect(agent.exec(['../bin/sh'])).rejects.toThrow(/refused program/);
      await expect(agent.exec(['echo', 'a\nb'])).rejects.toThrow(/control character/);

      if (existsSync('/run/systemd/system')) {
        const us = await agent.unitStates(['sshd.service', 'no-such-unit-k8ops.service']);
        expect(us[1]).toEqual({ unit: 'no-such-unit-k8ops.service', state: 'unknown' });
      }
    } finally {
      await agent.close();
      await pool.close();
    }
  });

  it('readCertFiles: a PKI directory listed and read in one request; never a key file; odd names in a second', async () => {
    const l = lab();
    const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
    const agent = new SshNodeAgent(node('node3', 0), { pool });
    const runs: string[] = [];
    const run = agent.host.run.bind(agent.host);
    agent.host.run = (script, opts) => {
      runs.push(script.text);
      return run(script, opts);
    };
    try {
      const d = join(l.dir, 'pki-one-trip');
      mkdirSync(d);
      const pem = (n: string) => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----\n`;
      for (const n of ['ca.pem', 'kubelet.pem', 'etcd.crt']) writeFileSync(join(d, n), pem(n));
      for (const n of ['kubelet-key.pem', 'key.pem', 'sa.key'])
        writeFileSync(join(d, n), 'SECRET PRIVATE KEY\n', { mode: 0o600 });
      writeFileSync(join(d, 'sa.pub'), 'public\n');

      const first = await agent.readCertFiles(d);
      expect(runs).toHaveLength(1);
      expect(first).toEqual(
        ['ca.pem', 'etcd.crt', 'kubelet.pem'].map((n) => ({
          path: join(d, n),
          ok: true,
          content: pem(n),
        })),
      );

      // Unchanged: the directory's stat alone (the files are not sent again).
      runs.length = 0;
      expect(await agent.readCertFiles(d)).toEqual(first);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toContain('stat -L -c');
      expect(agent.certReadsReused).toBe(1);

      // A certificate name outside plain ASCII is read with a request of its own (after the
      // stat that found the directory changed, and the listing); keys never.
      writeFileSync(join(d, 'ünï.pem'), pem('u'));
      runs.length = 0;
      const second = await agent.readCertFiles(d);
      expect(runs).toHaveLength(3);
      expect(second.map((f) => f.path)).toEqual(
        ['ca.pem', 'etcd.crt', 'kubelet.pem', 'ünï.pem'].map((n) => join(d, n)),
      );
      expect(second[3]).toMatchObject({ ok: true, content: pem('u') });
      expect(JSON.stringify([first, second])).not.toContain('SECRET');

      await expect(agent.readCertFiles(join(d, 'missing'))).rejects.toMatchObject({
        kind: 'missing',
      });
    } finally {
      await agent.close();
      await pool.close();
    }
  });

  it('9. nodes report: rows and exit codes (0 all up, 1 unreachable, 2 host key)', async () => {
    const l = lab();
    const nodes = [node('node1', 0), node('node2', 1), node('node3', 2)];
    const ok = await nodesReport(inventory(nodes), { sshConfigFile: l.configFile });
    expect(ok.exitCode).toBe(0);
    expect(ok.rows.map((r) => [r.node, r.reachable, r.route, r.hostKey])).toEqual([
      ['node1', true, 'via bastion', 'ok'],
      ['node2', true, 'via bastion', 'ok'],
      ['node3', true, 'via bastion,hop2', 'ok'],
    ]);
    for (const r of ok.rows) {
      expect(r.rttMs).toBeGreaterThan(0);
      expect(['agent', 'publickey']).toContain(r.auth);
      expect(r.os).toBeTruthy();
      expect(r.error).toBeNull();
    }
    // the JSON form is plain data
    expect(JSON.parse(JSON.stringify(ok.rows))).toEqual(ok.rows);
    const table = formatNodesTable(ok.rows);
    expect(table).toMatch(/^NODE\s+REACH\s+ROUTE\s+HOSTKEY\s+AUTH\s+RTT\s+OS/);
    expect(table).toContain('3/3 reachable');

    const withDead = await nodesReport(inventory([...nodes, node('dead', 3)]), {
      sshConfigFile: l.configFile,
    });
    expect(withDead.exitCode).toBe(1);
    const dead = withDead.rows[3]!;
    expect(dead).toMatchObject({
      node: 'dead',
      reachable: false,
      route: 'via bastion',
      hostKey: 'n/a',
    });
    expect(dead.error?.kind).toBe('timeout');
    expect(withDead.rows.slice(0, 3).every((r) => r.reachable)).toBe(true);

    // unknown host key for node2: exit 2, with fingerprint and how to accept
    const kh = join(l.dir, 'known_hosts.report');
    writeFileSync(
      kh,
      ['bastion', 'node1', 'hop2', 'node3'].map((n) => l.knownHostsLine(n as 'node1')).join('\n'),
    );
    const inv = inventory(nodes, kh);
    const unknown = await nodesReport(inv, { sshConfigFile: l.configFile });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.rows[1]).toMatchObject({ node: 'node2', reachable: false, hostKey: 'unknown' });
    expect(unknown.rows[1]!.error?.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(formatNodesTable(unknown.rows)).toMatch(/--accept-new/);
    const accepted = await nodesReport(inv, { sshConfigFile: l.configFile, acceptNew: true });
    expect(accepted.exitCode).toBe(0);
    expect(accepted.rows[1]!.hostKey).toBe('added');
    const again = await nodesReport(inv, { sshConfigFile: l.configFile });
    expect(again.exitCode).toBe(0);
    expect(again.rows.map((r) => r.hostKey)).toEqual(['ok', 'ok', 'ok']);

    // changed key for the shared bastion: every node behind it fails, exit 2, file and line named
    const bad = join(l.dir, 'known_hosts.badbastion');
    copyFileSync(l.knownHostsFile, bad);
    const text = readFileSync(bad, 'utf8').replace(
      `${l.hosts.bastion.address} ssh-ed25519 ${l.hosts.bastion.keyBase64}`,
      `${l.hosts.bastion.address} ssh-ed25519 ${l.hosts.node1.keyBase64}`,
    );
    writeFileSync(bad, text);
    const changed = await nodesReport(inventory(nodes, bad), {
      sshConfigFile: l.configFile,
      acceptNew: true,
    });
    expect(changed.exitCode).toBe(2);
    for (const r of changed.rows) {
      expect(r).toMatchObject({ reachable: false, hostKey: 'changed' });
      expect(r.error).toMatchObject({
        kind: 'hostkey-changed',
        knownHostsFile: bad,
        knownHostsLine: 2,
      });
      expect(r.error?.message).toContain('[at hop bastion]');
    }
  });
});
