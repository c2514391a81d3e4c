# The module system of this stand-in: the semantics of nixpkgs `lib/modules.nix`, written
# anew here (nixpkgs cannot be fetched on these machines, and nothing of it is vendored).
# What it reproduces, each pinned by test/integration/nix/module-system.test.ts:
#
#   - evalModules: modules as paths, functions or attribute sets; `imports` (closed over,
#     de-duplicated by key); `options` / `config` / the shorthand (a module without either is
#     all config; mixing them is an error); module arguments from specialArgs, then
#     `config._module.args` (lazily, by name, like applyModuleArgs); `extendModules`.
#   - pushDownProperties: mkMerge is flattened and mkIf / mkOverride are pushed into every
#     attribute of their body while the path is a set of options (not an option), so the
#     body's attribute NAMES are read whatever the condition: a false mkIf whose body is a
#     missing attribute fails, as it does for real.
#   - dischargeProperties: at an option, mkIf conditions are evaluated (false → dropped
#     without looking inside; non-boolean → error).
#   - filterOverrides: only the definitions of the highest priority (lowest number) count;
#     option defaults are definitions at mkOptionDefault (1500), mkDefault 1000, plain 100,
#     mkForce 50. sortProperties: mkOrder / mkBefore / mkAfter order list definitions.
#   - the type check of every remaining definition ("is not of type"), the type's merge, an
#     option without any definition ("was accessed but has no value defined"), readOnly set
#     twice, options declared twice, and definitions of undeclared options ("does not exist"),
#     reported when the configuration is read, also under a false mkIf.
{ lib }:
let
  inherit (builtins)
    all
    any
    attrNames
    concatLists
    concatStringsSep
    elem
    filter
    foldl'
    functionArgs
    head
    isAttrs
    isBool
    isFunction
    isList
    isPath
    isString
    length
    listToAttrs
    mapAttrs
    removeAttrs
    sort
    tail
    toJSON
    typeOf
    ;
  concatMap = f: xs: concatLists (map f xs);
  imap1 = f: xs: builtins.genList (i: f (i + 1) (builtins.elemAt xs i)) (length xs);

  # ---- rendering of locations and values in messages -------------------------------------
  isIdent = s: builtins.match "[A-Za-z_][A-Za-z0-9_'-]*" s != null;
  showOption = loc: concatStringsSep "." (map (s: if isIdent s then s else toJSON s) loc);
  showValue =
    v:
    let
      r = builtins.tryEval (
        if isFunction v then
          "<function>"
        else if isAttrs v && v ? outPath then
          toString v.outPath
        else
          toJSON v
      );
    in
    if r.success then r.value else "<${typeOf v}>";
  showFiles = files: concatStringsSep ", " (map (f: "`${toString f}'") files);
  showDefs = defs: concatStringsSep "" (map (d: "\n- In `${toString d.file}': ${showValue d.value}") defs);
  prioritySuggestion = "Use `lib.mkForce value` or `lib.mkDefault value` to change the priority on any of these definitions.";

  # ---- properties ---------------------------------------------------------------------------
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
  defaultOverridePriority = 100;
  mkOptionDefault = mkOverride 1500;
  mkDefault = mkOverride 1000;
  mkForce = mkOverride 50;
  mkVMOverride = mkOverride 10;
  mkOrder = priority: content: {
    _type = "order";
    inherit priority content;
  };
  mkBefore = mkOrder 500;
  mkAfter = mkOrder 1500;
  defaultOrderPriority = 1000;

  # mkMerge flattened; mkIf / mkOverride pushed into each attribute of their (attrset) body.
  # Reads the body's attribute names, never the condition.
  pushDownProperties =
    cfg:
    if (cfg._type or "") == "merge" then
      concatMap pushDownProperties cfg.contents
    else if (cfg._type or "") == "if" then
      map (mapAttrs (_: v: mkIf cfg.condition v)) (pushDownProperties cfg.content)
    else if (cfg._type or "") == "override" then
      map (mapAttrs (_: v: mkOverride cfg.priority v)) (pushDownProperties cfg.content)
    else
      [ cfg ];

  # mkMerge flattened, mkIf evaluated: the values that remain at an option.
  dischargeProperties =
    def:
    if (def._type or "") == "merge" then
      concatMap dischargeProperties def.contents
    else if (def._type or "") == "if" then
      if isBool def.condition then
        (if def.condition then dischargeProperties def.content else [ ])
      else
        throw "‘mkIf’ called with a non-Boolean condition"
    else
      [ def ];

  filterOverrides' =
    defs:
    let
      getPrio =
        def: if (def.value._type or "") == "override" then def.value.priority else defaultOverridePriority;
      highestPrio = foldl' (prio: def: let p = getPrio def; in if p < prio then p else prio) 9999 defs;
      strip = def: if (def.value._type or "") == "override" then def // { value = def.value.content; } else def;
    in
    {
      values = concatMap (def: if getPrio def == highestPrio then [ (strip def) ] else [ ]) defs;
      inherit highestPrio;
    };
  filterOverrides = defs: (filterOverrides' defs).values;

  sortProperties =
    defs:
    let
      strip =
        def:
        if (def.value._type or "") == "order" then
          def
          // {
            value = def.value.content;
            inherit (def.value) priority;
          }
        else
          def;
    in
    # builtins.sort is stable: equal priorities keep their definition order.
    sort (a: b: (a.priority or defaultOrderPriority) < (b.priority or defaultOrderPriority)) (
      map strip defs
    );

  # ---- options --------------------------------------------------------------------------------
  isOption = v: isAttrs v && (v._type or null) == "option";
  mkOption = attrs: attrs // { _type = "option"; };
  mkEnableOption =
    name:
    mkOption {
      default = false;
      example = true;
      description = "Whether to enable ${name}.";
      type = lib.types.bool;
    };
  literalExpression = text: {
    _type = "literalExpression";
    inherit text;
  };
  literalMD = text: {
    _type = "literalMD";
    inherit text;
  };

  getValues = map (d: d.value);
  getFiles = map (d: d.file);

  mergeEqualOption =
    loc: defs:
    if defs == [ ] then
      abort "This case should never happen."
    else if length defs == 1 then
      (head defs).value
    else
      (foldl' (
        first: def:
        if def.value != first.value then
          throw "The option `${showOption loc}' has conflicting definition values:${
            showDefs [
              first
              def
            ]
          }\n${prioritySuggestion}"
        else
          first
      ) (head defs) (tail defs)).value;

  mergeUniqueOption =
    message: loc: defs:
    if length defs == 1 then
      (head defs).value
    else
      throw "The option `${showOption loc}' is defined multiple times while it's expected to be unique.${message}\nDefinition values:${showDefs defs}\n${prioritySuggestion}";
  mergeOneOption = mergeUniqueOption "";

  # types.unspecified: one definition, or lists concatenated, sets merged, booleans or'ed,
  # strings concatenated, equal integers.
  mergeDefaultOption =
    loc: defs:
    let
      list = getValues defs;
    in
    if length list == 1 then
      head list
    else if all isFunction list then
      x: mergeDefaultOption loc (map (f: f x) list)
    else if all isList list then
      concatLists list
    else if all isAttrs list then
      foldl' (a: b: a // b) { } list
    else if all isBool list then
      any (x: x) list
    else if all isString list then
      concatStringsSep "" list
    else if all builtins.isInt list && all (x: x == head list) list then
      head list
    else
      throw "Cannot merge definitions of `${showOption loc}'. Definition values:${showDefs defs}";

  # The definitions of one value of `type` at `loc` → the merged value (or its error).
  mergeDefinitions = loc: type: defs: rec {
    defsFinal' =
      let
        defs' = concatMap (
          m:
          map (value: {
            inherit (m) file;
            inherit value;
          }) (builtins.addErrorContext "while evaluating definitions from `${toString m.file}':" (dischargeProperties m.value))
        ) defs;
        defs'' = filterOverrides' defs';
        defs''' =
          if any (def: (def.value._type or "") == "order") defs''.values then
            sortProperties defs''.values
          else
            defs''.values;
      in
      {
        values = defs''';
        inherit (defs'') highestPrio;
      };
    defsFinal = defsFinal'.values;
    isDefined = defsFinal != [ ];
    mergedValue =
      if isDefined then
        if all (def: type.check def.value) defsFinal then
          type.merge loc defsFinal
        else
          let
            allInvalid = filter (def: !type.check def.value) defsFinal;
          in
          throw "A definition for option `${showOption loc}' is not of type `${type.description}'. Definition values:${showDefs allInvalid}"
      else
        throw "The option `${showOption loc}' was accessed but has no value defined. Try setting the option.";
    optionalValue = if isDefined then { value = mergedValue; } else { };
  };

  evalOptionValue =
    loc: opt: defs:
    let
      defs' =
        (
          if opt ? default then
            [
              {
                file = head opt.declarations;
                value = mkOptionDefault opt.default;
              }
            ]
          else
            [ ]
        )
        ++ defs;
      res =
        if (opt.readOnly or false) && length defs' > 1 then
          let
            separateDefs = map (def: def // { value = (mergeDefinitions loc opt.type [ def ]).mergedValue; }) defs';
          in
          throw "The option `${showOption loc}' is read-only, but it's set multiple times. Definition values:${showDefs separateDefs}"
        else
          mergeDefinitions loc opt.type defs';
      value = if opt ? apply then opt.apply res.mergedValue else res.mergedValue;
    in
    opt
    // {
      value = builtins.addErrorContext "while evaluating the option `${showOption loc}':" value;
      inherit (res.defsFinal') highestPrio;
      definitions = map (def: def.value) res.defsFinal;
      files = map (def: def.file) res.defsFinal;
      definitionsWithLocations = res.defsFinal;
      inherit (res) isDefined;
      inherit loc;
    };

  # Several modules may declare sub-options under one name; one option is declared once.
  mergeOptionDecls =
    loc: decls:
    foldl' (
      res: d:
      let
        o = d.options;
        bothHave = k: o ? ${k} && res ? ${k};
      in
      if bothHave "default" || bothHave "type" || bothHave "apply" || bothHave "description" then
        throw "The option `${showOption loc}' in `${toString d._file}' is already declared in ${showFiles res.declarations}."
      else
        o
        // res
        // {
          declarations = res.declarations ++ [ d._file ];
        }
    ) { declarations = [ ]; } decls;

  byName =
    attr: f: modules:
    foldl' (acc: module: acc // mapAttrs (n: v: (acc.${n} or [ ]) ++ f module v) module.${attr}) { } modules;

  mergeModules =
    prefix: modules:
    mergeModules' prefix modules (
      concatMap (
        m:
        map (config: {
          file = m._file;
          inherit config;
        }) (pushDownProperties m.config)
      ) modules
    );

  mergeModules' =
    prefix: options: configs:
    let
      declsByName = byName "options" (module: option: [
        {
          inherit (module) _file;
          options = option;
        }
      ]) options;
      # Definitions pushed down one level (read only where `name` is a set of options).
      defnsByName = byName "config" (
        module: value:
        map (config: {
          inherit (module) file;
          inherit config;
        }) (pushDownProperties value)
      ) checkedConfigs;
      # Raw definitions (for options, and for the unmatched-definitions report).
      defnsByName' = byName "config" (module: value: [
        {
          inherit (module) file;
          inherit value;
        }
      ]) checkedConfigs;
      checkedConfigs = map (
        c:
        if isAttrs c.config then
          c
        else
          throw "You're trying to define a value of type `${typeOf c.config}' rather than an attribute set for the option `${showOption prefix}'! This usually happens if `${showOption prefix}' has option definitions inside that are not matched. Please check how to properly define this option by e.g. referring to `man 5 configuration.nix'!"
      ) configs;

      resultsByName = mapAttrs (
        name: decls:
        let
          loc = prefix ++ [ name ];
          defns = defnsByName.${name} or [ ];
          defns' = defnsByName'.${name} or [ ];
          nrOptions = length (filter (m: isOption m.options) decls);
        in
        if nrOptions == length decls then
          let
            opt = fixupOptionType (mergeOptionDecls loc decls);
          in
          {
            matchedOptions = evalOptionValue loc opt defns';
            unmatchedDefns = [ ];
          }
        else if nrOptions != 0 then
          let
            firstOption = head (filter (m: isOption m.options) decls);
            firstNonOption = head (filter (m: !isOption m.options) decls);
          in
          throw "The option `${showOption loc}' in `${toString firstOption._file}' is a prefix of options in `${toString firstNonOption._file}'."
        else
          mergeModules' loc decls defns
      ) declsByName;

      matchedOptions = mapAttrs (_: v: v.matchedOptions) resultsByName;
      unmatchedDefnsByName =
        mapAttrs (_: v: v.unmatchedDefns) resultsByName // removeAttrs defnsByName' (attrNames matchedOptions);
    in
    {
      inherit matchedOptions;
      unmatchedDefns = concatLists (
        map (
          name:
          map (def: def // { prefix = [ name ] ++ (def.prefix or [ ]); }) unmatchedDefnsByName.${name}
        ) (attrNames unmatchedDefnsByName)
      );
    };

  fixupOptionType = opt: opt // { type = opt.type or lib.types.unspecified; };

  # ---- loading modules -----------------------------------------------------------------------
  unifyModuleSyntax =
    file: key: m:
    let
      special = [
        "_class"
        "_file"
        "key"
        "disabledModules"
        "imports"
        "options"
        "config"
        "meta"
        "freeformType"
      ];
    in
    if !(isAttrs m) then
      throw "Module `${key}' is of type `${typeOf m}', but a module must be an attribute set or a function that returns one."
    else if m ? config || m ? options then
      let
        badAttrs = removeAttrs m special;
      in
      if badAttrs != { } then
        throw "Module `${key}' has an unsupported attribute `${head (attrNames badAttrs)}'. This is caused by introducing a top-level `config' or `options' attribute. Add configuration attributes immediately on the top level instead, or move all of them (namely: ${toString (attrNames badAttrs)}) into the explicit `config' attribute."
      else
        {
          _file = toString (m._file or file);
          key = toString (m.key or key);
          disabledModules = m.disabledModules or [ ];
          imports = m.imports or [ ];
          options = m.options or { };
          config = m.config or { };
        }
    else
      {
        _file = toString (m._file or file);
        key = toString (m.key or key);
        disabledModules = m.disabledModules or [ ];
        imports = m.imports or [ ];
        options = { };
        config = removeAttrs m special;
      };

  # Calls a function module with the arguments it names: specialArgs first, then
  # config._module.args (each looked up only when used, like nixpkgs' applyModuleArgs).
  applyModuleArgs =
    key: f: args:
    if isFunction f then
      let
        extraArgs = mapAttrs (
          name: _:
          builtins.addErrorContext "while evaluating the module argument `${name}' in \"${key}\":" (
            args.${name} or args.config._module.args.${name}
          )
        ) (functionArgs f);
      in
      f (args // extraArgs)
    else
      f;

  loadModule =
    args: fallbackFile: fallbackKey: m:
    if isFunction m || isAttrs m then
      unifyModuleSyntax fallbackFile fallbackKey (applyModuleArgs fallbackKey m args)
    else if isPath m || isString m then
      unifyModuleSyntax (toString m) (toString m) (applyModuleArgs (toString m) (import m) args)
    else
      throw "Module `${fallbackKey}' is of type `${typeOf m}': expected a path, a function or an attribute set.";

  # Every module reachable through `imports`, once per key, minus disabledModules (by key).
  collectModules =
    initialModules: args:
    let
      load =
        parentFile: parentKey: ms:
        imap1 (
          n: x:
          let
            module = loadModule args parentFile "${parentKey}:anon-${toString n}" x;
          in
          {
            inherit (module) key;
            inherit module;
            children = load module._file module.key module.imports;
          }
        ) ms;
      closure = builtins.genericClosure {
        startSet = load "<unknown-file>" "" initialModules;
        operator = e: e.children;
      };
      disabled = map toString (concatMap (e: e.module.disabledModules) closure);
    in
    map (e: e.module) (filter (e: !(elem e.key disabled)) closure);

  evalModules =
    evalArgs@{
      modules,
      prefix ? [ ],
      specialArgs ? { },
      class ? null,
    }:
    let
      internalModule = {
        _file = "<stand-in lib/modules.nix>";
        key = "<stand-in lib/modules.nix>";
        options._module.args = mkOption {
          type = lib.types.lazyAttrsOf lib.types.raw;
          internal = true;
          description = "Arguments passed to each module.";
        };
        options._module.check = mkOption {
          type = lib.types.bool;
          internal = true;
          default = true;
          description = "Whether to check whether all option definitions have matching declarations.";
        };
        config._module.args = {
          inherit extendModules;
        };
      };
      collected = collectModules (modules ++ [ internalModule ]) (
        {
          inherit lib options config specialArgs;
        }
        // specialArgs
      );
      merged = mergeModules prefix (lib.reverseList collected);
      options = merged.matchedOptions;
      declaredConfig = mapAttrsRecursiveCond (v: !isOption v) (v: v.value) options;
      config = declaredConfig;
      checkUnmatched =
        if config._module.check && merged.unmatchedDefns != [ ] then
          let
            firstDef = head merged.unmatchedDefns;
          in
          throw "The option `${showOption (prefix ++ firstDef.prefix)}' does not exist. Definition values:${showDefs [ firstDef ]}"
        else
          null;
      checked = builtins.seq checkUnmatched;
      extendModules =
        extendArgs@{
          modules ? [ ],
          specialArgs ? { },
          prefix ? [ ],
        }:
        evalModules (
          evalArgs
          // {
            modules = evalArgs.modules ++ modules;
            specialArgs = (evalArgs.specialArgs or { }) // specialArgs;
            prefix = extendArgs.prefix or evalArgs.prefix or [ ];
          }
        );
    in
    {
      _type = "configuration";
      options = checked options;
      config = checked (removeAttrs config [ "_module" ]);
      _module = checked config._module;
      inherit extendModules;
      inherit class;
    };

  mapAttrsRecursiveCond =
    cond: f: set:
    mapAttrs (_: v: if isAttrs v && cond v then mapAttrsRecursiveCond cond f v else f v) set;
in
{
  inherit
    evalModules
    collectModules
    unifyModuleSyntax
    pushDownProperties
    dischargeProperties
    filterOverrides
    filterOverrides'
    sortProperties
    mergeDefinitions
    evalOptionValue
    mkIf
    mkMerge
    mkOverride
    mkOptionDefault
    mkDefault
    mkForce
    mkVMOverride
    mkOrder
    mkBefore
    mkAfter
    defaultOverridePriority
    defaultOrderPriority
    isOption
    mkOption
    mkEnableOption
    literalExpression
    literalMD
    mergeEqualOption
    mergeOneOption
    mergeUniqueOption
    mergeDefaultOption
    getValues
    getFiles
    showOption
    showFiles
    showDefs
    ;
}
