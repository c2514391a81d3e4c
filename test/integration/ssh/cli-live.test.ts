/**
 * The built CLI on a live inventory against real OpenSSH: `k8ops nodes --json` and
 * `k8ops overview --json` through the bastion, certificates read and parsed over SSH.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { BIN, ensureBuilt } from '../../helpers/build.js';
import { describeLab } from '../../helpers/sshd-suite.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'pki');

function k8ops(
  args: string[],
  home: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('node', [BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        XDG_CACHE_HOME: join(home, 'cache'),
        XDG_STATE_HOME: join(home, 'state'),
      },
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(() => ensureBuilt(), 120_000);

describeLab('k8ops CLI on a live inventory (real sshd, through the bastion)', (lab) => {
  function inventoryFile(pkiDir: string): string {
    const l = lab();
    const file = join(l.dir, 'k8ops-live.yaml');
    writeFileSync(
      file,
      [
        'cluster: sshlab',
        'nodes:',
        '  - name: node1',
        '    roles: [control-plane]',
        '  - name: node2',
        '    roles: [worker]',
        'pki:',
        `  dir: ${pkiDir}`,
      ].join('\n'),
    );
    return file;
  }

  it('nodes --json: both nodes reachable via the bastion, host keys ok, exit 0', async () => {
    const l = lab();
    const r = await k8ops(
      ['nodes', '--json', '--inventory', inventoryFile('/etc'), '--ssh-config', l.configFile],
      l.home,
    );
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as {
      nodes: Array<{
        node: string;
        reachable: boolean;
        route: string;
        hostKey: string;
        auth: string;
      }>;
    };
    expect(doc.nodes.map((n) => [n.node, n.reachable, n.route, n.hostKey])).toEqual([
      ['node1', true, 'via bastion', 'ok'],
      ['node2', true, 'via bastion', 'ok'],
    ]);
    expect(r.code).toBe(0);
  });

  it('overview --json: the worst certificate is read and parsed from the node over SSH', async () => {
    const l = lab();
    const pki = join(l.dir, 'live-pki');
    mkdirSync(pki, { recursive: true });
    copyFileSync(join(FIXTURES, 'chain.pem'), join(pki, 'kube-apiserver.pem'));
    writeFileSync(join(pki, 'kube-apiserver-key.pem'), 'not read: keys never leave the node\n', {
      mode: 0o600,
    });
    const r = await k8ops(
      ['overview', '--json', '--inventory', inventoryFile(pki), '--ssh-config', l.configFile],
      l.home,
    );
    const doc = JSON.parse(r.stdout) as {
      mode: string;
      nodes: Array<{
        name: string;
        reach: string;
        kube: string;
        route: string;
        worst: { path: string; commonName: string; notAfter: string } | null;
      }>;
    };
    expect(doc.mode).toBe('live');
    for (const n of doc.nodes) {
      expect(n.reach).toBe('up');
      expect(n.route).toBe('via bastion');
      expect(n.kube).toBe('no-source');
      expect(n.worst?.path).toBe(join(pki, 'kube-apiserver.pem'));
      expect(n.worst?.commonName).toBe('kube-apiserver');
      expect(n.worst?.notAfter).toBe('2026-12-09T12:34:39.000Z');
    }
  });

  it('a node whose PKI directory is missing reports the error, the others are unaffected', async () => {
    const l = lab();
    const r = await k8ops(
      [
        'overview',
        '--json',
        '--inventory',
        inventoryFile('/nonexistent/pki'),
        '--ssh-config',
        l.configFile,
      ],
      l.home,
    );
    const doc = JSON.parse(r.stdout) as {
      nodes: Array<{ reach: string; certError: string; worst: unknown }>;
    };
    for (const n of doc.nodes) {
      expect(n.reach).toBe('up');
      expect(n.worst).toBeNull();
      expect(n.certError).toMatch(/nonexistent\/pki/);
    }
  });
});
