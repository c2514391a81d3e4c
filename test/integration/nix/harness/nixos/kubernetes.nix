# nixpkgs' services.kubernetes modules (nixos/modules/services/cluster/kubernetes/
# default.nix, apiserver.nix, controller-manager.nix, scheduler.nix, kubelet.nix, proxy.nix,
# flannel.nix, addon-manager.nix, addons/dns.nix, pki.nix; the commits of
# shared/reference/pki-nixos.md, kubelet as in nixos-25.05), reduced to what matters here:
#   - every option with its nixpkgs name, type and default (options without a default in
#     nixpkgs have none here either: apiserverAddress, masterAddress, kubelet.hostname,
#     apiserver.serviceAccountKeyFile / serviceAccountSigningKeyFile, kubeconfig servers);
#   - the `roles` logic (master → apiserver, scheduler, controller manager, addon manager,
#     proxy and kubelet with mkDefault, services.etcd.enable = true at normal priority;
#     node → kubelet, proxy; any role → flannel and easyCerts with mkDefault);
#   - for each enabled component, a unit whose command line reads every option nixpkgs puts
#     on it (so an option that is unset, null where a path is needed, or of the wrong type
#     fails here as it would at build time), the kubeconfig files (mkKubeConfig), the
#     KubeletConfiguration file, the CNI config link, and the mkDefault values nixpkgs sets
#     (kubeconfig servers, etcd URLs, kubelet hostname, cluster DNS);
#   - pki.nix (easyCerts): options only — k8ops turns it off; its config is not modelled.
# The command lines are this stand-in's own rendering, not nixpkgs' text.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    mkDefault
    mkIf
    mkMerge
    mkOption
    types
    ;
  top = config.services.kubernetes;
  opt = type: default: mkOption { inherit type default; };
  noDefault = type: mkOption { inherit type; };
  enable = opt types.bool false;
  extraOpts = opt (types.separatedString " ") "";
  verbosity = opt (types.nullOr types.int) null;
  nullPath = opt (types.nullOr types.path) null;
  caDefault = opt (types.nullOr types.path) top.caFile;

  mkKubeConfigOptions = {
    server = noDefault types.str;
    caFile = caDefault;
    certFile = nullPath;
    keyFile = nullPath;
  };
  mkKubeConfig =
    name: conf:
    pkgs.writeText "${name}-kubeconfig" (
      builtins.toJSON {
        apiVersion = "v1";
        kind = "Config";
        clusters = [
          {
            name = "local";
            cluster.certificate-authority = conf.caFile or top.caFile;
            cluster.server = conf.server;
          }
        ];
        users = [
          {
            inherit name;
            user = {
              client-certificate = conf.certFile;
              client-key = conf.keyFile;
            };
          }
        ];
        contexts = [
          {
            name = "local";
            context = {
              cluster = "local";
              user = name;
            };
          }
        ];
        current-context = "local";
      }
    );

  # "--name=value" when value is not null; a path or string value is interpolated, so it must
  # be one (an unset option throws here, as nixpkgs' ExecStart does).
  flag = name: v: lib.optionalString (v != null) "--${name}=${if builtins.isBool v then lib.boolToString v else toString v}";
  cmd = bin: flags: lib.concatStringsSep " " ([ "${top.package}/bin/${bin}" ] ++ builtins.filter (f: f != "") flags);
  featureGates = fg: lib.concatStringsSep "," (lib.mapAttrsToList (n: v: "${n}=${lib.boolToString v}") fg);

  a = top.apiserver;
  cm = top.controllerManager;
  sch = top.scheduler;
  kl = top.kubelet;
  px = top.proxy;
  am = top.addonManager;
  dns = top.addons.dns;
  isRBAC = lib.elem "RBAC" a.authorizationMode;
  etcdEndpoints = [ "https://${top.masterAddress}:2379" ];
  anyComponent = a.enable || sch.enable || cm.enable || kl.enable || px.enable || am.enable;

  cniConfig =
    if kl.cni.config != [ ] && kl.cni.configDir != null then
      throw "Verbatim CNI-config and CNI configDir cannot both be set."
    else if kl.cni.configDir != null then
      kl.cni.configDir
    else
      pkgs.buildEnv {
        name = "kubernetes-cni-config";
        paths = lib.genList (
          i: pkgs.writeTextDir "${toString (10 + i)}-cni.conf" (builtins.toJSON (builtins.elemAt kl.cni.config i))
        ) (builtins.length kl.cni.config);
      };
  kubeletConfig = pkgs.writeText "kubelet-config" (
    builtins.toJSON (
      {
        apiVersion = "kubelet.config.k8s.io/v1beta1";
        kind = "KubeletConfiguration";
        address = kl.address;
        port = kl.port;
        authentication.x509.clientCAFile = kl.clientCaFile;
        authentication.webhook.enabled = true;
        authorization.mode = "Webhook";
        clusterDNS = kl.clusterDns;
        clusterDomain = kl.clusterDomain;
        healthzBindAddress = kl.healthz.bind;
        healthzPort = kl.healthz.port;
        registerNode = kl.registerNode;
        cgroupDriver = "systemd";
        containerRuntimeEndpoint = kl.containerRuntimeEndpoint;
      }
      // lib.optionalAttrs (kl.tlsCertFile != null) { tlsCertFile = kl.tlsCertFile; }
      // lib.optionalAttrs (kl.tlsKeyFile != null) { tlsPrivateKeyFile = kl.tlsKeyFile; }
      // kl.extraConfig
    )
  );
  taints = lib.concatStringsSep "," (lib.mapAttrsToList (_: t: "${t.key}=${t.value}:${t.effect}") kl.taints);
  taintType = types.submodule (
    { name, ... }:
    {
      options = {
        key = opt types.str name;
        value = noDefault types.str;
        effect = noDefault (
          types.enum [
            "NoSchedule"
            "PreferNoSchedule"
            "NoExecute"
          ]
        );
      };
    }
  );
  unit = description: execStart: extra: {
    inherit description;
    wantedBy = [ "kubernetes.target" ];
    serviceConfig = {
      ExecStart = execStart;
      WorkingDirectory = top.dataDir;
      Restart = "on-failure";
    } // extra;
  };
in
{
  options.services.kubernetes = {
    roles = opt (types.listOf (
      types.enum [
        "master"
        "node"
      ]
    )) [ ];
    package = opt types.package pkgs.kubernetes;
    kubeconfig = mkKubeConfigOptions;
    apiserverAddress = noDefault types.str;
    caFile = nullPath;
    dataDir = opt types.path "/var/lib/kubernetes";
    easyCerts = opt types.bool false;
    featureGates = opt (types.attrsOf types.bool) { };
    masterAddress = noDefault types.str;
    path = opt (types.listOf types.package) [ ];
    clusterCidr = opt (types.nullOr types.str) "10.1.0.0/16";
    lib = opt types.attrs { inherit mkKubeConfig mkKubeConfigOptions; };
    secretsPath = opt types.path (top.dataDir + "/secrets");

    apiserver = {
      advertiseAddress = opt (types.nullOr types.str) null;
      allowPrivileged = opt types.bool false;
      authorizationMode = opt (types.listOf (
        types.enum [
          "AlwaysAllow"
          "AlwaysDeny"
          "ABAC"
          "Webhook"
          "RBAC"
          "Node"
        ]
      )) [
        "RBAC"
        "Node"
      ];
      authorizationPolicy = opt (types.listOf types.attrs) [ ];
      basicAuthFile = nullPath;
      bindAddress = opt types.str "0.0.0.0";
      clientCaFile = caDefault;
      disableAdmissionPlugins = opt (types.listOf types.str) [ ];
      inherit enable;
      enableAdmissionPlugins = opt (types.listOf types.str) [
        "NamespaceLifecycle"
        "LimitRanger"
        "ServiceAccount"
        "ResourceQuota"
        "DefaultStorageClass"
        "DefaultTolerationSeconds"
        "NodeRestriction"
      ];
      etcd = {
        servers = opt (types.listOf types.str) [ "http://127.0.0.1:2379" ];
        keyFile = nullPath;
        certFile = nullPath;
        caFile = caDefault;
      };
      inherit extraOpts;
      extraSANs = opt (types.listOf types.str) [ ];
      featureGates = opt (types.attrsOf types.bool) top.featureGates;
      kubeletClientCaFile = caDefault;
      kubeletClientCertFile = nullPath;
      kubeletClientKeyFile = nullPath;
      preferredAddressTypes = opt (types.nullOr types.str) null;
      proxyClientCertFile = nullPath;
      proxyClientKeyFile = nullPath;
      runtimeConfig = opt types.str "authentication.k8s.io/v1beta1=true";
      storageBackend = opt (types.enum [
        "etcd2"
        "etcd3"
      ]) "etcd3";
      securePort = opt types.int 6443;
      apiAudiences = opt types.str "api,https://kubernetes.default.svc";
      serviceAccountIssuer = opt types.str "https://kubernetes.default.svc";
      serviceAccountSigningKeyFile = noDefault types.path;
      serviceAccountKeyFile = noDefault types.path;
      serviceClusterIpRange = opt types.str "10.0.0.0/24";
      tlsCertFile = nullPath;
      tlsKeyFile = nullPath;
      tokenAuthFile = nullPath;
      inherit verbosity;
      webhookConfig = nullPath;
    };

    controllerManager = {
      allocateNodeCIDRs = opt types.bool true;
      bindAddress = opt types.str "127.0.0.1";
      clusterCidr = opt types.str top.clusterCidr;
      inherit enable extraOpts verbosity;
      featureGates = opt (types.attrsOf types.bool) top.featureGates;
      kubeconfig = mkKubeConfigOptions;
      leaderElect = opt types.bool true;
      rootCaFile = caDefault;
      securePort = opt types.int 10252;
      serviceAccountKeyFile = nullPath;
      tlsCertFile = nullPath;
      tlsKeyFile = nullPath;
    };

    scheduler = {
      address = opt types.str "127.0.0.1";
      inherit enable extraOpts verbosity;
      featureGates = opt (types.attrsOf types.bool) top.featureGates;
      kubeconfig = mkKubeConfigOptions;
      leaderElect = opt types.bool true;
      port = opt types.port 10251;
    };

    kubelet = {
      address = opt types.str "0.0.0.0";
      clusterDns = opt (types.listOf types.str) [ "10.1.0.1" ];
      clusterDomain = opt types.str dns.clusterDomain;
      clientCaFile = caDefault;
      cni = {
        packages = opt (types.listOf types.package) [ ];
        config = opt (types.listOf types.attrs) [ ];
        configDir = nullPath;
      };
      containerRuntimeEndpoint = opt types.str "unix:///run/containerd/containerd.sock";
      inherit enable extraOpts verbosity;
      extraConfig = opt (types.attrsOf types.anything) { };
      featureGates = opt (types.attrsOf types.bool) top.featureGates;
      healthz = {
        bind = opt types.str "127.0.0.1";
        port = opt types.port 10248;
      };
      hostname = noDefault types.str;
      kubeconfig = mkKubeConfigOptions;
      manifests = opt (types.attrsOf types.attrs) { };
      nodeIp = opt (types.nullOr types.str) null;
      registerNode = opt types.bool true;
      port = opt types.port 10250;
      seedDockerImages = opt (types.listOf types.package) [ ];
      taints = opt (types.attrsOf taintType) { };
      tlsCertFile = nullPath;
      tlsKeyFile = nullPath;
      unschedulable = opt types.bool false;
    };

    proxy = {
      bindAddress = opt types.str "0.0.0.0";
      inherit enable extraOpts verbosity;
      featureGates = opt (types.attrsOf types.bool) top.featureGates;
      hostname = opt types.str config.networking.hostName;
      kubeconfig = mkKubeConfigOptions;
    };

    flannel.enable = enable;

    addonManager = {
      bootstrapAddons = opt (types.attrsOf types.attrs) { };
      addons = opt (types.attrsOf (types.either types.attrs (types.listOf types.attrs))) { };
      # No kubeconfig option (reference/pki-nixos.md §6): pki.nix set KUBECONFIG on the unit.
      inherit enable;
    };

    addons.dns = {
      inherit enable;
      clusterIp = opt types.str (
        lib.concatStringsSep "." (lib.take 3 (lib.splitString "." a.serviceClusterIpRange)) + ".254"
      );
      clusterDomain = opt types.str "cluster.local";
      replicas = opt types.int 2;
      reconcileMode = opt (types.enum [
        "Reconcile"
        "EnsureExists"
      ]) "Reconcile";
      coredns = opt types.attrs {
        imageName = "coredns/coredns";
        finalImageTag = "1.10.1";
      };
      corefile = opt types.str ".:10053 {\n  kubernetes ${dns.clusterDomain} in-addr.arpa ip6.arpa\n}";
    };

    pki = {
      inherit enable;
      certs = opt types.attrs { };
      genCfsslCACert = opt types.bool true;
      genCfsslAPICerts = opt types.bool true;
      cfsslAPIExtraSANs = opt (types.listOf types.str) [ ];
      genCfsslAPIToken = opt types.bool true;
      pkiTrustOnBootstrap = opt types.bool true;
      caCertPathPrefix = opt types.str "/var/lib/cfssl/ca";
      caSpec = opt types.attrs { CN = "kubernetes-cluster-ca"; };
      etcClusterAdminKubeconfig = opt (types.nullOr types.str) null;
    };
  };

  config = mkMerge [
    # ---- default.nix ---------------------------------------------------------------------
    (mkIf top.easyCerts {
      services.kubernetes.pki.enable = mkDefault true;
      services.kubernetes.caFile = "${top.secretsPath}/ca.pem";
    })
    (mkIf (lib.elem "master" top.roles) {
      services.kubernetes.apiserver.enable = mkDefault true;
      services.kubernetes.scheduler.enable = mkDefault true;
      services.kubernetes.controllerManager.enable = mkDefault true;
      services.kubernetes.addonManager.enable = mkDefault true;
      services.kubernetes.proxy.enable = mkDefault true;
      services.etcd.enable = true; # nixpkgs: "Cannot mkDefault because of flannel default options"
      services.kubernetes.kubelet = {
        enable = mkDefault true;
        taints = mkIf (!(lib.elem "node" top.roles)) {
          master = {
            key = "node-role.kubernetes.io/master";
            value = "true";
            effect = "NoSchedule";
          };
        };
      };
    })
    (mkIf (lib.all (r: r == "master") top.roles) {
      services.kubernetes.kubelet.unschedulable = mkDefault true;
    })
    (mkIf (lib.elem "node" top.roles) {
      services.kubernetes.kubelet.enable = mkDefault true;
      services.kubernetes.proxy.enable = mkDefault true;
    })
    (mkIf (top.roles != [ ]) {
      services.kubernetes.flannel.enable = mkDefault true;
      services.flannel.etcd.endpoints = mkDefault etcdEndpoints;
      services.kubernetes.easyCerts = mkDefault true;
    })
    (mkIf a.enable {
      services.kubernetes.pki.etcClusterAdminKubeconfig = mkDefault "kubernetes/cluster-admin.kubeconfig";
      services.kubernetes.apiserver.etcd.servers = mkDefault etcdEndpoints;
    })
    (mkIf kl.enable {
      virtualisation.containerd.enable = mkDefault true;
    })
    (mkIf anyComponent {
      systemd.targets.kubernetes = {
        description = "Kubernetes";
        wantedBy = [ "multi-user.target" ];
      };
      systemd.tmpfiles.rules = [
        "d /opt/cni/bin 0755 root root -"
        "d /run/kubernetes 0755 kubernetes kubernetes -"
        "d ${top.dataDir} 0755 kubernetes kubernetes -"
      ];
      users.users.kubernetes = {
        uid = config.ids.uids.kubernetes;
        group = "kubernetes";
        home = top.dataDir;
        createHome = true;
      };
      users.groups.kubernetes.gid = config.ids.gids.kubernetes;
      services.kubernetes.addons.dns.enable = mkDefault true;
      services.kubernetes.apiserverAddress = mkDefault (
        "https://"
        + (
          if a.advertiseAddress != null then
            a.advertiseAddress
          else
            "${top.masterAddress}:${toString a.securePort}"
        )
      );
    })

    # ---- apiserver.nix -------------------------------------------------------------------
    (mkIf a.enable {
      systemd.services.kube-apiserver = unit "Kubernetes APIServer Service" (cmd "kube-apiserver" [
        (flag "allow-privileged" a.allowPrivileged)
        (flag "authorization-mode" (lib.concatStringsSep "," a.authorizationMode))
        (flag "bind-address" a.bindAddress)
        (flag "advertise-address" a.advertiseAddress)
        (flag "client-ca-file" a.clientCaFile)
        (flag "disable-admission-plugins" (lib.concatStringsSep "," a.disableAdmissionPlugins))
        (flag "enable-admission-plugins" (lib.concatStringsSep "," a.enableAdmissionPlugins))
        (flag "etcd-servers" (lib.concatStringsSep "," a.etcd.servers))
        (flag "etcd-cafile" a.etcd.caFile)
        (flag "etcd-certfile" a.etcd.certFile)
        (flag "etcd-keyfile" a.etcd.keyFile)
        (lib.optionalString (a.featureGates != { }) (flag "feature-gates" (featureGates a.featureGates)))
        (flag "basic-auth-file" a.basicAuthFile)
        (flag "kubelet-certificate-authority" a.kubeletClientCaFile)
        (flag "kubelet-client-certificate" a.kubeletClientCertFile)
        (flag "kubelet-client-key" a.kubeletClientKeyFile)
        (flag "kubelet-preferred-address-types" a.preferredAddressTypes)
        (flag "proxy-client-cert-file" a.proxyClientCertFile)
        (flag "proxy-client-key-file" a.proxyClientKeyFile)
        (flag "runtime-config" a.runtimeConfig)
        (flag "secure-port" a.securePort)
        (flag "api-audiences" a.apiAudiences)
        (flag "service-account-issuer" a.serviceAccountIssuer)
        "--service-account-signing-key-file=${a.serviceAccountSigningKeyFile}"
        "--service-account-key-file=${a.serviceAccountKeyFile}"
        (flag "service-cluster-ip-range" a.serviceClusterIpRange)
        (flag "storage-backend" a.storageBackend)
        (flag "tls-cert-file" a.tlsCertFile)
        (flag "tls-private-key-file" a.tlsKeyFile)
        (flag "token-auth-file" a.tokenAuthFile)
        (flag "v" a.verbosity)
        a.extraOpts
      ]) {
        User = "kubernetes";
        Group = "kubernetes";
      };
      services.etcd = {
        clientCertAuth = mkDefault true;
        peerClientCertAuth = mkDefault true;
        listenClientUrls = mkDefault [ "https://0.0.0.0:2379" ];
        listenPeerUrls = mkDefault [ "https://0.0.0.0:2380" ];
        advertiseClientUrls = mkDefault [ "https://${top.masterAddress}:2379" ];
        initialCluster = mkDefault [ "${top.masterAddress}=https://${top.masterAddress}:2380" ];
        name = mkDefault top.masterAddress;
        initialAdvertisePeerUrls = mkDefault [ "https://${top.masterAddress}:2380" ];
      };
      services.kubernetes.addonManager.bootstrapAddons = mkIf isRBAC {
        apiserver-kubelet-api-admin-crb = {
          apiVersion = "rbac.authorization.k8s.io/v1";
          kind = "ClusterRoleBinding";
          metadata.name = "system:kube-apiserver:kubelet-api-admin";
          roleRef = {
            apiGroup = "rbac.authorization.k8s.io";
            kind = "ClusterRole";
            name = "system:kubelet-api-admin";
          };
          subjects = [
            {
              kind = "User";
              name = "system:kube-apiserver";
            }
          ];
        };
      };
    })

    # ---- controller-manager.nix ----------------------------------------------------------
    (mkIf cm.enable {
      systemd.services.kube-controller-manager = unit "Kubernetes Controller Manager Service" (cmd "kube-controller-manager" [
        (flag "allocate-node-cidrs" cm.allocateNodeCIDRs)
        (flag "bind-address" cm.bindAddress)
        (flag "cluster-cidr" cm.clusterCidr)
        (lib.optionalString (cm.featureGates != { }) (flag "feature-gates" (featureGates cm.featureGates)))
        "--kubeconfig=${mkKubeConfig "kube-controller-manager" cm.kubeconfig}"
        (flag "leader-elect" cm.leaderElect)
        (flag "root-ca-file" cm.rootCaFile)
        (flag "secure-port" cm.securePort)
        (flag "service-account-private-key-file" cm.serviceAccountKeyFile)
        (flag "tls-cert-file" cm.tlsCertFile)
        (flag "tls-private-key-file" cm.tlsKeyFile)
        (lib.optionalString isRBAC "--use-service-account-credentials")
        (flag "v" cm.verbosity)
        cm.extraOpts
      ]) {
        User = "kubernetes";
        Group = "kubernetes";
      };
      services.kubernetes.controllerManager.kubeconfig.server = mkDefault top.apiserverAddress;
    })

    # ---- scheduler.nix -------------------------------------------------------------------
    (mkIf sch.enable {
      systemd.services.kube-scheduler = unit "Kubernetes Scheduler Service" (cmd "kube-scheduler" [
        (flag "bind-address" sch.address)
        (lib.optionalString (sch.featureGates != { }) (flag "feature-gates" (featureGates sch.featureGates)))
        "--kubeconfig=${mkKubeConfig "kube-scheduler" sch.kubeconfig}"
        (flag "leader-elect" sch.leaderElect)
        (flag "secure-port" sch.port)
        (flag "v" sch.verbosity)
        sch.extraOpts
      ]) {
        User = "kubernetes";
        Group = "kubernetes";
      };
      services.kubernetes.scheduler.kubeconfig.server = mkDefault top.apiserverAddress;
    })

    # ---- kubelet.nix ---------------------------------------------------------------------
    (mkIf kl.enable {
      environment.etc."cni/net.d".source = cniConfig;
      services.kubernetes.kubelet.seedDockerImages = [
        (pkgs.dockerTools.buildImage { name = "pause"; })
      ];
      boot.kernel.sysctl = {
        "net.bridge.bridge-nf-call-iptables" = 1;
        "net.ipv4.ip_forward" = 1;
        "net.bridge.bridge-nf-call-ip6tables" = 1;
      };
      systemd.services.kubelet = unit "Kubernetes Kubelet Service" (cmd "kubelet" [
        "--config=${kubeletConfig}"
        (flag "hostname-override" kl.hostname)
        "--kubeconfig=${mkKubeConfig "kubelet" kl.kubeconfig}"
        (flag "node-ip" kl.nodeIp)
        (lib.optionalString (taints != "") (flag "register-with-taints" taints))
        (flag "root-dir" top.dataDir)
        (flag "v" kl.verbosity)
        kl.extraOpts
      ]) { }
      // {
        after = [
          "containerd.service"
          "network.target"
          "kube-apiserver.service"
        ];
        path = top.path;
        preStart = ''
          ${lib.concatMapStrings (img: "echo seeding ${img}\n") kl.seedDockerImages}
          rm /opt/cni/bin/* || true
          ${lib.concatMapStrings (p: "ln -fs ${p}/bin/* /opt/cni/bin\n") kl.cni.packages}
        '';
      };
      services.kubernetes.kubelet.cni.packages = [
        pkgs.cni-plugins
        pkgs.cni-plugin-flannel
      ];
      boot.kernelModules = [
        "br_netfilter"
        "overlay"
      ];
      services.kubernetes.kubelet.hostname = mkDefault config.networking.fqdnOrHostName;
      services.kubernetes.kubelet.kubeconfig.server = mkDefault top.apiserverAddress;
    })
    (mkIf (kl.unschedulable && kl.enable) {
      services.kubernetes.kubelet.taints.unschedulable = {
        value = "true";
        effect = "NoSchedule";
      };
    })

    # ---- proxy.nix -----------------------------------------------------------------------
    (mkIf px.enable {
      systemd.services.kube-proxy = unit "Kubernetes Proxy Service" (cmd "kube-proxy" [
        (flag "bind-address" px.bindAddress)
        (flag "cluster-cidr" top.clusterCidr)
        (flag "hostname-override" px.hostname)
        "--kubeconfig=${mkKubeConfig "kube-proxy" px.kubeconfig}"
        (flag "v" px.verbosity)
        px.extraOpts
      ]) { };
      services.kubernetes.proxy.kubeconfig.server = mkDefault top.apiserverAddress;
    })

    # ---- flannel.nix (kubernetes) --------------------------------------------------------
    (mkIf top.flannel.enable {
      services.flannel = {
        enable = mkDefault true;
        network = mkDefault top.clusterCidr;
        storageBackend = "kubernetes";
        nodeName = kl.hostname;
      };
      networking.firewall.allowedUDPPorts = [
        8285
        8472
      ];
    })

    # ---- addon-manager.nix ---------------------------------------------------------------
    (mkIf am.enable {
      environment.etc."kubernetes/addons".source = pkgs.runCommand "kubernetes-addons" { } (
        builtins.toJSON am.addons
      );
      systemd.services.kube-addon-manager = {
        description = "Kubernetes addon manager";
        wantedBy = [ "kubernetes.target" ];
        environment.ADDON_PATH = "/etc/kubernetes/addons/";
        path = [
          pkgs.gawk
          pkgs.kubectl
        ];
        serviceConfig = {
          ExecStart = "${top.package}/bin/kube-addons";
          WorkingDirectory = top.dataDir;
          User = "kubernetes";
          Group = "kubernetes";
        };
      };
    })

    # ---- addons/dns.nix ------------------------------------------------------------------
    (mkIf dns.enable {
      services.kubernetes.addonManager.addons.coredns-svc = {
        apiVersion = "v1";
        kind = "Service";
        metadata = {
          name = "kube-dns";
          namespace = "kube-system";
        };
        spec.clusterIP = dns.clusterIp;
        data.Corefile = dns.corefile;
      };
      services.kubernetes.kubelet.clusterDns = mkDefault [ dns.clusterIp ];
    })
  ];
}
