# Pure part of nix/modules/networking.nix: firewall ports per role, MTU per interface, the
# Cilium Helm values and the ingress-nginx ConfigMap data. builtins only.
{
  roles,
  apiserverAddress ? null,
  apiserverPort ? 6443,
  clusterName ? "k8ops",
  interfaces ? [ ],
  mtu ? 9216,
  # Cilium datapath
  routingMode ? "tunnel",
  tunnelProtocol ? "vxlan",
  tunnelPort ? null,
  bgp ? true,
  hubble ? true,
  # Where the kubelet module lets Cilium write (see nix/modules/networking.nix).
  cniConfDir ? "/var/lib/cni/net.d",
  cniBinDir ? "/opt/cni/bin",
  # ingress-nginx proxy cache
  cache ? { },
}:
let
  u = import ./util.nix;
  inherit (builtins) elem filter concatStringsSep;

  isControlPlane = elem "control-plane" roles;
  isKubeNode = isControlPlane || elem "worker" roles;
  isEtcd = elem "etcd" roles;

  tunnel = routingMode == "tunnel";
  effectiveTunnelPort =
    if tunnelPort != null then
      tunnelPort
    else if tunnelProtocol == "geneve" then
      6081
    else
      8472;

  port = proto: p: purpose: on: { inherit proto purpose on; port = p; };
  ports = filter (p: p.on) [
    (port "tcp" apiserverPort "kube-apiserver" isControlPlane)
    (port "tcp" 2379 "etcd client" isEtcd)
    (port "tcp" 2380 "etcd peer" isEtcd)
    (port "tcp" 10250 "kubelet" isKubeNode)
    (port "tcp" 4240 "Cilium health" isKubeNode)
    (port "tcp" 4244 "Hubble server (agent)" (isKubeNode && hubble))
    (port "tcp" 4245 "Hubble relay" (isKubeNode && hubble))
    (port "tcp" 179 "BGP (Cilium BGP control plane)" (isKubeNode && bgp))
    (port "udp" effectiveTunnelPort "Cilium ${tunnelProtocol} tunnel" (isKubeNode && tunnel))
  ];
  portsOf = proto: u.unique (map (p: p.port) (filter (p: p.proto == proto) ports));

  # ---- ingress-nginx: proxy cache + a log format that carries $upstream_cache_status --------
  c = {
    enable = true;
    # The zone k8ops.yaml `ingress.cacheZone` names by default (the NGINX pane counts it).
    zone = "ingress_cache";
    path = "/tmp/nginx-cache"; # writable by the controller user (uid 101) in the stock image
    keysZoneSize = "64m";
    maxSize = "2g";
    inactive = "60m";
    # "global": every location caches what its upstream marks cacheable (Cache-Control /
    # Expires), never requests with an Authorization header. "http-only": only the cache
    # zone and key are defined; Ingresses opt in themselves (needs snippet annotations).
    scope = "global";
    validFor = null; # e.g. "10m": also cache 200/301/302 that carry no caching headers
  }
  // cache;
  # nginx's default key is $scheme$proxy_host$request_uri, and every ingress-nginx proxy_pass
  # goes to `upstream_balancer`: without $host, two virtual hosts share entries.
  cacheKey = "$scheme$request_method$host$request_uri";
  # One definition of the access log format, shared with k8ops's NGINX parser
  # (src/features/nginx/format.ts): the controller's default plus $upstream_cache_status and $host.
  logFormatDef = builtins.fromJSON (builtins.readFile ./ingress-log-format.json);
  defaultLogFormat = logFormatDef.defaultFormat;
  logFormat = concatStringsSep " " ([ defaultLogFormat ] ++ logFormatDef.extraFields);
  httpSnippet = concatStringsSep "\n" [
    "proxy_cache_path ${c.path} levels=1:2 keys_zone=${c.zone}:${c.keysZoneSize} max_size=${c.maxSize} inactive=${c.inactive} use_temp_path=off;"
    "proxy_cache_key \"${cacheKey}\";"
  ];
  locationSnippet = concatStringsSep "\n" (
    [
      "proxy_cache ${c.zone};"
      "proxy_cache_bypass $http_authorization;"
      "proxy_no_cache $http_authorization;"
      "proxy_cache_lock on;"
      "proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;"
      "proxy_cache_background_update on;"
      "add_header X-Cache-Status $upstream_cache_status always;"
    ]
    ++ u.optional (c.validFor != null) "proxy_cache_valid 200 301 302 ${c.validFor};"
  );
  ingressNginxConfig = {
    "log-format-upstream" = logFormat;
  }
  // u.optionalAttrs c.enable (
    {
      "http-snippet" = httpSnippet;
      # Caching is silently off without buffering (ingress-nginx defaults it to "off").
      "proxy-buffering" = "on";
    }
    // u.optionalAttrs (c.scope == "global") { "location-snippet" = locationSnippet; }
  );

  ciliumValues = {
    kubeProxyReplacement = true;
    # Without kube-proxy the agent cannot reach the API server through its Service IP.
    k8sServiceHost = apiserverAddress;
    k8sServicePort = apiserverPort;
    cluster.name = clusterName;
    inherit routingMode;
    ipam.mode = "kubernetes";
    MTU = mtu;
    cni = {
      confPath = cniConfDir;
      binPath = cniBinDir;
    };
    bgpControlPlane.enabled = bgp;
    hubble = {
      enabled = hubble;
      relay.enabled = hubble;
      ui.enabled = hubble;
    };
  }
  // u.optionalAttrs tunnel {
    inherit tunnelProtocol;
    tunnelPort = effectiveTunnelPort;
  }
  // u.optionalAttrs (interfaces != [ ]) { devices = concatStringsSep " " interfaces; };
in
if !(elem routingMode [ "tunnel" "native" ]) then
  throw "k8ops networking: routingMode must be \"tunnel\" or \"native\", got \"${routingMode}\""
else if !(elem tunnelProtocol [ "vxlan" "geneve" ]) then
  throw "k8ops networking: tunnelProtocol must be \"vxlan\" or \"geneve\", got \"${tunnelProtocol}\""
else if !(elem c.scope [ "global" "http-only" ]) then
  throw "k8ops networking: cache.scope must be \"global\" or \"http-only\", got \"${c.scope}\""
else
  {
    inherit ports ingressNginxConfig ciliumValues logFormat cacheKey;
    tunnelPort = if tunnel then effectiveTunnelPort else null;
    firewall = {
      allowedTCPPorts = portsOf "tcp";
      allowedUDPPorts = portsOf "udp";
    };
    interfaces = builtins.listToAttrs (
      map (name: {
        inherit name;
        value.mtu = mtu;
      }) interfaces
    );
    cache = c;
  }
