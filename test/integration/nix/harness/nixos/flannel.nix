# nixpkgs' services.flannel (nixos/modules/services/networking/flannel.nix): the options the
# kubernetes modules and k8ops set (kubeconfig, etcd TLS, storage backend, network, node
# name), and a unit reading them when enabled.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  cfg = config.services.flannel;
  opt = type: default: mkOption { inherit type default; };
  nullPath = opt (types.nullOr types.path) null;
in
{
  options.services.flannel = {
    enable = opt types.bool false;
    package = opt types.package pkgs.flannel;
    publicIp = opt (types.nullOr types.str) null;
    iface = opt (types.nullOr types.str) null;
    etcd = {
      endpoints = opt (types.listOf types.str) [ "http://127.0.0.1:2379" ];
      keyFile = nullPath;
      certFile = nullPath;
      caFile = nullPath;
    };
    kubeconfig = nullPath;
    nodeName = opt (types.nullOr types.str) null;
    storageBackend = opt (types.enum [
      "etcd"
      "kubernetes"
    ]) "etcd";
    network = mkOption { type = types.str; };
    subnetLen = opt types.int 24;
    backend = opt types.attrs { Type = "vxlan"; };
  };

  config = lib.mkIf cfg.enable {
    systemd.services.flannel = {
      description = "Flannel Service";
      wantedBy = [ "multi-user.target" ];
      environment = lib.filterAttrs (_: v: v != null) {
        FLANNELD_PUBLIC_IP = cfg.publicIp;
        FLANNELD_IFACE = cfg.iface;
        FLANNELD_KUBECONFIG_FILE = cfg.kubeconfig;
        NODE_NAME = cfg.nodeName;
        FLANNELD_KUBE_SUBNET_MGR = lib.boolToString (cfg.storageBackend == "kubernetes");
        FLANNELD_ETCD_ENDPOINTS = lib.concatStringsSep "," cfg.etcd.endpoints;
        FLANNELD_ETCD_KEYFILE = cfg.etcd.keyFile;
        FLANNELD_ETCD_CERTFILE = cfg.etcd.certFile;
        FLANNELD_ETCD_CAFILE = cfg.etcd.caFile;
        NETWORK = builtins.toJSON {
          Network = cfg.network;
          SubnetLen = cfg.subnetLen;
          Backend = cfg.backend;
        };
      };
      serviceConfig.ExecStart = "${cfg.package}/bin/flannel";
    };
  };
}
