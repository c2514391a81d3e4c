#!/usr/bin/env bash
# install.sh: ON THE NODE, put a signed certificate (chain) and its pending key in place:
# verify first, keep the previous pair, then switch both with ONE rename. Idempotent and
# safe to re-run after a crash at any step. Needs only bash, coreutils, jq and openssl.
#
# On-disk form (every pair, so that cert and key change together):
#   <pki-dir>/.pairs/<id>/v-<sha256 of the chain, 16 hex>/{cert.pem,key.pem}  one version
#   <pki-dir>/.pairs/<id>/current  -> v-…    the pair in use (a relative symlink)
#   <pki-dir>/.pairs/<id>/previous -> v-…    the pair before it (rollback material)
#   <cert>, <key>            -> <pki-dir>/.pairs/<id>/current/{cert,key}.pem
#   <cert>.prev, <key>.prev  -> <pki-dir>/.pairs/<id>/previous/{cert,key}.pem
# The configured paths never change; switching `current` (ln -s to a temporary name, then
# rename(2) over it: mv -T) changes what both resolve to at one instant. A component that
# opens the certificate and then the key (etcd does, per TLS handshake) can only see a
# mismatch if that one rename falls between its two open() calls — microseconds inside the
# reader — instead of the whole time between two renames of two files (10–35 ms before).
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG --node NAME --id ID --cert FILE [--pki-dir DIR] [--bundle FILE] [--layout FILE]
       $PROG --node NAME --id ID --rollback [--pki-dir DIR] [--layout FILE]

Install the chain FILE (leaf + intermediate, from sign.sh) as certificate ID:
  1. FILE must hold exactly the leaf and its issuing intermediate; the leaf's subject must
     be the layout's for NAME, it must not be a CA, and it must verify against the node's
     trust bundle of its CA (openssl verify -no-CApath -no-CAstore -partial_chain) for the profile's purpose;
  2. its public key must match <key>.new (from node-csr.sh) or, for a re-signed
     certificate, the current <key> (SHA-256 of the DER SubjectPublicKeyInfo);
  3. the pair is written as a new version <pki-dir>/.pairs/ID/v-<hash>/ (cert 0644, key
     with the layout's mode and owner), checked to match, and renamed into place whole;
  4. .pairs/ID/previous is pointed at the pair in use, then .pairs/ID/current is switched
     to the new version by one rename: <cert> and <key> (symlinks through current) change
     together. A pair of plain files from before is first taken in as a version.
Nothing is changed when a check fails. Installing the same certificate again is a no-op.
Prints "installed ID" or "unchanged ID" on stdout. <cert>.prev and <key>.prev are the
previous pair (symlinks through .pairs/ID/previous).

--rollback switches current back to the previous pair (one rename; they must match).

Options:
  --node NAME     this node's name (the layout's CN templates use it)
  --id ID         certificate id in the layout
  --cert FILE     the chain to install (- reads it from stdin)
  --pki-dir DIR   PKI directory (default: the layout's pkiDir)
  --bundle FILE   trust bundle to verify against (default: the node's bundle of the CA)
  --rollback      restore the previous pair instead
  --layout FILE   layout (default: layout.json next to this script)
  -h, --help      this help
EOF
}

layout=$DEFAULT_LAYOUT
pki_dir=""
id=""
chain_in=""
bundle=""
rollback=0
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --pki-dir) need_value "$1" "$#"; pki_dir=$(check_path "$1" "$2"); shift 2 ;;
    --cert)
      need_value "$1" "$#"
      if [[ $2 == - ]]; then chain_in=-; else chain_in=$(check_path "$1" "$2"); fi
      shift 2
      ;;
    --bundle) need_value "$1" "$#"; bundle=$(check_path "$1" "$2"); shift 2 ;;
    --id) need_value "$1" "$#"; check_id "$2"; id=$2; shift 2 ;;
    --node) need_value "$1" "$#"; check_node "$2"; NODE_NAME=$2; shift 2 ;;
    --rollback) rollback=1; shift ;;
    *) usage_error "unexpected argument $1" ;;
  esac
done
[[ -n $NODE_NAME ]] || usage_error "--node is required"
[[ -n $id ]] || usage_error "--id is required"
if [[ $rollback -eq 1 ]]; then
  [[ -z $chain_in ]] || usage_error "--rollback takes no --cert"
else
  [[ -n $chain_in ]] || usage_error "--cert is required"
fi

need_tools jq openssl
load_layout "$layout"
[[ -n $pki_dir ]] || pki_dir=$LAYOUT_PKI_DIR

row=$(plan_certs "$id") || die "cannot read certificate '$id' from the layout"
[[ -n $row ]] || die "certificate '$id' is not in the layout"
IFS=$US read -r _id certrel keyrel ca profile cn o _sans owner group mode _rest <<<"$row"
cert=$(abspath "$pki_dir/$certrel")
key=$(abspath "$pki_dir/$keyrel")
newkey="$key.new"

# pair_matches CERT KEY: both exist and carry the same public key.
pair_matches() {
  local c k
  [[ -f $1 && -f $2 ]] || return 1
  c=$(spki_sha256_of_cert "$1") || return 1
  k=$(spki_sha256_of_key "$2") || return 1
  [[ $c == "$k" ]]
}

pairs="$pki_dir/.pairs/$id"
# version_of LINK: the v-… name a pair symlink points at (empty when none or dangling).
version_of() {
  local t
  [[ -L $1 && -d $1 ]] || return 0
  t=$(readlink -- "$1") || return 0
  [[ $t =~ ^v-[0-9a-f]{16}$ ]] && printf '%s\n' "$t"
  return 0
}
# point LINK TARGET: make LINK a symlink to TARGET with one rename (never a moment without it).
point() {
  local link=$1 target=$2 t
  if [[ -L $link && $(readlink -- "$link") == "$target" ]]; then return 0; fi
  [[ -d $link && ! -L $link ]] && die "$link is a directory"
  t="$(dirname -- "$link")/.$(basename -- "$link").link.$$"
  rm -f -- "$t"
  ln -s -- "$target" "$t"
  _CLEANUP+=("$t")
  mv -f -T -- "$t" "$link"
}
# link_paths: the configured paths (and .prev) as symlinks through current/previous. Called
# only when current holds a matching pair, so a plain file is replaced by a link to the
# same pair's file (the plain pair was taken in as current) or to a pair where none was.
link_paths() {
  make_dir 0755 "$(dirname -- "$cert")"
  make_dir 0755 "$(dirname -- "$key")"
  point "$key" "$pairs/current/key.pem"
  point "$cert" "$pairs/current/cert.pem"
  if [[ -n $(version_of "$pairs/previous") ]]; then
    point "$key.prev" "$pairs/previous/key.pem"
    point "$cert.prev" "$pairs/previous/cert.pem"
  fi
}
# new_version CHAIN KEYSRC KEYMODE: write the pair as a version dir (built under a temporary
# name, checked, renamed whole); prints its name. An existing complete version is reused.
new_version() {
  local chain=$1 keysrc=$2 kmode=$3 v tmp
  v="v-$(sha256sum <"$chain" | cut -c1-16)"
  if [[ -d $pairs/$v ]]; then
    if same_content "$chain" "$pairs/$v/cert.pem" && pair_matches "$pairs/$v/cert.pem" "$pairs/$v/key.pem"; then
      printf '%s\n' "$v"
      return 0
    fi
    # Never the current or previous pair here: those were complete when they were linked.
    [[ $v != "$(version_of "$pairs/current")" && $v != "$(version_of "$pairs/previous")" ]] ||
      die "$pairs/$v is in use but incomplete: refusing to touch it"
    rm -rf -- "${pairs:?}/$v"
  fi
  tmp=$(mktemp -d "$pairs/.tmp.XXXXXX")
  _CLEANUP+=("$tmp")
  chmod 0755 "$tmp"
  cp -- "$chain" "$tmp/cert.pem"
  chmod 0644 "$tmp/cert.pem"
  cp -- "$keysrc" "$tmp/key.pem"
  chmod -- "$kmode" "$tmp/key.pem"
  set_owner "$tmp/key.pem" "$owner" "$group" "$key" quiet
  pair_matches "$tmp/cert.pem" "$tmp/key.pem" || die "$id: the written pair does not match (disk full?)"
  sync -f "$tmp" 2>/dev/null || true
  mv -T -- "$tmp" "$pairs/$v"
  printf '%s\n' "$v"
}
# adopt_plain: a pair of plain files from before this layout (or a crash of the old
# install.sh) becomes the current version, when it matches; nothing is linked yet.
adopt_plain() {
  [[ -n $(version_of "$pairs/current") ]] && return 0
  if [[ -f $cert && ! -L $cert && -f $key && ! -L $key ]] && pair_matches "$cert" "$key"; then
    local v
    v=$(new_version "$cert" "$key" "$(stat -c '%a' -- "$key")")
    point "$pairs/current" "$v"
    # Same bytes behind the links as in the plain files: no reader sees a mismatch here.
    link_paths
    info "$id: the existing pair is kept as version $v"
  fi
  return 0
}
# prune: remove versions that are neither current nor previous, and leftovers of crashes.
prune() {
  local cur prev d b
  cur=$(version_of "$pairs/current")
  prev=$(version_of "$pairs/previous")
  for d in "$pairs"/v-* "$pairs"/.tmp.*; do
    [[ -e $d ]] || continue
    b=${d##*/}
    [[ $b == "$cur" || $b == "$prev" ]] && continue
    rm -rf -- "$d"
  done
}

make_dir 0755 "$pki_dir/.pairs"
make_dir 0755 "$pairs"

if [[ $rollback -eq 1 ]]; then
  adopt_plain
  prev=$(version_of "$pairs/previous")
  cur=$(version_of "$pairs/current")
  if [[ -z $prev ]] || ! pair_matches "$pairs/$prev/cert.pem" "$pairs/$prev/key.pem"; then
    die "no matching previous pair to roll back to ($pairs/previous)"
  fi
  if [[ $prev == "$cur" ]]; then
    link_paths
    info "$id: the previous pair is already in place"
    printf 'unchanged %s\n' "$id"
    exit 0
  fi
  openssl x509 -in "$pairs/$prev/cert.pem" -noout -checkend 0 >/dev/null 2>&1 || warn "$id: the previous certificate has expired"
  point "$pairs/current" "$prev"
  link_paths
  info "$id: rolled back to the previous pair ($prev)"
  printf 'installed %s\n' "$id"
  exit 0
fi

if [[ $chain_in == - ]]; then
  # The chain on stdin (k8ops carries it back from the signer).
  make_scratch
  head -c 65536 >"$SCRATCH/stdin.pem"
  chain_in="$SCRATCH/stdin.pem"
fi
[[ -f $chain_in ]] || die "certificate file not found: $chain_in"
if [[ -z $bundle ]]; then
  # shellcheck disable=SC2016 # a jq program: its $names are jq variables
  rel=$(lq '[.bundles[] | select(any(.cas[]; . == $ca))][0].path // empty' --arg ca "$ca")
  [[ -n $rel ]] || die "the layout has no trust bundle for CA $ca: pass --bundle"
  bundle=$(abspath "$pki_dir/$rel")
fi
[[ -f $bundle ]] || die "trust bundle $bundle not found (write it first with bundles.sh)"

# --- 1. The chain: exactly leaf + issuing intermediate, right subject, verifies.
make_scratch
n=$(split_pem "$chain_in" "$SCRATCH/part") || die "$chain_in: unreadable PEM"
[[ $n -eq 2 ]] || die "$chain_in holds $n certificate(s): expected the leaf followed by its intermediate"
leaf="$SCRATCH/part.0.pem"
issuer="$SCRATCH/part.1.pem"
bc=$(openssl x509 -in "$leaf" -noout -ext basicConstraints 2>/dev/null || true)
[[ $bc != *CA:TRUE* ]] || die "$chain_in: the first certificate is a CA, not a leaf"
orgs=()
split_csv "$o" orgs
want_subject=$(subject_rfc2253 "$cn" "${orgs[@]}")
got_subject=$(openssl x509 -in "$leaf" -noout -subject -nameopt RFC2253)
got_subject=${got_subject#subject=}
[[ $got_subject == "$want_subject" ]] ||
  die "$chain_in: subject '$got_subject' is not the layout's '$want_subject' for $id on $NODE_NAME"
purposes=()
case $profile in
  server) purposes=(sslserver) ;;
  client) purposes=(sslclient) ;;
  peer) purposes=(sslserver sslclient) ;;
esac
for p in "${purposes[@]}"; do
  if ! msg=$(openssl verify -no-CApath -no-CAstore -partial_chain -purpose "$p" -CAfile "$bundle" -untrusted "$issuer" "$leaf" 2>&1); then
    die "$chain_in does not verify against $bundle (purpose $p): ${msg//$'\n'/; }"
  fi
done
openssl verify -no-CApath -no-CAstore -partial_chain -CAfile "$issuer" "$leaf" >/dev/null 2>&1 ||
  die "$chain_in: the second certificate is not the leaf's issuer"
cat -- "$leaf" "$issuer" >"$SCRATCH/chain.pem"

# --- 2. The key: the pending one, or the current one for a re-signed certificate.
adopt_plain
leaf_spki=$(spki_sha256_of_cert "$leaf") || die "cannot read the leaf's public key"
cur=$(version_of "$pairs/current")
v="v-$(sha256sum <"$SCRATCH/chain.pem" | cut -c1-16)"
if [[ $cur == "$v" ]]; then
  # Installed already (possibly by a run cut after the switch): finish the links, tidy up.
  link_paths
  if [[ -f $newkey ]] && [[ $(spki_sha256_of_key "$newkey" || true) == "$leaf_spki" ]]; then
    rm -f -- "$newkey"
  fi
  prune
  info "$id: already installed"
  printf 'unchanged %s\n' "$id"
  exit 0
fi
if [[ -f $newkey ]] && [[ $(spki_sha256_of_key "$newkey" || true) == "$leaf_spki" ]]; then
  keysrc=$newkey
elif [[ -n $cur ]] && [[ $(spki_sha256_of_key "$pairs/$cur/key.pem" || true) == "$leaf_spki" ]]; then
  keysrc="$pairs/$cur/key.pem"
elif [[ -f $key && ( -z $cur || ! -L $key ) ]] && [[ $(spki_sha256_of_key "$key" || true) == "$leaf_spki" ]]; then
  # A plain key file at the configured path (written by hand or by an older install.sh).
  keysrc=$key
else
  die "$chain_in does not match the pending key $newkey nor the current key $key: refusing"
fi

# --- 3. The new version, complete and checked, under its final name.
v=$(new_version "$SCRATCH/chain.pem" "$keysrc" "$mode")

# --- 4. previous → the pair in use, then ONE rename switches cert and key together.
if [[ -n $cur ]]; then
  point "$pairs/previous" "$cur"
fi
point "$pairs/current" "$v"
link_paths
[[ $keysrc == "$newkey" ]] && rm -f -- "$newkey"
prune
info "$id: installed $cert ($(openssl x509 -in "$leaf" -noout -enddate))"
printf 'installed %s\n' "$id"
