# A stand-in for `nixpkgs.lib.nixosSystem` (nixos/lib/eval-config.nix): the stand-in module
# system (../lib/modules.nix) over the modules given, the NixOS modules of this folder (core
# options, kubernetes, etcd, flannel) and `pkgs` (../stub-pkgs.nix) as a module argument.
# The result is an evalModules result (config, options, extendModules); build a node with
# `config.system.build.toplevel`, which checks assertions like NixOS.
{
  modules,
  specialArgs ? { },
  system ? "x86_64-linux",
  lib ? import ../stub-lib.nix,
  pkgs ? import ../stub-pkgs.nix,
  ...
}:
lib.evalModules {
  inherit specialArgs;
  class = "nixos";
  modules = [
    ./base.nix
    ./kubernetes.nix
    ./etcd.nix
    ./flannel.nix
    {
      _file = toString ./eval-config.nix;
      _module.args.pkgs = pkgs;
      _module.args.modulesPath = toString ./.;
    }
  ]
  ++ modules;
}
