/**
 * Every role combination the inventory allows, evaluated the way a user builds a node: the
 * flake's `nixosModules.default` imported into `nixpkgs.lib.nixosSystem`, then
 * `config.system.build.toplevel` read. Here nixpkgs is the stand-in of harness/ (its module
 * system reproduces nixpkgs' mkIf push-down, priorities, types, undeclared-option errors and
 * assertion checks; harness/nixos/ declares the kubernetes, etcd and flannel options with
 * their nixpkgs types and reads them as the real modules do). Any evaluation error fails the
 * test; so does a failed assertion, except where a test asks for one.
 *
 * The results are printed as a table (role combination → result) after the run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWith, NIX_DIR, nixEvalRaw } from './helpers.js';

type Role = 'control-plane' | 'worker' | 'etcd';
interface Node {
  index: number;
  roles: Role[];
  addresses: string[];
}

/** One inventory with a node of each multi-node combination, and a one-node cluster. */
const LAB: Record<string, Node> = {
  'cp-etcd-1': { index: 0, roles: ['control-plane', 'etcd'], addresses: ['10.77.0.11'] },
  'cp-2': { index: 1, roles: ['control-plane'], addresses: ['10.77.0.12'] },
  'etcd-1': { index: 2, roles: ['etcd'], addresses: ['10.77.0.31'] },
  'worker-1': { index: 3, roles: ['worker'], addresses: ['10.77.0.21'] },
};
const AIO: Record<string, Node> = {
  'aio-1': { index: 0, roles: ['control-plane', 'etcd', 'worker'], addresses: ['10.77.0.41'] },
};
const COMBINATIONS: { label: string; node: string; nodes: Record<string, Node> }[] = [
  { label: 'worker only', node: 'worker-1', nodes: LAB },
  { label: 'control-plane only', node: 'cp-2', nodes: LAB },
  { label: 'etcd only', node: 'etcd-1', nodes: LAB },
  { label: 'control-plane + etcd', node: 'cp-etcd-1', nodes: LAB },
  { label: 'all-in-one (control-plane + etcd + worker)', node: 'aio-1', nodes: AIO },
];

const tmp = mkdtempSync(join(tmpdir(), 'k8ops-roles-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** The committed manifest with every pin filled (the addon sync fills them for real). */
function pinnedManifest(): string {
  const manifest = JSON.parse(readFileSync(join(NIX_DIR, 'addons', 'addons.json'), 'utf8')) as {
    addons: { sha256: string }[];
  };
  for (const a of manifest.addons)
    a.sha256 = '0v6y7h3gq7zbkv4v1vb1zj1rkd0ldd6rw8a2jgxwhfqlw5c0mxw9';
  const file = join(tmp, 'addons.json');
  writeFileSync(file, JSON.stringify(manifest));
  return file;
}
const PINNED = pinnedManifest();

interface Built {
  toplevel: string;
  units: string[];
  enabled: Record<string, boolean>;
  /** Certificate options of the core's table whose final value is not the core's value. */
  wrong: { option: string; want: unknown; got: unknown }[];
  tableSize: number;
  assertionsOk: boolean;
}

/** What the tests read of a built node (forcing the toplevel first). */
const FACTS = `sys: let
    lib = (import ./test/integration/nix/harness/flake.nix).lib;
    config = sys.config;
    top = config.system.build.toplevel;
    table = config.k8ops.cluster.computed.optionTable;
  in builtins.seq top.outPath {
    toplevel = top.outPath;
    units = builtins.attrNames config.systemd.services;
    enabled = {
      apiserver = config.services.kubernetes.apiserver.enable;
      controllerManager = config.services.kubernetes.controllerManager.enable;
      scheduler = config.services.kubernetes.scheduler.enable;
      addonManager = config.services.kubernetes.addonManager.enable;
      kubelet = config.services.kubernetes.kubelet.enable;
      proxy = config.services.kubernetes.proxy.enable;
      flannel = config.services.flannel.enable;
      etcd = config.services.etcd.enable;
      easyCerts = config.services.kubernetes.easyCerts;
      pki = config.services.kubernetes.pki.enable;
    };
    wrong = builtins.filter (r: r.got != r.want) (map (r: {
      inherit (r) option;
      want = r.value;
      got = lib.getAttrFromPath (builtins.tail (lib.splitString "." r.option)) config.services;
    }) table);
    tableSize = builtins.length table;
    assertionsOk = builtins.all (a: a.assertion) config.assertions;
  }`;

/** A node configuration as a user writes it, built through nixosModules.default. */
function build(
  node: string,
  nodes: Record<string, Node>,
  extra = '{ }',
): { ok: true; built: Built } | { ok: false; error: string } {
  const r = nixEvalRaw(
    `let
       f = import ./test/integration/nix/harness/flake.nix;
       sys = f.lib.nixosSystem {
         modules = [
           f.outputs.nixosModules.default
           {
             networking.hostName = args.node;
             k8ops.cluster = {
               enable = true;
               name = "lab";
               apiserverAddress = "10.77.0.10";
               podCIDR = "10.244.0.0/16";
               nodes = args.nodes;
             };
             k8ops.networking = { enable = true; interfaces = [ "enp1s0" ]; };
             k8ops.addons.manifestFile = /. + args.manifest;
             k8ops.nodeTools = { enable = true; rotation = { enable = true; signer = "root@cp-etcd-1"; }; };
           }
           (${extra})
         ];
       };
     in (${FACTS}) sys`,
    { node, nodes, manifest: PINNED },
  );
  if (r.status !== 0) return { ok: false, error: r.stderr.replace(/^warning: .*\n/gm, '').trim() };
  return { ok: true, built: JSON.parse(r.stdout) as Built };
}

const results: string[] = [];
afterAll(() => {
  if (results.length === 0) return;
  process.stdout.write(
    `\nRole combinations through nixosModules.default (stand-in nixpkgs):\n${results.join('\n')}\n`,
  );
});
const firstLine = (s: string) => s.split('\n').find((l) => /error|Failed/.test(l)) ?? s;

describeWith(['nix-instantiate'], 'every role combination evaluates (nixosModules.default)', () => {
  it.each(COMBINATIONS)('$label ($node)', ({ label, node, nodes }) => {
    const r = build(node, nodes);
    results.push(
      `  ${label.padEnd(44)} ${node.padEnd(10)} ${
        r.ok
          ? `ok: ${r.built.toplevel.replace(/^.*?-/, '')}, units ${r.built.units.join(' ')}`
          : `FAILED: ${firstLine(r.error)}`
      }`,
    );
    if (!r.ok) throw new Error(`${label} (${node}) does not evaluate:\n${r.error}`);
    const b = r.built;
    const roles = nodes[node]!.roles;
    const cp = roles.includes('control-plane');
    const kube = cp || roles.includes('worker');
    expect(b.toplevel).toMatch(new RegExp(`-nixos-system-${node}$`));
    expect(b.assertionsOk).toBe(true);
    expect(b.enabled).toEqual({
      apiserver: cp,
      controllerManager: cp,
      scheduler: cp,
      addonManager: cp,
      kubelet: kube,
      proxy: false,
      flannel: false,
      etcd: roles.includes('etcd'),
      easyCerts: false,
      pki: false,
    });
    // Every certificate option of the core's table reached the final configuration.
    expect(b.wrong).toEqual([]);
    expect(b.tableSize).toBeGreaterThan(roles.includes('etcd') ? 5 : 0);
    if (kube) expect(b.units).toContain('kubelet');
    else expect(b.units).not.toContain('kubelet');
    if (cp)
      expect(b.units).toEqual(expect.arrayContaining(['kube-apiserver', 'kube-addon-manager']));
    if (roles.includes('etcd')) expect(b.units).toContain('etcd');
    else expect(b.units).not.toContain('etcd');
  });

  it('the example lab: every nixosConfiguration of the flake builds once the pins are filled', () => {
    for (const name of ['cp-1', 'worker-1', 'worker-2']) {
      const r = nixEvalRaw(
        `let
           f = import ./test/integration/nix/harness/flake.nix;
           sys = f.outputs.nixosConfigurations.\${args.name}.extendModules {
             modules = [ { k8ops.addons.manifestFile = /. + args.manifest; } ];
           };
         in (${FACTS}) sys`,
        { name, manifest: PINNED },
      );
      results.push(
        `  ${`nix/example ${name}`.padEnd(44)} ${name.padEnd(10)} ${
          r.status === 0
            ? `ok: ${(JSON.parse(r.stdout) as Built).toplevel.replace(/^.*?-/, '')}`
            : `FAILED: ${firstLine(r.stderr)}`
        }`,
      );
      expect(r.stderr.replace(/^warning: .*\n/gm, ''), name).toBe('');
      expect(r.status, name).toBe(0);
      const b = JSON.parse(r.stdout) as Built;
      expect(b.wrong).toEqual([]);
      expect(b.units).toContain('kubelet');
    }
  });

  it('the example lab without pins: the control-plane node stops at the addon sync assertion, the workers build', () => {
    const top = (name: string) =>
      nixEvalRaw(
        `(import ./test/integration/nix/harness/flake.nix).outputs.nixosConfigurations.\${args.name}.config.system.build.toplevel.outPath`,
        { name },
      );
    const cp = top('cp-1');
    expect(cp.status).not.toBe(0);
    expect(cp.stderr).toMatch(
      /Failed assertions:\n\s*- k8ops: the addon manifest[\s\S]*Run the addon sync/,
    );
    for (const w of ['worker-1', 'worker-2']) {
      const r = top(w);
      expect(r.stderr.replace(/^warning: .*\n/gm, ''), w).toBe('');
      expect(r.stdout).toContain(`-nixos-system-${w}`);
    }
  });

  it.each([
    {
      label: 'etcd only, asked to run the kubelet',
      node: 'etcd-1',
      extra: '{ services.kubernetes.kubelet.enable = true; }',
      message:
        /node "etcd-1" has roles etcd, so services\.kubernetes\.kubelet\.enable = true is meaningless here: the kubelet needs the worker or the control-plane role/,
    },
    {
      label: 'etcd only, given the nixpkgs "node" role',
      node: 'etcd-1',
      extra: '{ services.kubernetes.roles = [ "node" ]; }',
      message: /services\.kubernetes\.kubelet\.enable = true is meaningless here/,
    },
    {
      label: 'worker, asked to run etcd',
      node: 'worker-1',
      extra: '{ services.etcd.enable = true; }',
      message:
        /node "worker-1" has roles worker, so services\.etcd\.enable = true is meaningless here: etcd needs the etcd role/,
    },
    {
      label: 'worker, asked to run the API server',
      node: 'worker-1',
      extra: '{ services.kubernetes.apiserver.enable = true; }',
      message:
        /services\.kubernetes\.apiserver\.enable = true is meaningless here: the API server needs the control-plane role/,
    },
    {
      label: 'worker, asked to deploy the addons',
      node: 'worker-1',
      extra: '{ k8ops.addons.enable = true; }',
      message:
        /k8ops\.addons\.enable = true is meaningless on node "worker-1": the addons are applied by the addon manager, which runs on control-plane nodes only/,
    },
  ])(
    'a meaningless option is a failed assertion that says so: $label',
    ({ node, extra, message }) => {
      const r = build(node, LAB, extra);
      expect(r.ok).toBe(false);
      const error = r.ok ? '' : r.error;
      // The system build's assertion check, not an evaluation error elsewhere.
      expect(error).toMatch(/Failed assertions:\n\s*- /);
      expect(error).toMatch(message);
    },
  );
});
