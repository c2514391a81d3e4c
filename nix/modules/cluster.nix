# k8ops cluster/PKI module: the Kubernetes services of the seed design with easyCerts off
# and every certificate, key and CA path set by hand from nix/pki/layout.json.
#
# All values come from the pure core nix/lib/pki-options.nix (builtins only, evaluated and
# tested without nixpkgs). This module only assigns them:
#   - core.services  at normal priority, one mkIf per component (apiserver, kubelet, …), so a
#                    node gets the certificate options of the components its roles run;
#   - core.settings  with mkOverride 900 (beats nixpkgs' mkDefaults, yields to the operator);
#   - the aggregation-layer flags through apiserver.extraOpts, tmpfiles for the PKI
#     directory, the addon manager's kubeconfig and the RBAC bootstrap that pki.nix would
#     otherwise do.
# Keys never enter the Nix store: only their paths do (the PKI scripts write the files).
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
    mkOverride
    types
    ;
  cfg = config.k8ops.cluster;
  k8s = config.services.kubernetes;

  layout = builtins.fromJSON (builtins.readFile cfg.layoutFile);
  inventory = lib.mapAttrsToList (name: n: {
    inherit name;
    inherit (n) index roles addresses;
  }) cfg.nodes;
  me =
    cfg.nodes.${cfg.nodeName} or {
      index = 0;
      roles = [ ];
      addresses = [ ];
    };

  core = import ../lib/pki-options.nix {
    inherit layout;
    node = {
      name = cfg.nodeName;
      inherit (me) roles addresses;
    };
    cluster = {
      inherit (cfg)
        pkiDir
        clusterDomain
        serviceCIDR
        apiserverAddress
        apiserverPort
        podCIDR
        aggregatorRouting
        addonManagerClusterAdmin
        ;
      nodes = inventory;
    };
  };
  c = core.components;
  # The pure core gives every role every attribute read below (empty where it does not apply):
  # the module system reads a mkIf body's attribute names even when the condition is false.
  ks = core.services.kubernetes;
  # Assigned below with one mkIf each. What remains (easyCerts, pki, caFile, the API server
  # URLs, flannel.enable, and proxy: `enable` everywhere, its kubeconfig only where the layout
  # enables kube-proxy's certificate) is assigned as one block.
  componentKeys = [
    "apiserver"
    "controllerManager"
    "scheduler"
    "kubelet"
  ];
  override900 = lib.mapAttrsRecursive (_: v: mkOverride 900 v);

  kubeconfigFile = name: doc: pkgs.writeText "k8ops-${name}.kubeconfig" (builtins.toJSON doc);
  addonManagerKubeconfig = kubeconfigFile "addon-manager" core.kubeconfigs.addonManager;
  clusterAdminKubeconfig = kubeconfigFile "cluster-admin" core.kubeconfigs.clusterAdmin;

  # What pki.nix did in the addon manager's preStart: apply every bootstrap addon (ours and
  # the ones nixpkgs modules declare) with cluster-admin rights, once per start. The `+`
  # prefix runs it as root: the cluster-admin key is root's, mode 0600.
  bootstrapFiles = lib.mapAttrsToList (
    n: v: pkgs.writeText "k8ops-bootstrap-${n}.json" (builtins.toJSON v)
  ) k8s.addonManager.bootstrapAddons;
  bootstrapScript = pkgs.writeShellScript "k8ops-addon-bootstrap" ''
    set -euo pipefail
    export KUBECONFIG=${clusterAdminKubeconfig}
    kubectl=${k8s.package}/bin/kubectl
    tries=0
    until "$kubectl" get --raw=/readyz >/dev/null 2>&1; do
      tries=$((tries + 1))
      if [ "$tries" -ge 90 ]; then
        echo "k8ops: the API server at ${core.apiserverURL} is not ready after 180 s" >&2
        exit 1
      fi
      ${pkgs.coreutils}/bin/sleep 2
    done
    ${lib.optionalString (bootstrapFiles != [ ]) ''
      "$kubectl" apply ${lib.concatMapStringsSep " " (f: "-f ${f}") bootstrapFiles}
    ''}
    ${lib.concatMapStrings (f: ''
      "$kubectl" apply --server-side --force-conflicts --field-manager=k8ops-bootstrap -f ${f}
    '') cfg.bootstrap.serverSideApply}
  '';

  # Units the layout names → whether this node runs them (only those get AssertPathExists).
  unitEnabled = {
    "kube-apiserver.service" = k8s.apiserver.enable;
    "kube-controller-manager.service" = k8s.controllerManager.enable;
    "kube-scheduler.service" = k8s.scheduler.enable;
    "kube-addon-manager.service" = k8s.addonManager.enable;
    "kubelet.service" = k8s.kubelet.enable;
    "kube-proxy.service" = k8s.proxy.enable;
    "flannel.service" = config.services.flannel.enable or false;
    "etcd.service" = config.services.etcd.enable;
  };

  # Components a role makes meaningless: enabled here (by hand, or through
  # services.kubernetes.roles) while the node's k8ops roles give it no certificates for them.
  rolesText = if me.roles == [ ] then "no roles" else "roles ${lib.concatStringsSep ", " me.roles}";
  misplaced = [
    {
      on = k8s.apiserver.enable && !c.apiserver;
      option = "services.kubernetes.apiserver.enable";
      what = "the API server";
      needs = "the control-plane role";
    }
    {
      on = k8s.controllerManager.enable && !c.controllerManager;
      option = "services.kubernetes.controllerManager.enable";
      what = "the controller manager";
      needs = "the control-plane role";
    }
    {
      on = k8s.scheduler.enable && !c.scheduler;
      option = "services.kubernetes.scheduler.enable";
      what = "the scheduler";
      needs = "the control-plane role";
    }
    {
      on = k8s.addonManager.enable && !c.addonManager;
      option = "services.kubernetes.addonManager.enable";
      what = "the addon manager";
      needs = "the control-plane role";
    }
    {
      on = k8s.kubelet.enable && !c.kubelet;
      option = "services.kubernetes.kubelet.enable";
      what = "the kubelet";
      needs = "the worker or the control-plane role";
    }
    {
      on = config.services.etcd.enable && !c.etcd;
      option = "services.etcd.enable";
      what = "etcd";
      needs = "the etcd role";
    }
  ];
  # (Only for a node of the inventory: an unknown node has its own assertion.)
  misplacedAssertions = map (m: {
    assertion = !(cfg.nodes ? ${cfg.nodeName}) || !m.on;
    message = "k8ops.cluster: node \"${cfg.nodeName}\" has ${rolesText}, so ${m.option} = true is meaningless here: ${m.what} needs ${m.needs}, and nix/pki/layout.json gives this node no certificate for it. Add the role to k8ops.cluster.nodes.${cfg.nodeName}.roles, or leave ${m.option} (and services.kubernetes.roles) alone.";
  }) misplaced;

  nodeType = types.submodule {
    options = {
      index = mkOption {
        type = types.ints.unsigned;
        description = "Inventory index (0-based, unique): node i of N rotates at slot i × spread / N.";
      };
      roles = mkOption {
        type = types.listOf (
          types.enum [
            "control-plane"
            "worker"
            "etcd"
          ]
        );
        description = "Roles of the node, as in k8ops.yaml and nix/pki/layout.json.";
      };
      addresses = mkOption {
        type = types.listOf types.str;
        default = [ ];
        description = "IP addresses of the node (the first is its node IP and etcd endpoint); SANs of its certificates.";
      };
    };
  };
in
{
  options.k8ops.cluster = {
    enable = mkEnableOption "the k8ops Kubernetes cluster with the hand-run PKI of nix/pki/layout.json";

    name = mkOption {
      type = types.str;
      default = "k8ops";
      description = "Cluster name (k8ops.yaml `cluster`; also Cilium's cluster name).";
    };

    nodeName = mkOption {
      type = types.str;
      default = config.networking.hostName;
      defaultText = lib.literalExpression "config.networking.hostName";
      description = "This node's name in `nodes`; also its kubelet name (the kubelet client CN is system:node:<name>).";
    };

    nodes = mkOption {
      type = types.attrsOf nodeType;
      default = { };
      example = lib.literalExpression ''
        {
          cp-1 = { index = 0; roles = [ "control-plane" "etcd" ]; addresses = [ "10.77.0.11" ]; };
          worker-1 = { index = 1; roles = [ "worker" ]; addresses = [ "10.77.0.21" ]; };
        }
      '';
      description = "Every node of the cluster (the same inventory on every node): etcd members, rotation slots.";
    };

    layoutFile = mkOption {
      type = types.path;
      default = ../pki/layout.json;
      defaultText = lib.literalExpression "nix/pki/layout.json";
      description = "The PKI layout: the single source of truth for every certificate path, owner and unit.";
    };

    pkiDir = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "Directory holding certificates and keys on the node (null: the layout's pkiDir, /etc/kubernetes/pki).";
    };

    apiserverAddress = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "10.77.0.10";
      description = "Host name or IP of the API server (a VIP or a control-plane node): masterAddress, the kubeconfig servers, and a SAN of kube-apiserver.";
    };

    apiserverPort = mkOption {
      type = types.port;
      default = 6443;
      description = "API server secure port.";
    };

    serviceCIDR = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "Service cluster IP range (null: the layout default, 10.96.0.0/12). Its first address is a SAN of kube-apiserver.";
    };

    clusterDomain = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "Cluster DNS domain (null: the layout default, cluster.local).";
    };

    podCIDR = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "10.244.0.0/16";
      description = "Pod CIDR for the controller manager (null: nixpkgs' services.kubernetes.clusterCidr default).";
    };

    aggregatorRouting = mkOption {
      type = types.bool;
      default = true;
      description = "Pass --enable-aggregator-routing=true (no kube-proxy runs on the API server hosts).";
    };

    addonManagerClusterAdmin = mkOption {
      type = types.bool;
      default = true;
      description = "Bind the addon manager's user to cluster-admin (the addons create CRDs, ClusterRoles and namespaces).";
    };

    assertCertFiles = mkOption {
      type = types.bool;
      default = true;
      description = "Give each Kubernetes/etcd unit AssertPathExists= for its certificate and key, so a node without its PKI fails visibly instead of crash-looping.";
    };

    bootstrap.serverSideApply = mkOption {
      type = types.listOf types.path;
      default = [ ];
      internal = true;
      description = "Manifests applied with `kubectl apply --server-side` at addon-manager start (CRDs too large for client-side apply; filled by the addons module).";
    };

    computed = mkOption {
      type = types.attrs;
      readOnly = true;
      internal = true;
      default = core;
      description = "The pure core's result for this node (nix/lib/pki-options.nix).";
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      assertions = [
        {
          assertion = cfg.nodes ? ${cfg.nodeName};
          message = "k8ops.cluster.nodes has no node \"${cfg.nodeName}\" (k8ops.cluster.nodeName); declared: ${lib.concatStringsSep ", " (lib.attrNames cfg.nodes)}.";
        }
        {
          assertion =
            let
              idx = map (n: n.index) inventory;
            in
            lib.sort (a: b: a < b) idx == lib.genList (i: i) (lib.length idx);
          message = "k8ops.cluster.nodes: indexes must be 0 … N-1, each once (node i of N rotates at slot i × spread / N).";
        }
        {
          assertion = !(core.roles.kubernetes) || cfg.apiserverAddress != null;
          message = "k8ops.cluster.apiserverAddress must be set: it is the kubeconfig server of every component and a SAN of kube-apiserver.";
        }
        {
          assertion = lib.all (n: n.roles == [ ] || n.addresses != [ ]) inventory;
          message = "k8ops.cluster.nodes: every node needs at least one address (node IP, etcd endpoint, certificate SANs).";
        }
      ]
      ++ misplacedAssertions;

      # pki.nix is what created the keys' directory before; keys are written by the PKI scripts.
      systemd.tmpfiles.rules = core.tmpfiles;
    }

    # ---- certificate options: core.services, verbatim, per component -----------------------
    {
      services.kubernetes = removeAttrs ks componentKeys;
    }
    (mkIf c.apiserver {
      services.kubernetes.apiserver = ks.apiserver;
    })
    (mkIf c.controllerManager {
      services.kubernetes.controllerManager = ks.controllerManager;
    })
    (mkIf c.scheduler {
      services.kubernetes.scheduler = ks.scheduler;
    })
    (mkIf c.kubelet {
      services.kubernetes.kubelet = ks.kubelet;
    })
    (mkIf c.etcd {
      services.etcd = core.services.etcd;
    })

    # ---- non-certificate values: overridable --------------------------------------------------
    {
      services.kubernetes = override900 core.settings.kubernetes;
      services.etcd = override900 core.settings.etcd;
    }

    # etcd follows the layout's etcd role, not the `master` role (which forces it on).
    (mkIf c.etcd { services.etcd.enable = true; })
    (mkIf (core.roles.controlPlane && !c.etcd) { services.etcd.enable = lib.mkForce false; })

    # ---- aggregation layer (no module options for these) ------------------------------------
    (mkIf c.apiserver {
      services.kubernetes.apiserver.extraOpts = lib.concatStringsSep " " core.apiserverExtraOpts;
    })

    # ---- flannel, if the layout enables its client certificate --------------------------------
    (mkIf c.flannel {
      services.flannel.kubeconfig = kubeconfigFile "flannel" core.kubeconfigs.flannel;
    })

    # ---- addon manager: credentials and the RBAC bootstrap ---------------------------------
    (mkIf c.addonManager {
      services.kubernetes.addonManager.bootstrapAddons = core.bootstrapAddons;
      systemd.services.kube-addon-manager = {
        # There is no addonManager.kubeconfig option; pki.nix set this variable before.
        environment.KUBECONFIG = "${addonManagerKubeconfig}";
        serviceConfig.ExecStartPre = [ "+${bootstrapScript}" ];
      };
      # Paths only: the key stays root's (0600) in the PKI directory.
      environment.etc."kubernetes/cluster-admin.kubeconfig".source = clusterAdminKubeconfig;
      environment.systemPackages = [ k8s.package ];
    })

    # ---- a node without its certificates fails visibly --------------------------------------
    (mkIf cfg.assertCertFiles {
      systemd.services = mkMerge (
        lib.mapAttrsToList (
          unit: files:
          mkIf (unitEnabled.${unit} or false) {
            ${lib.removeSuffix ".service" unit}.unitConfig.AssertPathExists = files;
          }
        ) core.unitFiles
      );
    })
  ]);
}
