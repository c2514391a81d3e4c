#!/usr/bin/env bash
# sa-rotate.sh: ON A CONTROL-PLANE NODE, the rotation of the service-account signing key,
# one idempotent step per action, driven by k8ops (`k8ops rotate --sa-key`) across the
# control-plane nodes:
#   stage    each node makes its new signing key here (it never leaves the node);
#   trust    every API server's public-key file (--service-account-key-file: several PEM
#            keys in one file) gets the new public keys of all nodes, beside the current ones;
#   switch   one node at a time, the new key becomes the signing key
#            (--service-account-signing-key-file, --service-account-private-key-file);
#   trust    after the overlap (tokens signed with the old keys have been refreshed), the
#            old public keys leave the file;
#   finish   the previous key is removed.
# Each node signs with its own key and every API server trusts every node's key: a token
# signed on one is accepted by all, and no private key is ever copied between nodes.
# The API server and the controller-manager read these files at start: a change marks a
# restart pending (<pki-dir>/.sa/<id>/restart-pending) until k8ops has restarted them and
# gated their health (restarted).
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG status|stage|switch|rollback|restarted|finish [--id ID] [--pki-dir DIR] [--layout FILE]
       $PROG trust --pubs FILE [--id ID] [--pki-dir DIR] [--layout FILE]

status     JSON: the current, pending and previous keys (SHA-256 of the public key and its
           PEM: public material only), the public keys trusted (in <pub>), when the switch
           happened and whether a restart is pending. Changes nothing.
stage      a new signing key (<pki-dir>/.sa/ID/pending-key.pem, the layout's curve, mode
           and owner), or the pending one again; prints its public key (PEM). Nothing to do
           once this node has switched (until finish).
trust      write <pub> (--service-account-key-file) with the public keys of FILE (- reads
           stdin; PEM PUBLIC KEY blocks, at most 16, the layout's curve): this node's
           signing key first, then the others once each. Refuses a set without this
           node's signing key. Prints "installed ID", "unchanged ID" or "pending ID".
switch     the pending key becomes the signing key (one rename); the previous one is kept
           (.sa/ID/previous-key.pem). Refuses unless <pub> trusts the pending key.
rollback   the previous key signs again (the new one goes back to pending).
restarted  the API server and controller-manager were restarted and are healthy.
finish     the overlap is over: remove the previous key.

Options:
  --id ID         key pair id (default: service-account)
  --pubs FILE     the public keys to trust (- reads stdin)
  --pki-dir DIR   PKI directory (default: the layout's pkiDir)
  --layout FILE   layout (default: layout.json next to this script)
  -h, --help      this help
EOF
}

[[ $# -gt 0 ]] || usage_error "what to do? (status, stage, trust, switch, rollback, restarted, finish)"
verb=$1
shift
case $verb in
  status | stage | trust | switch | rollback | restarted | finish) ;;
  -h | --help) usage; exit 0 ;;
  *) usage_error "unknown action '$verb'" ;;
esac

layout=$DEFAULT_LAYOUT
pki_dir=""
id=service-account
pubs_in=""
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --pki-dir) need_value "$1" "$#"; pki_dir=$(check_path "$1" "$2"); shift 2 ;;
    --id) need_value "$1" "$#"; check_id "$2"; id=$2; shift 2 ;;
    --pubs)
      need_value "$1" "$#"
      if [[ $2 == - ]]; then pubs_in=-; else pubs_in=$(check_path "$1" "$2"); fi
      shift 2
      ;;
    *) usage_error "unexpected argument $1" ;;
  esac
done
if [[ $verb == trust ]]; then
  [[ -n $pubs_in ]] || usage_error "trust needs --pubs"
else
  [[ -z $pubs_in ]] || usage_error "--pubs goes with trust"
fi

need_tools jq openssl
load_layout "$layout"
[[ -n $pki_dir ]] || pki_dir=$LAYOUT_PKI_DIR

# shellcheck disable=SC2016 # a jq program: its $names are jq variables
IFS=$US read -r keyrel pubrel size owner group kmode < <(lq '[.keypairs[] | select(.id == $id)][0] // empty
  | [.key, .pub, (.size | tostring), .keyOwner.owner, .keyOwner.group, .keyOwner.mode] | join("\u001f")' --arg id "$id") || true
[[ -n ${keyrel:-} ]] || die "key pair '$id' is not in the layout"
key=$(abspath "$pki_dir/$keyrel")
pub=$(abspath "$pki_dir/$pubrel")
curve=$(curve_of_size "$size")
state="$pki_dir/.sa/$id"
pending="$state/pending-key.pem"
previous="$state/previous-key.pem"
marker="$state/restart-pending"
now=$(date -u +%s)
# Made here, before any $(…) subshell could make (and leak) its own.
make_scratch

[[ $verb == status || $verb == restarted || -f $key ]] || die "$id: the signing key $key does not exist (sa-keygen.sh makes the first one)"

pub_pem() { openssl pkey -in "$1" -passin pass: -pubout 2>/dev/null; }
key_json() { # FILE: {sha256, pem} of a private key's public half, or null when absent
  if [[ ! -f $1 ]]; then
    printf 'null\n'
    return 0
  fi
  local d p
  d=$(spki_sha256_of_key "$1") || die "$id: $1 is not a readable key"
  p=$(pub_pem "$1")
  jq -cn --arg d "$d" --arg p "$p" '{sha256: $d, pem: $p}'
}
# trusted_digests: the SHA-256 of every public key in <pub>, one per line.
trusted_digests() {
  local n i
  [[ -f $pub ]] || return 0
  make_scratch
  n=$(split_pubs "$pub" "$SCRATCH/trusted") || die "$id: $pub holds an unreadable public key"
  for ((i = 0; i < n; i++)); do spki_sha256_of_pub "$SCRATCH/trusted.$i.pem"; done
}
mark() {
  make_dir 0755 "$pki_dir/.sa"
  make_dir 0700 "$state"
  : >"$marker"
}
# own_first: <pub> with this node's signing key first (the same set; what the PKI checks and
# sa-keygen.sh expect), after a switch or a rollback changed which key signs.
own_first() {
  local own n i d
  [[ -f $pub ]] || return 0
  own=$(spki_sha256_of_key "$key") || die "$id: $key is not a readable key"
  n=$(split_pubs "$pub" "$SCRATCH/order") || die "$id: $pub holds an unreadable public key"
  [[ $n -ge 1 && $(spki_sha256_of_pub "$SCRATCH/order.0.pem") == "$own" ]] && return 0
  pub_pem "$key" >"$SCRATCH/ordered.pem"
  for ((i = 0; i < n; i++)); do
    d=$(spki_sha256_of_pub "$SCRATCH/order.$i.pem")
    [[ $d == "$own" ]] || cat -- "$SCRATCH/order.$i.pem" >>"$SCRATCH/ordered.pem"
  done
  mark
  write_file "$SCRATCH/ordered.pem" "$pub" 0644
}
restart_word() { if [[ -f $marker ]]; then printf 'pending'; else printf 'unchanged'; fi; }
switched_at() {
  local t=""
  [[ -f $state/switched ]] && read -r t _ <"$state/switched"
  [[ $t =~ ^[0-9]{1,12}$ ]] && printf '%s\n' "$t"
  return 0
}

case $verb in
  status)
    [[ -f $key ]] || die "$id: the signing key $key does not exist"
    sat=$(switched_at)
    rp=false
    [[ -f $marker ]] && rp=true
    mapfile -t digests < <(trusted_digests)
    jq -cn --arg id "$id" --arg key "$key" --arg pub "$pub" --argjson cur "$(key_json "$key")" \
      --argjson pend "$(key_json "$pending")" --argjson prev "$(key_json "$previous")" \
      --argjson trusted "$(json_array "${digests[@]}")" --arg sat "$sat" --argjson rp "$rp" --argjson now "$now" '
      {version: 1, id: $id, key: $key, pub: $pub, now: $now, current: $cur, pending: $pend,
       previous: $prev, trusted: $trusted,
       switchedAt: (if $sat == "" then null else ($sat | tonumber) end), restartPending: $rp}'
    ;;

  stage)
    if [[ -f $state/switched ]]; then
      info "$id: this node switched at $(switched_at): nothing to stage until finish"
      exit 0
    fi
    make_dir 0755 "$pki_dir/.sa"
    make_dir 0700 "$state"
    if [[ -f $pending ]] && [[ $(key_curve "$pending" || true) == "$curve" ]]; then
      info "$id: reusing the pending key $pending"
    else
      [[ -e $pending ]] && warn "$id: replacing the unreadable pending key $pending"
      t=$(tmp_beside "$pending")
      gen_ec_key "$t" "$size"
      chmod -- "$kmode" "$t"
      set_owner "$t" "$owner" "$group" "$pending"
      commit "$t" "$pending"
      info "$id: new pending key $pending"
    fi
    pub_pem "$pending"
    ;;

  trust)
    make_scratch
    read_input "$pubs_in" "$SCRATCH/in.pem"
    n=$(split_pubs "$SCRATCH/in.pem" "$SCRATCH/in") || die "$id: unreadable public key in the input"
    ((n >= 1 && n <= 16)) || die "$id: $n public keys: expected 1 to 16"
    own=$(spki_sha256_of_key "$key") || die "$id: $key is not a readable key"
    # This node's signing key first (what sa-keygen.sh writes alone), then the others.
    pub_pem "$key" >"$SCRATCH/new.pem"
    seen=" $own "
    for ((i = 0; i < n; i++)); do
      p="$SCRATCH/in.$i.pem"
      [[ $(pub_curve "$p" || true) == "$curve" ]] || die "$id: public key $((i + 1)) is not a $curve key: refusing"
      d=$(spki_sha256_of_pub "$p")
      [[ $seen == *" $d "* ]] && continue
      seen+="$d "
      cat -- "$p" >>"$SCRATCH/new.pem"
    done
    found=0
    for ((i = 0; i < n; i++)); do
      [[ $(spki_sha256_of_pub "$SCRATCH/in.$i.pem") == "$own" ]] && found=1
    done
    ((found == 1)) || die "$id: the keys given do not include this node's signing key ($own): tokens it signs would be refused: refusing"
    if same_content "$SCRATCH/new.pem" "$pub"; then
      printf '%s %s\n' "$(restart_word)" "$id"
      exit 0
    fi
    mark
    [[ -f $pub ]] && write_file "$pub" "$state/previous-pub.pem" 0644
    write_file "$SCRATCH/new.pem" "$pub" 0644
    info "$id: $pub trusts $(grep -c 'BEGIN PUBLIC KEY' "$SCRATCH/new.pem") public key(s)"
    printf 'installed %s\n' "$id"
    ;;

  switch)
    if [[ ! -f $pending ]]; then
      [[ -f $state/switched ]] || die "$id: no pending key: stage first"
      own_first
      printf '%s %s\n' "$(restart_word)" "$id"
      exit 0
    fi
    want=$(spki_sha256_of_key "$pending") || die "$id: the pending key $pending is unreadable"
    trusted=" $(trusted_digests | tr '\n' ' ') "
    [[ $trusted == *" $want "* ]] ||
      die "$id: $pub does not trust the pending key yet ($want): trust first (every API server must accept its tokens before it signs)"
    # The previous key kept (same mode and owner), the record, the mark, then ONE rename.
    if [[ -f $previous ]] && [[ $(spki_sha256_of_key "$previous" || true) == "$(spki_sha256_of_key "$key")" ]]; then
      :
    else
      copy_preserving "$key" "$previous"
    fi
    [[ -f $state/switched ]] || printf '%s\n' "$now" >"$state/switched"
    mark
    mv -f -T -- "$pending" "$key"
    own_first
    info "$id: $key signs from now (public key $want); the previous key is $previous"
    printf 'switched %s\n' "$id"
    ;;

  rollback)
    if [[ -f $previous ]]; then
      if [[ $(spki_sha256_of_key "$key" || true) != "$(spki_sha256_of_key "$previous")" ]]; then
        copy_preserving "$key" "$pending"
      fi
      mark
      mv -f -T -- "$previous" "$key"
      rm -f -- "$state/switched"
      own_first
      info "$id: the previous key signs again; the new one is pending"
      printf 'rolledback %s\n' "$id"
    else
      rm -f -- "$state/switched"
      printf '%s %s\n' "$(restart_word)" "$id"
    fi
    ;;

  restarted)
    rm -f -- "$marker"
    printf 'restarted %s\n' "$id"
    ;;

  finish)
    if [[ ! -f $previous && ! -f $state/switched ]]; then
      printf 'unchanged %s\n' "$id"
      exit 0
    fi
    [[ ! -f $pending ]] || die "$id: a pending key exists: this node has not switched: refusing to finish"
    rm -f -- "$previous" "$state/previous-pub.pem" "$state/switched"
    info "$id: the previous key is removed"
    printf 'finished %s\n' "$id"
    ;;
esac
