import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoInventory } from '../../../src/demo/inventory.js';
import { ensureDemoLab } from '../../../src/demo/lab.js';
import { demoExec } from '../../../src/demo/node-commands.js';
import { collectNodeCerts } from '../../../src/features/pki/sources.js';
import { DemoKubeSource } from '../../../src/kube/demo-kube.js';
import type { NodeAgent } from '../../../src/nodes/agent.js';
import { readCertFilesByListing } from '../../../src/nodes/cert-files.js';
import { DemoNodeAgent, refuseNodePath } from '../../../src/nodes/demo-agent.js';
import { urgency } from '../../../src/pki/expiry.js';

const inv = demoInventory();
const PKI = inv.pki.dir;
const NOW = Date.now();
let base: string;
let dir: string;
const agent = (name: string, opts = {}) =>
  new DemoNodeAgent(inv.nodes.find((n) => n.name === name)!, dir, opts);

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'k8ops-agent-'));
  dir = join(base, 'demo-lab');
  await ensureDemoLab({ dir, now: NOW });
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('collectNodeCerts through DemoNodeAgent', () => {
  it('returns parsed certificate files and never reads keys', async () => {
    const a = agent('cp-1');
    const files = await collectNodeCerts(a, PKI);
    const names = files.map((f) => f.path.slice(PKI.length + 1));
    expect(names).toEqual([...names].sort());
    expect(names).toContain('kube-apiserver.pem');
    expect(names).toContain('kubernetes-ca.pem');
    expect(names.some((n) => n.includes('-key'))).toBe(false);
    expect(names).not.toContain('sa.pub');
    expect(files).toHaveLength(13 + 3);
    for (const f of files) {
      expect(f.node).toBe('cp-1');
      expect(f.errors).toEqual([]);
      expect(f.certs[0]!.curve).toBe('P-521');
    }
  });

  it('reads through readCertFiles: one listDir and one readFiles call', async () => {
    const a = agent('worker-1');
    const calls: string[] = [];
    const spy: NodeAgent = {
      node: a.node,
      probe: a.probe.bind(a),
      stat: a.stat.bind(a),
      unitStates: a.unitStates.bind(a),
      pkiStatus: a.pkiStatus.bind(a),
      exec: a.exec.bind(a),
      forwardSocket: a.forwardSocket.bind(a),
      forwardTcp: a.forwardTcp.bind(a),
      close: a.close.bind(a),
      listDir: (p: string, o?: object) => {
        calls.push('listDir');
        return a.listDir(p, o);
      },
      readFiles: (p: readonly string[], o?: object) => {
        calls.push(`readFiles:${p.length}`);
        return a.readFiles(p, o);
      },
      readCertFiles: (d: string, o?: object) => {
        calls.push('readCertFiles');
        return readCertFilesByListing(spy, d, o);
      },
    };
    const files = await collectNodeCerts(spy, `${PKI}/`);
    expect(calls).toEqual(['readCertFiles', 'listDir', 'readFiles:3']);
    expect(files.map((f) => f.path)).toEqual([
      `${PKI}/kubelet-client.pem`,
      `${PKI}/kubelet.pem`,
      `${PKI}/kubernetes-ca.pem`,
    ]);
    const kubelet = files[1]!.certs[0]!;
    expect(urgency(kubelet, NOW)).toBe('ok');
    const w2 = await collectNodeCerts(agent('worker-2'), PKI);
    expect(urgency(w2.find((f) => f.path.endsWith('/kubelet.pem'))!.certs[0]!, NOW)).toBe('renew');
  });

  it('turns per-file read errors into CertFile errors', async () => {
    const a = agent('worker-1');
    const fake = {
      ...a,
      node: a.node,
      listDir: async () => ['a.pem', 'b.crt', 'b.key', 'c-key.pem', 'notes.txt'],
      readFiles: async (paths: readonly string[]) =>
        paths.map((path) =>
          path.endsWith('a.pem')
            ? { path, ok: false as const, error: 'Permission denied', missing: false }
            : { path, ok: false as const, error: 'gone', missing: true },
        ),
      probe: a.probe.bind(a),
      stat: a.stat.bind(a),
      unitStates: a.unitStates.bind(a),
      pkiStatus: a.pkiStatus.bind(a),
      exec: a.exec.bind(a),
      forwardSocket: a.forwardSocket.bind(a),
      forwardTcp: a.forwardTcp.bind(a),
      close: a.close.bind(a),
      readCertFiles: (d: string) => readCertFilesByListing(fake, d),
    };
    const files = await collectNodeCerts(fake, '/pki');
    expect(files).toEqual([
      {
        node: 'worker-1',
        path: '/pki/a.pem',
        certs: [],
        errors: [{ block: 0, message: 'read failed: Permission denied' }],
      },
      {
        node: 'worker-1',
        path: '/pki/b.crt',
        certs: [],
        errors: [{ block: 0, message: 'file vanished before it could be read' }],
      },
    ]);
  });

  it('rejects when the node is unreachable', async () => {
    const a = agent('cp-2');
    a.setReachable(false);
    await expect(collectNodeCerts(a, PKI)).rejects.toMatchObject({ kind: 'unreachable' });
    a.setReachable(true);
    await expect(collectNodeCerts(a, PKI)).resolves.toHaveLength(16);
  });
});

describe('DemoNodeAgent', () => {
  it('forwardTcp: hubble-relay’s ClusterIP answers the Observer API; another address is refused', async () => {
    const a = agent('worker-1');
    const fwd = await a.forwardTcp('10.96.148.27', 80);
    try {
      const { ObserverClient } = await import('../../../src/features/flows/client.js');
      const c = new ObserverClient(fwd.address);
      const s = await c.serverStatus(10_000);
      c.close();
      // relay's shape: the lab's six agents reached.
      expect(s).toMatchObject({ connectedNodes: 6, unavailableNodes: 0 });
    } finally {
      await fwd.close();
    }
    await expect(a.forwardTcp('10.96.148.27', 443)).rejects.toThrow(
      'worker-1: connect to 10.96.148.27:443: Connection refused',
    );
    await expect(a.forwardTcp('-oProxyCommand=x', 80)).rejects.toThrow(/refused forward target/);
  });

  it('refuses relative paths and ..', async () => {
    expect(refuseNodePath('/etc/kubernetes/pki/x.pem')).toBeUndefined();
    for (const bad of [
      'etc/passwd',
      '../../../etc/passwd',
      '/etc/kubernetes/../../../../etc/passwd',
      '/a/..',
      '',
    ]) {
      expect(refuseNodePath(bad)).toBeDefined();
    }
    const a = agent('cp-1');
    const [r1, r2] = await a.readFiles([
      '/etc/kubernetes/pki/../../../../../../etc/passwd',
      'meta.json',
    ]);
    expect(r1).toMatchObject({
      ok: false,
      missing: false,
      error: expect.stringMatching(/refused/),
    });
    expect(r2).toMatchObject({
      ok: false,
      missing: false,
      error: expect.stringMatching(/refused/),
    });
    const [s] = await a.stat(['/../../meta.json']);
    expect(s).toMatchObject({ ok: false, error: expect.stringMatching(/refused/) });
    await expect(a.listDir('/etc/../..')).rejects.toMatchObject({ kind: 'refused' });
  });

  it('reads files, reports missing ones, and stats with simulated owners', async () => {
    const a = agent('cp-1');
    const [ok, missing] = await a.readFiles([`${PKI}/kubernetes-ca.pem`, `${PKI}/nope.pem`]);
    expect(ok).toMatchObject({ ok: true, content: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(missing).toMatchObject({ ok: false, missing: true });
    const st = await a.stat([
      `${PKI}/kube-apiserver-key.pem`,
      `${PKI}/etcd-peer-key.pem`,
      `${PKI}/kubelet.pem`,
      PKI,
      `${PKI}/x`,
    ]);
    expect(st[0]).toMatchObject({
      ok: true,
      mode: 0o600,
      owner: 'kubernetes',
      group: 'kubernetes',
      kind: 'file',
    });
    expect(st[1]).toMatchObject({ ok: true, mode: 0o600, owner: 'etcd', group: 'etcd' });
    expect(st[2]).toMatchObject({ ok: true, mode: 0o644, owner: 'root', group: 'root' });
    expect(st[3]).toMatchObject({ ok: true, kind: 'dir', owner: 'root' });
    expect(st[4]).toMatchObject({ ok: false, missing: true });
    await expect(a.listDir('/var/lib/k8ops/ca')).resolves.toContain('kubernetes-ca-key.pem');
    await expect(a.listDir('/nonexistent')).rejects.toMatchObject({ kind: 'missing' });
  });

  it('probes deterministically and reports unit states', async () => {
    const a = agent('worker-2');
    const p1 = await a.probe();
    expect(p1).toEqual({
      rttMs: p1.rttMs,
      route: 'via bastion',
      os: 'NixOS 25.05 (Warbler)',
      auth: 'demo',
    });
    expect(await agent('worker-2').probe()).toEqual(p1);
    expect(p1.rttMs).not.toBe((await agent('cp-1').probe()).rttMs);
    expect(await a.unitStates(['kubelet', 'containerd.service', 'kube-apiserver.service'])).toEqual(
      [
        { unit: 'kubelet', state: 'active' },
        { unit: 'containerd.service', state: 'active' },
        { unit: 'kube-apiserver.service', state: 'inactive' },
      ],
    );
    const cp = agent('cp-3');
    expect((await cp.unitStates(['etcd.service', 'kube-apiserver']))[1]!.state).toBe('active');
    cp.setUnitState('etcd', 'failed');
    expect((await cp.unitStates(['etcd.service']))[0]!.state).toBe('failed');
  });

  it('honours AbortSignal', async () => {
    const a = agent('cp-1', { latencyMs: 5_000 });
    const ac = new AbortController();
    const p = a.probe({ signal: ac.signal });
    setTimeout(() => ac.abort(), 10);
    const t0 = Date.now();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(2_000);
    await expect(
      agent('cp-1').readFiles([`${PKI}/kubelet.pem`], { signal: AbortSignal.abort() }),
    ).rejects.toBeDefined();
  });

  it('setReachable(false) rejects every call with kind unreachable', async () => {
    const a = agent('worker-3');
    a.setReachable(false);
    for (const call of [
      () => a.probe(),
      () => a.readFiles([`${PKI}/kubelet.pem`]),
      () => a.stat([PKI]),
      () => a.listDir(PKI),
      () => a.unitStates(['kubelet']),
    ]) {
      await expect(call()).rejects.toMatchObject({ kind: 'unreachable' });
    }
    a.setReachable(true);
    await expect(a.probe()).resolves.toMatchObject({ route: 'via bastion' });
  });
});

describe('DemoKubeSource', () => {
  it('lists every node Ready with kubelet v1.33.x until a fault is injected', async () => {
    const k = new DemoKubeSource(inv.nodes);
    expect(k.context).toBe('demo-lab');
    const nodes = await k.listNodes();
    expect(nodes.map((n) => n.name)).toEqual(inv.nodes.map((n) => n.name));
    for (const n of nodes) {
      expect(n.ready).toBe(true);
      expect(n.kubeletVersion).toMatch(/^v1\.33\.\d+$/);
    }
    k.setNodeReady('worker-1', false, 'KubeletNotReady: container runtime is down');
    const after = await k.listNodes();
    expect(after.find((n) => n.name === 'worker-1')).toMatchObject({
      ready: false,
      reason: 'KubeletNotReady: container runtime is down',
    });
    k.setNodeReady('worker-1', true);
    expect((await k.listNodes()).every((n) => n.ready && n.reason === undefined)).toBe(true);
    await expect(k.listNodes({ signal: AbortSignal.abort() })).rejects.toBeDefined();
  });
});

describe('demo node commands and sockets (NodeAgent.exec / forwardSocket)', () => {
  it('a command no feature answers exits 127 like a shell; an unknown socket is missing', async () => {
    const a = agent('worker-1');
    expect(await a.exec(['no-such-tool', '-x'])).toEqual({
      stdout: '',
      stderr: 'sh: 1: no-such-tool: not found\n',
      code: 127,
    });
    await expect(a.forwardSocket('/var/run/no-such.sock')).rejects.toThrow(/No such file/);
    await expect(a.forwardSocket('relative.sock')).rejects.toThrow(/not an absolute path/);
  });

  it('the registry answers by program name and arguments, with the node in context', async () => {
    const run = demoExec({ inventory: inv, node: inv.nodes[1]!, labDir: dir }, [
      {
        program: 'ip',
        matches: (argv) => argv.includes('link'),
        run: (argv, ctx) => ({ stdout: `${ctx.node.name} ${argv.join(' ')}`, stderr: '', code: 0 }),
      },
    ]);
    expect((await run(['/usr/sbin/ip', '-j', 'link'])).stdout).toBe(
      `${inv.nodes[1]!.name} /usr/sbin/ip -j link`,
    );
    expect((await run(['ip', 'route'])).code).toBe(127);
  });
});
