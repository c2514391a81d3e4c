# k8ops networking module: Cilium (eBPF, kube-proxy replacement, BGP, Hubble) instead of
# kube-proxy and flannel, jumbo frames on the cluster interfaces, the firewall openings of the
# cluster, and the ingress-nginx cache settings. Values come from the pure
# nix/lib/networking.nix; Cilium itself and ingress-nginx are deployed by the addons module,
# which reads `k8ops.networking.computed` for their Helm values and ConfigMap data.
#
# CNI caveats of nixpkgs' kubelet module (reference/pki-nixos.md §1.4) handled here:
#   - it links /etc/cni/net.d to a read-only store path unless kubelet.cni.configDir is set:
#     we point it at a writable directory and tell Cilium to write its config there;
#   - its preStart runs `rm /opt/cni/bin/*` and relinks only cni.packages, so cilium-cni
#     (installed by the Cilium agent's init container) vanishes at every kubelet restart —
#     and certificate rotation restarts the kubelet. A path unit keeps a copy of cilium-cni
#     and the kubelet's preStart puts it back after the wipe.
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
  cfg = config.k8ops.networking;
  cluster = config.k8ops.cluster;
  savedCni = "/var/lib/k8ops/cni/cilium-cni";

  computed = import ../lib/networking.nix {
    roles = (cluster.nodes.${cluster.nodeName} or { roles = [ ]; }).roles;
    apiserverAddress = cluster.apiserverAddress;
    inherit (cluster) apiserverPort;
    clusterName = cluster.name;
    inherit (cfg)
      interfaces
      mtu
      routingMode
      tunnelProtocol
      tunnelPort
      bgp
      hubble
      cniConfDir
      ;
    cniBinDir = "/opt/cni/bin";
    cache = cfg.ingressCache;
  };
  isKubeNode = cluster.computed.roles.kubernetes;
in
{
  options.k8ops.networking = {
    enable = mkEnableOption "Cilium networking, jumbo frames and the cluster firewall (needs k8ops.cluster)";

    interfaces = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [
        "enp1s0"
        "bond0"
      ];
      description = "Cluster-facing interfaces: set to `mtu` here, and Cilium's `devices`.";
    };

    mtu = mkOption {
      type = types.ints.between 68 65535;
      default = 9216;
      description = "MTU of the cluster interfaces and of Cilium's devices (k8ops.yaml network.targetMtu).";
    };

    routingMode = mkOption {
      type = types.enum [
        "tunnel"
        "native"
      ];
      default = "tunnel";
      description = "Cilium routing mode.";
    };

    tunnelProtocol = mkOption {
      type = types.enum [
        "vxlan"
        "geneve"
      ];
      default = "vxlan";
      description = "Cilium tunnel protocol (tunnel routing mode).";
    };

    tunnelPort = mkOption {
      type = types.nullOr types.port;
      default = null;
      description = "Tunnel UDP port (null: 8472 for VXLAN, 6081 for Geneve).";
    };

    bgp = mkOption {
      type = types.bool;
      default = true;
      description = "Cilium BGP control plane (LoadBalancer VIPs); opens TCP 179.";
    };

    hubble = mkOption {
      type = types.bool;
      default = true;
      description = "Hubble with relay and UI; opens TCP 4244 and 4245.";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = true;
      description = "Open the ports of the node's roles: API server, etcd, kubelet, BGP, Hubble, Cilium health, tunnel.";
    };

    cniConfDir = mkOption {
      type = types.str;
      default = "/var/lib/cni/net.d";
      description = "Writable CNI configuration directory (kubelet.cni.configDir, Cilium's cni.confPath).";
    };

    ingressCache = mkOption {
      type = types.submodule {
        options = {
          enable = mkOption {
            type = types.bool;
            default = true;
            description = "Define the proxy cache (http-snippet) and turn proxy buffering on.";
          };
          scope = mkOption {
            type = types.enum [
              "global"
              "http-only"
            ];
            default = "global";
            description = "global: every location caches what its upstream marks cacheable, never requests with Authorization; http-only: define the cache, let Ingresses opt in (needs snippet annotations).";
          };
          zone = mkOption {
            type = types.str;
            default = "ingress_cache";
            description = "keys_zone name (k8ops.yaml ingress.cacheZone).";
          };
          path = mkOption {
            type = types.str;
            default = "/tmp/nginx-cache";
            description = "Cache directory inside the controller container (must be writable by uid 101).";
          };
          keysZoneSize = mkOption {
            type = types.str;
            default = "64m";
            description = "Size of the keys zone.";
          };
          maxSize = mkOption {
            type = types.str;
            default = "2g";
            description = "max_size of the cache.";
          };
          inactive = mkOption {
            type = types.str;
            default = "60m";
            description = "Entries unused this long are removed.";
          };
          validFor = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "10m";
            description = "Also cache 200/301/302 responses without caching headers this long (global scope).";
          };
        };
      };
      default = { };
      description = "ingress-nginx proxy cache (ConfigMap values; the addons module applies them).";
    };

    computed = mkOption {
      type = types.attrs;
      readOnly = true;
      internal = true;
      default = computed;
      description = "Result of nix/lib/networking.nix for this node (Cilium values, ingress-nginx ConfigMap data, ports).";
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      assertions = [
        {
          assertion = cluster.enable;
          message = "k8ops.networking needs k8ops.cluster (roles, API server address).";
        }
      ];

      # Jumbo frames on the cluster interfaces.
      networking.interfaces = computed.interfaces;

      networking.firewall = mkIf cfg.openFirewall {
        inherit (computed.firewall) allowedTCPPorts allowedUDPPorts;
        # Pod replies can arrive on cilium_host/lxc* with asymmetric routes.
        checkReversePath = lib.mkDefault "loose";
      };
    }

    (mkIf isKubeNode {
      # Cilium replaces both (roles turn them on with mkDefault).
      services.kubernetes.flannel.enable = false;
      services.kubernetes.proxy.enable = false;

      # /etc/cni/net.d becomes a link to this writable directory, where Cilium writes.
      services.kubernetes.kubelet.cni.configDir = cfg.cniConfDir;
      systemd.tmpfiles.rules = [
        "d ${cfg.cniConfDir} 0755 root root -"
        "d ${builtins.dirOf savedCni} 0755 root root -"
      ];

      # Keep cilium-cni across the kubelet's `rm /opt/cni/bin/*`.
      systemd.paths.k8ops-cilium-cni-save = {
        description = "Watch cilium-cni in /opt/cni/bin";
        wantedBy = [ "multi-user.target" ];
        pathConfig.PathChanged = "/opt/cni/bin/cilium-cni";
      };
      systemd.services.k8ops-cilium-cni-save = {
        description = "Keep a copy of cilium-cni for kubelet restarts";
        serviceConfig.Type = "oneshot";
        script = ''
          if [ -s /opt/cni/bin/cilium-cni ]; then
            ${pkgs.coreutils}/bin/install -D -m 0755 /opt/cni/bin/cilium-cni ${savedCni}
          fi
        '';
      };
      systemd.services.kubelet.preStart = lib.mkAfter ''
        if [ -x ${savedCni} ] && [ ! -e /opt/cni/bin/cilium-cni ]; then
          echo "k8ops: restoring cilium-cni after the CNI bin dir wipe"
          ${pkgs.coreutils}/bin/install -m 0755 ${savedCni} /opt/cni/bin/cilium-cni
        fi
      '';
    })
  ]);
}
