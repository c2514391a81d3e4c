# The NixOS core options that the k8ops modules, the example lab and the other stand-in
# modules define or read, with nixpkgs' names, types and defaults (a subset: a definition of
# any other option fails with "does not exist", as it would without the module declaring it).
# `system.build.toplevel` stands for the system derivation: reading it checks `assertions`
# like nixos/modules/system/activation/top-level.nix ("Failed assertions:" with one "- "
# line per message), prints `warnings`, and forces every value a system build would use
# (units, etc files, packages, tmpfiles, users, interfaces, firewall).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  opt = type: default: mkOption { inherit type default; };
  strList = opt (types.listOf types.str) [ ];

  # nixos/lib/systemd-types.nix: lists concatenate, anything else must be equal.
  unitOption = types.mkOptionType {
    name = "systemd option";
    description = "systemd option";
    merge =
      loc: defs:
      let
        defs' = lib.filterOverrides defs;
      in
      if lib.any (d: builtins.isList d.value) defs' then
        lib.concatMap (d: lib.toList d.value) defs'
      else
        lib.mergeEqualOption loc defs';
  };
  unitCommon = {
    enable = opt types.bool true;
    description = opt types.str "";
    wantedBy = strList;
    requiredBy = strList;
    after = strList;
    before = strList;
    wants = strList;
    requires = strList;
    unitConfig = opt (types.attrsOf unitOption) { };
  };
  service = types.submodule {
    options = unitCommon // {
      environment = opt (types.attrsOf (
        types.nullOr (
          types.oneOf [
            types.str
            types.path
            types.package
          ]
        )
      )) { };
      path = opt (types.listOf (types.either types.package types.str)) [ ];
      serviceConfig = opt (types.attrsOf unitOption) { };
      script = opt types.lines "";
      preStart = opt types.lines "";
      postStart = opt types.lines "";
    };
  };
  timer = types.submodule { options = unitCommon // { timerConfig = opt (types.attrsOf unitOption) { }; }; };
  pathUnit = types.submodule { options = unitCommon // { pathConfig = opt (types.attrsOf unitOption) { }; }; };
  target = types.submodule { options = unitCommon; };

  etcEntry = types.submodule (
    { name, config, ... }:
    {
      options = {
        enable = opt types.bool true;
        target = opt types.str name;
        text = opt (types.nullOr types.lines) null;
        source = mkOption { type = types.path; };
        mode = opt types.str "symlink";
        user = opt types.str "+0";
        group = opt types.str "+0";
      };
      config.source = lib.mkIf (config.text != null) (
        lib.mkDefault (pkgs.writeText "etc-${baseNameOf name}" config.text)
      );
    }
  );

  interface = types.submodule (
    { name, ... }:
    {
      options = {
        name = opt types.str name;
        mtu = opt (types.nullOr types.int) null;
        useDHCP = opt (types.nullOr types.bool) null;
        ipv4.addresses = opt (types.listOf (
          types.submodule {
            options = {
              address = mkOption { type = types.str; };
              prefixLength = mkOption { type = types.addCheck types.int (n: n >= 0 && n <= 32); };
            };
          }
        )) [ ];
      };
    }
  );

  user = types.submodule (
    { name, ... }:
    {
      options = {
        name = opt types.str name;
        uid = opt (types.nullOr types.int) null;
        group = opt types.str "";
        description = opt types.str "";
        home = opt types.path "/var/empty";
        createHome = opt types.bool false;
        homeMode = opt types.str "700";
        isSystemUser = opt types.bool false;
        isNormalUser = opt types.bool false;
        extraGroups = strList;
        openssh.authorizedKeys.keys = strList;
      };
    }
  );
  group = types.submodule (
    { name, ... }:
    {
      options = {
        name = opt types.str name;
        gid = opt (types.nullOr types.int) null;
        members = strList;
      };
    }
  );

  failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
  # What a system build reads.
  closure = {
    inherit (config.systemd)
      services
      timers
      paths
      targets
      ;
    tmpfiles = config.systemd.tmpfiles.rules;
    etc = lib.filterAttrs (_: e: e.enable) config.environment.etc;
    packages = config.environment.systemPackages;
    inherit (config.networking)
      hostName
      interfaces
      firewall
      extraHosts
      ;
    inherit (config.users) users groups;
    inherit (config.boot) kernelModules;
    sysctl = config.boot.kernel.sysctl;
    inherit (config) fileSystems;
    containerd = config.virtualisation.containerd;
    inherit (config.system) stateVersion;
  };
in
{
  options = {
    assertions = mkOption {
      type = types.listOf types.unspecified;
      internal = true;
      default = [ ];
      description = "Conditions that must hold; each failed one's message stops the system build.";
    };
    warnings = mkOption {
      type = types.listOf types.str;
      internal = true;
      default = [ ];
    };

    system.stateVersion = opt types.str "25.05";
    system.build = mkOption {
      type = types.lazyAttrsOf types.unspecified;
      internal = true;
      default = { };
    };

    ids.uids = opt (types.attrsOf types.int) { kubernetes = 162; };
    ids.gids = opt (types.attrsOf types.int) { kubernetes = 162; };

    boot.kernel.sysctl = opt (types.attrsOf types.anything) { };
    boot.kernelModules = strList;
    boot.loader.grub.device = opt types.str "";
    boot.zfs.enabled = mkOption {
      type = types.bool;
      default = false;
      readOnly = true;
    };

    fileSystems = opt (types.attrsOf (
      types.submodule {
        options = {
          device = opt (types.nullOr types.str) null;
          fsType = opt types.str "auto";
          options = strList;
        };
      }
    )) { };

    environment.etc = opt (types.attrsOf etcEntry) { };
    environment.systemPackages = opt (types.listOf types.package) [ ];

    networking = {
      hostName = opt types.str "nixos";
      domain = opt (types.nullOr types.str) null;
      fqdnOrHostName = mkOption {
        type = types.str;
        readOnly = true;
        default =
          if config.networking.domain == null then
            config.networking.hostName
          else
            "${config.networking.hostName}.${config.networking.domain}";
      };
      useDHCP = opt types.bool true;
      defaultGateway = opt (types.nullOr types.str) null;
      nameservers = strList;
      extraHosts = opt types.lines "";
      interfaces = opt (types.attrsOf interface) { };
      dhcpcd.denyInterfaces = strList;
      firewall = {
        enable = opt types.bool true;
        allowedTCPPorts = opt (types.listOf types.port) [ ];
        allowedUDPPorts = opt (types.listOf types.port) [ ];
        checkReversePath = opt (types.either types.bool (
          types.enum [
            "strict"
            "loose"
          ]
        )) true;
      };
    };

    services.openssh.enable = opt types.bool false;

    systemd = {
      package = opt types.package pkgs.systemd;
      services = opt (types.attrsOf service) { };
      timers = opt (types.attrsOf timer) { };
      paths = opt (types.attrsOf pathUnit) { };
      targets = opt (types.attrsOf target) { };
      tmpfiles.rules = strList;
    };

    users.users = opt (types.attrsOf user) { };
    users.groups = opt (types.attrsOf group) { };

    virtualisation.containerd = {
      enable = opt types.bool false;
      settings = opt (types.attrsOf types.anything) { };
    };
  };

  config.system.build.toplevel =
    if failedAssertions != [ ] then
      throw "\nFailed assertions:\n${lib.concatStringsSep "\n" (map (m: "- ${m}") failedAssertions)}"
    else
      lib.foldl' (acc: w: builtins.trace "warning: ${w}" acc) (builtins.deepSeq closure (
        pkgs.stubDrv "nixos-system-${config.networking.hostName}" { }
      )) config.warnings;
}
