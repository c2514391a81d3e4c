/**
 * The PKI checks against real certificates built in-test (P-521 / SHA-512 by default), each
 * broken on purpose in one way and caught with the right severity.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { indexCerts } from '../../../src/pki/chain.js';
import { type NodeCheckInput, runChecks } from '../../../src/pki/checks.js';
import type { PkiCheck } from '../../../src/pki/types.js';
import { x509 } from '../../../src/pki/x509-lib.js';
import {
  DAY,
  type FileSpec,
  type Issued,
  issue,
  keyToPem,
  makeRoot,
  NOW,
  nodeInput,
  pubToPem,
  settings,
} from '../../helpers/pki-certs.js';

const x509KeyUsage = x509.KeyUsageFlags;

const PKI = '/etc/kubernetes/pki';
const W1 = { name: 'worker-1', roles: ['worker'] as const, addresses: ['10.77.0.21'], index: 3 };

let root: Issued;
let kca: Issued;
let kubelet: Issued;
let kubeletClient: Issued;

const kubeletOpts = {
  cn: 'system:node:worker-1',
  o: ['system:nodes'],
  dns: ['worker-1'],
  ips: ['10.77.0.21'],
  eku: ['serverAuth'] as const,
};
const clientOpts = {
  cn: 'system:node:worker-1',
  o: ['system:nodes'],
  eku: ['clientAuth'] as const,
};

beforeAll(async () => {
  root = await makeRoot();
  kca = await issue(root, {
    cn: 'kubernetes-ca',
    o: ['k8ops'],
    ca: { pathlen: 0 },
    notBefore: NOW - 10 * DAY,
  });
  kubelet = await issue(kca, kubeletOpts);
  kubeletClient = await issue(kca, clientOpts);
});

/** A healthy worker: kubelet serving + client chains, keys 0600, the kubernetes-ca bundle. */
function workerFiles(over: Record<string, FileSpec | undefined> = {}): Record<string, FileSpec> {
  const base: Record<string, FileSpec> = {
    [`${PKI}/kubelet.pem`]: { content: kubelet.pem + kca.pem },
    [`${PKI}/kubelet-key.pem`]: { content: kubelet.keyPem, mode: 0o600 },
    [`${PKI}/kubelet-client.pem`]: { content: kubeletClient.pem + kca.pem },
    [`${PKI}/kubelet-client-key.pem`]: { content: kubeletClient.keyPem, mode: 0o600 },
    [`${PKI}/kubernetes-ca.pem`]: { content: kca.pem },
  };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

function check(nodes: NodeCheckInput[], now = NOW): PkiCheck[] {
  const index = indexCerts(nodes.flatMap((n) => n.files ?? []));
  return runChecks(nodes, index, settings({ now }));
}

const problems = (cs: PkiCheck[]) => cs.filter((c) => c.severity !== 'info');
const find = (cs: PkiCheck[], id: string) => cs.filter((c) => c.id === id);

describe('runChecks: a healthy node', () => {
  it('finds nothing but the offline root (info)', () => {
    const cs = check([nodeInput(W1, workerFiles())]);
    expect(problems(cs)).toEqual([]);
    expect(cs.map((c) => c.id)).toEqual(['root-unavailable']);
    expect(cs[0]!.severity).toBe('info');
  });

  it('with the root present too, every signature verifies up to it: no findings at all', () => {
    const files = workerFiles({ [`${PKI}/k8s-root.pem`]: { content: root.pem } });
    const n = nodeInput(W1, files);
    const cs = check([n]).filter((c) => c.id !== 'unknown-file');
    expect(cs).toEqual([]);
  });
});

describe('runChecks: broken on purpose', () => {
  it('expired leaf → critical expired', async () => {
    const old = await issue(kca, { ...kubeletOpts, notBefore: NOW - 20 * DAY });
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet.pem`]: { content: old.pem + kca.pem },
          [`${PKI}/kubelet-key.pem`]: { content: old.keyPem },
        }),
      ),
    ]);
    const e = find(cs, 'expired');
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({
      severity: 'critical',
      node: 'worker-1',
      path: `${PKI}/kubelet.pem`,
    });
    expect(e[0]!.message).toMatch(/expired 6d 00:00 ago/);
  });

  it('leaf inside its renew window → warning renew-window (and nothing else)', async () => {
    const aging = await issue(kca, { ...kubeletOpts, notBefore: NOW - 10 * DAY });
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet.pem`]: { content: aging.pem + kca.pem },
          [`${PKI}/kubelet-key.pem`]: { content: aging.keyPem },
        }),
      ),
    ]);
    expect(problems(cs).map((c) => [c.id, c.severity])).toEqual([['renew-window', 'warning']]);
  });

  it('RSA-2048 leaf → warning key-algorithm', async () => {
    const rsa = await issue(kca, { ...kubeletOpts, keyKind: 'RSA-2048' });
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet.pem`]: { content: rsa.pem + kca.pem },
          [`${PKI}/kubelet-key.pem`]: { content: rsa.keyPem },
        }),
      ),
    ]);
    expect(problems(cs).map((c) => [c.id, c.severity])).toEqual([['key-algorithm', 'warning']]);
    expect(cs.find((c) => c.id === 'key-algorithm')!.message).toMatch(
      /RSA key; the cluster uses ECDSA P-521/,
    );
  });

  it('P-256 leaf → warning key-algorithm', async () => {
    const p256 = await issue(kca, { ...kubeletOpts, keyKind: 'P-256' });
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet.pem`]: { content: p256.pem + kca.pem },
          [`${PKI}/kubelet-key.pem`]: { content: p256.keyPem },
        }),
      ),
    ]);
    const k = find(cs, 'key-algorithm');
    expect(k).toHaveLength(1);
    expect(k[0]).toMatchObject({ severity: 'warning' });
    expect(k[0]!.message).toMatch(/ECDSA P-256 key/);
  });

  it('missing SAN → warning san-missing naming it', async () => {
    const noIp = await issue(kca, { ...kubeletOpts, ips: [] });
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet.pem`]: { content: noIp.pem + kca.pem },
          [`${PKI}/kubelet-key.pem`]: { content: noIp.keyPem },
        }),
      ),
    ]);
    expect(problems(cs)).toEqual([
      expect.objectContaining({
        id: 'san-missing',
        severity: 'warning',
        message: 'missing SAN 10.77.0.21',
      }),
    ]);
  });

  it('kubelet client with the wrong CN → warning cn', async () => {
    const wrong = await issue(kca, { ...clientOpts, cn: 'system:node:worker-9' });
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet-client.pem`]: { content: wrong.pem + kca.pem },
          [`${PKI}/kubelet-client-key.pem`]: { content: wrong.keyPem },
        }),
      ),
    ]);
    expect(problems(cs)).toEqual([
      expect.objectContaining({
        id: 'cn',
        severity: 'warning',
        path: `${PKI}/kubelet-client.pem`,
        message: 'CN is "system:node:worker-9", the layout wants "system:node:worker-1"',
      }),
    ]);
  });

  it('server certificate with a client-only EKU → warning key-usage', async () => {
    const clientOnly = await issue(kca, { ...kubeletOpts, eku: ['clientAuth'] });
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet.pem`]: { content: clientOnly.pem + kca.pem },
          [`${PKI}/kubelet-key.pem`]: { content: clientOnly.keyPem },
        }),
      ),
    ]);
    const ku = find(cs, 'key-usage');
    expect(ku).toHaveLength(1);
    expect(ku[0]).toMatchObject({ severity: 'warning' });
    expect(ku[0]!.message).toBe('server certificate without serverAuth (has clientAuth)');
  });

  it('key of another certificate (status digest mismatch) → critical key-mismatch', () => {
    const cs = check([
      nodeInput(W1, workerFiles({ [`${PKI}/kubelet-key.pem`]: { content: kubeletClient.keyPem } })),
    ]);
    expect(problems(cs)).toEqual([
      expect.objectContaining({
        id: 'key-mismatch',
        severity: 'critical',
        path: `${PKI}/kubelet-key.pem`,
        fingerprint: expect.any(String),
      }),
    ]);
  });

  it('leaf outliving its intermediate → critical outlives-issuer', async () => {
    const shortCa = await issue(root, {
      cn: 'kubernetes-ca',
      o: ['k8ops'],
      ca: { pathlen: 0 },
      notBefore: NOW - 55 * DAY,
    }); // 5 days left
    const leaf = await issue(shortCa, kubeletOpts); // 13 days left
    const client = await issue(shortCa, { ...clientOpts, notAfter: NOW + 4 * DAY });
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet.pem`]: { content: leaf.pem + shortCa.pem },
          [`${PKI}/kubelet-key.pem`]: { content: leaf.keyPem },
          [`${PKI}/kubelet-client.pem`]: { content: client.pem + shortCa.pem },
          [`${PKI}/kubelet-client-key.pem`]: { content: client.keyPem },
          [`${PKI}/kubernetes-ca.pem`]: { content: shortCa.pem },
        }),
      ),
    ]);
    const o = find(cs, 'outlives-issuer');
    expect(o).toHaveLength(1);
    expect(o[0]).toMatchObject({ severity: 'critical', path: `${PKI}/kubelet.pem` });
    // The intermediate itself is due (< one leaf lifetime + 2 d left).
    expect(find(cs, 'renew-window')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          severity: 'warning',
          message: expect.stringMatching(/intermediate kubernetes-ca is due: 5d 00:00 left/),
        }),
      ]),
    );
  });

  it('chain file missing its intermediate → warning chain-incomplete (the bundle still verifies it)', () => {
    const cs = check([
      nodeInput(W1, workerFiles({ [`${PKI}/kubelet.pem`]: { content: kubelet.pem } })),
    ]);
    expect(problems(cs)).toEqual([
      expect.objectContaining({
        id: 'chain-incomplete',
        severity: 'warning',
        path: `${PKI}/kubelet.pem`,
        message: 'kubelet.pem holds only the leaf: its intermediate kubernetes-ca must follow it',
      }),
    ]);
  });

  it('key mode 0644 → warning key-mode; wrong owner → warning key-owner', () => {
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet-key.pem`]: { content: kubelet.keyPem, mode: 0o644 },
          [`${PKI}/kubelet-client-key.pem`]: { content: kubeletClient.keyPem, owner: 'nobody' },
        }),
      ),
    ]);
    expect(problems(cs).map((c) => [c.id, c.severity, c.path])).toEqual([
      ['key-owner', 'warning', `${PKI}/kubelet-client-key.pem`],
      ['key-mode', 'warning', `${PKI}/kubelet-key.pem`],
    ]);
    expect(find(cs, 'key-mode')[0]!.message).toBe(
      'kubelet-key.pem has mode 0644, the layout wants 0600 (private key readable by others)',
    );
  });

  describe('a private key inside a certificate file', () => {
    const combined = () => kubelet.pem + kubelet.keyPem + kca.pem;

    it('world-readable (0644) → critical key-exposed, not "unparseable"', () => {
      const cs = check([
        nodeInput(
          W1,
          workerFiles({ [`${PKI}/kubelet.pem`]: { content: combined(), mode: 0o644 } }),
        ),
      ]);
      expect(problems(cs).map((c) => [c.id, c.severity, c.path])).toEqual([
        ['key-exposed', 'critical', `${PKI}/kubelet.pem`],
      ]);
      expect(find(cs, 'key-exposed')[0]!.message).toBe(
        'kubelet.pem holds a private key (block 2: PRIVATE KEY) and has mode 0644: readable by every user on the node; take the key as compromised, issue a new pair and keep the key in its own 0600 file',
      );
    });

    it('0600 → still a warning key-in-cert-file; 0640 names the group that can read it', () => {
      const own = check([
        nodeInput(
          W1,
          workerFiles({ [`${PKI}/kubelet.pem`]: { content: combined(), mode: 0o600 } }),
        ),
      ]);
      expect(problems(own).map((c) => [c.id, c.severity, c.path])).toEqual([
        ['key-in-cert-file', 'warning', `${PKI}/kubelet.pem`],
      ]);
      expect(find(own, 'key-in-cert-file')[0]!.message).toMatch(
        /^kubelet\.pem holds a private key \(block 2: PRIVATE KEY\) \(mode 0600\): certificate files are read and copied as public material/,
      );
      const group = check([
        nodeInput(
          W1,
          workerFiles({
            [`${PKI}/kubelet.pem`]: { content: combined(), mode: 0o640, group: 'kubernetes' },
          }),
        ),
      ]);
      expect(find(group, 'key-in-cert-file')[0]!.message).toMatch(
        /\(mode 0640: readable by group kubernetes\)/,
      );
    });

    it('key block first (the status then calls the file a key): one finding, not key-mode too', () => {
      const cs = check([
        nodeInput(
          W1,
          workerFiles({
            [`${PKI}/kubelet.pem`]: {
              content: kubelet.keyPem + kubelet.pem + kca.pem,
              mode: 0o644,
            },
          }),
        ),
      ]);
      expect(problems(cs).map((c) => [c.id, c.path])).toEqual([
        ['key-exposed', `${PKI}/kubelet.pem`],
      ]);
      expect(find(cs, 'key-exposed')[0]!.message).toMatch(/\(block 1: PRIVATE KEY\)/);
    });

    it('a trust bundle holding a key, and no status (mode unknown) → key-in-cert-file', () => {
      const cs = check([
        nodeInput(
          W1,
          workerFiles({ [`${PKI}/kubernetes-ca.pem`]: { content: kca.pem + kca.keyPem } }),
          { status: false },
        ),
      ]);
      expect(problems(cs).map((c) => [c.id, c.path])).toEqual([
        ['key-in-cert-file', `${PKI}/kubernetes-ca.pem`],
      ]);
      expect(find(cs, 'key-in-cert-file')[0]!.message).toMatch(/\(mode unknown: no status\)/);
    });
  });

  it('truncated PEM → warning unparseable for that file, never a crash', () => {
    const text = kubelet.pem + kca.pem;
    const cs = check([
      nodeInput(W1, workerFiles({ [`${PKI}/kubelet.pem`]: { content: text.slice(0, 700) } })),
    ]);
    const u = find(cs, 'unparseable');
    expect(u).toHaveLength(1);
    expect(u[0]).toMatchObject({ severity: 'warning', path: `${PKI}/kubelet.pem` });
    expect(u[0]!.message).toMatch(/truncated/);
  });

  it('random bytes → warning unparseable, and unknown-file for a name outside the layout', () => {
    const garbage = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7919) % 256)).toString(
      'latin1',
    );
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet-client.pem`]: { content: garbage },
          [`${PKI}/junk.pem`]: { content: garbage },
        }),
      ),
    ]);
    expect(find(cs, 'unparseable').map((c) => [c.path, c.severity])).toEqual([
      [`${PKI}/junk.pem`, 'warning'],
      [`${PKI}/kubelet-client.pem`, 'warning'],
    ]);
    expect(find(cs, 'unknown-file')).toEqual([
      expect.objectContaining({ path: `${PKI}/junk.pem`, severity: 'warning' }),
    ]);
  });

  it('a signature by the wrong key → critical bad-signature', async () => {
    const rogue = await issue(kca, { ...kubeletOpts, signWith: root.keys });
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet.pem`]: { content: rogue.pem + kca.pem },
          [`${PKI}/kubelet-key.pem`]: { content: rogue.keyPem },
        }),
      ),
    ]);
    expect(problems(cs)).toEqual([
      expect.objectContaining({
        id: 'bad-signature',
        severity: 'critical',
        path: `${PKI}/kubelet.pem`,
      }),
    ]);
  });

  it('a leaf whose issuer is on no node → critical issuer-missing', async () => {
    const other = await issue(root, { cn: 'other-ca', ca: { pathlen: 0 } });
    const leaf = await issue(other, kubeletOpts);
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet.pem`]: { content: leaf.pem },
          [`${PKI}/kubelet-key.pem`]: { content: leaf.keyPem },
        }),
      ),
    ]);
    expect(find(cs, 'issuer-missing')).toEqual([
      expect.objectContaining({ severity: 'critical', path: `${PKI}/kubelet.pem` }),
    ]);
  });

  it('a bundle without its CA, holding another domain’s → bundle-missing-ca + bundle-foreign-ca', async () => {
    const etcd = await issue(root, { cn: 'etcd-ca', o: ['k8ops'], ca: { pathlen: 0 } });
    const cs = check([
      nodeInput(
        W1,
        workerFiles({ [`${PKI}/kubernetes-ca.pem`]: { content: etcd.pem + root.pem } }),
      ),
    ]);
    expect(
      problems(cs)
        .map((c) => [c.id, c.severity])
        .sort(),
    ).toEqual([
      ['bundle-foreign-ca', 'warning'],
      ['bundle-foreign-ca', 'warning'],
      ['bundle-missing-ca', 'warning'],
    ]);
    expect(
      find(cs, 'bundle-foreign-ca')
        .map((c) => c.message)
        .sort(),
    ).toEqual([
      'kubernetes-ca.pem holds etcd-ca, which is not in this trust domain (kubernetes-ca)',
      'kubernetes-ca.pem holds the root k8s-root: every leaf of every trust domain would be accepted',
    ]);
  });

  it('the offline root key on a node → critical root-key-online', () => {
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/k8s-root.pem`]: { content: root.pem },
          [`${PKI}/k8s-root-key.pem`]: { content: root.keyPem },
        }),
      ),
    ]);
    expect(find(cs, 'root-key-online')).toEqual([
      expect.objectContaining({ severity: 'critical', path: `${PKI}/k8s-root-key.pem` }),
    ]);
  });

  it('a disabled layout entry on disk → unknown-file naming it; .prev files are rollback material', () => {
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kube-proxy-client.pem`]: { content: kubeletClient.pem + kca.pem },
          [`${PKI}/kubelet.pem.prev`]: { content: kubelet.pem + kca.pem },
          [`${PKI}/kubelet-key.pem.prev`]: { content: kubelet.keyPem },
        }),
      ),
    ]);
    expect(find(cs, 'unknown-file').map((c) => c.message)).toEqual([
      'kube-proxy-client.pem: layout entry kube-proxy-client is disabled',
    ]);
    expect(find(cs, 'previous-file').map((c) => c.severity)).toEqual(['info', 'info']);
    expect(find(cs, 'previous-mismatch')).toEqual([]);
    const bad = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet.pem.prev`]: { content: kubelet.pem + kca.pem },
          [`${PKI}/kubelet-key.pem.prev`]: { content: kubeletClient.keyPem },
        }),
      ),
    ]);
    expect(find(bad, 'previous-mismatch')).toEqual([
      expect.objectContaining({ severity: 'warning', path: `${PKI}/kubelet-key.pem.prev` }),
    ]);
  });

  it('missing planned files → warning missing-file; no status → info status-unavailable', () => {
    const cs = check([
      nodeInput(
        W1,
        workerFiles({
          [`${PKI}/kubelet-client.pem`]: undefined,
          [`${PKI}/kubelet-key.pem`]: undefined,
        }),
      ),
    ]);
    expect(
      find(cs, 'missing-file')
        .map((c) => c.path)
        .sort(),
    ).toEqual([`${PKI}/kubelet-client.pem`, `${PKI}/kubelet-key.pem`]);
    const noStatus = check([nodeInput(W1, workerFiles(), { status: false })]);
    expect(find(noStatus, 'status-unavailable')).toEqual([
      expect.objectContaining({
        severity: 'info',
        message: expect.stringMatching(/key match, modes and owners not checked/),
      }),
    ]);
    expect(problems(noStatus)).toEqual([]);
  });

  it('service-account key pair: sa.pub not matching sa-key.pem → critical key-mismatch', async () => {
    const cp = {
      name: 'cp-1',
      roles: ['control-plane', 'etcd'] as const,
      addresses: ['10.77.0.11'],
      index: 0,
    };
    const a = await issue(kca, { cn: 'x' });
    const b = await issue(kca, { cn: 'y' });
    const n = nodeInput(cp, {
      [`${PKI}/sa-key.pem`]: { content: keyToPem(a.keys.privateKey), owner: 'kubernetes' },
      [`${PKI}/sa.pub`]: { content: pubToPem(b.keys.publicKey), owner: 'kubernetes' },
    });
    const cs = check([n]);
    expect(find(cs, 'key-mismatch')).toEqual([
      expect.objectContaining({
        severity: 'critical',
        path: `${PKI}/sa-key.pem`,
        message: expect.stringMatching(/^sa\.pub does not hold the public key of sa-key\.pem/),
      }),
    ]);
  });

  it('per-node service-account keys (k8ops rotate --sa-key): each sa.pub trusting every node key is clean; one missing is sa-key-differs on that node', async () => {
    const cp = (name: string, index: number) => ({
      name,
      roles: ['control-plane'] as const,
      addresses: [`10.77.0.${11 + index}`],
      index,
    });
    const a = await issue(kca, { cn: 'a' });
    const b = await issue(kca, { cn: 'b' });
    const old = await issue(kca, { cn: 'old' });
    const both =
      pubToPem(b.keys.publicKey) + pubToPem(a.keys.publicKey) + pubToPem(old.keys.publicKey);
    const node = (name: string, index: number, key: Issued, pub: string) =>
      nodeInput(cp(name, index), {
        [`${PKI}/sa-key.pem`]: { content: keyToPem(key.keys.privateKey), owner: 'kubernetes' },
        [`${PKI}/sa.pub`]: { content: pub, owner: 'kubernetes' },
      });
    // Own key first on each node, then the other's and an old one (an overlap): clean.
    const ok = check([
      node('cp-1', 0, a, pubToPem(a.keys.publicKey) + both),
      node('cp-2', 1, b, both),
    ]);
    expect(find(ok, 'key-mismatch')).toEqual([]);
    expect(find(ok, 'sa-key-differs')).toEqual([]);
    // cp-2 does not trust cp-1's key: flagged on cp-2 only, naming cp-1.
    const bad = check([
      node('cp-1', 0, a, both),
      node('cp-2', 1, b, pubToPem(b.keys.publicKey) + pubToPem(old.keys.publicKey)),
    ]);
    expect(find(bad, 'sa-key-differs')).toEqual([
      expect.objectContaining({
        severity: 'warning',
        node: 'cp-2',
        path: `${PKI}/sa.pub`,
        message: expect.stringMatching(/does not trust the service-account signing key of cp-1/),
      }),
    ]);
    expect(find(bad, 'key-mismatch')).toEqual([]);
  });

  it('rotation scheduled too late → warning rotation-late (slot of a late node index)', async () => {
    // renewBefore 2 d + slot 5/6 × 24 h: the scheduled time leaves < 2 d (minRemaining).
    const cs = runChecks(
      [nodeInput({ ...W1, index: 5 }, workerFiles())],
      indexCerts(nodeInput(W1, workerFiles()).files!),
      settings({ renewBeforeMs: 2 * DAY }),
    );
    expect(find(cs, 'rotation-late').map((c) => c.severity)).toEqual(['warning', 'warning']);
  });
});

describe('runChecks: a PKI made by other tools (--path without --node)', () => {
  const DIR = '/srv/acme/pki';
  const NONE = { name: '{node}', roles: [] as const, addresses: [] };
  let acmeRoot: Issued;
  let acmeCa: Issued;
  let server: Issued;
  let client: Issued;

  beforeAll(async () => {
    acmeRoot = await makeRoot({ cn: 'Acme Root CA' });
    acmeCa = await issue(acmeRoot, { cn: 'Acme Issuing CA', ca: { pathlen: 0 }, days: 365 });
    server = await issue(acmeCa, { cn: 'api.acme.test', dns: ['api.acme.test'], days: 90 });
    client = await issue(acmeCa, { cn: 'ops', eku: ['clientAuth'], days: 90 });
  });

  /** openssl / kubeadm names: X.crt + X.key, none of them the layout's. */
  function acmeFiles(over: Record<string, FileSpec | undefined> = {}): Record<string, FileSpec> {
    const files: Record<string, FileSpec> = {
      [`${DIR}/root-ca.crt`]: { content: acmeRoot.pem },
      [`${DIR}/issuing-ca.crt`]: { content: acmeCa.pem },
      [`${DIR}/server.crt`]: { content: server.pem + acmeCa.pem },
      [`${DIR}/server.key`]: { content: server.keyPem, mode: 0o600 },
      [`${DIR}/client.crt`]: { content: client.pem + acmeCa.pem },
      [`${DIR}/client.key`]: { content: client.keyPem, mode: 0o600 },
    };
    for (const [k, v] of Object.entries(over)) {
      if (v === undefined) delete files[k];
      else files[k] = v;
    }
    return files;
  }
  const anonymous = (files: Record<string, FileSpec>): NodeCheckInput => ({
    ...nodeInput({ ...NONE, name: 'local' }, files, { pkiDir: DIR }),
    anonymous: true,
  });

  it('sound: nothing but info (each name the layout does not list: unlisted-file)', () => {
    const cs = check([anonymous(acmeFiles())]);
    expect(problems(cs)).toEqual([]);
    expect(find(cs, 'unlisted-file').map((c) => [c.path.split('/').pop(), c.severity])).toEqual(
      ['client.crt', 'client.key', 'issuing-ca.crt', 'root-ca.crt', 'server.crt', 'server.key'].map(
        (n) => [n, 'info'],
      ),
    );
    expect(find(cs, 'unlisted-file')[0]!.message).toBe(
      'client.crt: not in the layout for this node (names are judged with --node)',
    );
  });

  it('with --node (not anonymous) the same names are warnings (unknown-file)', () => {
    const named = nodeInput({ ...NONE, name: 'acme-1' }, acmeFiles(), { pkiDir: DIR });
    const cs = check([named]);
    expect(find(cs, 'unknown-file')).toHaveLength(6);
    expect(problems(cs).map((c) => c.id)).toEqual(Array(6).fill('unknown-file'));
    expect(find(cs, 'unlisted-file')).toEqual([]);
  });

  it('its certificates and keys are still judged: X.key ↔ X.crt, chains, dates, usages', async () => {
    // server.key holds the client's key: key-mismatch by the openssl naming convention.
    const swapped = check([
      anonymous(acmeFiles({ [`${DIR}/server.key`]: { content: client.keyPem, mode: 0o600 } })),
    ]);
    expect(problems(swapped).map((c) => [c.id, c.severity, c.path])).toEqual([
      ['key-mismatch', 'critical', `${DIR}/server.key`],
    ]);
    const loose = check([
      anonymous(acmeFiles({ [`${DIR}/client.key`]: { content: client.keyPem, mode: 0o644 } })),
    ]);
    expect(problems(loose).map((c) => [c.id, c.path])).toEqual([['key-mode', `${DIR}/client.key`]]);
    // A leaf whose usages leave it no TLS use.
    const signer = await issue(acmeCa, {
      cn: 'signer',
      keyUsages: x509KeyUsage.keyCertSign,
      eku: ['codeSigning'] as never,
    });
    const usages = check([
      anonymous(acmeFiles({ [`${DIR}/signer.crt`]: { content: signer.pem + acmeCa.pem } })),
    ]);
    expect(problems(usages).map((c) => [c.id, c.severity, c.path])).toEqual([
      ['key-usage', 'warning', `${DIR}/signer.crt`],
    ]);
    expect(find(usages, 'key-usage')[0]!.message).toBe(
      'signer: key usage keyCertSign lacks digitalSignature; EKU codeSigning has neither serverAuth nor clientAuth: no TLS use is left to it',
    );
    // Expired, and signed by a key that is not its issuer's.
    const old = await issue(acmeCa, { cn: 'old', notBefore: NOW - 100 * DAY, days: 90 });
    const rogue = await issue(acmeCa, { cn: 'rogue', signWith: acmeRoot.keys });
    const broken = check([
      anonymous(
        acmeFiles({
          [`${DIR}/old.crt`]: { content: old.pem },
          [`${DIR}/rogue.crt`]: { content: rogue.pem },
        }),
      ),
    ]);
    expect(
      problems(broken)
        .map((c) => [c.id, c.path.split('/').pop()])
        .sort(),
    ).toEqual([
      ['bad-signature', 'rogue.crt'],
      ['expired', 'old.crt'],
    ]);
  });
});
