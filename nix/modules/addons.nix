# k8ops addons module: the addons of the design, declared once in nix/addons/addons.json
# (name, version, format, url, sha256) and fed to k8nix's
# services.kubernetes.addonManager.multiYamlAddons (import k8nix's
# nixosModules.kubernetesMultiYamlAddons too; the flake's nixosModules.addons does).
#
# An empty or malformed pin fails evaluation with the message of nix/lib/addons.nix
# ("… Run the addon sync …"): as an assertion, and as the `src` of every addon, so no path
# builds from an unpinned download.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    mkIf
    mkMerge
    mkOption
    types
    ;
  cfg = config.k8ops.addons;
  cluster = config.k8ops.cluster;
  networking = config.k8ops.networking;

  manifest = builtins.fromJSON (builtins.readFile cfg.manifestFile);
  deployable = map (a: a.name) (lib.filter (a: (a.format or "") != "cli") (manifest.addons or [ ]));
  selected = if cfg.names != null then cfg.names else deployable;

  check = import ../lib/addons.nix {
    inherit manifest;
    names = selected;
    manifestPath = toString cfg.manifestFile;
  };

  render = import ../addons/render.nix {
    inherit pkgs lib;
    kubeVersion = cfg.kubeVersion;
  };

  # Cluster-specific values: Cilium from the networking module (API server, MTU, devices,
  # tunnel, BGP, Hubble), the ingress-nginx ConfigMap (cache, log format).
  computedValues =
    lib.optionalAttrs networking.enable { cilium = networking.computed.ciliumValues; };
  computedConfigMaps = lib.optionalAttrs networking.enable {
    ingress-nginx = networking.computed.ingressNginxConfig;
  };

  rendered = lib.listToAttrs (
    map (
      a:
      lib.nameValuePair a.name (render {
        addon = a;
        pin = check.pinOf a;
        values = lib.recursiveUpdate (lib.recursiveUpdate (a.values or { }) (
          computedValues.${a.name} or { }
        )) (cfg.values.${a.name} or { });
        configMapData = (computedConfigMaps.${a.name} or { }) // (cfg.configMapData.${a.name} or { });
      })
    ) (lib.filter (a: (a.format or "") != "cli") check.addons)
  );
in
{
  options.k8ops.addons = {
    enable = mkOption {
      type = types.bool;
      default = cluster.enable && cluster.computed.components.addonManager;
      defaultText = lib.literalMD "on control-plane nodes of `k8ops.cluster` (where the addon manager runs)";
      description = "Deploy the addons of nix/addons/addons.json through the addon manager.";
    };

    manifestFile = mkOption {
      type = types.path;
      default = ../addons/addons.json;
      defaultText = lib.literalExpression "nix/addons/addons.json";
      description = "The addon manifest (k8ops addon sync updates its pins).";
    };

    names = mkOption {
      type = types.nullOr (types.listOf types.str);
      default = null;
      example = [
        "cert-manager"
        "cilium"
        "ingress-nginx"
      ];
      description = "Addons to deploy (null: every addon of the manifest whose format is not `cli`).";
    };

    values = mkOption {
      type = types.attrsOf types.attrs;
      default = { };
      example = lib.literalExpression ''{ cilium.operator.replicas = 2; }'';
      description = "Extra Helm values per addon, merged over the manifest's and the computed ones.";
    };

    configMapData = mkOption {
      type = types.attrsOf (types.attrsOf types.str);
      default = { };
      description = "Extra data for the addon's `configMap` (ingress-nginx-controller), merged over the computed cache settings.";
    };

    kubeVersion = mkOption {
      type = types.str;
      default = config.services.kubernetes.package.version;
      defaultText = lib.literalExpression "config.services.kubernetes.package.version";
      description = "Kubernetes version Helm charts are rendered for.";
    };

    rendered = mkOption {
      type = types.attrs;
      readOnly = true;
      internal = true;
      default = rendered;
      description = "Rendered manifest paths per addon.";
    };
  };

  config = mkMerge [
    # k8nix's option has no default: always give it a definition.
    { services.kubernetes.addonManager.multiYamlAddons = { }; }

    (mkIf cfg.enable {
      # Unpinned or malformed entries, and names not in the manifest.
      assertions = [
        {
          # The addon manager applies the addons; it runs on control-plane nodes only.
          assertion = !cluster.enable || cluster.computed.components.addonManager;
          message = "k8ops.addons.enable = true is meaningless on node \"${cluster.nodeName}\": the addons are applied by the addon manager, which runs on control-plane nodes only (its roles: ${lib.concatStringsSep ", " ((cluster.nodes.${cluster.nodeName} or { roles = [ ]; }).roles)}). Leave k8ops.addons.enable at its default.";
        }
        {
          assertion = check.ok;
          inherit (check) message;
        }
      ];

      services.kubernetes.addonManager.multiYamlAddons = lib.mapAttrs (
        name: r:
        let
          a = lib.findFirst (x: x.name == name) null check.addons;
        in
        {
          inherit name;
          inherit (a) version;
          src = r.manifest;
        }
      ) rendered;

      # CRDs that client-side apply cannot hold go in server-side at addon-manager start.
      k8ops.cluster.bootstrap.serverSideApply = lib.filter (p: p != null) (
        lib.mapAttrsToList (_: r: r.crds) rendered
      );
    })
  ];
}
