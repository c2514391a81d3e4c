# shellcheck shell=bash
# Variables set here are read by the scripts that source this file, which shellcheck cannot
# see when it checks lib.sh on its own:
# shellcheck disable=SC2034
# lib.sh: helpers shared by the k8ops PKI scripts (nix/pki/*.sh). Sourced, never run.
#
# Conventions every script follows:
# - set -euo pipefail, umask 077 (keys are born 0600), never eval;
# - every argument is validated before use (node names, ids, roles, addresses, paths);
# - files are written to a temporary file in the destination directory, then renamed;
# - the layout (layout.json) is the single source of truth, read with jq.

# BASH_SOURCE is empty when k8ops runs status.sh from stdin (`bash -s`, lib.sh inlined):
# then the defaults below point nowhere useful, and status.sh is given --pki-dir.
PKI_LIB_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]:-$0}")" && pwd -P)
PROG=${0##*/}
DEFAULT_LAYOUT="$PKI_LIB_DIR/layout.json"
DEFAULT_CFSSL_CONFIG="$PKI_LIB_DIR/cfssl-config.json"
LAYOUT=""
# Field separator for multi-field jq output (never in validated values; not IFS whitespace,
# so empty fields survive `read`).
US=$'\x1f'
# openssl x509 loads the system CA store on every run (~15 ms); and nothing here may trust
# it: verification is against our own bundles only.
export SSL_CERT_FILE=/dev/null SSL_CERT_DIR=/nonexistent

# ---------------------------------------------------------------------------------------
# Messages

die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
info() { printf '%s: %s\n' "$PROG" "$*" >&2; }
usage_error() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  printf "Try '%s -h' for usage.\n" "$PROG" >&2
  exit 2
}
# need_value OPTION REMAINING_ARGC: an option's value must follow it.
need_value() {
  [[ $2 -ge 2 ]] || usage_error "option $1 needs a value"
}
need_tools() {
  local t
  for t in "$@"; do
    command -v -- "$t" >/dev/null 2>&1 || die "required tool '$t' is not installed (or not in PATH)"
  done
}

# ---------------------------------------------------------------------------------------
# Temporary files: removed on exit, whatever happens.

_CLEANUP=()
_cleanup() {
  local p
  for p in "${_CLEANUP[@]}"; do
    [[ -n $p ]] && rm -rf -- "$p"
  done
  return 0
}
trap _cleanup EXIT
# A private scratch directory (0700) for public intermediate files (CSRs, certs, JSON).
SCRATCH=""
make_scratch() {
  if [[ -z $SCRATCH ]]; then
    SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/k8ops-pki.XXXXXXXX")
    _CLEANUP+=("$SCRATCH")
  fi
}
# tmp_beside DEST: a new empty temp file in DEST's directory (so the final mv is a rename).
tmp_beside() {
  local dest=$1 t
  t=$(mktemp "$(dirname -- "$dest")/.$(basename -- "$dest").tmp.XXXXXX")
  _CLEANUP+=("$t")
  printf '%s\n' "$t"
}
# commit TMP DEST: atomically rename TMP over DEST (never into DEST if it is a directory).
commit() {
  [[ -d $2 && ! -L $2 ]] && die "$2 is a directory"
  mv -f -T -- "$1" "$2"
}

# set_owner FILE OWNER GROUP [SHOWN_AS [quiet]]: chown when running as root and the user
# exists; otherwise say (unless quiet) why the file keeps its current owner.
set_owner() {
  local f=$1 owner=$2 group=$3 shown=${4:-$1} quiet=${5:-}
  [[ -z $owner ]] && return 0
  if [[ $EUID -eq 0 ]]; then
    if ! id -u -- "$owner" >/dev/null 2>&1; then
      [[ -n $quiet ]] || warn "user '$owner' does not exist here: $shown stays owned by root (chown $owner:$group it once the user exists)"
    elif ! chown -- "$owner:$group" "$f" 2>/dev/null; then
      chown -- "$owner" "$f" || die "cannot chown $shown to $owner"
      warn "group '$group' does not exist here: $shown is owned by $owner with root's group"
    fi
  elif [[ $(id -un) != "$owner" && -z $quiet ]]; then
    warn "not running as root: $shown stays owned by $(id -un), the layout wants $owner:$group"
  fi
}

# write_file SRC DEST MODE [OWNER GROUP]: copy SRC's bytes to DEST atomically.
write_file() {
  local src=$1 dest=$2 mode=$3 owner=${4:-} group=${5:-} t
  t=$(tmp_beside "$dest")
  cat -- "$src" >"$t"
  chmod -- "$mode" "$t"
  set_owner "$t" "$owner" "$group" "$dest"
  commit "$t" "$dest"
}
# copy_preserving SRC DEST: atomic copy keeping mode and owner (used for .prev files).
copy_preserving() {
  local t
  t=$(tmp_beside "$2")
  cp -p -- "$1" "$t"
  commit "$t" "$2"
}

# make_dir MODE DIR: create DIR with MODE when missing; missing parents get 0755 (a PKI dir
# under /etc must stay traversable by the service users).
make_dir() {
  [[ -d $2 ]] && return 0
  (umask 022 && mkdir -p -- "$(dirname -- "$2")")
  mkdir -m "$1" -- "$2"
}

# same_content A B: both are readable files with identical bytes (coreutils only).
same_content() {
  local a b
  [[ -f $1 && -f $2 ]] || return 1
  a=$(sha256sum <"$1") && b=$(sha256sum <"$2") || return 1
  [[ $a == "$b" ]]
}

# ---------------------------------------------------------------------------------------
# Validation of values that end up in file names, subjects and SANs.

IPV4_OCTET='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
IPV4_RE="^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}\$"
NODE_RE='^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'
ID_RE='^[a-z0-9][a-z0-9-]{0,63}$'
LABEL_RE='^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$'

is_node_name() { [[ $1 =~ $NODE_RE ]]; }
is_id() { [[ $1 =~ $ID_RE ]]; }
is_role() { [[ $1 == control-plane || $1 == worker || $1 == etcd ]]; }
is_ipv4() { [[ $1 =~ $IPV4_RE ]]; }

# ip6_expand ADDR: print ADDR as eight 4-digit lowercase hex groups; fail when ADDR is not
# an IPv6 literal (no brackets, no zone id; a dotted IPv4 tail is allowed).
ip6_expand() {
  local a=${1,,} v4 o1 o2 o3 o4 head tail g n i
  local -a hg=() tg=() all=()
  [[ ${#a} -ge 2 && ${#a} -le 45 && $a =~ ^[0-9a-f:.]+$ && $a == *:* ]] || return 1
  if [[ $a == *.* ]]; then
    v4=${a##*:}
    is_ipv4 "$v4" || return 1
    IFS=. read -r o1 o2 o3 o4 <<<"$v4"
    a="${a%:*}:$(printf '%x:%x' $(((o1 << 8) | o2)) $(((o3 << 8) | o4)))"
  fi
  [[ $a == *::*::* ]] && return 1
  if [[ $a == *::* ]]; then
    head=${a%%::*}
    tail=${a#*::}
    [[ $head == :* || $head == *: || $tail == :* || $tail == *: ]] && return 1
    [[ -n $head ]] && IFS=: read -r -a hg <<<"$head"
    [[ -n $tail ]] && IFS=: read -r -a tg <<<"$tail"
    n=$((${#hg[@]} + ${#tg[@]}))
    [[ $n -le 7 ]] || return 1
    all=("${hg[@]}")
    for ((i = n; i < 8; i++)); do all+=(0); done
    all+=("${tg[@]}")
  else
    [[ $a == :* || $a == *: ]] && return 1
    IFS=: read -r -a all <<<"$a"
    [[ ${#all[@]} -eq 8 ]] || return 1
  fi
  local -a _groups=()
  for g in "${all[@]}"; do
    [[ $g =~ ^[0-9a-f]{1,4}$ ]] || return 1
    _groups+=("$(printf '%04x' $((16#$g)))")
  done
  (
    IFS=:
    printf '%s\n' "${_groups[*]}"
  )
}
is_ipv6() { ip6_expand "$1" >/dev/null; }
is_ip() { is_ipv4 "$1" || is_ipv6 "$1"; }
# RFC 1123 host name (not all-numeric), ≤ 253.
is_hostname() {
  local h=$1 label
  [[ -n $h && ${#h} -le 253 && ! $h =~ ^[0-9.]+$ && $h != *. && $h != .* && $h != *..* ]] || return 1
  local IFS=.
  for label in $h; do
    [[ $label =~ $LABEL_RE ]] || return 1
  done
}
# A DNS SAN: a host name, optionally a wildcard "*.name".
is_dns_san() { is_hostname "${1#\*.}"; }
# Paths: non-empty, bounded, no control characters.
is_safe_path() { [[ -n $1 && ${#1} -le 4096 && $1 != *[[:cntrl:]]* ]]; }
# abspath PATH: PATH made absolute (not resolved), so that it can never be read as an option.
abspath() {
  if [[ $1 == /* ]]; then printf '%s\n' "$1"; else printf '%s\n' "$PWD/$1"; fi
}
# check_path OPTION VALUE: validated absolute path on stdout.
check_path() {
  is_safe_path "$2" || usage_error "$1: expected a path without control characters, got '$2'"
  abspath "$2"
}
# split_csv VALUE ARRAY_NAME: comma-separated list into an array (empty value → empty array).
split_csv() {
  local -n _out=$2
  _out=()
  [[ -z $1 ]] && return 0
  [[ $1 == *,,* || $1 == ,* || $1 == *, ]] && usage_error "empty element in list '$1'"
  IFS=, read -r -a _out <<<"$1"
}
check_node() { is_node_name "$1" || usage_error "invalid node name '$1': expected a DNS label (lowercase letters, digits, '-', at most 63)"; }
check_id() { is_id "$1" || usage_error "invalid id '$1': expected lowercase letters, digits and '-'"; }
check_roles() {
  local r
  [[ $# -gt 0 ]] || usage_error "no roles given: expected a comma-separated list of control-plane, worker, etcd"
  for r in "$@"; do is_role "$r" || usage_error "invalid role '$r': expected control-plane, worker or etcd"; done
}
check_addresses() {
  local a
  for a in "$@"; do is_ip "$a" || usage_error "invalid address '$a': expected an IPv4 or IPv6 address"; done
}
check_cluster_domain() { is_hostname "$1" || usage_error "invalid cluster domain '$1'"; }
check_apiserver_address() { is_ip "$1" || is_hostname "$1" || usage_error "invalid API server address '$1': expected an IP address or a host name"; }
check_service_cidr() {
  [[ $1 =~ ^([0-9a-fA-F:.]+)/([0-9]{1,3})$ ]] || usage_error "invalid service CIDR '$1'"
  is_ip "${BASH_REMATCH[1]}" || usage_error "invalid service CIDR '$1'"
}

# first_service_ip CIDR: the first host address of an IPv4 CIDR (10.96.0.0/12 → 10.96.0.1);
# prints nothing for anything else (IPv6, prefix longer than /30). Same as firstServiceIP()
# in src/pki/layout.ts.
first_service_ip() {
  [[ $1 =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})/([0-9]{1,2})$ ]] || return 0
  local o1=$((10#${BASH_REMATCH[1]})) o2=$((10#${BASH_REMATCH[2]})) o3=$((10#${BASH_REMATCH[3]}))
  local o4=$((10#${BASH_REMATCH[4]})) bits=$((10#${BASH_REMATCH[5]})) n mask first
  ((o1 <= 255 && o2 <= 255 && o3 <= 255 && o4 <= 255 && bits <= 30)) || return 0
  n=$(((o1 << 24) | (o2 << 16) | (o3 << 8) | o4))
  if ((bits == 0)); then mask=0; else mask=$(((0xffffffff << (32 - bits)) & 0xffffffff)); fi
  first=$(((n & mask) + 1))
  printf '%d.%d.%d.%d\n' $(((first >> 24) & 255)) $(((first >> 16) & 255)) $(((first >> 8) & 255)) $((first & 255))
}

# ---------------------------------------------------------------------------------------
# The layout

# Validation of the fields the scripts use (mirrors parseLayout in src/pki/layout.ts, plus
# character rules for subjects and SANs, which end up in openssl's -subj and -addext).
# shellcheck disable=SC2016 # jq programs: the $names are jq variables, not shell ones.
LAYOUT_CHECK_JQ='
def idok: type == "string" and test("^[a-z0-9][a-z0-9-]{0,63}$");
def relpath: type == "string" and test("^[A-Za-z0-9._-][A-Za-z0-9._/-]*$") and (any(split("/")[]; . == "..") | not);
def userok: type == "string" and test("^[a-z_][a-z0-9_-]{0,31}$");
def modeok: type == "string" and test("^0[0-7]{3}$");
def keymodeok: . == "0600" or . == "0400";
def subjok: type == "string" and test("^[A-Za-z0-9:._@{}-]([A-Za-z0-9:._@{} -]*[A-Za-z0-9:._@{}-])?$");
def sanok: type == "string" and test("^[A-Za-z0-9.*:{}_-]+$");
def rolesok: type == "array" and all(.[]; . == "control-plane" or . == "worker" or . == "etcd");
def ownerok($w): if (.keyOwner.owner | userok) and (.keyOwner.group | userok) and (.keyOwner.mode | modeok and keymodeok)
  then empty else "\($w).keyOwner: expected {owner, group, mode: \"0600\" or \"0400\"}" end;
(if .version != 1 then "version: expected 1" else empty end),
(if (.pkiDir | type) == "string" and (.pkiDir | startswith("/")) then empty else "pkiDir: expected an absolute path" end),
(if (.caDir | type) == "string" and (.caDir | startswith("/")) then empty else "caDir: expected an absolute path" end),
(if (.defaults.clusterDomain | type) == "string" and (.defaults.serviceCIDR | type) == "string" then empty else "defaults: expected clusterDomain and serviceCIDR" end),
(if [.cas, .bundles, .certs, .keypairs] | all(type == "array") then
  ([.cas[].id] as $caids
  | (.cas | to_entries[] | .key as $i | .value
     | (if .id | idok then empty else "cas[\($i)].id: invalid" end),
       (if .parent == null or ([.parent] | inside($caids)) then empty else "cas[\($i)].parent: unknown CA" end),
       (if .cn | subjok then empty else "cas[\($i)].cn: invalid" end),
       (if (.o | type) == "array" and all(.o[]; subjok) then empty else "cas[\($i)].o: invalid" end),
       (if .profile | idok then empty else "cas[\($i)].profile: invalid" end)),
    (.bundles | to_entries[] | .key as $i | .value
     | (if .id | idok then empty else "bundles[\($i)].id: invalid" end),
       (if .path | relpath then empty else "bundles[\($i)].path: expected a relative path without \"..\"" end),
       (if .roles | rolesok then empty else "bundles[\($i)].roles: expected control-plane, worker, etcd" end),
       (if .mode | modeok then empty else "bundles[\($i)].mode: invalid" end),
       (if (.cas | type) == "array" and (.cas | inside($caids)) then empty else "bundles[\($i)].cas: unknown CA" end)),
    (.certs | to_entries[] | .key as $i | .value
     | (if .id | idok then empty else "certs[\($i)].id: invalid" end),
       (if (.cert | relpath) and (.key | relpath) then empty else "certs[\($i)]: cert/key: expected relative paths without \"..\"" end),
       (if [.ca] | inside($caids) then empty else "certs[\($i)].ca: unknown CA" end),
       (if .profile == "server" or .profile == "client" or .profile == "peer" then empty else "certs[\($i)].profile: expected server, client or peer" end),
       (if .cn | subjok then empty else "certs[\($i)].cn: invalid characters" end),
       (if (.o | type) == "array" and all(.o[]; subjok) then empty else "certs[\($i)].o: invalid" end),
       (if (.sans | type) == "array" and all(.sans[]; sanok) then empty else "certs[\($i)].sans: invalid" end),
       (if .roles | rolesok then empty else "certs[\($i)].roles: expected control-plane, worker, etcd" end),
       (if (.enabled | type) == "boolean" then empty else "certs[\($i)].enabled: expected a boolean" end),
       ownerok("certs[\($i)]")),
    (.keypairs | to_entries[] | .key as $i | .value
     | (if .id | idok then empty else "keypairs[\($i)].id: invalid" end),
       (if (.key | relpath) and (.pub | relpath) then empty else "keypairs[\($i)]: key/pub: expected relative paths without \"..\"" end),
       (if .algo == "ecdsa" and (.size == 256 or .size == 384 or .size == 521) then empty else "keypairs[\($i)]: expected algo ecdsa with size 256, 384 or 521" end),
       (if .roles | rolesok then empty else "keypairs[\($i)].roles: expected control-plane, worker, etcd" end),
       ownerok("keypairs[\($i)]")),
    ([.cas[].id, .bundles[].id, .certs[].id, .keypairs[].id] | group_by(.)[] | select(length > 1) | "duplicate id \"\(.[0])\""))
 else "cas, bundles, certs, keypairs: expected arrays" end)
'

# SAN expansion, exactly as expandSans() in src/pki/layout.ts: "{nodeAddresses}" alone
# expands to one entry per address; other templates have {node} and {var} replaced and are
# dropped when any variable is unset or empty; duplicates removed, first occurrence kept.
# shellcheck disable=SC2016 # a jq program: its $names are jq variables
EXPAND_JQ='
def expand_sans($node; $addrs; $vars):
  reduce (.[] as $t
    | if $t == "{nodeAddresses}" then $addrs[]
      else [$t | scan("\\{([A-Za-z0-9_]+)\\}") | .[0]] as $names
        | if all($names[]; if . == "node" then $node != "" else ($vars[.] // "") != "" end)
          then $t | gsub("\\{(?<v>[A-Za-z0-9_]+)\\}"; if .v == "node" then $node else $vars[.v] end)
          else empty end
      end) as $s ([]; if any(.[]; . == $s) then . else . + [$s] end);
def applies($roles): any(.roles[]; . as $r | any($roles[]; . == $r));
'

# load_layout FILE: validate the layout (one jq run) and read its defaults into
# LAYOUT_PKI_DIR, LAYOUT_CA_DIR, LAYOUT_CLUSTER_DOMAIN, LAYOUT_SERVICE_CIDR, LAYOUT_ROOT_ID.
# Later queries (lq) read $LAYOUT.
LAYOUT_PKI_DIR=""
LAYOUT_CA_DIR=""
LAYOUT_CLUSTER_DOMAIN=""
LAYOUT_SERVICE_CIDR=""
LAYOUT_ROOT_ID=""
load_layout() {
  local f=$1 out
  [[ -f $f && -r $f ]] || die "layout file not found or unreadable: $f"
  out=$(jq -r 'if type != "object" then "!the layout is not a JSON object"
    else [ '"$LAYOUT_CHECK_JQ"' ] as $p
      | if ($p | length) > 0 then "!" + ($p | join("\n"))
        else [.pkiDir, .caDir, .defaults.clusterDomain, .defaults.serviceCIDR,
              ([.cas[] | select(.parent == null)][0].id // "")] | join("\u001f") end
    end' "$f" 2>/dev/null) || die "layout $f is not valid JSON"
  if [[ $out == '!'* ]]; then
    printf '%s: error: invalid layout %s:\n' "$PROG" "$f" >&2
    local line
    while IFS= read -r line; do printf '  %s\n' "$line" >&2; done <<<"${out#!}"
    exit 1
  fi
  IFS=$US read -r LAYOUT_PKI_DIR LAYOUT_CA_DIR LAYOUT_CLUSTER_DOMAIN LAYOUT_SERVICE_CIDR LAYOUT_ROOT_ID <<<"$out"
  LAYOUT=$f
}
# lq JQ_PROGRAM [jq args…]: query the layout (raw output).
lq() {
  local prog=$1
  shift
  jq -r "$@" "$EXPAND_JQ $prog" "$LAYOUT"
}

# Cluster parameters used by SAN templates; set by the scripts from their options.
NODE_NAME=""
NODE_ROLES=()
NODE_ADDRESSES=()
CLUSTER_DOMAIN=""
SERVICE_CIDR=""
APISERVER_ADDRESS=""

# json_array VALUE…: a JSON array of strings.
json_array() {
  jq -cn '$ARGS.positional' --args "$@"
}

# plan_certs [ID]: one line per enabled certificate this node needs (or just ID, when given,
# whatever the roles), fields separated by \x1f:
# id cert key ca profile cn o(,-joined) sans(,-joined) owner group mode needsNode needsAddrs
# enabled roles(,-joined)
plan_certs() {
  local only=${1:-}
  # shellcheck disable=SC2016 # a jq program: its $names are jq variables
  lq '($rolescsv | if . == "" then [] else split(",") end) as $roles
    | ($addrscsv | if . == "" then [] else split(",") end) as $addrs
    | {clusterDomain: $domain, serviceIP: $svcip, apiserverAddress: $api} as $vars
    | .certs[]
    | if $only != "" then select(.id == $only) else select(.enabled and applies($roles)) end
    | [ .id, .cert, .key, .ca, .profile, (.cn | gsub("\\{node\\}"; $node)), (.o | join(",")),
        (.sans | expand_sans($node; $addrs; $vars) | join(",")),
        .keyOwner.owner, .keyOwner.group, .keyOwner.mode,
        ((.cn | test("\\{node\\}")) or any(.sans[]; test("\\{node\\}")) | tostring),
        (any(.sans[]; . == "{nodeAddresses}") | tostring),
        (.enabled | tostring), (.roles | join(",")) ]
    | join("\u001f")' \
    --arg only "$only" --arg node "$NODE_NAME" \
    --arg rolescsv "$(IFS=, && printf '%s' "${NODE_ROLES[*]}")" \
    --arg addrscsv "$(IFS=, && printf '%s' "${NODE_ADDRESSES[*]}")" \
    --arg domain "${CLUSTER_DOMAIN:-$LAYOUT_CLUSTER_DOMAIN}" \
    --arg svcip "$(first_service_ip "${SERVICE_CIDR:-$LAYOUT_SERVICE_CIDR}")" \
    --arg api "$APISERVER_ADDRESS"
}

# ---------------------------------------------------------------------------------------
# Certificates and keys (openssl only: these run on nodes)

EC_CURVE_521='secp521r1'

# gen_ec_key FILE [SIZE]: a new EC private key (PKCS#8 PEM) written to FILE (mode from umask).
gen_ec_key() {
  local curve=P-521
  case ${2:-521} in
    256) curve=P-256 ;; 384) curve=P-384 ;; 521) curve=P-521 ;; *) die "unsupported EC size $2" ;;
  esac
  openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -pkeyopt ec_param_enc:named_curve \
    -out "$1" 2>/dev/null || die "openssl could not generate an EC key"
}
# key_curve FILE: the ASN1 OID name of a private key's curve (secp521r1…), fails if unreadable.
key_curve() {
  local t
  t=$(openssl pkey -in "$1" -passin pass: -noout -text_pub 2>/dev/null) || return 1
  [[ $t =~ ASN1\ OID:\ ([A-Za-z0-9-]+) ]] || return 1
  printf '%s\n' "${BASH_REMATCH[1]}"
}
# Public-key digests: hex SHA-256 of the DER SubjectPublicKeyInfo.
spki_sha256_of_key() {
  local d
  d=$(openssl pkey -in "$1" -passin pass: -pubout -outform DER 2>/dev/null | sha256sum) || return 1
  printf '%s\n' "${d%% *}"
}
spki_sha256_of_cert() {
  local d
  d=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null | sha256sum) || return 1
  printf '%s\n' "${d%% *}"
}
spki_sha256_of_pub() {
  local d
  d=$(openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | sha256sum) || return 1
  printf '%s\n' "${d%% *}"
}

# split_pem FILE PREFIX: write each CERTIFICATE block of FILE, re-encoded by openssl, to
# PREFIX.0.pem, PREFIX.1.pem, …; print the count. Pure bash + openssl.
split_pem() {
  local file=$1 prefix=$2 line n=0 in=0 buf=""
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    if [[ $in -eq 0 && $line == '-----BEGIN CERTIFICATE-----' ]]; then
      in=1
      buf="$line"$'\n'
    elif [[ $in -eq 1 ]]; then
      buf+="$line"$'\n'
      if [[ $line == '-----END CERTIFICATE-----' ]]; then
        printf '%s' "$buf" | openssl x509 -out "$prefix.$n.pem" 2>/dev/null || return 1
        n=$((n + 1))
        in=0
      fi
    fi
  done <"$file"
  [[ $in -eq 0 ]] || return 1
  printf '%s\n' "$n"
}

# Subject in RFC 2253 form as openssl prints it: "CN=x,O=b,O=a" for -subj "/O=a/O=b/CN=x".
subject_rfc2253() { # CN O1 O2 …
  local cn=$1 s i
  shift
  s="CN=$cn"
  for ((i = $#; i >= 1; i--)); do s+=",O=${!i}"; done
  printf '%s\n' "$s"
}
# subj_arg CN O1 O2 …: the matching openssl -subj argument.
subj_arg() {
  local cn=$1 s="" o
  shift
  for o in "$@"; do s+="/O=$o"; done
  printf '%s\n' "$s/CN=$cn"
}
# san_key VALUE: a SAN in comparable form: "ip:<canonical>" or "dns:<lowercase>".
san_key() {
  if is_ipv4 "$1"; then
    printf 'ip:%s\n' "$1"
  elif is_ipv6 "$1"; then
    printf 'ip:%s\n' "$(ip6_expand "$1")"
  else
    printf 'dns:%s\n' "${1,,}"
  fi
}
# sans_from_text: read `openssl … -text` (or `-ext subjectAltName`) output on stdin and print
# each SAN in san_key form, sorted; unknown SAN types come out as "other:…".
sans_from_text() {
  local line next=0 item
  local -a items=() keys=()
  while IFS= read -r line; do
    if [[ $next -eq 1 ]]; then
      line=${line#"${line%%[! ]*}"}
      local rest=$line
      while [[ -n $rest ]]; do
        item=${rest%%, *}
        if [[ $rest == *", "* ]]; then rest=${rest#*, }; else rest=""; fi
        items+=("$item")
      done
      break
    fi
    [[ $line == *'X509v3 Subject Alternative Name:'* ]] && next=1
  done
  for item in "${items[@]}"; do
    case $item in
      DNS:*) keys+=("dns:${item#DNS:}") ;;
      'IP Address:'*)
        if is_ipv4 "${item#IP Address:}"; then
          keys+=("ip:${item#IP Address:}")
        elif is_ipv6 "${item#IP Address:}"; then
          keys+=("ip:$(ip6_expand "${item#IP Address:}")")
        else
          keys+=("other:$item")
        fi
        ;;
      *) keys+=("other:$item") ;;
    esac
  done
  [[ ${#keys[@]} -eq 0 ]] || printf '%s\n' "${keys[@],,}" | sort -u
}
# expected_san_keys SAN…: the sorted san_key forms of the expected SANs.
expected_san_keys() {
  local s
  [[ $# -eq 0 ]] && return 0
  for s in "$@"; do san_key "$s"; done | sort -u
}
# enddate_epoch CERT: notAfter as seconds since the epoch.
enddate_epoch() {
  local e
  e=$(openssl x509 -in "$1" -noout -enddate 2>/dev/null) || return 1
  date -u -d "${e#notAfter=}" +%s
}
# duration_seconds GO_DURATION: "336h", "1h30m", "90s" → seconds.
duration_seconds() {
  [[ $1 =~ ^(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?$ && -n $1 ]] || return 1
  printf '%d\n' $((10#${BASH_REMATCH[2]:-0} * 3600 + 10#${BASH_REMATCH[4]:-0} * 60 + 10#${BASH_REMATCH[6]:-0}))
}

# ---------------------------------------------------------------------------------------
# Rotation of intermediates and service-account keys (ca-rotate.sh, bundle-install.sh,
# sa-rotate.sh)

# cert_sha256 CERT: hex SHA-256 of the (first) certificate's DER: k8ops' fingerprint.
cert_sha256() {
  local d
  d=$(openssl x509 -in "$1" -outform DER 2>/dev/null | sha256sum) || return 1
  printf '%s\n' "${d%% *}"
}
# startdate_epoch CERT: notBefore as seconds since the epoch.
startdate_epoch() {
  local e
  e=$(openssl x509 -in "$1" -noout -startdate 2>/dev/null) || return 1
  date -u -d "${e#notBefore=}" +%s
}
# skid_of CERT: the Subject Key Identifier, lowercase hex without colons (empty if none).
skid_of() {
  local t
  t=$(openssl x509 -in "$1" -noout -ext subjectKeyIdentifier 2>/dev/null) || return 0
  t=${t#*$'\n'}
  t=${t//[[:space:]:]/}
  printf '%s\n' "${t,,}"
}
# ca_subject ID: the RFC 2253 subject the layout gives CA ID (fails when ID is not a CA).
ca_subject() {
  local cn o
  local -a orgs=()
  # shellcheck disable=SC2016 # a jq program: its $names are jq variables
  IFS=$US read -r cn o < <(lq '[.cas[] | select(.id == $id)][0] // empty | [.cn, (.o | join(","))] | join("\u001f")' --arg id "$1") || return 1
  [[ -n $cn ]] || return 1
  split_csv "$o" orgs
  subject_rfc2253 "$cn" "${orgs[@]}"
}
# The signer's versions of intermediate CA: <ca-dir>/.cas/<ca>/v-<hash>/{cert,key}.pem, with
# `current` (signing; <ca>.pem and <ca>-key.pem link through it), `next` (the successor, in
# the bundles, not signing yet) and `old` (the predecessor, still trusted until retired).
ca_state_dir() { printf '%s/.cas/%s\n' "$1" "$2"; }
# ca_version LINK: the v-… name a version link points at (empty when none or dangling).
ca_version() {
  local t
  [[ -L $1 && -d $1 ]] || return 0
  t=$(readlink -- "$1") || return 0
  [[ $t =~ ^v-[0-9a-f]{16}$ ]] && printf '%s\n' "$t"
  return 0
}
# trusted_ca_certs CA_DIR CA [without-old]: the certificate files of CA that trust bundles
# hold, one path per line: current, next and old (unless asked without), or <ca>.pem alone
# when the CA has no versions yet.
trusted_ca_certs() {
  local dir=$1 ca=$2 skip_old=${3:-} s v link
  s=$(ca_state_dir "$dir" "$ca")
  if [[ -n $(ca_version "$s/current") ]]; then
    for link in current next old; do
      [[ $link == old && -n $skip_old ]] && continue
      v=$(ca_version "$s/$link")
      [[ -n $v ]] && printf '%s\n' "$s/$v/cert.pem"
    done
  elif [[ -f $dir/$ca.pem ]]; then
    printf '%s\n' "$dir/$ca.pem"
  fi
  return 0
}
# point_link LINK TARGET: make LINK a symlink to TARGET with one rename.
point_link() {
  local link=$1 target=$2 t
  if [[ -L $link && $(readlink -- "$link") == "$target" ]]; then return 0; fi
  [[ -d $link && ! -L $link ]] && die "$link is a directory"
  t="$(dirname -- "$link")/.$(basename -- "$link").link.$$"
  rm -f -- "$t"
  ln -s -- "$target" "$t"
  _CLEANUP+=("$t")
  mv -f -T -- "$t" "$link"
}
# split_pubs FILE PREFIX: write each PUBLIC KEY block of FILE, re-encoded by openssl, to
# PREFIX.0.pem, PREFIX.1.pem, …; print the count (fails on a block openssl cannot read).
split_pubs() {
  local file=$1 prefix=$2 line n=0 in=0 buf=""
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    if [[ $in -eq 0 && $line == '-----BEGIN PUBLIC KEY-----' ]]; then
      in=1
      buf="$line"$'\n'
    elif [[ $in -eq 1 ]]; then
      buf+="$line"$'\n'
      if [[ $line == '-----END PUBLIC KEY-----' ]]; then
        printf '%s' "$buf" | openssl pkey -pubin -out "$prefix.$n.pem" 2>/dev/null || return 1
        n=$((n + 1))
        in=0
      fi
    fi
  done <"$file"
  [[ $in -eq 0 ]] || return 1
  printf '%s\n' "$n"
}
# pub_curve FILE: the curve name (secp521r1…) of a PEM public key.
pub_curve() {
  local t
  t=$(openssl pkey -pubin -in "$1" -noout -text_pub 2>/dev/null) || return 1
  [[ $t =~ ASN1\ OID:\ ([A-Za-z0-9-]+) ]] || return 1
  printf '%s\n' "${BASH_REMATCH[1]}"
}
# curve_of_size SIZE: the OpenSSL curve name of an EC key size of the layout.
curve_of_size() {
  case $1 in 256) printf 'prime256v1\n' ;; 384) printf 'secp384r1\n' ;; *) printf '%s\n' "$EC_CURVE_521" ;; esac
}
# read_input SRC DEST: the file SRC, or stdin when SRC is "-", copied to DEST (at most 64 KiB).
read_input() {
  if [[ $1 == - ]]; then
    head -c 65536 >"$2"
  else
    [[ -f $1 ]] || die "file not found: $1"
    head -c 65536 -- "$1" >"$2"
  fi
}
