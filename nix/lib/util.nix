# Small helpers for the pure core: builtins only (no nixpkgs `lib`), so that every file in
# nix/lib/ can be evaluated with a bare `nix-instantiate --eval --strict --json`.
let
  inherit (builtins)
    add
    bitAnd
    elem
    foldl'
    genList
    head
    match
    stringLength
    substring
    tail
    ;

  digits = {
    "0" = 0;
    "1" = 1;
    "2" = 2;
    "3" = 3;
    "4" = 4;
    "5" = 5;
    "6" = 6;
    "7" = 7;
    "8" = 8;
    "9" = 9;
  };
  chars = s: genList (i: substring i 1 s) (stringLength s);

  # Digits in `base` (≤ 10) to an integer; throws on anything else. Leading zeros are fine
  # (unlike builtins.fromJSON), which matters for "0600" and "010".
  parseBase =
    base: s:
    if s == "" then
      throw "k8ops: expected a number, got an empty string"
    else
      foldl' (
        acc: c:
        if digits ? ${c} && digits.${c} < base then
          acc * base + digits.${c}
        else
          throw "k8ops: \"${s}\" is not a base-${toString base} number"
      ) 0 (chars s);

  pow = b: e: foldl' (acc: _: acc * b) 1 (genList (x: x) e);

  hasPrefix = p: s: substring 0 (stringLength p) s == p;
  hasSuffix =
    x: s:
    let
      lx = stringLength x;
      ls = stringLength s;
    in
    ls >= lx && substring (ls - lx) lx s == x;
  removeSuffix =
    x: s: if hasSuffix x s then substring 0 (stringLength s - stringLength x) s else s;

  # Order-keeping de-duplication (first occurrence wins), like `[...new Set(xs)]`.
  unique = foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ];

  concatMap = f: xs: builtins.concatLists (map f xs);
  optional = c: x: if c then [ x ] else [ ];
  optionals = c: xs: if c then xs else [ ];
  optionalAttrs = c: a: if c then a else { };

  # setAttrByPath ["a" "b"] v → { a.b = v; }
  setAttrByPath =
    path: value:
    if path == [ ] then value else { ${head path} = setAttrByPath (tail path) value; };

  # Deep merge of attribute sets (right wins on leaves); lists and scalars are replaced.
  recursiveMerge =
    a: b:
    a
    // builtins.mapAttrs (
      n: v:
      if a ? ${n} && builtins.isAttrs a.${n} && builtins.isAttrs v then recursiveMerge a.${n} v else v
    ) b;
  mergeAll = foldl' recursiveMerge { };

  # First host address of an IPv4 CIDR ("10.96.0.0/12" → "10.96.0.1"), null for anything
  # else — exactly src/pki/layout.ts firstServiceIP (masks to the network first; /31 and
  # /32 are refused).
  firstServiceIP =
    cidr:
    let
      m = match "([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})/([0-9]{1,2})" cidr;
      octets = map (parseBase 10) (genList (i: builtins.elemAt m i) 4);
      bits = parseBase 10 (builtins.elemAt m 4);
      n = foldl' (acc: o: acc * 256 + o) 0 octets;
      mask = if bits == 0 then 0 else pow 2 32 - pow 2 (32 - bits);
      first = bitAnd n mask + 1;
      octet = shift: toString (bitAnd (first / pow 2 shift) 255);
    in
    if m == null then
      null
    else if builtins.any (o: o > 255) octets || bits > 30 then
      null
    else
      "${octet 24}.${octet 16}.${octet 8}.${octet 0}";

  # What nixpkgs' addons/dns.nix does for the CoreDNS service IP: the first three dotted
  # parts of the service range, then ".254" (10.96.0.0/12 → 10.96.0.254).
  dnsServiceIP =
    cidr:
    let
      m = match "([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\..*" cidr;
    in
    if m == null then null else "${builtins.concatStringsSep "." m}.254";

  # Bracket IPv6 literals for URLs.
  urlHost = a: if match ".*:.*" a != null then "[${a}]" else a;

  sum = foldl' add 0;
in
{
  inherit
    chars
    concatMap
    dnsServiceIP
    firstServiceIP
    hasPrefix
    hasSuffix
    mergeAll
    optional
    optionalAttrs
    optionals
    parseBase
    pow
    recursiveMerge
    removeSuffix
    setAttrByPath
    sum
    unique
    urlHost
    ;
  parseOctal = parseBase 8;
  parseDecimal = parseBase 10;
}
