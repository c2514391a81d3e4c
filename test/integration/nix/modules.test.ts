/**
 * The NixOS modules themselves (nix/modules/*.nix), evaluated by nix-instantiate in the
 * stand-in for nixpkgs (harness/: its module system, the kubernetes/etcd/flannel options,
 * `pkgs`; the real ones cannot be fetched here). harness/eval-modules.nix lists every
 * definition the k8ops modules make, with its priority, reading mkIf / mkMerge / mkOverride /
 * mkOrder like the module system (roles.test.ts builds whole nodes). What this proves: the
 * cluster module assigns the pure core's `services` verbatim at normal priority and only for
 * the components a node runs, its `settings` at priority 900, and the networking, addons and
 * node-tools modules wire what they promise. What it cannot prove: what the stand-in does not
 * reproduce (harness/README.md) — that needs a real `nixos-rebuild` against nixpkgs.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ingressLogFormat } from '../../../src/features/nginx/format.js';
import {
  type CoreResult,
  describeWith,
  evalCore,
  NIX_DIR,
  nixEval,
  nixEvalRaw,
  type Tree,
} from './helpers.js';

interface Def {
  path: string[];
  priority: number;
  order: number;
  value: unknown;
}
type Roles = ('control-plane' | 'worker' | 'etcd')[];

const NODES = {
  'cp-1': { index: 0, roles: ['control-plane', 'etcd'] as Roles, addresses: ['10.77.0.11'] },
  'cp-2': { index: 1, roles: ['control-plane'] as Roles, addresses: ['10.77.0.12'] },
  'worker-1': { index: 2, roles: ['worker'] as Roles, addresses: ['10.77.0.21'] },
};
type NodeName = keyof typeof NODES;
const API = '10.77.0.10';

function evalModules(
  _name: NodeName,
  settings: Record<string, unknown>,
  opts: { select?: string[][] } = {},
): Def[] {
  return nixEval<Def[]>(
    '(import ./test/integration/nix/harness/eval-modules.nix { settings = args.settings; select = args.select; }).defs',
    { settings, select: opts.select ?? [] },
  );
}

const cluster = (name: NodeName, extra: Record<string, unknown> = {}) => ({
  cluster: { enable: true, nodeName: name, apiserverAddress: API, nodes: NODES, ...extra },
  // On by default on control-plane nodes, where the committed manifest's missing pins would
  // stop the evaluation of every addon path; the addon tests below turn it on.
  addons: { enable: false },
});

const key = (p: string[]) => p.join('.');
const at = (defs: Def[], path: string) => defs.filter((d) => key(d.path) === path);
const under = (defs: Def[], prefix: string) =>
  defs.filter((d) => key(d.path).startsWith(`${prefix}.`));
/** Leaves of a plain value as [dotted path, value] (an empty set has none: it defines nothing). */
function leaves(v: unknown, prefix: string[] = []): [string, unknown][] {
  if (v !== null && typeof v === 'object' && !Array.isArray(v))
    return Object.entries(v).flatMap(([k, x]) => leaves(x, [...prefix, k]));
  return [[key(prefix), v]];
}
const coreFor = (name: NodeName): CoreResult =>
  evalCore(
    { name, roles: NODES[name].roles, addresses: NODES[name].addresses },
    { apiserverAddress: API, nodes: Object.entries(NODES).map(([n, v]) => ({ name: n, ...v })) },
  );
const assertionsOf = (defs: Def[]) =>
  at(defs, 'assertions').flatMap((d) => d.value as { assertion: boolean; message: string }[]);

const tmp = mkdtempSync(join(tmpdir(), 'k8ops-modules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describeWith(['nix-instantiate'], 'nix/modules (evaluated with a stand-in lib)', () => {
  it('declares its options under k8ops.{cluster,networking,addons,nodeTools}', () => {
    const r = nixEval<Record<string, string[]>>(
      '(import ./test/integration/nix/harness/eval-modules.nix { settings = { }; }).options',
    );
    expect(r).toEqual({
      cluster: ['cluster'],
      networking: ['networking'],
      addons: ['addons'],
      nodeTools: ['nodeTools'],
    });
  });

  it('cluster, control-plane + etcd: core.services verbatim at normal priority, settings at 900', () => {
    const defs = evalModules('cp-1', cluster('cp-1'));
    const core = coreFor('cp-1');
    for (const [path, value] of leaves(core.services, ['services'])) {
      const d = at(defs, path);
      expect(
        d.map((x) => [x.priority, x.value]),
        path,
      ).toContainEqual([100, value]);
    }
    for (const [path, value] of leaves(core.settings, ['services'])) {
      expect(
        at(defs, path).map((x) => [x.priority, x.value]),
        path,
      ).toEqual([[900, value]]);
    }
    // Nothing else sets a certificate option of these components.
    for (const c of ['apiserver', 'controllerManager', 'scheduler', 'kubelet']) {
      const extra = under(defs, `services.kubernetes.${c}`).filter(
        (d) =>
          d.priority === 100 &&
          !leaves(core.services, ['services']).some(([p]) => p === key(d.path)) &&
          ![
            'services.kubernetes.apiserver.extraOpts',
            'services.kubernetes.kubelet.cni.configDir',
          ].includes(key(d.path)),
      );
      expect(extra.map((d) => key(d.path))).toEqual([]);
    }
    expect(at(defs, 'services.kubernetes.apiserver.extraOpts').map((d) => d.value)).toEqual([
      core.apiserverExtraOpts.join(' '),
    ]);
    expect(at(defs, 'services.etcd.enable').map((d) => [d.priority, d.value])).toEqual([
      [100, true],
    ]);
    expect(assertionsOf(defs).filter((a) => !a.assertion)).toEqual([]);
    // The addons module is on by default on control-plane nodes; the committed manifest has
    // no pins yet, so its assertion fails (and nothing else is evaluated).
    const { addons: _off, ...withAddons } = cluster('cp-1');
    const dflt = evalModules('cp-1', withAddons, { select: [['assertions']] });
    expect(assertionsOf(dflt).filter((a) => !a.assertion)).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/Run the addon sync/) }),
    ]);
  });

  it('cluster, control-plane + etcd: tmpfiles, addon manager credentials, RBAC bootstrap, unit asserts', () => {
    const defs = evalModules('cp-1', cluster('cp-1'));
    const core = coreFor('cp-1');
    const rules = at(defs, 'systemd.tmpfiles.rules').flatMap((d) => d.value as string[]);
    for (const r of core.tmpfiles) expect(rules).toContain(r);
    expect(
      at(defs, 'systemd.services.kube-addon-manager.environment.KUBECONFIG')[0]!.value,
    ).toMatch(/-k8ops-addon-manager\.kubeconfig$/);
    const pre = at(defs, 'systemd.services.kube-addon-manager.serviceConfig.ExecStartPre')[0]!
      .value as string[];
    expect(pre).toHaveLength(1);
    expect(pre[0]).toMatch(/^\+\/nix\/store\/.*-k8ops-addon-bootstrap$/);
    expect(
      at(defs, 'environment.etc.kubernetes/cluster-admin.kubeconfig.source')[0]!.value,
    ).toMatch(/-k8ops-cluster-admin\.kubeconfig$/);
    const boot = under(defs, 'services.kubernetes.addonManager.bootstrapAddons');
    for (const [path, value] of leaves(core.bootstrapAddons, [
      'services',
      'kubernetes',
      'addonManager',
      'bootstrapAddons',
    ]))
      expect(
        boot.filter((d) => key(d.path) === path).map((d) => d.value),
        path,
      ).toEqual([value]);
    for (const [unit, files] of Object.entries(core.unitFiles)) {
      const name = unit.replace(/\.service$/, '');
      expect(
        at(defs, `systemd.services.${name}.unitConfig.AssertPathExists`).map((d) => d.value),
        unit,
      ).toEqual([files]);
    }
  });

  it('cluster, worker: kubelet options only; no etcd, no control plane, no bootstrap', () => {
    const defs = evalModules('worker-1', cluster('worker-1'));
    const core = coreFor('worker-1');
    expect(under(defs, 'services.kubernetes.apiserver')).toEqual([]);
    expect(under(defs, 'services.kubernetes.controllerManager')).toEqual([]);
    expect(under(defs, 'services.kubernetes.scheduler')).toEqual([]);
    expect(under(defs, 'services.etcd')).toEqual([]);
    expect(under(defs, 'systemd.services.kube-addon-manager')).toEqual([]);
    for (const [path, value] of leaves(core.services, ['services']))
      expect(
        at(defs, path).map((d) => [d.priority, d.value]),
        path,
      ).toContainEqual([100, value]);
    expect(at(defs, 'services.kubernetes.roles').map((d) => [d.priority, d.value])).toEqual([
      [900, ['node']],
    ]);
    expect(assertionsOf(defs).filter((a) => !a.assertion)).toEqual([]);
  });

  it('cluster, control-plane that is not an etcd member: etcd forced off, servers from the inventory', () => {
    const defs = evalModules('cp-2', cluster('cp-2'));
    expect(at(defs, 'services.etcd.enable').map((d) => [d.priority, d.value])).toEqual([
      [50, false],
    ]);
    expect(
      under(defs, 'services.etcd').filter((d) => key(d.path) !== 'services.etcd.enable'),
    ).toEqual([]);
    expect(at(defs, 'services.kubernetes.apiserver.etcd.servers')[0]!.value).toEqual([
      'https://10.77.0.11:2379',
    ]);
  });

  it('cluster disabled: defines nothing', () => {
    const defs = evalModules('cp-1', {
      cluster: { enable: false, nodes: NODES, apiserverAddress: API },
    });
    expect(defs.map((d) => key(d.path))).toEqual([
      'services.kubernetes.addonManager.multiYamlAddons',
    ]);
    expect(defs[0]!.value).toEqual({});
  });

  it('cluster assertions: unknown node, bad indexes, no API server address', () => {
    const bad = evalModules(
      'worker-1',
      {
        cluster: {
          enable: true,
          nodeName: 'worker-9',
          apiserverAddress: API,
          nodes: { ...NODES, 'worker-1': { ...NODES['worker-1'], index: 0 } },
        },
      },
      { select: [['assertions']] },
    );
    const failed = assertionsOf(bad)
      .filter((a) => !a.assertion)
      .map((a) => a.message);
    expect(failed).toEqual([
      expect.stringContaining('has no node "worker-9"'),
      expect.stringContaining('indexes must be 0 … N-1'),
    ]);
    const noApi = evalModules(
      'worker-1',
      { cluster: { enable: true, nodeName: 'worker-1', nodes: NODES } },
      {
        select: [['assertions']],
      },
    );
    expect(
      assertionsOf(noApi)
        .filter((a) => !a.assertion)
        .map((a) => a.message),
    ).toEqual([expect.stringContaining('apiserverAddress must be set')]);
  });

  it('networking: Cilium instead of kube-proxy/flannel, CNI paths, cilium-cni kept, MTU, firewall', () => {
    const defs = evalModules('worker-1', {
      ...cluster('worker-1'),
      networking: { enable: true, interfaces: ['enp1s0', 'enp2s0'] },
    });
    expect(
      at(defs, 'services.kubernetes.flannel.enable').map((d) => [d.priority, d.value]),
    ).toEqual([
      [100, false],
      [100, false],
    ]);
    expect(at(defs, 'services.kubernetes.proxy.enable').map((d) => d.value)).toEqual([
      false,
      false,
    ]);
    expect(at(defs, 'services.kubernetes.kubelet.cni.configDir')[0]!.value).toBe(
      '/var/lib/cni/net.d',
    );
    expect(at(defs, 'networking.interfaces.enp1s0.mtu')[0]!.value).toBe(9216);
    expect(at(defs, 'networking.interfaces.enp2s0.mtu')[0]!.value).toBe(9216);
    expect(at(defs, 'networking.firewall.allowedTCPPorts')[0]!.value).toEqual([
      10250, 4240, 4244, 4245, 179,
    ]);
    expect(at(defs, 'networking.firewall.allowedUDPPorts')[0]!.value).toEqual([8472]);
    const pre = at(defs, 'systemd.services.kubelet.preStart');
    expect(pre).toHaveLength(1);
    expect(pre[0]!.order).toBe(1500); // mkAfter: after nixpkgs' `rm /opt/cni/bin/*`
    expect(pre[0]!.value).toContain('/var/lib/k8ops/cni/cilium-cni');
    expect(at(defs, 'systemd.paths.k8ops-cilium-cni-save.pathConfig.PathChanged')[0]!.value).toBe(
      '/opt/cni/bin/cilium-cni',
    );
    const rules = at(defs, 'systemd.tmpfiles.rules').flatMap((d) => d.value as string[]);
    expect(rules).toContain('d /var/lib/cni/net.d 0755 root root -');
  });

  it('addons: the committed manifest (no pins) fails evaluation with the addon sync message', () => {
    const r = nixEvalRaw(
      `let defs = (import ./test/integration/nix/harness/eval-modules.nix { settings = args.settings; select = [ [ "services" "kubernetes" "addonManager" "multiYamlAddons" ] ]; }).defs;
       in map (d: d.value) defs`,
      {
        settings: { ...cluster('cp-1'), addons: {}, networking: { enable: true } },
      },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Run the addon sync/);
  });

  it('addons: with pins, five cluster addons go to multiYamlAddons with the computed values', () => {
    const manifest = JSON.parse(readFileSync(join(NIX_DIR, 'addons', 'addons.json'), 'utf8')) as {
      addons: { name: string; sha256: string }[];
    };
    for (const a of manifest.addons)
      a.sha256 = '0v6y7h3gq7zbkv4v1vb1zj1rkd0ldd6rw8a2jgxwhfqlw5c0mxw9';
    const file = join(tmp, 'addons.json');
    writeFileSync(file, JSON.stringify(manifest));
    const settings = {
      ...cluster('cp-1'),
      networking: { enable: true, interfaces: ['enp1s0'] },
      addons: {
        enable: true,
        manifestFile: file,
        values: { cilium: { operator: { replicas: 2 } } },
      },
    };
    const defs = evalModules('cp-1', settings);
    expect(assertionsOf(defs).filter((a) => !a.assertion)).toEqual([]);
    const yaml = under(defs, 'services.kubernetes.addonManager.multiYamlAddons');
    const names = [...new Set(yaml.map((d) => d.path[4]))].sort();
    expect(names).toEqual([
      'cert-manager',
      'cilium',
      'ingress-nginx',
      'kube-prometheus',
      'kubernetes-dashboard',
    ]);
    expect(
      at(defs, 'services.kubernetes.addonManager.multiYamlAddons.cilium.version')[0]!.value,
    ).toBe('1.17.8');
    expect(
      at(defs, 'services.kubernetes.addonManager.multiYamlAddons.cilium.src')[0]!.value,
    ).toMatch(/-k8ops-addon-cilium-1\.17\.8\/manifest\.yaml$/);
    const crds = at(defs, 'k8ops.cluster.bootstrap.serverSideApply')[0]!.value as string[];
    expect(crds).toEqual([
      expect.stringMatching(/-k8ops-addon-kube-prometheus-0\.16\.0\/crds\.yaml$/),
    ]);

    const rendered = nixEval<
      Record<string, { values: Tree; configMapData: Record<string, string> }>
    >(
      '(import ./test/integration/nix/harness/eval-modules.nix { settings = args.settings; }).config.k8ops.addons.rendered',
      { settings },
    );
    expect(rendered.cilium!.values).toMatchObject({
      kubeProxyReplacement: true,
      k8sServiceHost: API,
      k8sServicePort: 6443,
      MTU: 9216,
      devices: 'enp1s0',
      operator: { replicas: 2 }, // the operator's value wins over the manifest's 1
      bgpControlPlane: { enabled: true, statusReport: { enabled: true } },
    });
    // The one format definition: the rendered ConfigMap says what k8ops's parser reads.
    expect(rendered['ingress-nginx']!.configMapData['log-format-upstream']).toBe(
      ingressLogFormat(),
    );
    expect(rendered['ingress-nginx']!.configMapData['http-snippet']).toContain('$host');
    expect(rendered['cert-manager']!.configMapData).toEqual({});
  });

  it('node-tools: PKI scripts, the rotation plan and a timer in the node’s slot', () => {
    const defs = evalModules('worker-1', {
      ...cluster('worker-1'),
      nodeTools: {
        enable: true,
        signer: true,
        rotation: { enable: true, hook: 'k8ops-pki-node-csr "$@"' },
      },
    });
    const svc = 'systemd.services.k8ops-rotate';
    // worker-1 is index 2 of 3: offset 2 × 24 h / 3 = 16 h.
    expect(at(defs, `${svc}.description`)[0]!.value).toContain('slot offset 57600 s');
    expect(at(defs, `${svc}.environment.K8OPS_ROTATION_PLAN`)[0]!.value).toMatch(
      /-k8ops-rotation-plan\.json$/,
    );
    expect(at(defs, `${svc}.environment.K8OPS_ROTATE_HOOK`)[0]!.value).toMatch(
      /-k8ops-rotate-hook$/,
    );
    expect(at(defs, `${svc}.serviceConfig.ExecStart`)[0]!.value).toMatch(
      /-k8ops-rotate-due\/bin\/k8ops-rotate-due$/,
    );
    expect(at(defs, 'systemd.timers.k8ops-rotate.timerConfig.OnCalendar')[0]!.value).toBe('*:0/15');
    expect(at(defs, 'systemd.timers.k8ops-rotate.wantedBy')[0]!.value).toEqual(['timers.target']);
    expect(at(defs, 'environment.etc.k8ops/rotation-plan.json.source')[0]!.value).toMatch(
      /rotation-plan\.json$/,
    );
    const rules = at(defs, 'systemd.tmpfiles.rules').flatMap((d) => d.value as string[]);
    expect(rules).toContain('d /var/lib/k8ops/ca 0700 root root -');
    // With a signer and no hook of its own: the default hook, and the node's parameters.
    const signer = evalModules('worker-1', {
      ...cluster('worker-1'),
      nodeTools: { enable: true, rotation: { enable: true, signer: 'root@cp-1' } },
    });
    expect(at(signer, `${svc}.environment.K8OPS_ROTATE_HOOK`)[0]!.value).toMatch(
      /-k8ops-rotate-hook\/bin\/k8ops-rotate-hook$/,
    );
    const env = Object.fromEntries(
      under(signer, `${svc}.environment`).map((d) => [d.path.at(-1), d.value]),
    );
    expect(env).toMatchObject({
      K8OPS_NODE: 'worker-1',
      K8OPS_ROLES: 'worker',
      K8OPS_ADDRESSES: '10.77.0.21',
      K8OPS_APISERVER_ADDRESS: API,
      K8OPS_SIGNER: 'root@cp-1',
    });
    const reportOnly = evalModules('worker-1', {
      ...cluster('worker-1'),
      nodeTools: { enable: true, rotation: { enable: true } },
    });
    expect(at(reportOnly, `${svc}.environment.K8OPS_ROTATE_HOOK`)).toEqual([]);
    const off = evalModules('worker-1', { ...cluster('worker-1'), nodeTools: { enable: true } });
    expect(under(off, 'systemd.timers')).toEqual([]);
    expect(under(off, 'systemd.services.k8ops-rotate')).toEqual([]);
  });

  it('the example lab: three nodes, each evaluates with no failed assertion but the addon pins', () => {
    const inventory = nixEval<{
      nodes: Record<string, { index: number; roles: Roles; addresses: string[] }>;
      apiserverAddress: string;
    }>('import ./nix/example/inventory.nix');
    expect(Object.keys(inventory.nodes).sort()).toEqual(['cp-1', 'worker-1', 'worker-2']);
    for (const name of Object.keys(inventory.nodes)) {
      const cp = inventory.nodes[name]!.roles.includes('control-plane');
      const defs = nixEval<Def[]>(
        `let inv = import ./nix/example/inventory.nix; in (import ./test/integration/nix/harness/eval-modules.nix {
           settings = {
             cluster = { enable = true; nodeName = args.name; name = inv.cluster; inherit (inv) apiserverAddress podCIDR nodes; };
             networking = { enable = true; inherit (inv) interfaces; };
             nodeTools = { enable = true; signer = args.name == inv.signer; rotation.enable = true; };
           };
           select = [ [ "assertions" ] [ "services" "kubernetes" "kubelet" "hostname" ] ];
         }).defs`,
        { name },
      );
      const failed = assertionsOf(defs).filter((a) => !a.assertion);
      expect(failed.map((a) => a.message)).toEqual(
        cp ? [expect.stringMatching(/Run the addon sync/)] : [],
      );
      expect(at(defs, 'services.kubernetes.kubelet.hostname')[0]!.value).toBe(name);
    }
  });
});
