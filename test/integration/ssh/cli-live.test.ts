/**
 * The built CLI on a live inventory against real OpenSSH: `k8ops nodes --json` and
 * `k8ops overview --json` through the bastion, certificates read and parsed over SSH.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { commandSources } from '../../../src/cli.js';
import { nodesCommand } from '../../../src/commands/nodes.js';
import type { Inventory } from '../../../src/config/types.js';
import { openLiveSession } from '../../../src/session/live.js';
import { BIN, ensureBuilt } from '../../helpers/build.js';
import { buildLab } from '../../helpers/pki-lab.js';
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

  it("a `nodes` session reads no certificate over SSH; the console's session does", async () => {
    const l = lab();
    const { loadInventory } = await import('../../../src/config/load.js');
    const loaded = await loadInventory(inventoryFile('/etc'));
    if (!loaded.ok) throw new Error('inventory');
    const run = async (features: ReturnType<typeof commandSources>) => {
      const session = await openLiveSession({
        inventory: loaded.inventory,
        readOnly: true,
        sshConfigFile: l.configFile,
        ...(features ? { features } : {}),
      });
      const sink = { write: () => true } as unknown as NodeJS.WritableStream;
      try {
        expect(await nodesCommand(session, true, sink)).toBe(0);
        // A connection that became ready refreshes its node's sources: give it the time.
        await new Promise((res) => setTimeout(res, 500));
        return ['node1', 'node2'].map((n) => session.store.get(n, 'certs').attemptedAt);
      } finally {
        await session.close();
      }
    };
    expect(await run(commandSources('nodes'))).toEqual([undefined, undefined]);
    // The control: with every feature (the console), the same run starts the certificate reads.
    expect((await run(undefined)).every((t) => t !== undefined)).toBe(true);
  }, 60_000);

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

  it('certs over SSH: status read on the node, a swapped key is caught without the key leaving it', async () => {
    const l = lab();
    const pkiLab = await buildLab(join(l.dir, 'cfssl-lab'), [
      { name: 'node1', roles: ['worker'], addresses: ['10.231.0.1'] },
    ]);
    const dir = pkiLab.nodes.node1!.dir;
    // The kubelet serving certificate now sits beside the kubelet client's key.
    const clientKey = readFileSync(join(dir, 'kubelet-client-key.pem'), 'utf8');
    writeFileSync(join(dir, 'kubelet-key.pem'), clientKey, { mode: 0o600 });
    const inv = join(l.dir, 'k8ops-certs.yaml');
    const node1 = ['  - name: node1', '    roles: [worker]', '    addresses: [10.231.0.1]'];
    const writeInventory = (nodes: string[]) =>
      writeFileSync(
        inv,
        ['cluster: sshlab', 'nodes:', ...nodes, 'pki:', `  dir: ${dir}`].join('\n'),
      );
    writeInventory(node1);
    const r = await k8ops(
      ['certs', '--json', '--inventory', inv, '--ssh-config', l.configFile],
      l.home,
    );
    const doc = JSON.parse(r.stdout) as {
      exitCode: number;
      checks: Array<{ id: string; node: string; path: string; severity: string }>;
    };
    const mismatch = doc.checks.filter((c) => c.id === 'key-mismatch');
    expect(mismatch).toEqual([
      expect.objectContaining({
        node: 'node1',
        path: join(dir, 'kubelet-key.pem'),
        severity: 'critical',
      }),
    ]);
    expect(doc.exitCode).toBe(2);
    expect(r.code).toBe(2);
    // No private key material in anything k8ops printed.
    const body = clientKey.split('\n').filter((x) => x && !x.startsWith('-----'));
    for (const line of body) expect(r.stdout + r.stderr).not.toContain(line);

    // A node that does not answer: exit 3 (above the critical finding), named in the
    // summary, and the reachable node's certificates are still read and checked.
    writeInventory([...node1, '  - name: dead', '    roles: [worker]']);
    const down = await k8ops(
      ['certs', '--json', '--inventory', inv, '--ssh-config', l.configFile],
      l.home,
    );
    expect(down.code).toBe(3);
    const downDoc = JSON.parse(down.stdout) as {
      exitCode: number;
      summary: { unreachable: string[] };
      nodes: Array<{ name: string; certs: string }>;
      checks: Array<{ id: string; node: string }>;
    };
    expect(downDoc.exitCode).toBe(3);
    expect(downDoc.summary.unreachable).toEqual(['dead']);
    expect(downDoc.checks).toContainEqual(
      expect.objectContaining({ id: 'key-mismatch', node: 'node1' }),
    );
    const states = Object.fromEntries(downDoc.nodes.map((n) => [n.name, n.certs]));
    expect(states.node1).toBe('ok');
    expect(states.dead).not.toBe('ok');
  }, 120_000);

  it('console action :accept-hostkey records an unknown key for that node only, then the node recovers', async () => {
    const l = lab();
    const kh = join(l.dir, 'known_hosts.console');
    writeFileSync(kh, `${l.knownHostsLine('bastion')}\n`); // node1 and node2 unknown
    const inventory: Inventory = {
      source: '<test>',
      cluster: 'sshlab',
      nodes: ['node1', 'node2'].map((name, index) => ({
        name,
        index,
        host: name,
        addresses: [],
        roles: ['worker'],
      })),
      ssh: { jump: [], connectTimeoutMs: 5000, knownHosts: kh },
      kube: { tunnel: false },
      pki: { dir: '/nonexistent', rootOffline: true },
      rotation: { spreadMs: 86_400_000, cpGapMs: 1_800_000, minRemainingMs: 172_800_000 },
      network: { targetMtu: 9216, bgpRouters: [] },
      ingress: { namespace: 'ingress-nginx', cacheZone: 'ingress_cache' },
      addons: {},
    };
    const session = await openLiveSession({
      inventory,
      readOnly: false,
      sshConfigFile: l.configFile,
    });
    try {
      await session.settle(2000);
      for (const n of ['node1', 'node2']) {
        const reach = session.store.get(n, 'reach');
        expect(reach.error?.kind).toBe('hostkey-unknown');
        expect(reach.error?.message).toMatch(/SHA256:/);
      }
      const r = await session.acceptHostKey('node1');
      expect(r).toEqual({
        ok: true,
        message: 'node1: host key recorded in known_hosts; reconnecting',
      });
      expect(readFileSync(kh, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
      const deadline = Date.now() + 20_000;
      while (session.store.get('node1', 'reach').error && Date.now() < deadline) {
        await session.scheduler.refresh({ scope: 'node1', source: 'reach' });
        if (session.store.get('node1', 'reach').error)
          await new Promise((res) => setTimeout(res, 250));
      }
      expect(session.store.get('node1', 'reach').error).toBeUndefined();
      expect(session.store.get('node1', 'reach').value).toMatchObject({ route: 'via bastion' });
      // node2 was not touched: still refused.
      await session.scheduler.refresh({ scope: 'node2', source: 'reach' });
      expect(session.store.get('node2', 'reach').error?.kind).toBe('hostkey-unknown');
      expect((await session.acceptHostKey('nope')).ok).toBe(false);
    } finally {
      await session.close();
    }
  }, 90_000);
});
