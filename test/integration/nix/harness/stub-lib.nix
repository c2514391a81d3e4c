# A stand-in for the parts of nixpkgs `lib` that nix/modules/*.nix and the NixOS stand-in
# (./nixos/) use, so the modules can be evaluated here without nixpkgs (which cannot be
# fetched). The module system (evalModules, mkIf, mkMerge, mkOverride, mkOrder, options) is
# ./lib/modules.nix, the types ./lib/types.nix: both reproduce nixpkgs' semantics (see
# ./README.md for what they do not). The rest follow nixpkgs' definitions. A module that used
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
  # The module system and the types: ./lib/modules.nix and ./lib/types.nix.
  modules = import ./lib/modules.nix { inherit lib; };
  lib = modules // {
    inherit modules;
    types = import ./lib/types.nix { inherit lib; };
    isDerivation = lib.types.isDerivation;
  } // rest;
  rest = rec {
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
    # For the harness itself and the NixOS stand-in (./nixos/).
    concatMap = f: xs: concatLists (map f xs);
    inherit foldl';
    any = builtins.any;
    id = x: x;
    last = xs: builtins.elemAt xs (length xs - 1);
    reverseList = xs: genList (i: builtins.elemAt xs (length xs - 1 - i)) (length xs);
    filterAttrs = pred: set: listToAttrs (concatLists (map (n: if pred n set.${n} then [ (nameValuePair n set.${n}) ] else [ ]) (attrNames set)));
    mapAttrs' = f: set: listToAttrs (map (n: f n set.${n}) (attrNames set));
    attrValues = builtins.attrValues;
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: xs: if c then xs else [ ];
    toList = x: if builtins.isList x then x else [ x ];
    boolToString = b: if b then "true" else "false";
    setAttrByPath = path: value: if path == [ ] then value else { ${head path} = setAttrByPath (builtins.tail path) value; };
    getAttrFromPath = path: set: foldl' (s: n: s.${n}) set path;
    hasAttrByPath = path: set: path == [ ] || (isAttrs set && set ? ${head path} && hasAttrByPath (builtins.tail path) set.${head path});
    splitString = sep: s: filter builtins.isString (builtins.split (builtins.replaceStrings [ "." ] [ "\\." ] sep) s);
    take = n: xs: genList (i: builtins.elemAt xs i) (if n < length xs then n else length xs);
    count = pred: xs: length (filter pred xs);
    trivial = { inherit boolToString; };
  };
in
lib
