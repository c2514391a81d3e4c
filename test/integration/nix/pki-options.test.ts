/**
 * The pure core nix/lib/pki-options.nix, evaluated by the real nix-instantiate
 * (`--eval --strict --json`), against src/pki/layout.ts `planNode` on the same layout.json:
 * the same paths, CNs, SANs, owners, modes and units for every certificate, bundle and key
 * pair — compared whole, not sampled — plus the values the cluster module derives from them.
 */
import { expect, it } from 'vitest';
import { type ClusterParams, type NodeIdentity, planNode } from '../../../src/pki/layout.js';
import {
  type CoreResult,
  describeWith,
  evalCore,
  LAYOUT_TEXT,
  loadLayout,
  nixEvalRaw,
  type Tree,
} from './helpers.js';

const layout = loadLayout();
const cp: NodeIdentity = {
  name: 'cp-1',
  roles: ['control-plane', 'etcd'],
  addresses: ['10.77.0.11'],
};
const worker: NodeIdentity = { name: 'worker-1', roles: ['worker'], addresses: ['10.77.0.21'] };
const lab = { apiserverAddress: '10.77.0.10' };

// A layout variant: kube-proxy and flannel on, one file in a subdirectory.
const variant = JSON.parse(LAYOUT_TEXT) as {
  certs: { id: string; enabled: boolean; cert: string }[];
};
for (const c of variant.certs) {
  if (c.id === 'kube-proxy-client' || c.id === 'flannel-client') c.enabled = true;
  if (c.id === 'flannel-client') c.cert = 'flannel/client.pem';
}
const variantText = JSON.stringify(variant);

const cases: { name: string; node: NodeIdentity; cluster: ClusterParams; layoutText?: string }[] = [
  { name: 'control-plane + etcd', node: cp, cluster: lab },
  { name: 'worker', node: worker, cluster: lab },
  { name: 'no API server address (that SAN is dropped)', node: cp, cluster: {} },
  {
    name: 'all roles, IPv4 + IPv6, repeated address',
    node: {
      name: 'all-1',
      roles: ['control-plane', 'worker', 'etcd'],
      addresses: ['10.77.0.31', 'fd77::31', '10.77.0.31'],
    },
    cluster: { apiserverAddress: 'api.lab.example', clusterDomain: 'k8s.internal' },
  },
  {
    name: 'etcd only, pkiDir override with a trailing slash',
    node: { name: 'etcd-9', roles: ['etcd'], addresses: ['10.77.0.99'] },
    cluster: { pkiDir: '/var/lib/pki/', serviceCIDR: '172.20.0.0/16' },
  },
  {
    name: 'service CIDR not on a network boundary, API server = a node address',
    node: cp,
    cluster: { serviceCIDR: '10.100.7.9/20', apiserverAddress: '10.77.0.11' },
  },
  {
    name: 'unusable service CIDR (IPv6): no service IP SAN',
    node: cp,
    cluster: { serviceCIDR: 'fd00:96::/108', apiserverAddress: '10.77.0.10' },
  },
  {
    name: 'layout with kube-proxy and flannel on',
    node: worker,
    cluster: lab,
    layoutText: variantText,
  },
];

describeWith(['nix-instantiate'], 'nix/lib/pki-options.nix (evaluated) vs planNode', () => {
  it.each(cases)('plan: $name', ({ node, cluster, layoutText }) => {
    const l = layoutText ? loadLayout(layoutText) : layout;
    const fromNix = evalCore<unknown>(node, { ...cluster }, { layoutText, attr: 'plan' });
    expect(fromNix).toEqual(planNode(l, node, cluster));
  });

  it.each(cases.filter((c) => c.cluster.apiserverAddress))(
    'tmpfiles and units follow the plan: $name',
    ({ node, cluster, layoutText }) => {
      const l = layoutText ? loadLayout(layoutText) : layout;
      const plan = planNode(l, node, cluster);
      const core = evalCore(node, { ...cluster }, { layoutText });
      const octal = (m: number) => `0${m.toString(8)}`;
      expect(core.tmpfiles).toEqual([
        `d ${plan.pkiDir} 0755 root root -`,
        ...plan.certs.map((c) => `z ${c.keyPath} ${octal(c.mode)} ${c.owner} ${c.group} -`),
        ...plan.keypairs.map((k) => `z ${k.keyPath} ${octal(k.mode)} ${k.owner} ${k.group} -`),
        ...plan.bundles.map((b) => `z ${b.path} ${octal(b.mode)} root root -`),
      ]);
      const push = (m: Record<string, string[]>, k: string, ...xs: string[]) => {
        m[k] = [...(m[k] ?? []), ...xs];
      };
      const units: Record<string, string[]> = {};
      for (const x of [...plan.certs, ...plan.keypairs])
        for (const u of x.units) push(units, u, x.id);
      expect(core.units).toEqual(units);
      const files: Record<string, string[]> = {};
      for (const c of plan.certs) for (const u of c.units) push(files, u, c.certPath, c.keyPath);
      for (const k of plan.keypairs) for (const u of k.units) push(files, u, k.keyPath, k.pubPath);
      expect(core.unitFiles).toEqual(
        Object.fromEntries(Object.entries(files).map(([u, f]) => [u, [...new Set(f)]])),
      );
      expect(core.storeFree).toBe(true);
    },
  );

  it('control-plane + etcd: key values', () => {
    const core: CoreResult = evalCore(cp, lab);
    expect(core.roles).toEqual({ controlPlane: true, worker: false, etcd: true, kubernetes: true });
    expect(core.kubernetesRoles).toEqual(['master']);
    expect(core.components).toEqual({
      apiserver: true,
      controllerManager: true,
      scheduler: true,
      addonManager: true,
      kubelet: true,
      proxy: false,
      flannel: false,
      etcd: true,
    });
    const k = core.services.kubernetes as Tree;
    expect(k?.easyCerts).toBe(false);
    expect(k?.pki).toEqual({ enable: false });
    expect(k?.flannel).toEqual({ enable: false });
    expect(k?.proxy).toEqual({ enable: false });
    expect(k?.caFile).toBe('/etc/kubernetes/pki/kubernetes-ca.pem');
    expect(k?.masterAddress).toBe('10.77.0.10');
    expect(k?.apiserverAddress).toBe('https://10.77.0.10:6443');
    expect(k?.apiserver?.tlsCertFile).toBe('/etc/kubernetes/pki/kube-apiserver.pem');
    expect(k?.apiserver?.serviceAccountKeyFile).toBe('/etc/kubernetes/pki/sa.pub');
    expect(k?.apiserver?.serviceAccountSigningKeyFile).toBe('/etc/kubernetes/pki/sa-key.pem');
    expect(k?.apiserver?.etcd?.caFile).toBe('/etc/kubernetes/pki/etcd-ca.pem');
    expect(k?.controllerManager?.serviceAccountKeyFile).toBe('/etc/kubernetes/pki/sa-key.pem');
    expect(core.services.etcd).toEqual({
      certFile: '/etc/kubernetes/pki/etcd-server.pem',
      keyFile: '/etc/kubernetes/pki/etcd-server-key.pem',
      trustedCaFile: '/etc/kubernetes/pki/etcd-ca.pem',
      peerCertFile: '/etc/kubernetes/pki/etcd-peer.pem',
      peerKeyFile: '/etc/kubernetes/pki/etcd-peer-key.pem',
      peerTrustedCaFile: '/etc/kubernetes/pki/etcd-ca.pem',
      clientCertAuth: true,
      peerClientCertAuth: true,
    });
    // The aggregation layer: trust front-proxy-ca only, allow the layout's client CN.
    const frontProxy = layout.certs.find((c) => c.id === 'front-proxy-client')!;
    expect(core.apiserverExtraOpts).toEqual([
      '--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.pem',
      `--requestheader-allowed-names=${frontProxy.cn}`,
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      '--enable-aggregator-routing=true',
    ]);
    // Non-certificate settings (applied with mkOverride 900).
    const s = core.settings as Tree;
    expect(s?.kubernetes?.kubelet).toEqual({
      hostname: 'cp-1',
      nodeIp: '10.77.0.11',
      clusterDomain: 'cluster.local',
      clusterDns: ['10.96.0.254'],
    });
    expect(s?.kubernetes?.apiserver?.serviceClusterIpRange).toBe('10.96.0.0/12');
    expect(s?.kubernetes?.apiserver?.advertiseAddress).toBe('10.77.0.11');
    expect(s?.kubernetes?.apiserver?.etcd?.servers).toEqual(['https://10.77.0.11:2379']);
    expect(s?.etcd?.initialCluster).toEqual(['cp-1=https://10.77.0.11:2380']);
  });

  it('control-plane + etcd: the addon manager kubeconfig and the RBAC bootstrap', () => {
    const core: CoreResult = evalCore(cp, lab);
    const plan = planNode(layout, cp, lab);
    const am = plan.certs.find((c) => c.id === 'kube-addon-manager-client')!;
    const admin = plan.certs.find((c) => c.id === 'cluster-admin')!;
    const kc = core.kubeconfigs.addonManager!;
    expect(kc.users[0]!.user).toEqual({
      'client-certificate': am.certPath,
      'client-key': am.keyPath,
    });
    expect(kc.clusters[0]!.cluster).toEqual({
      'certificate-authority': '/etc/kubernetes/pki/kubernetes-ca.pem',
      server: 'https://10.77.0.10:6443',
    });
    expect(core.kubeconfigs.clusterAdmin!.users[0]!.user['client-key']).toBe(admin.keyPath);
    const kubeletClient = plan.certs.find((c) => c.id === 'apiserver-kubelet-client')!;
    const crb = core.bootstrapAddons['k8ops-apiserver-kubelet-api-admin-crb'] as Tree;
    expect(crb?.roleRef?.name).toBe('system:kubelet-api-admin');
    expect(crb?.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: kubeletClient.cn },
    ]);
    for (const key of [
      'k8ops-addon-manager-r',
      'k8ops-addon-manager-rb',
      'k8ops-addon-manager-cluster-lister-cr',
      'k8ops-addon-manager-cluster-lister-crb',
      'k8ops-addon-manager-cluster-admin-crb',
    ])
      expect(Object.keys(core.bootstrapAddons)).toContain(key);
    const rb = core.bootstrapAddons['k8ops-addon-manager-rb'] as Tree;
    expect(rb?.subjects?.[0]?.name).toBe(am.cn);
  });

  it('worker: kubelet only, no control-plane or etcd options, no bootstrap', () => {
    const core: CoreResult = evalCore(worker, lab);
    expect(core.kubernetesRoles).toEqual(['node']);
    const k = core.services.kubernetes as Tree;
    expect(Object.keys(k).sort()).toEqual(
      [
        'apiserver',
        'apiserverAddress',
        'caFile',
        'controllerManager',
        'easyCerts',
        'flannel',
        'kubelet',
        'masterAddress',
        'pki',
        'proxy',
        'scheduler',
      ].sort(),
    );
    // The components a worker does not run are there, empty: the module system reads these
    // names under a false mkIf (nix/modules/cluster.nix), and an empty set defines nothing.
    expect(k?.apiserver).toEqual({});
    expect(k?.controllerManager).toEqual({});
    expect(k?.scheduler).toEqual({});
    expect(k?.kubelet).toEqual({
      tlsCertFile: '/etc/kubernetes/pki/kubelet.pem',
      tlsKeyFile: '/etc/kubernetes/pki/kubelet-key.pem',
      clientCaFile: '/etc/kubernetes/pki/kubernetes-ca.pem',
      kubeconfig: {
        server: 'https://10.77.0.10:6443',
        caFile: '/etc/kubernetes/pki/kubernetes-ca.pem',
        certFile: '/etc/kubernetes/pki/kubelet-client.pem',
        keyFile: '/etc/kubernetes/pki/kubelet-client-key.pem',
      },
    });
    expect(core.services.etcd).toEqual({});
    expect(core.settings.etcd).toEqual({});
    expect(core.apiserverExtraOpts).toEqual([]);
    expect(core.bootstrapAddons).toEqual({});
    expect(core.kubeconfigs).toEqual({});
    expect(Object.keys(core.units).sort()).toEqual(['kubelet.service']);
  });

  it('etcd members come from the inventory', () => {
    const nodes = [
      { name: 'cp-1', index: 0, roles: ['control-plane', 'etcd'], addresses: ['10.77.0.11'] },
      { name: 'cp-2', index: 1, roles: ['control-plane', 'etcd'], addresses: ['fd77::12'] },
      { name: 'w-1', index: 2, roles: ['worker'], addresses: ['10.77.0.21'] },
    ];
    const core: CoreResult = evalCore(cp, { ...lab, nodes });
    expect(core.etcdMembers).toEqual(['cp-1', 'cp-2']);
    const s = core.settings as Tree;
    expect(s?.kubernetes?.apiserver?.etcd?.servers).toEqual([
      'https://10.77.0.11:2379',
      'https://[fd77::12]:2379',
    ]);
    expect(s?.etcd?.initialCluster).toEqual([
      'cp-1=https://10.77.0.11:2380',
      'cp-2=https://[fd77::12]:2380',
    ]);
  });

  it('a kubernetes node without an API server address fails with a clear message', () => {
    const r = nixEvalRaw(
      'import ./nix/lib/pki-options.nix { layout = builtins.fromJSON (builtins.readFile ./nix/pki/layout.json); node = args.node; }',
      { node: worker },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('cluster.apiserverAddress');
  });

  it('a layout without a certificate the options need fails naming it', () => {
    const broken = JSON.parse(LAYOUT_TEXT) as { certs: { id: string }[] };
    broken.certs = broken.certs.filter((c) => c.id !== 'front-proxy-client');
    const r = nixEvalRaw(
      'import ./nix/lib/pki-options.nix { layout = builtins.fromJSON args.layoutText; node = args.node; cluster = { apiserverAddress = "10.0.0.1"; }; }',
      { layoutText: JSON.stringify(broken), node: cp },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('needs the certificate "front-proxy-client"');
    expect(r.stderr).toContain('no enabled certificate with that id for node "cp-1"');
  });
});
