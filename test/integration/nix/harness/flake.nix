# nix/flake.nix's outputs with stand-in inputs: nixpkgs = this folder's lib, pkgs and
# nixosSystem (./nixos/eval-config.nix), k8nix = ./nixos/k8nix.nix. A user's configuration
# is then `(import ./flake.nix).lib.nixosSystem { modules = [ outputs.nixosModules.default … ]; }`.
let
  flake = import ../../../../nix/flake.nix;
  stubLib = import ./stub-lib.nix;
  pkgs = import ./stub-pkgs.nix;
  lib = stubLib // {
    genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    nixosSystem = args: import ./nixos/eval-config.nix (args // { lib = stubLib; inherit pkgs; });
  };
  nixpkgs = {
    inherit lib;
    legacyPackages = {
      x86_64-linux = pkgs;
      aarch64-linux = pkgs;
    };
  };
  k8nix.nixosModules.kubernetesMultiYamlAddons = ./nixos/k8nix.nix;
  outputs = flake.outputs { inherit self nixpkgs k8nix; };
  self = outputs;
in
{
  inherit outputs lib pkgs;
}
