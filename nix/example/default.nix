# One nixosConfiguration per node of ./inventory.nix:
#   nixos-rebuild switch --flake ./nix#cp-1 --target-host root@10.77.0.11
{ nixpkgs, nixosModules }:
let
  inventory = import ./inventory.nix;
  mkNode =
    name: node:
    nixpkgs.lib.nixosSystem {
      system = "x86_64-linux";
      modules = [
        nixosModules.default
        ./common.nix
        {
          networking.hostName = name;
          k8ops.cluster.nodeName = name;
          k8ops.nodeTools.signer = name == inventory.signer;
          networking.interfaces.enp1s0.ipv4.addresses = [
            {
              address = builtins.head node.addresses;
              prefixLength = 24;
            }
          ];
        }
      ];
      specialArgs = { inherit inventory; };
    };
in
builtins.mapAttrs mkNode inventory.nodes
