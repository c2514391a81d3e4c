# k8ops node tools: the PKI scripts of nix/pki/ on every node (k8ops-pki-node-csr,
# k8ops-pki-install, k8ops-pki-status, …, see k8ops-pki-package.nix), the signer's CA
# directory, the hubble CLI (optional), and an opt-in timer that rotates due certificates
# in this node's slot of the rotation schedule (DESIGN.md): offset = index × spread / N,
# computed by nix/lib/rotation.nix from k8ops.cluster.nodes. The timer runs
# scripts/k8ops-rotate-due.sh, which hands the due ids to a hook: scripts/k8ops-rotate-hook.sh
# when `rotation.signer` is set (rotation through the signer over ssh), your own `hook`, or
# none (report only).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    mkEnableOption
    mkIf
    mkMerge
    mkOption
    types
    ;
  cfg = config.k8ops.nodeTools;
  cluster = config.k8ops.cluster;
  layout = builtins.fromJSON (builtins.readFile cluster.layoutFile);
  me = cluster.nodes.${cluster.nodeName} or { index = 0; };

  slot = import ../lib/rotation.nix {
    index = me.index;
    count = lib.max 1 (lib.length (lib.attrNames cluster.nodes));
    spreadSeconds = cfg.rotation.spreadSeconds;
  };
  tools = import ../lib/node-tools.nix {
    pkiPlan = cluster.computed.plan;
    rotation = slot;
    renewBeforeSeconds = cfg.rotation.renewBeforeSeconds;
  };
  planFile = pkgs.writeText "k8ops-rotation-plan.json" (builtins.toJSON tools.rotationPlan);

  rotateDue = pkgs.writeShellApplication {
    name = "k8ops-rotate-due";
    runtimeInputs = with pkgs; [
      jq
      openssl
      coreutils
      util-linux
    ];
    # writeShellApplication supplies the shebang and `set -o errexit nounset pipefail`.
    text = lib.removePrefix "#!/usr/bin/env bash\n" (builtins.readFile ./scripts/k8ops-rotate-due.sh);
  };
  # The default hook (scripts/k8ops-rotate-hook.sh) rotates through the signer.
  defaultHook = pkgs.writeShellApplication {
    name = "k8ops-rotate-hook";
    runtimeInputs = with pkgs; [
      jq
      coreutils
      openssh
    ];
    text = lib.removePrefix "#!/usr/bin/env bash\n" (builtins.readFile ./scripts/k8ops-rotate-hook.sh);
  };
  hook =
    if cfg.rotation.hook != null then
      pkgs.writeShellScript "k8ops-rotate-hook" cfg.rotation.hook
    else if cfg.rotation.signer != null then
      "${defaultHook}/bin/k8ops-rotate-hook"
    else
      null;
  # What node-csr and sign must both be told about this node (the CSR is checked against it).
  nodeEnv = {
    K8OPS_NODE = cluster.nodeName;
    K8OPS_ROLES = lib.concatStringsSep "," (me.roles or [ ]);
    K8OPS_ADDRESSES = lib.concatStringsSep "," (me.addresses or [ ]);
  }
  // lib.optionalAttrs (cluster.apiserverAddress != null) {
    K8OPS_APISERVER_ADDRESS = cluster.apiserverAddress;
  }
  // lib.optionalAttrs (cluster.clusterDomain != null) { K8OPS_CLUSTER_DOMAIN = cluster.clusterDomain; }
  // lib.optionalAttrs (cluster.serviceCIDR != null) { K8OPS_SERVICE_CIDR = cluster.serviceCIDR; }
  // lib.optionalAttrs (cluster.pkiDir != null) { K8OPS_PKI_DIR = cluster.pkiDir; }
  // lib.optionalAttrs (cfg.rotation.signer != null) { K8OPS_SIGNER = cfg.rotation.signer; };

  # The hubble CLI pinned in the addon manifest (x86_64-linux release archive).
  addonCheck = import ../lib/addons.nix {
    manifest = builtins.fromJSON (builtins.readFile (config.k8ops.addons.manifestFile or ../addons/addons.json));
    names = [ "hubble" ];
  };
  hubbleCli =
    (import ../addons/render.nix {
      inherit pkgs lib;
      kubeVersion = config.services.kubernetes.package.version;
    })
      {
        addon = lib.head addonCheck.addons;
        pin = addonCheck.pinOf (lib.head addonCheck.addons);
      };
in
{
  options.k8ops.nodeTools = {
    enable = mkEnableOption "the k8ops PKI scripts on this node (k8ops-pki-*)";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./k8ops-pki-package.nix { layoutFile = cluster.layoutFile; };
      defaultText = lib.literalExpression "pkgs.callPackage nix/modules/k8ops-pki-package.nix { layoutFile = config.k8ops.cluster.layoutFile; }";
      description = "The PKI scripts package.";
    };

    signer = mkOption {
      type = types.bool;
      default = false;
      description = "This host holds the intermediate CA keys and signs: create the layout's caDir (root only, 0700). The root key stays offline.";
    };

    hubble = mkOption {
      type = types.bool;
      default = false;
      description = "Install the hubble CLI pinned in the addon manifest (x86_64-linux; needs its sha256).";
    };

    rotation = {
      enable = mkEnableOption "the timer that rotates this node's due certificates in its slot";

      spreadSeconds = mkOption {
        type = types.ints.unsigned;
        default = 24 * 3600;
        description = "Jitter spread (k8ops.yaml rotation.spread): node i of N is offset i × spread / N.";
      };

      renewBeforeSeconds = mkOption {
        type = types.nullOr types.ints.unsigned;
        default = null;
        description = "Rotate this long before notAfter (null: one third of each certificate's lifetime, k8ops.yaml rotation.renewBefore auto).";
      };

      onCalendar = mkOption {
        type = types.str;
        default = "*:0/15";
        description = "How often the timer looks for due certificates (systemd OnCalendar).";
      };

      signer = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "root@cp-1";
        description = "ssh destination of the signer (the host holding the intermediate CA keys), or \"local\" on the signer itself. With it, the default hook rotates: new key + CSR here, signature there, verified install here, restart of the affected units with rollback if one does not come up. null (and no hook): report only.";
      };

      hook = mkOption {
        type = types.nullOr types.lines;
        default = null;
        example = ''
          # $@: the ids of the due certificates (nix/pki/layout.json); K8OPS_NODE, K8OPS_ROLES,
          # K8OPS_ADDRESSES, K8OPS_APISERVER_ADDRESS … describe this node.
          for id in "$@"; do
            csr=$(k8ops-pki-node-csr --node "$K8OPS_NODE" --roles "$K8OPS_ROLES" \
              --addresses "$K8OPS_ADDRESSES" --apiserver-address "$K8OPS_APISERVER_ADDRESS" --only "$id")
            # … have it signed, then: k8ops-pki-install --node "$K8OPS_NODE" --id "$id" --cert chain.pem
          done
        '';
        description = "Your own rotation, run with the due certificate ids as arguments (k8ops-pki-* and ssh on its PATH, the node's parameters in K8OPS_* variables). Overrides the default hook of `signer`.";
      };
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      environment.systemPackages = [
        cfg.package
        rotateDue
      ];
      # For `k8ops-rotate-due --dry-run` by hand, and for the timer.
      environment.etc."k8ops/rotation-plan.json".source = planFile;
    }

    (mkIf cfg.signer {
      systemd.tmpfiles.rules = [ "d ${layout.caDir} 0700 root root -" ];
    })

    (mkIf cfg.hubble {
      environment.systemPackages = [ hubbleCli.package ];
    })

    (mkIf cfg.rotation.enable {
      assertions = [
        {
          assertion = cluster.enable && cluster.nodes ? ${cluster.nodeName};
          message = "k8ops.nodeTools.rotation needs k8ops.cluster with this node in k8ops.cluster.nodes (its index gives the slot).";
        }
      ];
      systemd.services.k8ops-rotate = {
        description = "k8ops: rotate this node's due certificates (slot offset ${toString slot.offsetSeconds} s)";
        after = [ "network-online.target" ];
        wants = [ "network-online.target" ];
        path = [
          cfg.package
          pkgs.openssh
          config.systemd.package
        ];
        environment =
          nodeEnv
          // {
            K8OPS_ROTATION_PLAN = "${planFile}";
            K8OPS_ROTATE_LOCK = "/run/k8ops-rotate.lock";
          }
          // lib.optionalAttrs (hook != null) { K8OPS_ROTATE_HOOK = "${hook}"; };
        serviceConfig = {
          Type = "oneshot";
          ExecStart = "${rotateDue}/bin/k8ops-rotate-due";
        };
      };
      systemd.timers.k8ops-rotate = {
        description = "k8ops: look for due certificates";
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnCalendar = cfg.rotation.onCalendar;
          Persistent = true;
          AccuracySec = "1min";
        };
      };
    })
  ]);
}
