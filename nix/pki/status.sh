#!/usr/bin/env bash
# status.sh: ON THE NODE, describe every regular file of the PKI directory as JSON: path,
# kind, mode, owner, size and the SHA-256 of the public key (of the key, of the first
# certificate, or of the public key file), so that k8ops can match keys to certificates
# without private key material ever leaving the node. Needs bash, coreutils, jq, openssl.
set -euo pipefail
umask 077
export LC_ALL=C
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG [--pki-dir DIR] [--node NAME] [--layout FILE]

Print, on stdout, one JSON object:
  {"version":1,"node":"<NAME or uname -n>","pkiDir":"<DIR>","files":[
    {"path":"/abs/path","kind":"cert"|"key"|"pub"|"other","exists":true,"mode":"0600",
     "owner":"kubernetes","group":"kubernetes","size":365,
     "pubkeySha256":"<hex>"|null,"pubkeysSha256":["<hex>",…] (public-key files only),
     "error":"…" (only when something failed)}, …]}
covering every regular file directly in DIR (not recursive; symlinks are followed, a
dangling one is listed with "exists":false). kind comes from the first PEM block (EC
PARAMETERS skipped). pubkeySha256 is the hex SHA-256 of the DER SubjectPublicKeyInfo of
the private key, of the FIRST certificate in the file, or of the public key; null for
other files. pubkeysSha256 (public-key files): the same for every public key in the file, in
order (left out when one of them cannot be read). Private key material is never printed.

Options:
  --pki-dir DIR   PKI directory (default: the layout's pkiDir)
  --node NAME     node name to report (default: uname -n)
  --layout FILE   layout, read for the default pkiDir (default: layout.json next to this script)
  -h, --help      this help
EOF
}

layout=$DEFAULT_LAYOUT
pki_dir=""
node=""
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --pki-dir) need_value "$1" "$#"; pki_dir=$(check_path "$1" "$2"); shift 2 ;;
    --node) need_value "$1" "$#"; check_node "$2"; node=$2; shift 2 ;;
    *) usage_error "unexpected argument $1" ;;
  esac
done

need_tools jq openssl sha256sum stat
if [[ -z $pki_dir ]]; then
  load_layout "$layout"
  pki_dir=$LAYOUT_PKI_DIR
fi
[[ -n $node ]] || node=$(uname -n)
pki_dir=${pki_dir%/}
[[ -n $pki_dir ]] || pki_dir=/
[[ -d $pki_dir ]] || die "PKI directory $pki_dir does not exist"
[[ -r $pki_dir && -x $pki_dir ]] || die "PKI directory $pki_dir is not readable"

# pem_kind FILE: cert | key | pub | other, from the first PEM block (pure bash: no process).
pem_kind() {
  local hdr="" re='-----BEGIN ([A-Z0-9 ]+)-----' type
  IFS= read -r -d '' -n 65536 hdr <"$1" || true
  while [[ $hdr =~ $re ]]; do
    type=${BASH_REMATCH[1]}
    case $type in
      'EC PARAMETERS') hdr=${hdr#*"${BASH_REMATCH[0]}"} ;;
      CERTIFICATE | 'TRUSTED CERTIFICATE' | 'X509 CERTIFICATE') echo cert; return ;;
      *'PRIVATE KEY') echo key; return ;;
      'PUBLIC KEY' | 'RSA PUBLIC KEY') echo pub; return ;;
      *) echo other; return ;;
    esac
  done
  echo other
}

# all_pub_digests FILE: the digests of every PUBLIC KEY block, comma-separated (fails when
# one cannot be read).
all_pub_digests() {
  local n i out=""
  n=$(split_pubs "$1" "$SCRATCH/pub") || return 1
  for ((i = 0; i < n && i < 64; i++)); do
    out+="${out:+,}$(spki_sha256_of_pub "$SCRATCH/pub.$i.pem")" || return 1
  done
  printf '%s\n' "$out"
}
# Made here, not in the $(…) subshells that use it (a subshell's would not be removed).
make_scratch

shopt -s nullglob dotglob
entries=("$pki_dir"/*)
fields=()
for f in "${entries[@]}"; do
  [[ $f == /* ]] || f="$PWD/$f"
  exists=true
  err=""
  digest=""
  digests=""
  if [[ -L $f && ! -e $f ]]; then
    exists=false
    st=$(stat -c '%a %U %G %s' -- "$f") || continue
    kind=other
    err="dangling symlink"
  elif [[ -f $f ]]; then
    st=$(stat -L -c '%a %U %G %s' -- "$f") || continue
    if [[ ! -r $f ]]; then
      kind=other
      err="not readable by $(id -un)"
    else
      kind=$(pem_kind "$f")
      case $kind in
        cert) digest=$(spki_sha256_of_cert "$f") || err="openssl could not read the first certificate" ;;
        key) digest=$(spki_sha256_of_key "$f") || err="openssl could not read the private key (encrypted or corrupt)" ;;
        pub)
          digest=$(spki_sha256_of_pub "$f") || err="openssl could not read the public key"
          digests=$(all_pub_digests "$f") || digests=""
          ;;
      esac
      [[ -z $err ]] || digest=""
    fi
  else
    continue # directories, sockets, devices: not part of the report
  fi
  read -r m owner group size <<<"$st"
  fields+=("$f" "$kind" "$exists" "$(printf '%04o' "$((8#$m))")" "$owner" "$group" "$size" "$digest" "$err" "$digests")
done

# One jq process builds the whole document from positional arguments (10 per file), so any
# byte in a path is encoded correctly.
jq -n --arg node "$node" --arg dir "$pki_dir" '
  $ARGS.positional as $a
  | {version: 1, node: $node, pkiDir: $dir,
     files: [range(0; $a | length; 10) as $i
       | {path: $a[$i], kind: $a[$i + 1], exists: ($a[$i + 2] == "true"), mode: $a[$i + 3],
          owner: $a[$i + 4], group: $a[$i + 5], size: ($a[$i + 6] | tonumber),
          pubkeySha256: (if $a[$i + 7] == "" then null else $a[$i + 7] end)}
         + (if $a[$i + 8] == "" then {} else {error: $a[$i + 8]} end)
         + (if $a[$i + 9] == "" then {} else {pubkeysSha256: ($a[$i + 9] | split(","))} end)]}' --args "${fields[@]}"
