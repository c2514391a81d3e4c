# The pure core of the cluster module: PKI layout + node identity + cluster parameters →
# every option value the NixOS modules set. builtins only (no nixpkgs), so that
#
#   nix-instantiate --eval --strict --json --expr 'import ./nix/lib/pki-options.nix {
#     layout = builtins.fromJSON (builtins.readFile ./nix/pki/layout.json);
#     node = { name = "cp-1"; roles = [ "control-plane" "etcd" ]; addresses = [ "10.77.0.11" ]; };
#     cluster = { apiserverAddress = "10.77.0.10"; };
#   }'
#
# prints it. `plan` is, field for field, what src/pki/layout.ts `planNode` derives from the
# same layout (test/integration/nix compares them); everything else is computed from `plan`.
#
# How nix/modules/cluster.nix uses the result:
#   services   — assigned verbatim at normal priority: every certificate/key/CA option of the
#                seed design's table for the components this node runs, plus easyCerts/pki off,
#                flannel/proxy from the layout, and the API server URLs. Components a node does
#                not run are empty sets (that is the per-role mkIf, done here so it is
#                testable); `kubernetes.{apiserver,controllerManager,scheduler,kubelet}` and
#                `etcd` exist for every role, because the module system reads the names of a
#                mkIf body even when its condition is false.
#   settings   — assigned with mkOverride 900: beats nixpkgs' mkDefaults, yields to the operator.
#                `kubernetes` and `etcd` exist for every role (empty where they do not apply).
#   apiserverExtraOpts, kubeconfigs, tmpfiles, bootstrapAddons, unitFiles — see below.
{
  layout,
  node,
  cluster ? { },
}:
let
  u = import ./util.nix;
  inherit (builtins)
    all
    any
    concatStringsSep
    elem
    filter
    head
    listToAttrs
    ;

  # `cluster.x ?? fallback`, as in planNode (null counts as unset).
  opt = name: fallback: if (cluster.${name} or null) != null then cluster.${name} else fallback;

  roles = node.roles;
  addresses = node.addresses or [ ];
  pkiDir = opt "pkiDir" layout.pkiDir;
  clusterDomain = opt "clusterDomain" layout.defaults.clusterDomain;
  serviceCIDR = opt "serviceCIDR" layout.defaults.serviceCIDR;
  apiserverAddress = opt "apiserverAddress" null;
  apiserverPort = opt "apiserverPort" 6443;
  podCIDR = opt "podCIDR" null;
  aggregatorRouting = opt "aggregatorRouting" true;
  addonManagerClusterAdmin = opt "addonManagerClusterAdmin" true;
  inventory = opt "nodes" [ ];

  vars = {
    inherit clusterDomain apiserverAddress;
    serviceIP = u.firstServiceIP serviceCIDR;
  };

  # ---- planNode, mirrored -------------------------------------------------------------------
  applies = rs: any (r: elem r roles) rs;
  abs = p: if u.hasPrefix "/" p then p else "${u.removeSuffix "/" pkiDir}/${p}";

  expandTemplate =
    t:
    let
      parts = builtins.split "[{]([A-Za-z0-9_]+)[}]" t;
      value = name: if name == "node" then node.name else vars.${name} or null;
      dropped = any (p: builtins.isList p && (value (head p) == null || value (head p) == "")) parts;
    in
    if dropped then
      [ ]
    else
      [ (concatStringsSep "" (map (p: if builtins.isList p then value (head p) else p) parts)) ];
  expandSans =
    templates:
    u.unique (u.concatMap (t: if t == "{nodeAddresses}" then addresses else expandTemplate t) templates);

  planCert = c: {
    inherit (c)
      id
      purpose
      ca
      profile
      o
      units
      ;
    certPath = abs c.cert;
    keyPath = abs c.key;
    cn = builtins.replaceStrings [ "{node}" ] [ node.name ] c.cn;
    sans = expandSans c.sans;
    owner = c.keyOwner.owner;
    group = c.keyOwner.group;
    mode = u.parseOctal c.keyOwner.mode;
  };
  planBundle = b: {
    inherit (b) id cas;
    path = abs b.path;
    mode = u.parseOctal b.mode;
  };
  planKeypair = k: {
    inherit (k) id units;
    keyPath = abs k.key;
    pubPath = abs k.pub;
    owner = k.keyOwner.owner;
    group = k.keyOwner.group;
    mode = u.parseOctal k.keyOwner.mode;
  };

  certsIn = filter (c: c.enabled && applies c.roles) layout.certs;
  bundlesIn = filter (b: applies b.roles) layout.bundles;
  keypairsIn = filter (k: k.enabled && applies k.roles) layout.keypairs;

  plan = {
    node = node.name;
    inherit pkiDir;
    certs = map planCert certsIn;
    bundles = map planBundle bundlesIn;
    keypairs = map planKeypair keypairsIn;
  };

  # ---- lookups by id, with an error that names what is missing --------------------------------
  byId = xs: listToAttrs (map (x: { name = x.id; value = x; }) xs);
  certs = byId plan.certs;
  bundles = byId plan.bundles;
  keypairs = byId plan.keypairs;
  rolesText = concatStringsSep ", " roles;
  need =
    kind: table: id: what:
    table.${id}
      or (throw "k8ops: ${what} needs the ${kind} \"${id}\", but nix/pki/layout.json has no enabled ${kind} with that id for node \"${node.name}\" (roles: ${rolesText})");
  cert = id: what: need "certificate" certs id what;
  bundle = id: what: (need "bundle" bundles id what).path;
  keypair = id: what: need "key pair" keypairs id what;

  # ---- what runs here -------------------------------------------------------------------------
  isControlPlane = elem "control-plane" roles;
  isWorker = elem "worker" roles;
  isEtcd = elem "etcd" roles;
  isKubeNode = isControlPlane || isWorker;
  components = {
    apiserver = isControlPlane;
    controllerManager = isControlPlane;
    scheduler = isControlPlane;
    addonManager = isControlPlane;
    kubelet = isKubeNode;
    # kube-proxy and flannel run only where the layout enables their client certificate
    # (both are off: Cilium replaces them).
    proxy = isKubeNode && certs ? "kube-proxy-client";
    flannel = isKubeNode && certs ? "flannel-client";
    etcd = isEtcd;
  };
  kubernetesRoles = u.optional isControlPlane "master" ++ u.optional isWorker "node";

  firstAddress = if addresses == [ ] then null else head addresses;
  endpointHost = n: if (n.addresses or [ ]) == [ ] then n.name else head n.addresses;
  apiserverURL =
    if apiserverAddress == null then
      throw "k8ops: cluster.apiserverAddress (host or IP of the API server, a SAN of kube-apiserver) is required for node \"${node.name}\""
    else
      "https://${u.urlHost apiserverAddress}:${toString apiserverPort}";

  etcdMembers =
    let
      fromInventory = filter (n: elem "etcd" (n.roles or [ ])) inventory;
    in
    if fromInventory != [ ] then
      fromInventory
    else if isEtcd then
      [ node ]
    else
      [ ];
  etcdURL = n: port: "https://${u.urlHost (endpointHost n)}:${toString port}";

  kubernetesCa = what: bundle "kubernetes-ca-bundle" what;

  # ---- the seed design's table, as option paths under `services.` ---------------------------
  # Each row: when the component runs on this node, set `path` to the file `value` resolves to.
  # `flag` documents the command-line flag (or kubeconfig field) the option becomes.
  rows =
    let
      kc =
        component: certId: prefix: flagNote:
        let
          c = cert certId "${prefix}.kubeconfig";
        in
        [
          {
            on = components.${component};
            path = [ "kubernetes" component "kubeconfig" "server" ];
            value = apiserverURL;
            flag = "${flagNote} server";
            ref = null;
          }
          {
            on = components.${component};
            path = [ "kubernetes" component "kubeconfig" "caFile" ];
            value = kubernetesCa "${prefix}.kubeconfig.caFile";
            flag = "${flagNote} certificate-authority";
            ref = "kubernetes-ca-bundle";
          }
          {
            on = components.${component};
            path = [ "kubernetes" component "kubeconfig" "certFile" ];
            value = c.certPath;
            flag = "${flagNote} client-certificate";
            ref = certId;
          }
          {
            on = components.${component};
            path = [ "kubernetes" component "kubeconfig" "keyFile" ];
            value = c.keyPath;
            flag = "${flagNote} client-key";
            ref = certId;
          }
        ];
      row = on: path: value: flag: ref: { inherit on path value flag ref; };
      a = components.apiserver;
      cm = components.controllerManager;
      kl = components.kubelet;
      ed = components.etcd;
      sa = what: keypair "service-account" what;
    in
    [
      (row isKubeNode [ "kubernetes" "caFile" ] (kubernetesCa "services.kubernetes.caFile")
        "default of every CA option"
        "kubernetes-ca-bundle"
      )
      # kube-apiserver
      (row a [ "kubernetes" "apiserver" "tlsCertFile" ] (cert "kube-apiserver" "apiserver.tlsCertFile").certPath
        "--tls-cert-file"
        "kube-apiserver"
      )
      (row a [ "kubernetes" "apiserver" "tlsKeyFile" ] (cert "kube-apiserver" "apiserver.tlsKeyFile").keyPath
        "--tls-private-key-file"
        "kube-apiserver"
      )
      (row a [ "kubernetes" "apiserver" "clientCaFile" ] (kubernetesCa "apiserver.clientCaFile")
        "--client-ca-file"
        "kubernetes-ca-bundle"
      )
      (row a [ "kubernetes" "apiserver" "kubeletClientCaFile" ] (kubernetesCa "apiserver.kubeletClientCaFile")
        "--kubelet-certificate-authority"
        "kubernetes-ca-bundle"
      )
      (row a [ "kubernetes" "apiserver" "kubeletClientCertFile" ]
        (cert "apiserver-kubelet-client" "apiserver.kubeletClientCertFile").certPath
        "--kubelet-client-certificate"
        "apiserver-kubelet-client"
      )
      (row a [ "kubernetes" "apiserver" "kubeletClientKeyFile" ]
        (cert "apiserver-kubelet-client" "apiserver.kubeletClientKeyFile").keyPath
        "--kubelet-client-key"
        "apiserver-kubelet-client"
      )
      (row a [ "kubernetes" "apiserver" "proxyClientCertFile" ]
        (cert "front-proxy-client" "apiserver.proxyClientCertFile").certPath
        "--proxy-client-cert-file"
        "front-proxy-client"
      )
      (row a [ "kubernetes" "apiserver" "proxyClientKeyFile" ]
        (cert "front-proxy-client" "apiserver.proxyClientKeyFile").keyPath
        "--proxy-client-key-file"
        "front-proxy-client"
      )
      (row a [ "kubernetes" "apiserver" "serviceAccountKeyFile" ] (sa "apiserver.serviceAccountKeyFile").pubPath
        "--service-account-key-file"
        "service-account"
      )
      (row a [ "kubernetes" "apiserver" "serviceAccountSigningKeyFile" ]
        (sa "apiserver.serviceAccountSigningKeyFile").keyPath
        "--service-account-signing-key-file"
        "service-account"
      )
      (row a [ "kubernetes" "apiserver" "etcd" "certFile" ]
        (cert "apiserver-etcd-client" "apiserver.etcd.certFile").certPath
        "--etcd-certfile"
        "apiserver-etcd-client"
      )
      (row a [ "kubernetes" "apiserver" "etcd" "keyFile" ]
        (cert "apiserver-etcd-client" "apiserver.etcd.keyFile").keyPath
        "--etcd-keyfile"
        "apiserver-etcd-client"
      )
      (row a [ "kubernetes" "apiserver" "etcd" "caFile" ] (bundle "etcd-ca-bundle" "apiserver.etcd.caFile")
        "--etcd-cafile"
        "etcd-ca-bundle"
      )
      # kubelet
      (row kl [ "kubernetes" "kubelet" "tlsCertFile" ] (cert "kubelet" "kubelet.tlsCertFile").certPath
        "tlsCertFile (KubeletConfiguration)"
        "kubelet"
      )
      (row kl [ "kubernetes" "kubelet" "tlsKeyFile" ] (cert "kubelet" "kubelet.tlsKeyFile").keyPath
        "tlsPrivateKeyFile (KubeletConfiguration)"
        "kubelet"
      )
      (row kl [ "kubernetes" "kubelet" "clientCaFile" ] (kubernetesCa "kubelet.clientCaFile")
        "authentication.x509.clientCAFile (KubeletConfiguration)"
        "kubernetes-ca-bundle"
      )
      # kube-controller-manager
      (row cm [ "kubernetes" "controllerManager" "tlsCertFile" ]
        (cert "kube-controller-manager" "controllerManager.tlsCertFile").certPath
        "--tls-cert-file"
        "kube-controller-manager"
      )
      (row cm [ "kubernetes" "controllerManager" "tlsKeyFile" ]
        (cert "kube-controller-manager" "controllerManager.tlsKeyFile").keyPath
        "--tls-private-key-file"
        "kube-controller-manager"
      )
      (row cm [ "kubernetes" "controllerManager" "rootCaFile" ] (kubernetesCa "controllerManager.rootCaFile")
        "--root-ca-file"
        "kubernetes-ca-bundle"
      )
      (row cm [ "kubernetes" "controllerManager" "serviceAccountKeyFile" ]
        (sa "controllerManager.serviceAccountKeyFile").keyPath
        "--service-account-private-key-file"
        "service-account"
      )
      # etcd
      (row ed [ "etcd" "certFile" ] (cert "etcd-server" "services.etcd.certFile").certPath "--cert-file"
        "etcd-server"
      )
      (row ed [ "etcd" "keyFile" ] (cert "etcd-server" "services.etcd.keyFile").keyPath "--key-file"
        "etcd-server"
      )
      (row ed [ "etcd" "trustedCaFile" ] (bundle "etcd-ca-bundle" "services.etcd.trustedCaFile")
        "--trusted-ca-file"
        "etcd-ca-bundle"
      )
      (row ed [ "etcd" "peerCertFile" ] (cert "etcd-peer" "services.etcd.peerCertFile").certPath
        "--peer-cert-file"
        "etcd-peer"
      )
      (row ed [ "etcd" "peerKeyFile" ] (cert "etcd-peer" "services.etcd.peerKeyFile").keyPath
        "--peer-key-file"
        "etcd-peer"
      )
      (row ed [ "etcd" "peerTrustedCaFile" ] (bundle "etcd-ca-bundle" "services.etcd.peerTrustedCaFile")
        "--peer-trusted-ca-file"
        "etcd-ca-bundle"
      )
    ]
    ++ kc "kubelet" "kubelet-client" "kubelet" "--kubeconfig"
    ++ kc "controllerManager" "kube-controller-manager-client" "controllerManager" "--kubeconfig"
    ++ kc "scheduler" "kube-scheduler-client" "scheduler" "--kubeconfig"
    ++ kc "proxy" "kube-proxy-client" "proxy" "--kubeconfig";

  activeRows = filter (r: r.on) rows;

  # Non-file switches that belong with the certificate options (normal priority too).
  switches = u.mergeAll [
    (u.optionalAttrs (isKubeNode || isEtcd) {
      kubernetes = {
        # The whole point: no certmgr/cfssl, every path set by hand below.
        easyCerts = false;
        pki.enable = false;
      };
    })
    (u.optionalAttrs isKubeNode {
      kubernetes = {
        # `roles` turns both on with mkDefault; the layout decides (Cilium replaces them).
        flannel.enable = components.flannel;
        proxy.enable = components.proxy;
        masterAddress = apiserverAddress;
        apiserverAddress = apiserverURL;
      };
    })
    (u.optionalAttrs isEtcd {
      etcd = {
        clientCertAuth = true;
        peerClientCertAuth = true;
      };
    })
  ];

  # Every attribute the cluster module reads exists for every role, empty where it does not
  # apply: the module system reads the attribute names of a mkIf body even when the condition
  # is false (pushDownProperties), so `services.etcd = core.services.etcd` inside a false
  # mkIf must still find `etcd` on a worker.
  servicesShape = {
    kubernetes = {
      apiserver = { };
      controllerManager = { };
      scheduler = { };
      kubelet = { };
    };
    etcd = { };
  };
  services = u.mergeAll (
    [
      servicesShape
      switches
    ]
    ++ map (r: u.setAttrByPath r.path r.value) activeRows
  );

  # ---- aggregation layer: flags the apiserver module has no options for ------------------------
  frontProxy = cert "front-proxy-client" "--requestheader-allowed-names";
  apiserverExtraOpts = u.optionals components.apiserver (
    [
      "--requestheader-client-ca-file=${bundle "front-proxy-ca-bundle" "--requestheader-client-ca-file"}"
      "--requestheader-allowed-names=${frontProxy.cn}"
      "--requestheader-username-headers=X-Remote-User"
      "--requestheader-group-headers=X-Remote-Group"
      "--requestheader-extra-headers-prefix=X-Remote-Extra-"
    ]
    ++ u.optional aggregatorRouting "--enable-aggregator-routing=true"
  );

  # ---- non-certificate values (the module applies them with mkOverride 900) -------------------
  dnsIP = u.dnsServiceIP serviceCIDR;
  settingsShape = {
    kubernetes = { };
    etcd = { };
  };
  settings = u.mergeAll [
    settingsShape
    (u.optionalAttrs isKubeNode {
      kubernetes = {
        roles = kubernetesRoles;
        kubelet = {
          hostname = node.name;
          inherit clusterDomain;
          clusterDns = [ dnsIP ];
        }
        // u.optionalAttrs (firstAddress != null) { nodeIp = firstAddress; };
      }
      // u.optionalAttrs (podCIDR != null) { clusterCidr = podCIDR; };
    })
    (u.optionalAttrs isControlPlane {
      kubernetes = {
        apiserver = {
          securePort = apiserverPort;
          serviceClusterIpRange = serviceCIDR;
          # The kubelet serving certificate carries the node's IPs; names may not resolve.
          preferredAddressTypes = "InternalIP,Hostname,InternalDNS,ExternalDNS,ExternalIP";
          etcd.servers = map (n: etcdURL n 2379) etcdMembers;
        }
        // u.optionalAttrs (firstAddress != null) { advertiseAddress = firstAddress; };
        addons.dns = {
          clusterIp = dnsIP;
          inherit clusterDomain;
        };
      };
    })
    (u.optionalAttrs isEtcd {
      etcd = {
        name = node.name;
        listenClientUrls = u.unique [
          (etcdURL node 2379)
          "https://127.0.0.1:2379"
        ];
        listenPeerUrls = [ (etcdURL node 2380) ];
        advertiseClientUrls = [ (etcdURL node 2379) ];
        initialAdvertisePeerUrls = [ (etcdURL node 2380) ];
        initialCluster = map (n: "${n.name}=${etcdURL n 2380}") etcdMembers;
      };
    })
  ];

  # ---- kubeconfigs the module writes itself (same shape as nixpkgs' mkKubeConfig) -------------
  mkKubeconfig = name: c: {
    apiVersion = "v1";
    kind = "Config";
    clusters = [
      {
        name = "local";
        cluster = {
          certificate-authority = kubernetesCa "${name} kubeconfig";
          server = apiserverURL;
        };
      }
    ];
    users = [
      {
        inherit name;
        user = {
          client-certificate = c.certPath;
          client-key = c.keyPath;
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
  };
  kubeconfigs =
    u.optionalAttrs components.addonManager {
      # There is no addonManager.kubeconfig option; the module sets KUBECONFIG on the unit.
      addonManager = mkKubeconfig "addon-manager" (
        cert "kube-addon-manager-client" "the addon manager's KUBECONFIG"
      );
      # Applies the bootstrap RBAC objects; also linked to /etc/kubernetes/cluster-admin.kubeconfig.
      clusterAdmin = mkKubeconfig "cluster-admin" (cert "cluster-admin" "the bootstrap kubeconfig");
    }
    // u.optionalAttrs components.flannel {
      flannel = mkKubeconfig "flannel" (cert "flannel-client" "services.flannel.kubeconfig");
    };

  # ---- tmpfiles: the PKI directory, and owners/modes of what is in it -------------------------
  # `z` adjusts mode and ownership of a path that exists and never creates it: keys are
  # written by the PKI scripts (never by Nix, never into the store). Once install.sh has
  # rotated a pair, the configured paths are symlinks into <pkiDir>/.pairs/<id>/current/
  # (cert and key switch with one rename); tmpfiles does not follow symlinks for `z`, and
  # install.sh gives the key in the version directory the same owner and mode.
  keyRules =
    map (c: "z ${c.keyPath} ${c.keyOwner.mode} ${c.keyOwner.owner} ${c.keyOwner.group} -") (
      map (c: c // { keyPath = abs c.key; }) certsIn
    )
    ++ map (k: "z ${k.keyPath} ${k.keyOwner.mode} ${k.keyOwner.owner} ${k.keyOwner.group} -") (
      map (k: k // { keyPath = abs k.key; }) keypairsIn
    );
  bundleRules = map (b: "z ${abs b.path} ${b.mode} root root -") bundlesIn;
  tmpfiles = u.optionals (plan.certs != [ ] || plan.bundles != [ ] || plan.keypairs != [ ]) (
    [ "d ${pkiDir} 0755 root root -" ] ++ keyRules ++ bundleRules
  );

  # ---- units → the certificates and keys they use ------------------------------------------
  unitEntries =
    map (c: {
      inherit (c) id units;
      files = [
        c.certPath
        c.keyPath
      ];
    }) plan.certs
    ++ map (k: {
      inherit (k) id units;
      files = [
        k.keyPath
        k.pubPath
      ];
    }) plan.keypairs;
  allUnits = u.unique (u.concatMap (e: e.units) unitEntries);
  units = listToAttrs (
    map (unit: {
      name = unit;
      value = map (e: e.id) (filter (e: elem unit e.units) unitEntries);
    }) allUnits
  );
  unitFiles = listToAttrs (
    map (unit: {
      name = unit;
      value = u.unique (u.concatMap (e: e.files) (filter (e: elem unit e.units) unitEntries));
    }) allUnits
  );

  # ---- RBAC that pki.nix would otherwise have applied ----------------------------------------
  bootstrapAddons = u.optionalAttrs components.addonManager (
    import ./rbac.nix {
      apiserverKubeletClientCN = (cert "apiserver-kubelet-client" "the kubelet-api-admin binding").cn;
      addonManagerCN = (cert "kube-addon-manager-client" "the addon manager RBAC").cn;
      inherit addonManagerClusterAdmin;
    }
  );
in
{
  node = node.name;
  inherit
    pkiDir
    plan
    components
    kubernetesRoles
    services
    settings
    apiserverExtraOpts
    kubeconfigs
    tmpfiles
    units
    unitFiles
    bootstrapAddons
    ;
  roles = {
    controlPlane = isControlPlane;
    worker = isWorker;
    etcd = isEtcd;
    kubernetes = isKubeNode;
  };
  # The option table as data: which option got which file, and the flag it becomes.
  optionTable = map (r: {
    option = "services.${concatStringsSep "." r.path}";
    inherit (r) value flag ref;
  }) activeRows;
  etcdMembers = map (n: n.name) etcdMembers;
  apiserverURL = if apiserverAddress == null then null else apiserverURL;
  inherit dnsIP clusterDomain serviceCIDR;
  # Sanity: no value points into the Nix store (keys are never there).
  storeFree = all (r: !(builtins.isString r.value) || !(u.hasPrefix "/nix/store" r.value)) activeRows;
}
