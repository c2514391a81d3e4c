{
  # Used as a flake in a subdirectory: `nix run 'github:OWNER/k8ops?dir=nix'`, or for a
  # checkout `nix build ./nix#k8ops` / `nix run 'git+file:.?dir=nix'`. The whole repository
  # is the flake's source, so ../package.json etc. are inside it.
  description = "k8ops: terminal ops console and NixOS modules for a Kubernetes cluster with a hand-run ECDSA P-521 PKI, Cilium and ingress-nginx";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
    k8nix = {
      url = "gitlab:luxzeitlos/k8nix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    {
      self,
      nixpkgs,
      k8nix,
      ...
    }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f system nixpkgs.legacyPackages.${system});

      modules = {
        cluster = ./modules/cluster.nix;
        networking = ./modules/networking.nix;
        # k8nix provides services.kubernetes.addonManager.multiYamlAddons.
        addons = {
          imports = [
            ./modules/addons.nix
            k8nix.nixosModules.kubernetesMultiYamlAddons
          ];
        };
        node-tools = ./modules/node-tools.nix;
      };
    in
    {
      packages = forAllSystems (
        _system: pkgs: rec {
          k8ops = pkgs.callPackage ./package.nix { };
          k8ops-pki = pkgs.callPackage ./modules/k8ops-pki-package.nix { };
          default = k8ops;
        }
      );

      apps = forAllSystems (
        system: _pkgs: rec {
          k8ops = {
            type = "app";
            program = lib.getExe self.packages.${system}.k8ops;
          };
          default = k8ops;
        }
      );

      nixosModules = modules // {
        default.imports = builtins.attrValues modules;
      };

      # The example 3-node lab of nix/example/ (copy it: inventory.nix + one file per node).
      nixosConfigurations = import ./example {
        inherit nixpkgs;
        nixosModules = self.nixosModules;
      };

      # The pure core, for tools and tests: (layout, node, cluster) → option values.
      lib = {
        pkiOptions = import ./lib/pki-options.nix;
        rotationSlot = import ./lib/rotation.nix;
        checkAddons = import ./lib/addons.nix;
      };
    };
}
