import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoInventory } from '../../../src/demo/inventory.js';
import { DEMO_LAB_VERSION, demoNodeRoot, ensureDemoLab } from '../../../src/demo/lab.js';
import { demoLeaves, KEY_MODE_FAULT, RENEW_FAULT } from '../../../src/demo/pki-plan.js';
import { defaultRenewBeforeMs, urgency } from '../../../src/pki/expiry.js';
import { splitPem } from '../../../src/pki/pem.js';
import type { CertFile } from '../../../src/pki/types.js';
import { parseCertFile } from '../../../src/pki/x509.js';
import { x509 } from '../../../src/pki/x509-lib.js';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const PKI = '/etc/kubernetes/pki';
const inv = demoInventory();
let base: string;
let dir: string;
const logs: string[] = [];

async function walk(d: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

async function nodeCertFiles(node: string): Promise<CertFile[]> {
  const root = join(demoNodeRoot(dir, node), PKI);
  const names = (await readdir(root)).filter((n) => n.endsWith('.pem') && !n.endsWith('-key.pem'));
  return Promise.all(
    names.map(async (n) =>
      parseCertFile(node, `${PKI}/${n}`, await readFile(join(root, n), 'utf8')),
    ),
  );
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'k8ops-lab-'));
  dir = join(base, 'k8ops', 'demo-lab');
  const lab = await ensureDemoLab({ dir, now: NOW, log: (m) => logs.push(m) });
  expect(lab).toEqual({ dir, generatedAt: NOW, fresh: true });
  // Generation time, for the record (not asserted: speed is measured in benchmarks).
  console.log(logs.join('\n'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('ensureDemoLab: first start', () => {
  it('writes meta.json and leaves no temp directories behind', async () => {
    const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({
      version: DEMO_LAB_VERSION,
      generatedAt: NOW,
      cluster: 'demo-lab',
    });
    expect(await readdir(join(base, 'k8ops'))).toEqual(['demo-lab']);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('has the expected files on a control-plane node and a worker', async () => {
    const cp = await readdir(join(demoNodeRoot(dir, 'cp-2'), PKI));
    for (const id of [
      'kube-apiserver',
      'apiserver-kubelet-client',
      'apiserver-etcd-client',
      'front-proxy-client',
      'etcd-server',
      'etcd-peer',
      'kube-controller-manager',
      'kube-controller-manager-client',
      'kube-scheduler-client',
      'kube-addon-manager-client',
      'cluster-admin',
      'kubelet',
      'kubelet-client',
    ]) {
      expect(cp).toContain(`${id}.pem`);
      expect(cp).toContain(`${id}-key.pem`);
    }
    expect(cp).toEqual(
      expect.arrayContaining([
        'kubernetes-ca.pem',
        'etcd-ca.pem',
        'front-proxy-ca.pem',
        'sa.pub',
        'sa-key.pem',
      ]),
    );
    const w = await readdir(join(demoNodeRoot(dir, 'worker-1'), PKI));
    expect(w.sort()).toEqual([
      'kubelet-client-key.pem',
      'kubelet-client.pem',
      'kubelet-key.pem',
      'kubelet.pem',
      'kubernetes-ca.pem',
    ]);
    const ca = await readdir(join(demoNodeRoot(dir, 'cp-1'), 'var/lib/k8ops/ca'));
    expect(ca.sort()).toEqual([
      'etcd-ca-key.pem',
      'etcd-ca.pem',
      'front-proxy-ca-key.pem',
      'front-proxy-ca.pem',
      'k8s-root.pem',
      'kubernetes-ca-key.pem',
      'kubernetes-ca.pem',
    ]);
    await expect(stat(join(demoNodeRoot(dir, 'cp-2'), 'var/lib/k8ops/ca'))).rejects.toThrow();
  });

  it('makes every private key 0600 (but the intended 0644 fault) and keeps the root key out of every node dir', async () => {
    const all = await walk(dir);
    const keys = all.filter((p) => p.endsWith('-key.pem'));
    expect(keys.length).toBeGreaterThan(40);
    const fault = join(demoNodeRoot(dir, KEY_MODE_FAULT.node), PKI, `${KEY_MODE_FAULT.id}-key.pem`);
    for (const k of keys)
      expect({ k, mode: (await stat(k)).mode & 0o777 }).toEqual({
        k,
        mode: k === fault ? 0o644 : 0o600,
      });
    const rootKeyPath = join(dir, 'offline', 'k8s-root-key.pem');
    expect(all).toContain(rootKeyPath);
    const rootKey = await readFile(rootKeyPath, 'utf8');
    for (const p of all.filter((x) => x.startsWith(join(dir, 'nodes')))) {
      expect(relative(dir, p)).not.toMatch(/k8s-root-key/);
      expect(await readFile(p, 'utf8')).not.toBe(rootKey);
    }
  });

  it('issues P-521 / SHA-512 certificates with the right subjects and SANs', async () => {
    const files = await nodeCertFiles('cp-1');
    const by = (name: string) => files.find((f) => f.path === `${PKI}/${name}`)!;
    for (const f of files) {
      expect(f.errors).toEqual([]);
      for (const c of f.certs) {
        expect(c.curve).toBe('P-521');
        expect(c.signatureAlgorithm).toBe('ecdsa-with-SHA512');
      }
    }
    const api = by('kube-apiserver.pem').certs[0]!;
    expect(api.dnsNames).toEqual(
      expect.arrayContaining([
        'cp-1',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ]),
    );
    expect(api.ipAddresses).toEqual(expect.arrayContaining(['10.77.0.11', '10.96.0.1']));
    expect(api.extKeyUsages).toEqual(['serverAuth']);
    expect(api.notAfter - api.notBefore).toBe(14 * 86_400_000);
    expect(api.dnsNames).toContain('kubernetes.default.svc.cluster');
    expect(api.ipAddresses).toEqual(expect.arrayContaining(['127.0.0.1']));
    expect(by('apiserver-kubelet-client.pem').certs[0]).toMatchObject({
      commonName: 'kube-apiserver-kubelet-client',
      organizations: [],
      extKeyUsages: ['clientAuth'],
    });
    expect(by('cluster-admin.pem').certs[0]).toMatchObject({
      commonName: 'cluster-admin',
      organizations: ['system:masters'],
    });
    expect(by('front-proxy-client.pem').certs[1]!.commonName).toBe('front-proxy-ca');
    expect(by('etcd-peer.pem').certs[1]!.commonName).toBe('etcd-ca');
    expect(by('etcd-peer.pem').certs[0]!.extKeyUsages).toEqual(['serverAuth', 'clientAuth']);
    expect(by('kube-scheduler-client.pem').certs[0]!.commonName).toBe('system:kube-scheduler');
    expect(by('kube-controller-manager.pem').certs[0]).toMatchObject({
      commonName: 'kube-controller-manager',
      dnsNames: ['cp-1', 'localhost'],
      ipAddresses: ['127.0.0.1'],
      extKeyUsages: ['serverAuth'],
    });
    expect(by('kubelet-client.pem').certs[0]).toMatchObject({
      commonName: 'system:node:cp-1',
      organizations: ['system:nodes'],
    });
    const bundle = by('kubernetes-ca.pem').certs;
    expect(bundle).toHaveLength(1);
    expect(bundle[0]).toMatchObject({ commonName: 'kubernetes-ca', isCA: true, pathLen: 0 });
    expect(bundle[0]!.notAfter - bundle[0]!.notBefore).toBe(60 * 86_400_000);
    const w = await nodeCertFiles('worker-3');
    const kubelet = w.find((f) => f.path.endsWith('/kubelet.pem'))!.certs[0]!;
    expect(kubelet).toMatchObject({
      dnsNames: ['worker-3'],
      ipAddresses: ['10.77.0.23'],
      extKeyUsages: ['serverAuth'],
    });
    const root = parseCertFile(
      'offline',
      'k8s-root.pem',
      await readFile(join(dir, 'offline/k8s-root.pem'), 'utf8'),
    );
    expect(root.certs[0]).toMatchObject({
      commonName: 'k8s-root',
      isCA: true,
      pathLen: 1,
      curve: 'P-521',
    });
    expect(root.certs[0]!.notAfter - root.certs[0]!.notBefore).toBe(350_640 * 3_600_000);
  });

  it('puts exactly one leaf in its renew window: worker-2 kubelet serving', async () => {
    const inWindow: string[] = [];
    const notAfters = new Set<number>();
    let leaves = 0;
    for (const n of inv.nodes) {
      for (const f of await nodeCertFiles(n.name)) {
        const leaf = f.certs[0]!;
        if (leaf.isCA) {
          expect(urgency(leaf, NOW)).not.toBe('renew');
          continue;
        }
        leaves++;
        notAfters.add(leaf.notAfter);
        const u = urgency(leaf, NOW);
        expect(u).not.toBe('expired');
        if (u === 'renew') inWindow.push(`${n.name}:${f.path}`);
        // Still exactly that one a day later (the lab is reused for up to 24 h).
        const later = urgency(leaf, NOW + 86_400_000);
        if (later === 'renew')
          expect(`${n.name}:${f.path}`).toBe(`${RENEW_FAULT.node}:${PKI}/kubelet.pem`);
        expect(later).not.toBe('expired');
      }
    }
    expect(inWindow).toEqual([`${RENEW_FAULT.node}:${PKI}/kubelet.pem`]);
    expect(leaves).toBe(3 * 13 + 3 * 2);
    expect(notAfters.size).toBe(leaves); // staggered: every countdown differs
  });

  it('staggers leaf ages by node index', () => {
    const age = (node: string) => demoLeaves(inv.nodes.find((n) => n.name === node)!)[0]!.ageMs;
    expect(age('cp-2') - age('cp-1')).toBeCloseTo(1.3 * 86_400_000, -3);
    expect(age('worker-3')).toBeGreaterThan(age('worker-1'));
    const f = demoLeaves(inv.nodes[4]!).find((l) => l.id === 'kubelet')!;
    const window = defaultRenewBeforeMs({ notBefore: 0, notAfter: 14 * 86_400_000 });
    expect(14 * 86_400_000 - f.ageMs).toBeLessThan(window);
  });

  it('chain files verify: leaf signature against the intermediate, intermediate against the root', async () => {
    const rootPem = await readFile(join(dir, 'offline/k8s-root.pem'), 'utf8');
    const root = new x509.X509Certificate(rootPem);
    for (const node of ['cp-3', 'worker-2']) {
      const pkiRoot = join(demoNodeRoot(dir, node), PKI);
      for (const name of [
        'kubelet.pem',
        ...(node === 'cp-3'
          ? ['kube-apiserver.pem', 'etcd-server.pem', 'front-proxy-client.pem']
          : []),
      ]) {
        const blocks = splitPem(await readFile(join(pkiRoot, name), 'utf8')).blocks;
        expect(blocks).toHaveLength(2);
        const leaf = new x509.X509Certificate(blocks[0]!.der);
        const int = new x509.X509Certificate(blocks[1]!.der);
        expect(await leaf.verify({ publicKey: int.publicKey, signatureOnly: true })).toBe(true);
        expect(await int.verify({ publicKey: root.publicKey, signatureOnly: true })).toBe(true);
        expect(await leaf.verify({ publicKey: root.publicKey, signatureOnly: true })).toBe(false);
      }
    }
  });

  it('writes owners.json with the simulated owners', async () => {
    const owners = JSON.parse(
      await readFile(join(demoNodeRoot(dir, 'cp-1'), 'meta/owners.json'), 'utf8'),
    );
    expect(owners.files[`${PKI}/kube-apiserver-key.pem`]).toEqual({
      owner: 'kubernetes',
      group: 'kubernetes',
    });
    expect(owners.files[`${PKI}/etcd-server-key.pem`]).toEqual({ owner: 'etcd', group: 'etcd' });
    expect(owners.files[`${PKI}/kubelet-key.pem`]).toEqual({ owner: 'root', group: 'root' });
  });
});

describe('ensureDemoLab: later starts', () => {
  const fingerprints = async (): Promise<string[]> =>
    (await nodeCertFiles('cp-1')).flatMap((f) => f.certs.map((c) => c.fingerprint)).sort();

  it('reuses the lab on a second call', async () => {
    const before = await fingerprints();
    const again = await ensureDemoLab({ dir, now: NOW + 3_600_000 });
    expect(again).toEqual({ dir, generatedAt: NOW, fresh: false });
    expect(await fingerprints()).toEqual(before);
  });

  it('regenerates when meta.json is corrupt', async () => {
    const before = await fingerprints();
    await writeFile(join(dir, 'meta.json'), '{"version": 1, "generat');
    const lab = await ensureDemoLab({ dir, now: NOW + 60_000 });
    expect(lab).toMatchObject({ fresh: true, generatedAt: NOW + 60_000 });
    const after = await fingerprints();
    expect(after).not.toEqual(before);
    expect(await readdir(join(base, 'k8ops'))).toEqual(['demo-lab']);
  });

  it('regenerates when a file is missing or damaged, or the lab is older than 24 h', async () => {
    await rm(join(demoNodeRoot(dir, 'worker-3'), PKI, 'kubelet.pem'));
    const logs2: string[] = [];
    const a = await ensureDemoLab({ dir, now: NOW + 120_000, log: (m) => logs2.push(m) });
    expect(a.fresh).toBe(true);
    expect(logs2[0]).toMatch(/missing/);
    await writeFile(
      join(demoNodeRoot(dir, 'cp-1'), PKI, 'etcd-ca.pem'),
      '-----BEGIN CERTIFICATE-----\nAAAA\n',
    );
    expect((await ensureDemoLab({ dir, now: NOW + 180_000 })).fresh).toBe(true);
    expect((await ensureDemoLab({ dir, now: NOW + 180_000 + 3_600_000 })).fresh).toBe(false);
    expect((await ensureDemoLab({ dir, now: NOW + 180_000 + 25 * 3_600_000 })).fresh).toBe(true);
  });

  it('regenerates when the meta version differs', async () => {
    const metaPath = join(dir, 'meta.json');
    const meta = JSON.parse(await readFile(metaPath, 'utf8'));
    await writeFile(metaPath, JSON.stringify({ ...meta, version: DEMO_LAB_VERSION + 1 }));
    const logs3: string[] = [];
    const lab = await ensureDemoLab({
      dir,
      now: meta.generatedAt + 1000,
      log: (m) => logs3.push(m),
    });
    expect(lab.fresh).toBe(true);
    expect(logs3[0]).toMatch(/version/);
  });

  it('sweeps half-written labs left by interrupted starts of dead processes', async () => {
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const stale = `${dir}.tmp-${deadPid}-0badc0de`;
    await mkdir(join(stale, 'nodes', 'cp-1'), { recursive: true });
    await writeFile(join(dir, 'meta.json'), 'not json');
    const lab = await ensureDemoLab({ dir, now: NOW + 7_200_000 });
    expect(lab.fresh).toBe(true);
    expect(await readdir(join(base, 'k8ops'))).toEqual(['demo-lab']);
  });
});
