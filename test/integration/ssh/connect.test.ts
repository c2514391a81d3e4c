/**
 * Real OpenSSH sshd (bastion + nodes reachable only through it, in network namespaces):
 * auth (agent, identity file, passphrase-protected key), host key policy (unknown,
 * accept-new, changed, hashed entries), jump chains (one and two hops, shared bastion),
 * TCP and unix-socket forwards.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RemoteExecError } from '../../../src/ssh/errors.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { remotePath, sh } from '../../../src/ssh/quote.js';
import { describeLab } from '../../helpers/sshd-suite.js';

async function rejection(p: Promise<unknown>): Promise<RemoteExecError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RemoteExecError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describeLab('ssh through a bastion against real sshd', (lab) => {
  describe('1. auth', () => {
    it('connects through the bastion with ssh-agent auth (no usable identity file)', async () => {
      const l = lab();
      const cfg = l.writeConfig('ssh_config.agent', { identityFile: join(l.dir, 'no-such-key') });
      const pool = new SshPool({ sshConfigFile: cfg, agentSocket: l.agentSocket });
      try {
        const h = pool.host('node1');
        const r = await h.exec(sh`echo hello from $(hostname -I)`);
        expect(r.exitCode).toBe(0);
        expect(r.stdout).toContain(l.hosts.node1.address);
        expect(h.authMethod).toBe('agent');
        expect((await h.route()).description).toBe('via bastion');
      } finally {
        await pool.close();
      }
    });

    it('connects with an identity file (no agent)', async () => {
      const l = lab();
      const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
      try {
        const h = pool.host('node2'); // node2's known_hosts entry is hashed (ssh-keygen -H)
        const r = await h.exec(sh`hostname -I`);
        expect(r.stdout).toContain(l.hosts.node2.address);
        expect(h.authMethod).toBe('publickey');
      } finally {
        await pool.close();
      }
    });

    it('a passphrase-protected key without an agent fails fast with a clear error', async () => {
      const l = lab();
      const cfg = l.writeConfig('ssh_config.enc', { identityFile: l.encryptedIdentityFile });
      const pool = new SshPool({ sshConfigFile: cfg, agentSocket: 'none' });
      try {
        const t0 = Date.now();
        const e = await rejection(pool.host('node1').exec(sh`true`));
        expect(e.kind).toBe('auth');
        expect(e.message).toMatch(/passphrase-protected/);
        expect(e.message).toContain(l.encryptedIdentityFile);
        expect(Date.now() - t0).toBeLessThan(5000);
      } finally {
        await pool.close();
      }
    });
  });

  describe('2./3. host keys', () => {
    it('refuses an unknown host key, shows its fingerprint; --accept-new records it and the next run connects', async () => {
      const l = lab();
      const kh = join(l.dir, 'known_hosts.partial');
      // bastion known, node1 not
      writeFileSync(kh, `${l.knownHostsLine('bastion')}\n`);
      const cfg = l.writeConfig('ssh_config.partial', { knownHosts: kh });
      const fp = execFileSync('ssh-keygen', [
        '-l',
        '-f',
        join(l.hosts.node1.dir, 'ssh_host_ed25519_key.pub'),
      ])
        .toString()
        .split(' ')[1]!;

      const strict = new SshPool({ sshConfigFile: cfg, agentSocket: 'none' });
      const e = await rejection(strict.host('node1').exec(sh`true`));
      await strict.close();
      expect(e.kind).toBe('hostkey-unknown');
      expect(e.fingerprint).toBe(fp);
      expect(e.message).toContain(fp);
      expect(e.message).toMatch(/--accept-new/);
      expect(readFileSync(kh, 'utf8')).not.toContain(l.hosts.node1.keyBase64);

      const accepting = new SshPool({ sshConfigFile: cfg, agentSocket: 'none', acceptNew: true });
      const h = accepting.host('node1');
      await h.exec(sh`true`);
      expect(h.hostKeyStatus).toBe('added');
      await accepting.close();
      const text = readFileSync(kh, 'utf8');
      expect(text).toContain(`${l.hosts.node1.address} ${l.hosts.node1.publicKey}`);
      // OpenSSH itself now accepts the recorded key
      execFileSync('ssh', ['-F', cfg, '-o', `IdentityFile=${l.identityFile}`, 'node1', 'true'], {
        env: { ...process.env, SSH_AUTH_SOCK: '' },
        timeout: 15_000,
      });

      const again = new SshPool({ sshConfigFile: cfg, agentSocket: 'none' });
      const h2 = again.host('node1');
      await h2.exec(sh`true`);
      expect(h2.hostKeyStatus).toBe('ok');
      await again.close();
    });

    it('refuses a changed host key, names file and line, and runs nothing', async () => {
      const l = lab();
      const kh = join(l.dir, 'known_hosts.changed');
      copyFileSync(l.knownHostsFile, kh);
      // a different ed25519 key for node1, on a known line
      const other = l.hosts.node3.keyBase64;
      const lines = readFileSync(kh, 'utf8').trimEnd().split('\n');
      const idx = lines.findIndex((x) => x.startsWith(`${l.hosts.node1.address} `));
      lines[idx] = `${l.hosts.node1.address} ssh-ed25519 ${other}`;
      writeFileSync(kh, `${lines.join('\n')}\n`);
      const cfg = l.writeConfig('ssh_config.changed', { knownHosts: kh });
      const marker = join(l.dir, 'changed-marker');
      // even --accept-new never accepts a changed key
      const pool = new SshPool({ sshConfigFile: cfg, agentSocket: 'none', acceptNew: true });
      try {
        const e = await rejection(pool.host('node1').exec(sh`touch ${remotePath(marker)}`));
        expect(e.kind).toBe('hostkey-changed');
        expect(e.knownHostsFile).toBe(kh);
        expect(e.knownHostsLine).toBe(idx + 1);
        expect(e.message).toContain(`${kh}:${idx + 1}`);
        expect(existsSync(marker)).toBe(false);
        // the bastion (unchanged) was fine and node2 still works through it
        await pool.host('node2').exec(sh`true`);
      } finally {
        await pool.close();
      }
    });
  });

  describe('4. jump chains', () => {
    it('two-hop ProxyJump (bastion,hop2) reaches node3, which only hop2 can reach', async () => {
      const l = lab();
      const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
      try {
        const h = pool.host('node3');
        const r = await h.exec(sh`hostname -I`);
        expect(r.stdout).toContain(l.hosts.node3.address);
        expect((await h.route()).description).toBe('via bastion,hop2');
        const keys = pool.connections().map((c) => c.key);
        expect(keys).toEqual([
          `root@${l.hosts.bastion.address}:22`,
          `root@${l.hosts.bastion.address}:22 > root@${l.hosts.hop2.address}:22`,
          `root@${l.hosts.bastion.address}:22 > root@${l.hosts.hop2.address}:22 > root@${l.hosts.node3.address}:22`,
        ]);
      } finally {
        await pool.close();
      }
    });

    it('nodes behind the same bastion share one bastion connection', async () => {
      const l = lab();
      const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
      try {
        const logins = () =>
          readFileSync(join(l.hosts.bastion.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g)
            ?.length ?? 0;
        const before = logins();
        await Promise.all(
          ['node1', 'node2', 'node3', 'node1'].map((n) => pool.host(n).exec(sh`true`)),
        );
        const bastions = pool
          .connections()
          .filter((c) => c.key === `root@${l.hosts.bastion.address}:22`);
        expect(bastions).toHaveLength(1);
        expect(pool.connections()).toHaveLength(5); // bastion, node1, node2, hop2, node3
        // the bastion's sshd saw exactly one more login (LogLevel VERBOSE logs each)
        expect(logins() - before).toBe(1);
      } finally {
        await pool.close();
      }
    });

    it('the nodes are not reachable without the bastion', async () => {
      const l = lab();
      const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
      try {
        const e = await rejection(
          pool
            .host('direct-node1', { host: l.hosts.node1.address, jump: [], connectTimeoutMs: 1500 })
            .exec(sh`true`),
        );
        expect(['unreachable', 'timeout']).toContain(e.kind);
      } finally {
        await pool.close();
      }
    });
  });

  describe('forwards', () => {
    it('forwards a local TCP port to host:port behind the node and to a unix socket on the node', async () => {
      const l = lab();
      const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
      try {
        const h = pool.host('node1');
        // node1's own sshd, seen from node1, through a local port
        const tcp = await h.forwardTcp(l.hosts.node1.address, 22);
        const banner = await readLine(tcp.port);
        expect(banner).toMatch(/^SSH-2\.0-OpenSSH/);
        await tcp.close();

        // A unix socket on the node: the lab's nodes share this machine's filesystem (not its
        // network namespace), so a server started here is a socket on the node's disk.
        const sockPath = join(l.dir, 'echo.sock');
        const server = createServer((c) => c.end('hello-unix\n'));
        await new Promise<void>((resolve) => server.listen(sockPath, resolve));
        try {
          const fwd = await h.forwardUnix(sockPath);
          expect(fwd.address).toMatch(/^127\.0\.0\.1:\d+$/);
          expect(await readLine(fwd.port)).toBe('hello-unix');
          expect(await readLine(fwd.port)).toBe('hello-unix'); // one listener, many connections
          await fwd.close();
          await expect(readLine(fwd.port)).rejects.toThrow(); // closed on dispose
        } finally {
          server.close();
        }
      } finally {
        await pool.close();
      }
    });
  });
});

function readLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error('no line within 5 s'));
    }, 5000);
    s.on('data', (d) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) {
        clearTimeout(t);
        s.destroy();
        resolve(buf.slice(0, i).replace(/\r$/, ''));
      }
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}
