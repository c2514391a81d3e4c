import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandSans, firstServiceIP, parseLayout, planNode } from '../../../src/pki/layout.js';

const text = readFileSync(join(import.meta.dirname, '../../../nix/pki/layout.json'), 'utf8');

describe('PKI layout (nix/pki/layout.json)', () => {
  const parsed = parseLayout(text);
  if (!parsed.ok) throw new Error(parsed.error);
  const layout = parsed.layout;

  it('covers every certificate of the seed design, with kube-proxy and flannel off', () => {
    const ids = layout.certs.map((c) => c.id);
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
    ])
      expect(ids).toContain(id);
    expect(layout.certs.find((c) => c.id === 'kube-proxy-client')?.enabled).toBe(false);
    expect(layout.certs.find((c) => c.id === 'flannel-client')?.enabled).toBe(false);
    expect(layout.keypairs.map((k) => k.id)).toEqual(['service-account']);
  });

  it('trust domains: etcd trusts only etcd-ca, request-header only front-proxy-ca', () => {
    expect(layout.bundles.find((b) => b.path === 'etcd-ca.pem')?.cas).toEqual(['etcd-ca']);
    expect(layout.bundles.find((b) => b.path === 'front-proxy-ca.pem')?.cas).toEqual([
      'front-proxy-ca',
    ]);
    expect(layout.bundles.flatMap((b) => b.cas)).not.toContain('k8s-root');
  });

  it('plans a control-plane+etcd node and a worker', () => {
    const cp = planNode(
      layout,
      { name: 'cp-1', roles: ['control-plane', 'etcd'], addresses: ['10.77.0.11'] },
      {},
    );
    const api = cp.certs.find((c) => c.id === 'kube-apiserver')!;
    expect(api.certPath).toBe('/etc/kubernetes/pki/kube-apiserver.pem');
    expect(api.keyPath).toBe('/etc/kubernetes/pki/kube-apiserver-key.pem');
    expect(api.sans).toEqual([
      'cp-1',
      '10.77.0.11',
      '10.96.0.1',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster',
      'kubernetes.default.svc.cluster.local',
      'localhost',
      '127.0.0.1',
    ]);
    expect(api.mode).toBe(0o600);
    expect(cp.certs.find((c) => c.id === 'kubelet-client')?.cn).toBe('system:node:cp-1');
    expect(cp.bundles.map((b) => b.path)).toEqual([
      '/etc/kubernetes/pki/kubernetes-ca.pem',
      '/etc/kubernetes/pki/etcd-ca.pem',
      '/etc/kubernetes/pki/front-proxy-ca.pem',
    ]);
    const w = planNode(
      layout,
      { name: 'worker-1', roles: ['worker'], addresses: ['10.77.0.21'] },
      { pkiDir: '/srv/pki' },
    );
    expect(w.certs.map((c) => c.id)).toEqual(['kubelet', 'kubelet-client']);
    expect(w.certs[0]!.certPath).toBe('/srv/pki/kubelet.pem');
    expect(w.bundles.map((b) => b.id)).toEqual(['kubernetes-ca-bundle']);
    expect(w.keypairs).toEqual([]);
  });

  it('SAN templates: {apiserverAddress} is dropped when unset and kept when set', () => {
    const n = { name: 'n', roles: [], addresses: ['10.0.0.1', 'fd00::1'] } as const;
    expect(expandSans(['{node}', '{nodeAddresses}', '{apiserverAddress}'], n, {})).toEqual([
      'n',
      '10.0.0.1',
      'fd00::1',
    ]);
    expect(expandSans(['{apiserverAddress}'], n, { apiserverAddress: 'api.lab' })).toEqual([
      'api.lab',
    ]);
  });

  it('first service IP of a CIDR', () => {
    expect(firstServiceIP('10.96.0.0/12')).toBe('10.96.0.1');
    expect(firstServiceIP('10.100.7.0/24')).toBe('10.100.7.1');
    expect(firstServiceIP('10.96.5.3/12')).toBe('10.96.0.1');
    expect(firstServiceIP('fd00::/108')).toBeUndefined();
    expect(firstServiceIP('300.1.1.1/8')).toBeUndefined();
  });

  it('rejects bad layouts with the JSON path of each problem', () => {
    const bad = JSON.parse(text);
    bad.certs[0].key = '../../etc/shadow';
    bad.certs[1].keyOwner.mode = '0644';
    bad.certs[2].ca = 'nope-ca';
    bad.certs[3].id = bad.certs[4].id;
    const r = parseLayout(JSON.stringify(bad));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toContain('certs[0].key: expected a relative path without ".."');
    expect(r.error).toContain('certs[1].keyOwner.mode: private keys must be 0600 or 0400');
    expect(r.error).toContain('certs[2].ca: unknown CA "nope-ca"');
    expect(r.error).toContain('certs[4].id: duplicate id');
    expect(parseLayout('{').ok).toBe(false);
  });
});
