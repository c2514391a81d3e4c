/**
 * The demo lab's PKI through the same code paths as a real cluster: the demo agent's
 * `pkiStatus`, the collectors, the PKI model. Clean except the two intended faults.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoInventory } from '../../../src/demo/inventory.js';
import { ensureDemoLab } from '../../../src/demo/lab.js';
import { KEY_MODE_FAULT, RENEW_FAULT } from '../../../src/demo/pki-plan.js';
import { buildPkiModel } from '../../../src/features/pki/model.js';
import { DemoNodeAgent } from '../../../src/nodes/demo-agent.js';
import { defaultLayout } from '../../../src/pki/layout-data.js';
import { PROFILE_USAGES } from '../../../src/pki/profiles.js';
import { createSession } from '../../../src/session/session.js';

const inv = demoInventory();
const PKI = inv.pki.dir;
const NOW = Date.now();
let base: string;
let dir: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'k8ops-demo-pki-'));
  dir = join(base, 'demo-lab');
  await ensureDemoLab({ dir, now: NOW });
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('demo agent: pkiStatus', () => {
  it('reports every file of the PKI dir with mode, simulated owner and public-key digest', async () => {
    const a = new DemoNodeAgent(inv.nodes.find((n) => n.name === 'cp-1')!, dir);
    const st = await a.pkiStatus(PKI);
    expect(st).toMatchObject({ version: 1, node: 'cp-1', pkiDir: PKI });
    const by = (name: string) => st.files.find((f) => f.path === `${PKI}/${name}`)!;
    expect(by('kube-apiserver-key.pem')).toMatchObject({
      kind: 'key',
      exists: true,
      mode: 0o600,
      owner: 'kubernetes',
      group: 'kubernetes',
    });
    expect(by('kube-apiserver-key.pem').pubkeySha256).toBe(by('kube-apiserver.pem').pubkeySha256);
    expect(by('sa.pub')).toMatchObject({ kind: 'pub' });
    expect(by('sa.pub').pubkeySha256).toBe(by('sa-key.pem').pubkeySha256);
    expect(by('etcd-ca.pem')).toMatchObject({ kind: 'cert', mode: 0o644, owner: 'root' });
    expect(st.files).toHaveLength(13 * 2 + 3 + 2);
    const ca = await a.pkiStatus('/var/lib/k8ops/ca');
    expect(ca.files.map((f) => f.path.split('/').pop())).toContain('kubernetes-ca-key.pem');
    await expect(a.pkiStatus('/nonexistent')).rejects.toMatchObject({ kind: 'missing' });
    await expect(a.pkiStatus('relative')).rejects.toMatchObject({ kind: 'refused' });
  });
});

describe('demo lab: the PKI checks', () => {
  it('come out clean except the renew-window fault and the 0644 key', async () => {
    const agents = new Map(inv.nodes.map((n) => [n.name, new DemoNodeAgent(n, dir)]));
    const s = createSession({ mode: 'demo', inventory: inv, agents, readOnly: true });
    await s.settle();
    const r = buildPkiModel(inv, (sc, src) => s.store.get(sc, src), Date.now(), {
      layout: defaultLayout(),
    });
    await s.close();
    expect(r.checks.map((c) => [c.id, c.severity, c.node, c.path])).toEqual([
      ['renew-window', 'warning', RENEW_FAULT.node, `${PKI}/${RENEW_FAULT.id}.pem`],
      ['key-mode', 'warning', KEY_MODE_FAULT.node, `${PKI}/${KEY_MODE_FAULT.id}-key.pem`],
    ]);
    expect(r.exitCode).toBe(1);
    // The root comes from the signer's CA dir: every chain verifies up to it.
    expect(r.tree.roots).toHaveLength(1);
    expect(r.tree.roots[0]).toMatchObject({ kind: 'cert', role: 'root', chain: 'self-signed' });
    expect(r.certificates).toBe(1 + 3 + 3 * 13 + 3 * 2);
  });
});

describe('profiles', () => {
  it('PROFILE_USAGES match nix/pki/cfssl-config.json (what the scripts sign with)', () => {
    const cfg = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../../nix/pki/cfssl-config.json'), 'utf8'),
    ) as { signing: { profiles: Record<string, { usages: string[] }> } };
    const CFSSL: Record<string, string> = {
      'digital signature': 'digitalSignature',
      'key encipherment': 'keyEncipherment',
      'cert sign': 'keyCertSign',
      'crl sign': 'cRLSign',
      'server auth': 'serverAuth',
      'client auth': 'clientAuth',
    };
    for (const [name, p] of Object.entries(PROFILE_USAGES)) {
      const usages = cfg.signing.profiles[name]!.usages.map((u) => CFSSL[u] ?? u);
      expect({ name, usages: usages.sort() }).toEqual({
        name,
        usages: [...p.keyUsages, ...p.extKeyUsages].sort(),
      });
    }
  });
});
