# Option types of this stand-in, with the checks and merges of nixpkgs `lib/types.nix`
# (written anew, nothing vendored): scalars merge only equal definitions, `listOf`
# concatenates definitions in order (each element merged on its own, so a false mkIf element
# is dropped), `attrsOf` merges attribute by attribute (mkIf / mkOverride per attribute),
# `submodule` evaluates its own module set with the definitions as config modules (with
# pushDownProperties and the undeclared-option check inside), `nullOr` refuses null mixed
# with a value, `separatedString` / `lines` concatenate.
{ lib }:
let
  inherit (builtins)
    all
    attrNames
    concatLists
    concatStringsSep
    elem
    filter
    foldl'
    isAttrs
    isBool
    isFunction
    isInt
    isList
    isPath
    isString
    length
    mapAttrs
    typeOf
    ;
  m = lib.modules;
  imap1 = f: xs: builtins.genList (i: f (i + 1) (builtins.elemAt xs i)) (length xs);
  isDerivation = v: isAttrs v && (v.type or null) == "derivation";
  isStringLike = v: isString v || isPath v || (isAttrs v && (v ? outPath || v ? __toString));
  isStorePath = v: isStringLike v && builtins.substring 0 11 (toString v) == "/nix/store/";

  mkOptionType =
    {
      name,
      description ? name,
      check ? (_: true),
      merge ? m.mergeDefaultOption,
      emptyValue ? { },
      getSubOptions ? (_: { }),
      nestedTypes ? { },
    }:
    {
      _type = "option-type";
      inherit
        name
        description
        check
        merge
        emptyValue
        getSubOptions
        nestedTypes
        ;
    };

  # Attribute sets of `elemType`, merged per attribute; `lazy` keeps undefined ones as throws.
  attrsWith =
    lazy: elemType:
    mkOptionType {
      name = if lazy then "lazyAttrsOf" else "attrsOf";
      description = "${if lazy then "lazy " else ""}attribute set of ${elemType.description}";
      check = isAttrs;
      merge =
        loc: defs:
        let
          byAttr = builtins.zipAttrsWith (_: ds: ds) (
            map (
              def:
              mapAttrs (_: v: {
                inherit (def) file;
                value = v;
              }) def.value
            ) defs
          );
          merged = mapAttrs (n: ds: m.mergeDefinitions (loc ++ [ n ]) elemType ds) byAttr;
        in
        if lazy then
          mapAttrs (_: r: r.mergedValue) merged
        else
          mapAttrs (_: r: r.mergedValue) (lib.filterAttrs (_: r: r.isDefined) merged);
      emptyValue = {
        value = { };
      };
      getSubOptions = prefix: elemType.getSubOptions (prefix ++ [ "<name>" ]);
      nestedTypes.elemType = elemType;
    };

  submoduleWith =
    {
      modules,
      specialArgs ? { },
      shorthandOnlyDefinesConfig ? false,
    }:
    let
      base = m.evalModules {
        inherit specialArgs;
        modules = [ { _module.args.name = m.mkOptionDefault "‹name›"; } ] ++ modules;
      };
      allModules =
        defs:
        map (
          { value, file }:
          if isAttrs value && shorthandOnlyDefinesConfig then
            {
              _file = file;
              config = value;
            }
          else
            {
              _file = file;
              imports = [ value ];
            }
        ) defs;
    in
    mkOptionType {
      name = "submodule";
      description = "submodule";
      check = x: isAttrs x || isFunction x || isPath x;
      merge =
        loc: defs:
        (base.extendModules {
          modules = [ { _module.args.name = lib.last loc; } ] ++ allModules defs;
          prefix = loc;
        }).config;
      emptyValue = {
        value = { };
      };
      getSubOptions = prefix: (base.extendModules { inherit prefix; }).options;
    };

  types = rec {
    inherit mkOptionType isDerivation;

    raw = mkOptionType {
      name = "raw";
      description = "raw value";
      merge = m.mergeOneOption;
    };
    unspecified = mkOptionType {
      name = "unspecified";
      description = "unspecified value";
    };
    anything = mkOptionType {
      name = "anything";
      description = "anything";
      merge =
        loc: defs:
        let
          getType = v: if isAttrs v && isStringLike v then "stringCoercibleSet" else typeOf v;
          commonType = foldl' (
            t: def:
            if getType def.value == t then
              t
            else
              throw "The option `${m.showOption loc}' has conflicting option types in ${m.showFiles (m.getFiles defs)}"
          ) (getType (builtins.head defs).value) defs;
        in
        if commonType == "set" then
          (attrsOf anything).merge loc defs
        else if commonType == "stringCoercibleSet" then
          m.mergeOneOption loc defs
        else
          m.mergeEqualOption loc defs;
    };
    bool = mkOptionType {
      name = "bool";
      description = "boolean";
      check = isBool;
      merge = m.mergeEqualOption;
    };
    int = mkOptionType {
      name = "int";
      description = "signed integer";
      check = isInt;
      merge = m.mergeEqualOption;
    };
    ints = rec {
      between =
        lo: hi:
        mkOptionType {
          name = "intBetween";
          description = "integer between ${toString lo} and ${toString hi} (both inclusive)";
          check = x: isInt x && x >= lo && x <= hi;
          merge = m.mergeEqualOption;
        };
      unsigned = mkOptionType {
        name = "unsignedInt";
        description = "unsigned integer, meaning >=0";
        check = x: isInt x && x >= 0;
        merge = m.mergeEqualOption;
      };
      positive = mkOptionType {
        name = "positiveInt";
        description = "positive integer, meaning >0";
        check = x: isInt x && x > 0;
        merge = m.mergeEqualOption;
      };
      u16 = between 0 65535;
    };
    port = ints.u16;
    str = mkOptionType {
      name = "str";
      description = "string";
      check = isString;
      merge = m.mergeEqualOption;
    };
    nonEmptyStr = mkOptionType {
      name = "nonEmptyStr";
      description = "non-empty string";
      check = x: isString x && builtins.match "[ \t\n]*" x == null;
      merge = m.mergeEqualOption;
    };
    separatedString =
      sep:
      mkOptionType {
        name = "separatedString";
        description =
          if sep == "" then "Concatenated string" else "strings concatenated with ${builtins.toJSON sep}";
        check = isString;
        merge = _: defs: concatStringsSep sep (m.getValues defs);
      };
    lines = separatedString "\n";
    commas = separatedString ",";
    envVar = separatedString ":";
    path = mkOptionType {
      name = "path";
      description = "absolute path";
      check = x: isStringLike x && builtins.substring 0 1 (toString x) == "/";
      merge = m.mergeEqualOption;
    };
    package = mkOptionType {
      name = "package";
      description = "package";
      check = x: isDerivation x || isStorePath x;
      merge = m.mergeOneOption;
    };
    attrs = mkOptionType {
      name = "attrs";
      description = "attribute set";
      check = isAttrs;
      merge = _: defs: foldl' (res: def: res // def.value) { } defs;
      emptyValue = {
        value = { };
      };
    };
    enum =
      values:
      mkOptionType {
        name = "enum";
        description = "one of ${concatStringsSep ", " (map builtins.toJSON values)}";
        check = x: elem x values;
        merge = m.mergeEqualOption;
      };
    listOf =
      elemType:
      mkOptionType {
        name = "listOf";
        description = "list of ${elemType.description}";
        check = isList;
        merge =
          loc: defs:
          map (x: x.value) (
            filter (x: x ? value) (
              concatLists (
                imap1 (
                  n: def:
                  imap1 (
                    k: v:
                    (m.mergeDefinitions (loc ++ [ "[definition ${toString n}-entry ${toString k}]" ]) elemType [
                      {
                        inherit (def) file;
                        value = v;
                      }
                    ]).optionalValue
                  ) def.value
                ) defs
              )
            )
          );
        emptyValue = {
          value = [ ];
        };
        getSubOptions = prefix: elemType.getSubOptions (prefix ++ [ "*" ]);
        nestedTypes.elemType = elemType;
      };
    attrsOf = attrsWith false;
    lazyAttrsOf = attrsWith true;
    nullOr =
      elemType:
      mkOptionType {
        name = "nullOr";
        description = "null or ${elemType.description}";
        check = x: x == null || elemType.check x;
        merge =
          loc: defs:
          let
            nrNulls = length (filter (d: d.value == null) defs);
          in
          if nrNulls == length defs then
            null
          else if nrNulls != 0 then
            throw "The option `${m.showOption loc}' is defined both null and not null, in ${m.showFiles (m.getFiles defs)}."
          else
            elemType.merge loc defs;
        emptyValue = {
          value = null;
        };
        getSubOptions = elemType.getSubOptions;
        nestedTypes.elemType = elemType;
      };
    addCheck = t: extra: t // { check = x: t.check x && extra x; };
    uniq =
      elemType:
      elemType
      // {
        merge = m.mergeOneOption;
      };
    either =
      t1: t2:
      mkOptionType {
        name = "either";
        description = "${t1.description} or ${t2.description}";
        check = x: t1.check x || t2.check x;
        merge =
          loc: defs:
          let
            vs = m.getValues defs;
          in
          if all t1.check vs then
            t1.merge loc defs
          else if all t2.check vs then
            t2.merge loc defs
          else
            m.mergeOneOption loc defs;
      };
    oneOf =
      ts:
      let
        head' = builtins.head ts;
        tail' = builtins.tail ts;
      in
      foldl' either head' tail';
    inherit submoduleWith;
    submodule =
      modules:
      submoduleWith {
        shorthandOnlyDefinesConfig = true;
        modules = if isList modules then modules else [ modules ];
      };
  };
in
types
