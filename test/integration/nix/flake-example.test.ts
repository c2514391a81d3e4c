/**
 * nix/flake.nix's outputs (its `outputs` function called with stand-in inputs: nixpkgs and
 * k8nix cannot be fetched here) and the example lab of nix/example/: the NixOS inventory
 * (inventory.nix) and the console's inventory (k8ops.yaml, read by k8ops's own loader)
 * describe the same nodes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseInventory } from '../../../src/config/load.js';
import { describeWith, NIX_DIR, nixEval } from './helpers.js';

const FLAKE = `
  let
    flake = import ./nix/flake.nix;
    stubLib = import ./test/integration/nix/harness/stub-lib.nix;
    lib = stubLib // {
      genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
      nixosSystem = args: { inherit args; };
    };
    pkgs = import ./test/integration/nix/harness/stub-pkgs.nix;
    nixpkgs = { inherit lib; legacyPackages = { x86_64-linux = pkgs; aarch64-linux = pkgs; }; };
    k8nix = { nixosModules.kubernetesMultiYamlAddons = "k8nix-module"; };
    self = flake.outputs { inherit self nixpkgs k8nix; };
  in`;

describeWith(['nix-instantiate'], 'nix/flake.nix outputs (stand-in inputs)', () => {
  it('declares nixpkgs and k8nix (gitlab:luxzeitlos/k8nix) as inputs', () => {
    const inputs = nixEval<Record<string, { url: string }>>('(import ./nix/flake.nix).inputs');
    expect(inputs.nixpkgs!.url).toMatch(/^github:NixOS\/nixpkgs\/nixos-/);
    expect(inputs.k8nix!.url).toBe('gitlab:luxzeitlos/k8nix');
  });

  it('exposes packages/apps k8ops, the four modules and one nixosConfiguration per example node', () => {
    const out = nixEval<{
      packages: Record<string, string[]>;
      apps: Record<string, string[]>;
      appType: string;
      modules: string[];
      addonsImports: unknown[];
      configurations: string[];
      cp1: { system: string; modules: number; hostName: string };
    }>(`${FLAKE} {
      packages = builtins.mapAttrs (_: builtins.attrNames) self.packages;
      apps = builtins.mapAttrs (_: builtins.attrNames) self.apps;
      appType = self.apps.x86_64-linux.k8ops.type;
      modules = builtins.attrNames self.nixosModules;
      addonsImports = map toString self.nixosModules.addons.imports;
      configurations = builtins.attrNames self.nixosConfigurations;
      cp1 = let a = self.nixosConfigurations.cp-1.args; in {
        inherit (a) system;
        modules = builtins.length a.modules;
        hostName = (builtins.elemAt a.modules 2).networking.hostName;
      };
    }`);
    for (const s of ['x86_64-linux', 'aarch64-linux']) {
      expect(out.packages[s]).toEqual(['default', 'k8ops', 'k8ops-pki']);
      expect(out.apps[s]).toEqual(['default', 'k8ops']);
    }
    expect(out.appType).toBe('app');
    expect(out.modules).toEqual(['addons', 'cluster', 'default', 'networking', 'node-tools']);
    expect(out.addonsImports).toEqual([
      expect.stringMatching(/nix\/modules\/addons\.nix$/),
      'k8nix-module',
    ]);
    expect(out.configurations).toEqual(['cp-1', 'worker-1', 'worker-2']);
    expect(out.cp1).toEqual({ system: 'x86_64-linux', modules: 3, hostName: 'cp-1' });
  });
});

describeWith(
  ['nix-instantiate'],
  'nix/example: the NixOS inventory matches the console inventory',
  () => {
    it('same cluster, nodes, indexes, roles, addresses and signer', () => {
      const nixInv = nixEval<{
        cluster: string;
        signer: string;
        nodes: Record<string, { index: number; roles: string[]; addresses: string[] }>;
      }>('import ./nix/example/inventory.nix');
      const file = join(NIX_DIR, 'example', 'k8ops.yaml');
      const loaded = parseInventory(readFileSync(file, 'utf8'), file);
      if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
      const inv = loaded.inventory;
      expect(inv.cluster).toBe(nixInv.cluster);
      expect(inv.pki.signer).toBe(nixInv.signer);
      expect(
        Object.fromEntries(
          inv.nodes.map((n) => [
            n.name,
            { index: n.index, roles: n.roles, addresses: n.addresses },
          ]),
        ),
      ).toEqual(nixInv.nodes);
      expect(inv.addons.manifest).toBe(join(NIX_DIR, 'addons', 'addons.json'));
    });
  },
);
