/** The PKI tree: de-duplication across nodes, stand-ins for missing issuers, order, rows. */
import { beforeAll, describe, expect, it } from 'vitest';
import { indexCerts } from '../../../src/pki/chain.js';
import { runChecks } from '../../../src/pki/checks.js';
import { buildPkiReport } from '../../../src/pki/report.js';
import {
  buildTree,
  flattenTree,
  sortTree,
  type TreeCert,
  treeCerts,
} from '../../../src/pki/tree.js';
import {
  DAY,
  type Issued,
  issue,
  makeRoot,
  NOW,
  nodeInput,
  settings,
} from '../../helpers/pki-certs.js';

const PKI = '/etc/kubernetes/pki';
let root: Issued;
let kca: Issued;
const leaves: Record<string, { kubelet: Issued; client: Issued }> = {};
const NODES = [
  { name: 'worker-1', roles: ['worker'] as const, addresses: ['10.77.0.21'], index: 0 },
  { name: 'worker-2', roles: ['worker'] as const, addresses: ['10.77.0.22'], index: 1 },
];

beforeAll(async () => {
  root = await makeRoot();
  kca = await issue(root, { cn: 'kubernetes-ca', o: ['k8ops'], ca: { pathlen: 0 } });
  for (const n of NODES) {
    leaves[n.name] = {
      kubelet: await issue(kca, {
        cn: `system:node:${n.name}`,
        o: ['system:nodes'],
        dns: [n.name],
        ips: n.addresses,
        eku: ['serverAuth'],
        // worker-2's kubelet is in its renew window.
        notBefore: n.name === 'worker-2' ? NOW - 11 * DAY : NOW - DAY,
      }),
      client: await issue(kca, {
        cn: `system:node:${n.name}`,
        o: ['system:nodes'],
        eku: ['clientAuth'],
      }),
    };
  }
});

function inputs(withRoot = false) {
  return NODES.map((n) => {
    const l = leaves[n.name]!;
    return nodeInput(n, {
      [`${PKI}/kubelet.pem`]: { content: l.kubelet.pem + kca.pem },
      [`${PKI}/kubelet-key.pem`]: { content: l.kubelet.keyPem },
      [`${PKI}/kubelet-client.pem`]: { content: l.client.pem + kca.pem },
      [`${PKI}/kubelet-client-key.pem`]: { content: l.client.keyPem },
      [`${PKI}/kubernetes-ca.pem`]: { content: kca.pem },
      ...(withRoot && n.name === 'worker-1'
        ? { [`${PKI}/k8s-root.pem`]: { content: root.pem } }
        : {}),
    });
  });
}

function tree(withRoot = false) {
  const nodes = inputs(withRoot);
  const index = indexCerts(nodes.flatMap((n) => n.files ?? []));
  const checks = runChecks(nodes, index, settings());
  return buildTree(index, checks, { nodeOrder: NODES.map((n) => n.name) });
}

describe('buildTree', () => {
  it('de-duplicates by fingerprint: the intermediate once, with every node and file it lives in', () => {
    const t = tree();
    // No root on any node: a stand-in named after the intermediate's issuer.
    expect(t.roots).toHaveLength(1);
    const top = t.roots[0]!;
    expect(top).toMatchObject({ kind: 'missing', subject: 'O=k8ops, CN=k8s-root' });
    expect(top.children).toHaveLength(1);
    const ca = top.children[0] as TreeCert;
    expect(ca).toMatchObject({ kind: 'cert', role: 'intermediate', chain: 'issuer-missing' });
    expect(ca.locations.map((l) => `${l.node}:${l.path.split('/').pop()}#${l.index}`)).toEqual([
      'worker-1:kubelet-client.pem#1',
      'worker-1:kubelet.pem#1',
      'worker-1:kubernetes-ca.pem#0',
      'worker-2:kubelet-client.pem#1',
      'worker-2:kubelet.pem#1',
      'worker-2:kubernetes-ca.pem#0',
    ]);
    // Four distinct leaves under it, verified, each with its one location; tree order: by node, then file.
    expect(
      ca.children.map((c) =>
        (c as TreeCert).locations.map((l) => `${l.node}:${l.path.split('/').pop()}`),
      ),
    ).toEqual([
      ['worker-1:kubelet-client.pem'],
      ['worker-1:kubelet.pem'],
      ['worker-2:kubelet-client.pem'],
      ['worker-2:kubelet.pem'],
    ]);
    for (const c of ca.children) expect((c as TreeCert).chain).toBe('verified');
    expect(treeCerts(t)).toHaveLength(5);
  });

  it('the same leaf copied to two nodes is one entry with both locations', () => {
    const nodes = inputs();
    const l = leaves['worker-1']!.client;
    const copy = nodeInput(
      { name: 'cp-1', roles: ['control-plane'], addresses: ['10.77.0.11'] },
      { [`${PKI}/cluster-admin.pem`]: { content: l.pem + kca.pem } },
    );
    const all = [...nodes, copy];
    const index = indexCerts(all.flatMap((n) => n.files ?? []));
    const t = buildTree(index, runChecks(all, index, settings()));
    const leaf = treeCerts(t).find((c) =>
      c.locations.some((x) => x.node === 'cp-1' && x.index === 0),
    )!;
    expect(leaf.locations.map((x) => x.node)).toEqual(['worker-1', 'cp-1']);
  });

  it('with the root on a node: root → intermediate → leaves, worst severity bubbles up', () => {
    const t = tree(true);
    expect(t.roots).toHaveLength(1);
    const r = t.roots[0] as TreeCert;
    expect(r).toMatchObject({ role: 'root', chain: 'self-signed' });
    const ca = r.children[0] as TreeCert;
    expect(ca.chain).toBe('verified');
    const w2 = ca.children.find(
      (c) =>
        (c as TreeCert).locations[0]!.node === 'worker-2' &&
        (c as TreeCert).locations[0]!.path.endsWith('/kubelet.pem'),
    ) as TreeCert;
    expect(w2.severity).toBe('warning');
    expect(w2.checks.map((c) => c.id)).toEqual(['renew-window']);
    expect(ca.worst).toBe('warning');
    expect(r.worst).toBe('warning');
  });

  it('worst-first order puts the warning first; rows keep ancestors when filtering', () => {
    const t = sortTree(tree(true), 'worst');
    const rows = flattenTree(t);
    expect(rows.map((r) => r.depth)).toEqual([0, 1, 2, 2, 2, 2]);
    const first = rows[2]!.item as TreeCert;
    expect(first.locations[0]).toMatchObject({ node: 'worker-2', path: `${PKI}/kubelet.pem` });
    const filtered = flattenTree(t, { filter: 'renew-window' });
    expect(filtered.map((r) => r.depth)).toEqual([0, 1, 2]);
    const byNode = flattenTree(t, { nodes: new Set(['worker-1']) });
    expect(byNode).toHaveLength(4); // root, intermediate, two worker-1 leaves
    expect(flattenTree(t, { filter: '10\\.77\\.0\\.22' })).toHaveLength(3); // regex over SANs
    expect(flattenTree(t, { filter: 'no-such-thing' })).toEqual([]);
  });

  it('files without a certificate and unreadable nodes get their own groups', () => {
    const nodes = inputs();
    nodes[0]!.files = [
      ...(nodes[0]!.files ?? []),
      {
        node: 'worker-1',
        path: `${PKI}/junk.pem`,
        certs: [],
        errors: [{ block: 0, message: 'no PEM blocks (binary data; DER?)' }],
      },
    ];
    const r = buildPkiReport({
      nodes,
      settings: settings(),
      problems: [
        {
          kind: 'node',
          key: 'node:worker-3',
          node: 'worker-3',
          source: 'certs',
          message: 'connect ETIMEDOUT',
        },
      ],
    });
    const rows = flattenTree(r.tree);
    const keys = rows.map((x) => x.key);
    expect(keys).toContain('group:files');
    expect(keys).toContain(`file:worker-1:${PKI}/junk.pem`);
    expect(keys.slice(-2)).toEqual(['group:nodes', 'node:worker-3']);
    expect(r.unreachable).toEqual(['worker-3']);
    expect(r.exitCode).toBe(3);
  });

  it('exit codes: 0 clean, 1 warnings, 2 critical', async () => {
    const clean = buildPkiReport({ nodes: [inputs()[0]!], settings: settings() });
    expect(clean.counts).toMatchObject({ critical: 0, warning: 0 });
    expect(clean.exitCode).toBe(0);
    const warn = buildPkiReport({ nodes: inputs(), settings: settings() });
    expect(warn.exitCode).toBe(1);
    const crit = buildPkiReport({ nodes: inputs(), settings: settings({ now: NOW + 30 * DAY }) });
    expect(crit.counts.critical).toBeGreaterThan(0);
    expect(crit.exitCode).toBe(2);
  });
});
