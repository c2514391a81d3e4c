/**
 * Config resolution against the real OpenSSH client: for several ssh_config files
 * (Include, wildcard Host, negation, per-hop User/Port, multi-hop ProxyJump, Match user),
 * the fallback parser (ssh-config package) must resolve exactly what `ssh -G` prints, and
 * whole jump chains must come out the same both ways.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type HostConfig, resolveRoute, SshResolver } from '../../../src/ssh/resolve.js';

const hasSsh = (() => {
  try {
    execFileSync('ssh', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const ci = process.env.CI === 'true';

const dir = mkdtempSync(join(tmpdir(), 'k8ops-resolve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const pick = (h: HostConfig) => ({
  hostname: h.hostname,
  user: h.user,
  port: h.port,
  identityFiles: h.identityFiles,
  identitiesOnly: h.identitiesOnly,
  proxyJump: h.proxyJump,
  userKnownHostsFiles: h.userKnownHostsFiles,
  globalKnownHostsFiles: h.globalKnownHostsFiles,
  strictHostKeyChecking: h.strictHostKeyChecking,
  hashKnownHosts: h.hashKnownHosts,
  hostKeyAlias: h.hostKeyAlias,
  serverAliveInterval: h.serverAliveInterval,
  serverAliveCountMax: h.serverAliveCountMax,
  connectTimeout: h.connectTimeout,
});

const included = write(
  'included.conf',
  `Host *.dc1
  User dc1ops
  Port 2201
  ServerAliveInterval 7
`,
);

const configs: Record<string, { text: string; hosts: string[] }> = {
  include_and_wildcards: {
    text: `Include ${included}
Host bastion
  HostName 192.0.2.10
  User jump
  Port 2222
  IdentityFile ~/.ssh/jump_%r
Host web-? !web-9
  ProxyJump bastion
  User web
Host db-*.dc1
  HostName %h.example.net
  ProxyJump ops@bastion:2200,gw.dc1
  StrictHostKeyChecking accept-new
  UserKnownHostsFile ${dir}/kh1 ${dir}/kh2
Host *
  IdentityFile ~/.ssh/id_k8ops
  IdentityFile ~/.ssh/id_%h
  ServerAliveCountMax 5
  ConnectTimeout 9
  HashKnownHosts yes
`,
    hosts: ['bastion', 'web-1', 'web-9', 'db-1.dc1', 'gw.dc1', 'plain'],
  },
  per_hop_user_port: {
    text: `Host a
  HostName 198.51.100.1
  User ua
  Port 2001
Host b
  HostName 198.51.100.2
  Port 2002
  ProxyJump a
Host c
  HostName 198.51.100.3
  User uc
  ProxyJump a,ub@b:2222
  IdentitiesOnly yes
  HostKeyAlias c-alias
Match user root
  Port 2999
`,
    hosts: ['a', 'b', 'c', 'd'],
  },
};

describe.skipIf(!hasSsh && !ci)(
  `resolution equals ssh -G${hasSsh ? '' : ' [skipped: no ssh client]'}`,
  () => {
    for (const [name, c] of Object.entries(configs)) {
      const file = write(`${name}.conf`, c.text);
      for (const host of c.hosts) {
        it(`${name}: ${host}`, async () => {
          const viaSsh = await new SshResolver({ configFile: file, mode: 'ssh-g' }).resolveHost(
            host,
          );
          const viaParser = await new SshResolver({
            configFile: file,
            mode: 'fallback',
          }).resolveHost(host);
          expect(viaSsh.source).toBe('ssh -G');
          expect(viaParser.source).toBe('ssh-config');
          expect(pick(viaParser)).toEqual(pick(viaSsh));
        });
      }
    }

    it('jump chains resolve the same both ways (each hop with its own Host block)', async () => {
      const file = join(dir, 'per_hop_user_port.conf');
      const a = await resolveRoute(new SshResolver({ configFile: file, mode: 'ssh-g' }), {
        host: 'c',
      });
      const b = await resolveRoute(new SshResolver({ configFile: file, mode: 'fallback' }), {
        host: 'c',
      });
      const hops = (r: typeof a) => r.hops.map((h) => [h.alias, h.user, h.hostname, h.port, h.key]);
      expect(hops(b)).toEqual(hops(a));
      // ProxyJump a,ub@b:2222 for c: c is reached through b (as ub, port 2222), b through a
      expect(hops(a).map((h) => h.slice(0, 4))).toEqual([
        ['a', 'ua', '198.51.100.1', 2001],
        ['b', 'ub', '198.51.100.2', 2222],
        ['c', 'uc', '198.51.100.3', 22],
      ]);
      expect(a.description).toBe('via a,ub@b:2222');
    });

    it('inventory overrides win over ssh config for the destination only', async () => {
      const file = join(dir, 'per_hop_user_port.conf');
      const r = await resolveRoute(new SshResolver({ configFile: file }), {
        host: 'b',
        user: 'override',
        port: 2200,
        jump: ['a'],
        knownHosts: '/tmp/k8ops-kh',
        connectTimeoutMs: 1234,
      });
      expect(
        r.hops.map((h) => [h.alias, h.user, h.port, h.connectTimeoutMs, h.userKnownHostsFiles]),
      ).toEqual([
        ['a', 'ua', 2001, 5000, ['/tmp/k8ops-kh']],
        ['b', 'override', 2200, 1234, ['/tmp/k8ops-kh']],
      ]);
    });
  },
);
