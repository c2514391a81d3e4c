# nixpkgs' services.etcd (nixos/modules/services/misc/etcd.nix): every option with its name,
# type and default; when enabled, the unit's ETCD_* environment reads the TLS options (the
# peer ones default to the client ones), as the real module does.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  cfg = config.services.etcd;
  opt = type: default: mkOption { inherit type default; };
  nullPath = opt (types.nullOr types.path) null;
  urls = opt (types.listOf types.str);
in
{
  options.services.etcd = {
    enable = opt types.bool false;
    package = opt types.package pkgs.etcd;
    name = opt types.str config.networking.hostName;
    advertiseClientUrls = urls cfg.listenClientUrls;
    listenClientUrls = urls [ "http://127.0.0.1:2379" ];
    listenPeerUrls = urls [ "http://127.0.0.1:2380" ];
    initialAdvertisePeerUrls = urls cfg.listenPeerUrls;
    initialCluster = urls [ "${cfg.name}=http://127.0.0.1:2380" ];
    initialClusterState = opt (types.enum [
      "new"
      "existing"
    ]) "new";
    initialClusterToken = opt types.str "etcd-cluster";
    discovery = opt types.str "";
    clientCertAuth = opt types.bool false;
    trustedCaFile = nullPath;
    certFile = nullPath;
    keyFile = nullPath;
    peerCertFile = opt (types.nullOr types.path) cfg.certFile;
    peerKeyFile = opt (types.nullOr types.path) cfg.keyFile;
    peerTrustedCaFile = opt (types.nullOr types.path) cfg.trustedCaFile;
    peerClientCertAuth = opt types.bool false;
    extraConf = opt (types.attrsOf types.str) { };
    dataDir = opt types.path "/var/lib/etcd";
    openFirewall = opt types.bool false;
  };

  config = lib.mkIf cfg.enable {
    systemd.tmpfiles.rules = [ "d '${cfg.dataDir}' 0700 etcd - - -" ];
    systemd.services.etcd = {
      description = "etcd key-value store";
      wantedBy = [ "multi-user.target" ];
      environment =
        lib.filterAttrs (_: v: v != null) {
          ETCD_NAME = cfg.name;
          ETCD_DISCOVERY = cfg.discovery;
          ETCD_DATA_DIR = cfg.dataDir;
          ETCD_ADVERTISE_CLIENT_URLS = lib.concatStringsSep "," cfg.advertiseClientUrls;
          ETCD_LISTEN_CLIENT_URLS = lib.concatStringsSep "," cfg.listenClientUrls;
          ETCD_LISTEN_PEER_URLS = lib.concatStringsSep "," cfg.listenPeerUrls;
          ETCD_INITIAL_ADVERTISE_PEER_URLS = lib.concatStringsSep "," cfg.initialAdvertisePeerUrls;
          ETCD_PEER_TRUSTED_CA_FILE = cfg.peerTrustedCaFile;
          ETCD_PEER_CERT_FILE = cfg.peerCertFile;
          ETCD_PEER_KEY_FILE = cfg.peerKeyFile;
          ETCD_CLIENT_CERT_AUTH = lib.boolToString cfg.clientCertAuth;
          ETCD_PEER_CLIENT_CERT_AUTH = lib.boolToString cfg.peerClientCertAuth;
          ETCD_TRUSTED_CA_FILE = cfg.trustedCaFile;
          ETCD_CERT_FILE = cfg.certFile;
          ETCD_KEY_FILE = cfg.keyFile;
        }
        // lib.optionalAttrs (cfg.discovery == "") {
          ETCD_INITIAL_CLUSTER = lib.concatStringsSep "," cfg.initialCluster;
          ETCD_INITIAL_CLUSTER_STATE = cfg.initialClusterState;
          ETCD_INITIAL_CLUSTER_TOKEN = cfg.initialClusterToken;
        }
        // lib.mapAttrs' (n: v: lib.nameValuePair "ETCD_${n}" v) cfg.extraConf;
      serviceConfig = {
        Type = "notify";
        ExecStart = "${cfg.package}/bin/etcd";
        User = "etcd";
      };
    };
    environment.systemPackages = [ cfg.package ];
    users.users.etcd = {
      isSystemUser = true;
      group = "etcd";
      home = cfg.dataDir;
    };
    users.groups.etcd = { };
  };
}
