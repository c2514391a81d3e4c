# A stand-in for the parts of nixpkgs `lib` that nix/modules/*.nix use, so the modules can be
# evaluated here without nixpkgs (which cannot be fetched). The module-system functions
# return the same tagged values as nixpkgs (`_type = "if" | "merge" | "override" | "order"`);
# ./eval-modules.nix resolves them. The rest follow nixpkgs' definitions. A module that used
# a function missing here fails these tests — keep this list to real nixpkgs names.
let
  inherit (builtins)
    attrNames
    concatLists
    concatStringsSep
    elem
    filter
    foldl'
    genList
    head
    isAttrs
    length
    listToAttrs
    mapAttrs
    stringLength
    substring
    ;
  lib = rec {
    # ---- module system -------------------------------------------------------------------
    mkIf = condition: content: {
      _type = "if";
      inherit condition content;
    };
    mkMerge = contents: {
      _type = "merge";
      inherit contents;
    };
    mkOverride = priority: content: {
      _type = "override";
      inherit priority content;
    };
    mkDefault = mkOverride 1000;
    mkForce = mkOverride 50;
    mkOrder = priority: content: {
      _type = "order";
      inherit priority content;
    };
    mkBefore = mkOrder 500;
    mkAfter = mkOrder 1500;
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption = name: mkOption {
      default = false;
      description = "Whether to enable ${name}.";
      type = types.bool;
    };
    literalExpression = text: {
      _type = "literalExpression";
      inherit text;
    };
    literalMD = text: {
      _type = "literalMD";
      inherit text;
    };
    types =
      let
        t = name: { inherit name; };
      in
      {
        bool = t "bool";
        str = t "str";
        lines = t "lines";
        path = t "path";
        port = t "port";
        attrs = t "attrs";
        package = t "package";
        ints = {
          unsigned = t "ints.unsigned";
          between = lo: hi: t "ints.between ${toString lo} ${toString hi}";
        };
        enum = values: t "enum" // { inherit values; };
        nullOr = e: t "nullOr" // { elem = e; };
        listOf = e: t "listOf" // { elem = e; };
        attrsOf = e: t "attrsOf" // { elem = e; };
        submodule = m: t "submodule" // { module = m; };
      };

    # ---- attrsets, lists, strings (nixpkgs semantics) -------------------------------------
    inherit
      attrNames
      concatStringsSep
      elem
      filter
      genList
      head
      length
      listToAttrs
      mapAttrs
      ;
    all = builtins.all;
    max = a: b: if a > b then a else b;
    sort = builtins.sort;
    nameValuePair = name: value: { inherit name value; };
    mapAttrsToList = f: a: map (n: f n a.${n}) (attrNames a);
    mapAttrsRecursive =
      f: set:
      let
        recurse =
          path:
          mapAttrs (
            name: value: if isAttrs value then recurse (path ++ [ name ]) value else f (path ++ [ name ]) value
          );
      in
      recurse [ ] set;
    recursiveUpdate =
      lhs: rhs:
      lhs
      // mapAttrs (
        n: v: if lhs ? ${n} && isAttrs lhs.${n} && isAttrs v then recursiveUpdate lhs.${n} v else v
      ) rhs;
    optionalAttrs = c: a: if c then a else { };
    optionalString = c: s: if c then s else "";
    concatMapStrings = f: xs: concatStringsSep "" (map f xs);
    concatMapStringsSep = sep: f: xs: concatStringsSep sep (map f xs);
    findFirst =
      pred: default: xs:
      let
        found = filter pred xs;
      in
      if found == [ ] then default else head found;
    hasPrefix = p: s: substring 0 (stringLength p) s == p;
    hasSuffix =
      x: s:
      stringLength s >= stringLength x && substring (stringLength s - stringLength x) (stringLength x) s == x;
    removePrefix =
      p: s: if hasPrefix p s then substring (stringLength p) (stringLength s - stringLength p) s else s;
    removeSuffix =
      x: s: if hasSuffix x s then substring 0 (stringLength s - stringLength x) s else s;
    escapeShellArg = s: "'${builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString s)}'";
    makeBinPath = ps: concatStringsSep ":" (map (p: "${p}/bin") ps);
    importJSON = p: builtins.fromJSON (builtins.readFile p);
    getExe = p: "${p}/bin/${p.meta.mainProgram or "main"}";
    licenses.mit = "mit";
    platforms = {
      linux = [ "x86_64-linux" ];
      darwin = [ "x86_64-darwin" ];
    };
    fileset = {
      toSource = { root, fileset }: "/nix/store/stub-fileset";
      fileFilter = f: root: "/nix/store/stub-filter";
      unions = xs: "/nix/store/stub-union";
    };
    # For the harness itself.
    concatMap = f: xs: concatLists (map f xs);
    inherit foldl';
  };
in
lib
