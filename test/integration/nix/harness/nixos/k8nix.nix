# k8nix's nixosModules.kubernetesMultiYamlAddons (gitlab:luxzeitlos/k8nix; not readable
# here): declared as nix/modules/addons.nix uses it — `multiYamlAddons.<name>.{name, version,
# src}`, without a default — and, on a node running the addon manager, each `src` handed to
# it as a file (a real build reads every src).
{
  config,
  lib,
  ...
}:
let
  inherit (lib) mkOption types;
  cfg = config.services.kubernetes.addonManager;
in
{
  options.services.kubernetes.addonManager.multiYamlAddons = mkOption {
    type = types.attrsOf (
      types.submodule (
        { name, ... }:
        {
          options = {
            name = mkOption {
              type = types.str;
              default = name;
            };
            version = mkOption { type = types.str; };
            src = mkOption { type = types.path; };
          };
        }
      )
    );
    description = "Multi-document YAML files applied by the addon manager.";
  };

  config = lib.mkIf cfg.enable {
    environment.etc = lib.mapAttrs' (
      n: a: lib.nameValuePair "kubernetes/addons/k8nix-${n}.yaml" { source = a.src; }
    ) cfg.multiYamlAddons;
  };
}
