/**
 * Every certificate option of the seed design's Summary Table (reference/seed-design.md),
 * plus the CA options pki-nixos.md §1.1/§1.3 says must be set by hand, is set by the cluster
 * module for exactly the roles that run the component — checked on the evaluated pure core
 * (nix/lib/pki-options.nix), whose `services` the module assigns verbatim with one mkIf per
 * component, and whose kubeconfigs it writes for the components without kubeconfig options
 * (addon manager, flannel). Each expected file is what planNode derives from layout.json.
 */
import { expect, it } from 'vitest';
import type { Role } from '../../../src/config/types.js';
import { type NodeIdentity, type NodePlan, planNode } from '../../../src/pki/layout.js';
import { at, type CoreResult, describeWith, evalCore, LAYOUT_TEXT, loadLayout } from './helpers.js';

type Source =
  | { cert: string }
  | { key: string }
  | { bundle: string }
  | { saPub: string }
  | { saKey: string };

interface Row {
  service: string;
  /** Option path under `services.` as the NixOS module names it. */
  option: string;
  /** Flag or use, as the seed table words it. */
  use: string;
  source: Source;
}

const SEED_TABLE: Row[] = [
  // kube-apiserver (apiserver.nix)
  {
    service: 'kube-apiserver',
    option: 'kubernetes.apiserver.tlsCertFile',
    use: '--tls-cert-file',
    source: { cert: 'kube-apiserver' },
  },
  {
    service: 'kube-apiserver',
    option: 'kubernetes.apiserver.tlsKeyFile',
    use: '--tls-private-key-file',
    source: { key: 'kube-apiserver' },
  },
  {
    service: 'kube-apiserver',
    option: 'kubernetes.apiserver.clientCaFile',
    use: '--client-ca-file',
    source: { bundle: 'kubernetes-ca-bundle' },
  },
  {
    service: 'kube-apiserver',
    option: 'kubernetes.apiserver.kubeletClientCertFile',
    use: '--kubelet-client-certificate',
    source: { cert: 'apiserver-kubelet-client' },
  },
  {
    service: 'kube-apiserver',
    option: 'kubernetes.apiserver.kubeletClientKeyFile',
    use: '--kubelet-client-key',
    source: { key: 'apiserver-kubelet-client' },
  },
  {
    service: 'kube-apiserver',
    option: 'kubernetes.apiserver.kubeletClientCaFile',
    use: '--kubelet-certificate-authority',
    source: { bundle: 'kubernetes-ca-bundle' },
  },
  {
    service: 'kube-apiserver',
    option: 'kubernetes.apiserver.proxyClientCertFile',
    use: '--proxy-client-cert-file',
    source: { cert: 'front-proxy-client' },
  },
  {
    service: 'kube-apiserver',
    option: 'kubernetes.apiserver.proxyClientKeyFile',
    use: '--proxy-client-key-file',
    source: { key: 'front-proxy-client' },
  },
  {
    service: 'kube-apiserver',
    option: 'kubernetes.apiserver.serviceAccountKeyFile',
    use: '--service-account-key-file',
    source: { saPub: 'service-account' },
  },
  {
    service: 'kube-apiserver',
    option: 'kubernetes.apiserver.serviceAccountSigningKeyFile',
    use: '--service-account-signing-key-file',
    source: { saKey: 'service-account' },
  },
  {
    service: 'kube-apiserver',
    option: 'kubernetes.apiserver.etcd.certFile',
    use: '--etcd-certfile',
    source: { cert: 'apiserver-etcd-client' },
  },
  {
    service: 'kube-apiserver',
    option: 'kubernetes.apiserver.etcd.keyFile',
    use: '--etcd-keyfile',
    source: { key: 'apiserver-etcd-client' },
  },
  {
    service: 'kube-apiserver',
    option: 'kubernetes.apiserver.etcd.caFile',
    use: '--etcd-cafile',
    source: { bundle: 'etcd-ca-bundle' },
  },
  // kubelet (kubelet.nix)
  {
    service: 'kubelet',
    option: 'kubernetes.kubelet.tlsCertFile',
    use: '--tls-cert-file',
    source: { cert: 'kubelet' },
  },
  {
    service: 'kubelet',
    option: 'kubernetes.kubelet.tlsKeyFile',
    use: '--tls-private-key-file',
    source: { key: 'kubelet' },
  },
  {
    service: 'kubelet',
    option: 'kubernetes.kubelet.clientCaFile',
    use: '--client-ca-file',
    source: { bundle: 'kubernetes-ca-bundle' },
  },
  {
    service: 'kubelet',
    option: 'kubernetes.kubelet.kubeconfig.certFile',
    use: 'kubeconfig',
    source: { cert: 'kubelet-client' },
  },
  {
    service: 'kubelet',
    option: 'kubernetes.kubelet.kubeconfig.keyFile',
    use: 'kubeconfig',
    source: { key: 'kubelet-client' },
  },
  {
    service: 'kubelet',
    option: 'kubernetes.kubelet.kubeconfig.caFile',
    use: 'kubeconfig',
    source: { bundle: 'kubernetes-ca-bundle' },
  },
  // kube-controller-manager (controller-manager.nix)
  {
    service: 'kube-controller-manager',
    option: 'kubernetes.controllerManager.tlsCertFile',
    use: '--tls-cert-file',
    source: { cert: 'kube-controller-manager' },
  },
  {
    service: 'kube-controller-manager',
    option: 'kubernetes.controllerManager.tlsKeyFile',
    use: '--tls-private-key-file',
    source: { key: 'kube-controller-manager' },
  },
  {
    service: 'kube-controller-manager',
    option: 'kubernetes.controllerManager.rootCaFile',
    use: '--root-ca-file',
    source: { bundle: 'kubernetes-ca-bundle' },
  },
  {
    service: 'kube-controller-manager',
    option: 'kubernetes.controllerManager.serviceAccountKeyFile',
    use: '--service-account-private-key-file',
    source: { saKey: 'service-account' },
  },
  {
    service: 'kube-controller-manager',
    option: 'kubernetes.controllerManager.kubeconfig.certFile',
    use: 'kubeconfig',
    source: { cert: 'kube-controller-manager-client' },
  },
  {
    service: 'kube-controller-manager',
    option: 'kubernetes.controllerManager.kubeconfig.keyFile',
    use: 'kubeconfig',
    source: { key: 'kube-controller-manager-client' },
  },
  {
    service: 'kube-controller-manager',
    option: 'kubernetes.controllerManager.kubeconfig.caFile',
    use: 'kubeconfig',
    source: { bundle: 'kubernetes-ca-bundle' },
  },
  // kube-scheduler (scheduler.nix)
  {
    service: 'kube-scheduler',
    option: 'kubernetes.scheduler.kubeconfig.certFile',
    use: 'kubeconfig',
    source: { cert: 'kube-scheduler-client' },
  },
  {
    service: 'kube-scheduler',
    option: 'kubernetes.scheduler.kubeconfig.keyFile',
    use: 'kubeconfig',
    source: { key: 'kube-scheduler-client' },
  },
  {
    service: 'kube-scheduler',
    option: 'kubernetes.scheduler.kubeconfig.caFile',
    use: 'kubeconfig',
    source: { bundle: 'kubernetes-ca-bundle' },
  },
  // kube-proxy (proxy.nix): only where the layout enables its certificate
  {
    service: 'kube-proxy',
    option: 'kubernetes.proxy.kubeconfig.certFile',
    use: 'kubeconfig',
    source: { cert: 'kube-proxy-client' },
  },
  {
    service: 'kube-proxy',
    option: 'kubernetes.proxy.kubeconfig.keyFile',
    use: 'kubeconfig',
    source: { key: 'kube-proxy-client' },
  },
  // etcd (pki.nix → services.etcd)
  { service: 'etcd', option: 'etcd.certFile', use: '--cert-file', source: { cert: 'etcd-server' } },
  { service: 'etcd', option: 'etcd.keyFile', use: '--key-file', source: { key: 'etcd-server' } },
  {
    service: 'etcd',
    option: 'etcd.trustedCaFile',
    use: '--trusted-ca-file',
    source: { bundle: 'etcd-ca-bundle' },
  },
  {
    service: 'etcd',
    option: 'etcd.peerCertFile',
    use: '--peer-cert-file',
    source: { cert: 'etcd-peer' },
  },
  {
    service: 'etcd',
    option: 'etcd.peerKeyFile',
    use: '--peer-key-file',
    source: { key: 'etcd-peer' },
  },
  {
    service: 'etcd',
    option: 'etcd.peerTrustedCaFile',
    use: '--peer-trusted-ca-file',
    source: { bundle: 'etcd-ca-bundle' },
  },
  // §1.3 step 1: without caFile every CA default is null
  {
    service: 'kubernetes',
    option: 'kubernetes.caFile',
    use: 'default CA',
    source: { bundle: 'kubernetes-ca-bundle' },
  },
];

/** Kubeconfig-only services with no NixOS kubeconfig option: the module writes these files. */
const KUBECONFIG_SERVICES: {
  service: string;
  kubeconfig: 'addonManager' | 'flannel';
  cert: string;
}[] = [
  { service: 'kube-addon-manager', kubeconfig: 'addonManager', cert: 'kube-addon-manager-client' },
  { service: 'flannel', kubeconfig: 'flannel', cert: 'flannel-client' },
];

/** Which roles run a service (flannel and kube-proxy: also only when their cert is enabled). */
const RUNS_ON: Record<string, Role[]> = {
  'kube-apiserver': ['control-plane'],
  'kube-controller-manager': ['control-plane'],
  'kube-scheduler': ['control-plane'],
  'kube-addon-manager': ['control-plane'],
  kubelet: ['control-plane', 'worker'],
  'kube-proxy': ['control-plane', 'worker'],
  flannel: ['control-plane', 'worker'],
  kubernetes: ['control-plane', 'worker'],
  etcd: ['etcd'],
};
const OPTIONAL_SERVICE_CERT: Record<string, string> = {
  'kube-proxy': 'kube-proxy-client',
  flannel: 'flannel-client',
};

function expected(plan: NodePlan, source: Source): string {
  const find = <T extends { id: string }>(xs: T[], id: string): T => {
    const x = xs.find((y) => y.id === id);
    if (!x) throw new Error(`planNode has no ${id}`);
    return x;
  };
  if ('cert' in source) return find(plan.certs, source.cert).certPath;
  if ('key' in source) return find(plan.certs, source.key).keyPath;
  if ('bundle' in source) return find(plan.bundles, source.bundle).path;
  if ('saPub' in source) return find(plan.keypairs, source.saPub).pubPath;
  return find(plan.keypairs, source.saKey).keyPath;
}

const withProxyAndFlannel = (() => {
  const l = JSON.parse(LAYOUT_TEXT) as { certs: { id: string; enabled: boolean }[] };
  for (const c of l.certs)
    if (c.id === 'kube-proxy-client' || c.id === 'flannel-client') c.enabled = true;
  return JSON.stringify(l);
})();

const nodes: { label: string; node: NodeIdentity; layoutText: string }[] = [
  {
    label: 'control-plane + etcd',
    node: { name: 'cp-1', roles: ['control-plane', 'etcd'], addresses: ['10.77.0.11'] },
    layoutText: LAYOUT_TEXT,
  },
  {
    label: 'worker',
    node: { name: 'worker-1', roles: ['worker'], addresses: ['10.77.0.21'] },
    layoutText: LAYOUT_TEXT,
  },
  {
    label: 'etcd only',
    node: { name: 'etcd-1', roles: ['etcd'], addresses: ['10.77.0.31'] },
    layoutText: LAYOUT_TEXT,
  },
  {
    label: 'control-plane + worker + etcd',
    node: { name: 'all-1', roles: ['control-plane', 'worker', 'etcd'], addresses: ['10.77.0.41'] },
    layoutText: LAYOUT_TEXT,
  },
  {
    label: 'control-plane, layout with kube-proxy + flannel',
    node: { name: 'cp-2', roles: ['control-plane'], addresses: ['10.77.0.12'] },
    layoutText: withProxyAndFlannel,
  },
  {
    label: 'worker, layout with kube-proxy + flannel',
    node: { name: 'worker-2', roles: ['worker'], addresses: ['10.77.0.22'] },
    layoutText: withProxyAndFlannel,
  },
];
const cluster = { apiserverAddress: '10.77.0.10' };

describeWith(['nix-instantiate'], "the seed design's certificate options, per role", () => {
  it('the table covers every service of the seed design', () => {
    const services = new Set([
      ...SEED_TABLE.map((r) => r.service),
      ...KUBECONFIG_SERVICES.map((s) => s.service),
    ]);
    for (const s of [
      'kube-apiserver',
      'kubelet',
      'kube-controller-manager',
      'kube-scheduler',
      'kube-proxy',
      'flannel',
      'kube-addon-manager',
      'etcd',
    ])
      expect(services).toContain(s);
  });

  it.each(nodes)('$label', ({ node, layoutText }) => {
    const layout = loadLayout(layoutText);
    const plan = planNode(layout, node, cluster);
    const core: CoreResult = evalCore(node, cluster, { layoutText });
    const enabled = (id: string) => layout.certs.some((c) => c.id === id && c.enabled);
    const runs = (service: string) =>
      RUNS_ON[service]!.some((r) => node.roles.includes(r)) &&
      (!OPTIONAL_SERVICE_CERT[service] || enabled(OPTIONAL_SERVICE_CERT[service]!));

    const set: string[] = [];
    const unset: string[] = [];
    for (const row of SEED_TABLE) {
      const value = at(core.services, row.option);
      if (runs(row.service)) {
        expect(value, `services.${row.option} (${row.use})`).toBe(expected(plan, row.source));
        set.push(row.option);
      } else {
        expect(
          value,
          `services.${row.option} must be unset on ${node.roles.join('+')}`,
        ).toBeUndefined();
        unset.push(row.option);
      }
    }
    for (const s of KUBECONFIG_SERVICES) {
      const kc = core.kubeconfigs[s.kubeconfig];
      if (runs(s.service)) {
        const c = plan.certs.find((x) => x.id === s.cert)!;
        expect(kc?.users[0]?.user).toEqual({
          'client-certificate': c.certPath,
          'client-key': c.keyPath,
        });
        expect(kc?.clusters[0]?.cluster['certificate-authority']).toBe(
          expected(plan, { bundle: 'kubernetes-ca-bundle' }),
        );
        expect(kc?.clusters[0]?.cluster.server).toBe('https://10.77.0.10:6443');
      } else {
        expect(
          kc,
          `${s.service} kubeconfig must not exist on ${node.roles.join('+')}`,
        ).toBeUndefined();
      }
    }
    // Every kubeconfig option points at the API server.
    for (const c of ['kubelet', 'controllerManager', 'scheduler', 'proxy'])
      if (at(core.services, `kubernetes.${c}.kubeconfig.certFile`) !== undefined)
        expect(at(core.services, `kubernetes.${c}.kubeconfig.server`)).toBe(
          'https://10.77.0.10:6443',
        );
    // easyCerts off wherever a kubernetes or etcd service runs; flannel/proxy per the layout.
    expect(at(core.services, 'kubernetes.easyCerts')).toBe(false);
    expect(at(core.services, 'kubernetes.pki.enable')).toBe(false);
    if (runs('kubelet')) {
      expect(at(core.services, 'kubernetes.flannel.enable')).toBe(runs('flannel'));
      expect(at(core.services, 'kubernetes.proxy.enable')).toBe(runs('kube-proxy'));
    }
    // The option table the core reports lists exactly the options set above.
    const listed = core.optionTable.map((r) => r.option.replace(/^services\./, ''));
    for (const o of set) expect(listed).toContain(o);
    for (const o of unset) expect(listed).not.toContain(o);
  });
});
