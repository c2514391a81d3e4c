#!/usr/bin/env bash
# ca-rotate.sh: AT THE SIGNER, the rotation of an intermediate CA, one idempotent step per
# action. The successor's key is made here and never leaves the signer; the root's signature
# on it is an offline step (issue-intermediate.sh --csr on the machine with the root key):
# this script prints the CSR for it and verifies what comes back. k8ops (`k8ops rotate --ca`)
# runs these steps in order, pushes the bundles to the nodes between them (bundle-install.sh)
# and checks the nodes' leaves before a retire.
#
# On disk (<ca-dir>/.cas/<ca>/):
#   v-<sha256 of the certificate, 16 hex>/{cert.pem,key.pem}   one version of the CA
#   current -> v-…   the signing version; <ca-dir>/<ca>.pem and <ca>-key.pem are symlinks
#                    through it, so sign.sh switches with ONE rename of `current`
#   next -> v-…      the accepted successor: in the trust bundles, not signing yet
#   old -> v-…       the predecessor after the switch: still trusted until retired
#   pending-key.pem, pending.csr   the successor's key and CSR while the root's signature
#                    is awaited
#   bundled          "<version> <epoch>": every node's bundle holds that successor since then
#   switched         "<old version> <new version> <epoch>": the switch (intent, then record)
#   retired          "<old version> <epoch>": retired here, still to leave the nodes' bundles
#                    (k8ops pushes them, then finish)
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG status --ca ID [--ca-dir DIR] [--config FILE] [--layout FILE]
       $PROG stage --ca ID [--ca-dir DIR] [--layout FILE]
       $PROG accept --ca ID --cert FILE [--ca-dir DIR] [--layout FILE]
       $PROG bundle --bundle ID [--without-old] [--ca-dir DIR] [--layout FILE]
       $PROG mark-bundled --ca ID --version V [--ca-dir DIR] [--layout FILE]
       $PROG switch --ca ID [--min-lead SECONDS] [--ca-dir DIR] [--config FILE] [--layout FILE]
       $PROG retire --ca ID [--early] [--ca-dir DIR] [--config FILE] [--layout FILE]
       $PROG finish --ca ID [--ca-dir DIR] [--layout FILE]

The steps of rotating intermediate CA ID at the signer, each one idempotent (a re-run after
a cut at any point converges; a step already done says "unchanged"):

status        JSON: phase (steady, pending, issued, bundled, switched, retired), the current, next
              and old versions (fingerprint, notBefore/notAfter, subject key id), when the
              successor was bundled and the switch happened, and from when the old one may
              be retired. Changes nothing.
stage         the successor's P-521 key (kept here, 0600) and CSR with the layout's subject;
              prints the CSR. The ROOT must sign it, offline:
                issue-intermediate.sh --root-dir ROOT --ca ID --csr FILE --out FILE
              Reuses a pending key; refuses while an old version is not retired.
accept        the root-signed successor (FILE, - for stdin): must carry the pending key,
              the layout's subject, CA:TRUE pathlen 0, ecdsa-with-SHA512, verify against
              <ca-dir>/<root>.pem, not expire before the current version nor after its root. Becomes
              \`next\`. Prints "accepted ID v-…" or "unchanged ID v-…".
bundle        the certificates trust bundle ID must hold (for each of its CAs: current,
              next, old), as PEM on stdout; --without-old leaves the old versions out (what
              the bundle holds after their retire).
mark-bundled  record that every node's bundle holds version V (the successor) from now.
switch        the successor starts signing: old -> current, current -> next (one rename).
              Refuses unless the successor was bundled at least SECONDS ago (--min-lead,
              default 0) and outlives a leaf signed now.
retire        the old version leaves: refused before the switch plus the longest leaf
              lifetime of the signing config (its last leaf has expired by then), unless
              --early (the operator knows no leaf of it is left anywhere). Phase retired
              until every node's bundle is pushed without it (k8ops), then finish.
finish        the retired version has left every bundle: back to phase steady.

Options:
  --ca ID        intermediate CA id of the layout
  --bundle ID    trust bundle id of the layout
  --cert FILE    the signed successor (- reads stdin)
  --version V    the successor's version (v-… from status)
  --min-lead S   bundle lead in seconds the switch requires
  --early        retire before the last leaf of the old version has expired
  --without-old  bundle: leave the old versions out
  --ca-dir DIR   the signer's CA directory (default: the layout's caDir)
  --config FILE  cfssl signing config (default: cfssl-config.json next to this script)
  --layout FILE  layout (default: layout.json next to this script)
  -h, --help     this help
Exit: 0 done, 2 usage, 1 refused or failed.
EOF
}

[[ $# -gt 0 ]] || usage_error "what to do? (status, stage, accept, bundle, mark-bundled, switch, retire, finish)"
verb=$1
shift
case $verb in
  status | stage | accept | bundle | mark-bundled | switch | retire | finish) ;;
  -h | --help) usage; exit 0 ;;
  *) usage_error "unknown action '$verb'" ;;
esac

layout=$DEFAULT_LAYOUT
config=$DEFAULT_CFSSL_CONFIG
ca_dir=""
ca=""
bundle_id=""
cert_in=""
version=""
min_lead=0
early=0
without_old=0
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --config) need_value "$1" "$#"; config=$(check_path "$1" "$2"); shift 2 ;;
    --ca-dir) need_value "$1" "$#"; ca_dir=$(check_path "$1" "$2"); shift 2 ;;
    --ca) need_value "$1" "$#"; check_id "$2"; ca=$2; shift 2 ;;
    --bundle) need_value "$1" "$#"; check_id "$2"; bundle_id=$2; shift 2 ;;
    --cert)
      need_value "$1" "$#"
      if [[ $2 == - ]]; then cert_in=-; else cert_in=$(check_path "$1" "$2"); fi
      shift 2
      ;;
    --version)
      need_value "$1" "$#"
      [[ $2 =~ ^v-[0-9a-f]{16}$ ]] || usage_error "invalid version '$2': expected v- and 16 hex digits"
      version=$2
      shift 2
      ;;
    --min-lead)
      need_value "$1" "$#"
      [[ $2 =~ ^[0-9]{1,10}$ ]] || usage_error "invalid --min-lead '$2': expected whole seconds"
      min_lead=$((10#$2))
      shift 2
      ;;
    --early) early=1; shift ;;
    --without-old) without_old=1; shift ;;
    *) usage_error "unexpected argument $1" ;;
  esac
done
if [[ $verb == bundle ]]; then
  [[ -n $bundle_id ]] || usage_error "bundle needs --bundle"
else
  [[ -n $ca ]] || usage_error "$verb needs --ca"
fi
[[ $verb != accept || -n $cert_in ]] || usage_error "accept needs --cert"
[[ $verb != mark-bundled || -n $version ]] || usage_error "mark-bundled needs --version"

need_tools jq openssl
load_layout "$layout"
[[ -n $ca_dir ]] || ca_dir=$LAYOUT_CA_DIR

now=$(date -u +%s)

# The CA of the layout: an intermediate (a parent that is the root).
if [[ -n $ca ]]; then
  # shellcheck disable=SC2016 # a jq program: its $names are jq variables
  parent=$(lq '[.cas[] | select(.id == $id)][0] // empty | .parent // "ROOT"' --arg id "$ca")
  [[ -n $parent ]] || die "CA '$ca' is not in the layout"
  [[ $parent != ROOT ]] || die "CA '$ca' is the root: its key is offline and it is not rotated here"
  want_subject=$(ca_subject "$ca") || die "cannot read CA '$ca' from the layout"
  state=$(ca_state_dir "$ca_dir" "$ca")
  root_cert="$ca_dir/$parent.pem"
fi

# --- helpers over the state directory

pair_ok() { # DIR: cert.pem and key.pem carry the same public key
  [[ -f $1/cert.pem && -f $1/key.pem ]] || return 1
  [[ $(spki_sha256_of_cert "$1/cert.pem" || true) == "$(spki_sha256_of_key "$1/key.pem" || echo x)" ]]
}
# new_version CERT KEY: the pair as a version dir (built under a temporary name, checked,
# renamed whole); prints its name. An existing complete version is reused.
new_version() {
  local v tmp
  v="v-$(sha256sum <"$1" | cut -c1-16)"
  if [[ -d $state/$v ]]; then
    if same_content "$1" "$state/$v/cert.pem" && pair_ok "$state/$v"; then
      printf '%s\n' "$v"
      return 0
    fi
    for l in current next old; do
      [[ $(ca_version "$state/$l") != "$v" ]] || die "$state/$v is in use but incomplete: refusing to touch it"
    done
    rm -rf -- "${state:?}/$v"
  fi
  tmp=$(mktemp -d "$state/.tmp.XXXXXX")
  _CLEANUP+=("$tmp")
  chmod 0700 "$tmp"
  cp -- "$1" "$tmp/cert.pem"
  chmod 0644 "$tmp/cert.pem"
  cp -- "$2" "$tmp/key.pem"
  chmod 0600 "$tmp/key.pem"
  pair_ok "$tmp" || die "the written pair does not match (disk full?)"
  sync -f "$tmp" 2>/dev/null || true
  mv -T -- "$tmp" "$state/$v"
  printf '%s\n' "$v"
}
# adopt: a CA of plain files (init/issue-intermediate.sh) becomes the current version;
# <ca>.pem and <ca>-key.pem become symlinks through `current` (same bytes behind them).
adopt() {
  local cert="$ca_dir/$ca.pem" key="$ca_dir/$ca-key.pem" v
  make_dir 0700 "$ca_dir/.cas"
  make_dir 0700 "$state"
  if [[ -z $(ca_version "$state/current") ]]; then
    [[ -f $cert && -f $key ]] || die "CA $ca not found: $cert and $key"
    [[ $(spki_sha256_of_cert "$cert" || true) == "$(spki_sha256_of_key "$key" || echo x)" ]] ||
      die "$cert and $key do not match: refusing"
    v=$(new_version "$cert" "$key")
    point_link "$state/current" "$v"
    info "$ca: the existing CA is kept as version $v"
  fi
  point_link "$key" ".cas/$ca/current/key.pem"
  point_link "$cert" ".cas/$ca/current/cert.pem"
}
# prune: versions neither current, next nor old, and leftovers of crashes.
prune() {
  local keep d
  keep=" $(ca_version "$state/current") $(ca_version "$state/next") $(ca_version "$state/old") "
  for d in "$state"/v-* "$state"/.tmp.*; do
    [[ -e $d ]] || continue
    [[ $keep == *" ${d##*/} "* ]] && continue
    rm -rf -- "$d"
  done
}
# version_json LINK: {version, fingerprint, notBefore, notAfter, subjectKeyId} or null.
version_json() {
  local v c
  v=$(ca_version "$1")
  if [[ -z $v ]]; then
    printf 'null\n'
    return 0
  fi
  c="$state/$v/cert.pem"
  jq -cn --arg v "$v" --arg fp "$(cert_sha256 "$c")" --argjson nb "$(startdate_epoch "$c")" \
    --argjson na "$(enddate_epoch "$c")" --arg skid "$(skid_of "$c")" \
    '{version: $v, fingerprint: $fp, notBefore: $nb, notAfter: $na, subjectKeyId: $skid}'
}
# leaf_max_seconds: the longest leaf lifetime the signing config gives the layout's
# certificates (a leaf signed by a version just before its switch expires by then).
leaf_max_seconds() {
  local p e s max=0
  while IFS= read -r p; do
    [[ -n $p ]] || continue
    e=$(jq -r --arg p "$p" '.signing.profiles[$p].expiry // empty' "$config") || die "cannot read $config"
    s=$(duration_seconds "$e") || die "profile '$p' of $config: expiry '$e' is not a duration"
    ((s > max)) && max=$s
  done < <(lq '[.certs[].profile] | unique | .[]')
  printf '%s\n' "$max"
}
# read_marker FILE: its whitespace-separated fields (empty when missing).
read_marker() {
  [[ -f $1 ]] || return 0
  head -c 256 -- "$1"
}
write_marker() { # FILE TEXT
  local t
  t=$(tmp_beside "$1")
  printf '%s\n' "$2" >"$t"
  chmod 0600 "$t"
  commit "$t" "$1"
}

# ---------------------------------------------------------------------------------------

case $verb in
  status)
    [[ -f $config ]] || die "cfssl config not found: $config"
    cur_json="null"
    if [[ -n $(ca_version "$state/current") ]]; then
      cur_json=$(version_json "$state/current")
    elif [[ -f $ca_dir/$ca.pem ]]; then
      c="$ca_dir/$ca.pem"
      cur_json=$(jq -cn --arg fp "$(cert_sha256 "$c")" --argjson nb "$(startdate_epoch "$c")" \
        --argjson na "$(enddate_epoch "$c")" --arg skid "$(skid_of "$c")" \
        '{version: null, fingerprint: $fp, notBefore: $nb, notAfter: $na, subjectKeyId: $skid}')
    else
      die "CA $ca not found in $ca_dir"
    fi
    next_json=$(version_json "$state/next")
    old_json=$(version_json "$state/old")
    read -r bv bat _ <<<"$(read_marker "$state/bundled")" || true
    read -r _ _ sat _ <<<"$(read_marker "$state/switched")" || true
    nv=$(ca_version "$state/next")
    [[ -n $nv && ${bv:-} == "$nv" && ${bat:-} =~ ^[0-9]+$ ]] || bat=""
    [[ ${sat:-} =~ ^[0-9]+$ ]] || sat=""
    lmax=$(leaf_max_seconds)
    pending=false
    [[ -f $state/pending-key.pem ]] && pending=true
    if [[ -n $(ca_version "$state/old") || -n $sat ]]; then phase=switched
    elif [[ -f $state/retired ]]; then phase=retired
    elif [[ -n $nv && -n $bat ]]; then phase=bundled
    elif [[ -n $nv ]]; then phase=issued
    elif [[ $pending == true ]]; then phase=pending
    else phase=steady
    fi
    jq -cn --arg ca "$ca" --arg phase "$phase" --argjson cur "$cur_json" --argjson next "$next_json" \
      --argjson old "$old_json" --argjson pending "$pending" --arg bat "$bat" --arg sat "$sat" \
      --argjson lmax "$lmax" --argjson now "$now" '
      {version: 1, ca: $ca, phase: $phase, now: $now, current: $cur, next: $next, old: $old,
       pending: $pending,
       bundledAt: (if $bat == "" then null else ($bat | tonumber) end),
       switchedAt: (if $sat == "" then null else ($sat | tonumber) end),
       leafMaxSeconds: $lmax,
       retireFrom: (if $sat == "" then null else ($sat | tonumber) + $lmax end)}'
    ;;

  stage)
    adopt
    if [[ -n $(ca_version "$state/old") || -f $state/switched || -f $state/retired ]]; then
      die "$ca: the previous rotation is not finished (its old version is not retired, or not out of every bundle yet): finish it first"
    fi
    if [[ -n $(ca_version "$state/next") ]]; then
      info "$ca: a successor is issued already ($(ca_version "$state/next")): nothing to stage"
      exit 0
    fi
    pk="$state/pending-key.pem"
    if [[ -f $pk ]] && [[ $(key_curve "$pk" || true) == "$EC_CURVE_521" ]]; then
      info "$ca: reusing the pending key $pk"
    else
      [[ -e $pk ]] && warn "$ca: replacing the unreadable pending key $pk"
      t=$(tmp_beside "$pk")
      gen_ec_key "$t" 521
      chmod 0600 "$t"
      commit "$t" "$pk"
    fi
    # The CSR of the pending key (kept when it is already that key's).
    want_pub=$(spki_sha256_of_key "$pk")
    have_pub=""
    if [[ -f $state/pending.csr ]]; then
      have_pub=$(openssl req -in "$state/pending.csr" -noout -pubkey 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null | sha256sum) || have_pub=""
      have_pub=${have_pub%% *}
    fi
    if [[ $have_pub != "$want_pub" ]]; then
      make_scratch
      printf '[req]\ndistinguished_name = dn\nutf8 = yes\nstring_mask = utf8only\n[dn]\n' >"$SCRATCH/req.cnf"
      # shellcheck disable=SC2016 # a jq program: its $names are jq variables
      IFS=$US read -r cn o < <(lq '[.cas[] | select(.id == $id)][0] | [.cn, (.o | join(","))] | join("\u001f")' --arg id "$ca")
      orgs=()
      split_csv "$o" orgs
      openssl req -new -config "$SCRATCH/req.cnf" -key "$pk" -sha512 -subj "$(subj_arg "$cn" "${orgs[@]}")" \
        -out "$SCRATCH/pending.csr" 2>"$SCRATCH/openssl.log" || die "openssl req failed: $(tail -n 2 "$SCRATCH/openssl.log")"
      write_file "$SCRATCH/pending.csr" "$state/pending.csr" 0644
    fi
    info "$ca: the successor's CSR is $state/pending.csr: have the root sign it offline (issue-intermediate.sh --csr)"
    cat -- "$state/pending.csr"
    ;;

  accept)
    adopt
    [[ -f $root_cert ]] || die "the root certificate $root_cert is not on the signer: copy it there (public)"
    make_scratch
    read_input "$cert_in" "$SCRATCH/in.pem"
    n=$(split_pem "$SCRATCH/in.pem" "$SCRATCH/part") || die "the successor: unreadable PEM"
    [[ $n -ge 1 ]] || die "the successor: no certificate"
    c="$SCRATCH/part.0.pem"
    fp=$(cert_sha256 "$c")
    nv=$(ca_version "$state/next")
    if [[ -n $nv ]]; then
      if [[ $(cert_sha256 "$state/$nv/cert.pem") == "$fp" ]]; then
        rm -f -- "$state/pending-key.pem" "$state/pending.csr"
        info "$ca: this successor is accepted already"
        printf 'unchanged %s %s\n' "$ca" "$nv"
        exit 0
      fi
      die "$ca: another successor ($nv) is accepted already: refusing a second one"
    fi
    pk="$state/pending-key.pem"
    [[ -f $pk ]] || die "$ca: no pending key: the successor must be signed from this signer's CSR (ca-rotate.sh stage)"
    # --- what the root signed must be exactly the successor this signer asked for
    [[ $(spki_sha256_of_cert "$c" || true) == "$(spki_sha256_of_key "$pk")" ]] ||
      die "$ca: the certificate does not carry the pending key (signed from another CSR?): refusing"
    got=$(openssl x509 -in "$c" -noout -subject -nameopt RFC2253)
    got=${got#subject=}
    [[ $got == "$want_subject" ]] || die "$ca: subject '$got' is not the layout's '$want_subject': refusing"
    bc=$(openssl x509 -in "$c" -noout -ext basicConstraints 2>/dev/null || true)
    [[ $bc == *"CA:TRUE, pathlen:0"* ]] || die "$ca: not CA:TRUE pathlen:0 (the root signed it with another profile?): refusing"
    ku=$(openssl x509 -in "$c" -noout -ext keyUsage 2>/dev/null || true)
    [[ $ku == *"Certificate Sign"* ]] || die "$ca: its key usage lacks Certificate Sign: refusing"
    text=$(openssl x509 -in "$c" -noout -text)
    [[ $text == *"Signature Algorithm: ecdsa-with-SHA512"* ]] || die "$ca: not signed with ecdsa-with-SHA512: refusing"
    if ! msg=$(openssl verify -no-CApath -no-CAstore -CAfile "$root_cert" "$c" 2>&1); then
      die "$ca: does not verify against the root $root_cert: ${msg//$'\n'/; }"
    fi
    openssl x509 -in "$c" -noout -checkend 0 >/dev/null 2>&1 || die "$ca: the successor has expired"
    nb=$(startdate_epoch "$c")
    ((nb <= now + 300)) || die "$ca: the successor is not valid before $(date -u -d "@$nb" '+%Y-%m-%d %H:%M UTC'): refusing"
    na=$(enddate_epoch "$c")
    ((na <= $(enddate_epoch "$root_cert"))) || die "$ca: the successor would outlive its root: refusing"
    cv=$(ca_version "$state/current")
    # (cfssl counts from notBefore rounded to the minute: a successor issued within the same
    # minute as the current version expires with it.)
    ((na >= $(enddate_epoch "$state/$cv/cert.pem"))) || die "$ca: the successor expires before the current version: refusing"
    v=$(new_version "$c" "$pk")
    point_link "$state/next" "$v"
    rm -f -- "$state/pending-key.pem" "$state/pending.csr" "$state/bundled"
    prune
    info "$ca: accepted successor $v (notAfter $(date -u -d "@$na" '+%Y-%m-%d %H:%M UTC'))"
    printf 'accepted %s %s\n' "$ca" "$v"
    ;;

  bundle)
    # shellcheck disable=SC2016 # a jq program: its $names are jq variables
    cas=$(lq '[.bundles[] | select(.id == $id)][0] // empty | .cas | join(",")' --arg id "$bundle_id")
    [[ -n $cas ]] || die "bundle '$bundle_id' is not in the layout"
    cas_list=()
    split_csv "$cas" cas_list
    make_scratch
    : >"$SCRATCH/bundle.pem"
    seen=" "
    for c in "${cas_list[@]}"; do
      files=$(trusted_ca_certs "$ca_dir" "$c" "$([[ $without_old -eq 1 ]] && echo without-old)")
      [[ -n $files ]] || die "bundle $bundle_id: CA $c not found in $ca_dir"
      while IFS= read -r f; do
        bc=$(openssl x509 -in "$f" -noout -ext basicConstraints 2>/dev/null) || die "bundle $bundle_id: $f is not a certificate"
        [[ $bc == *CA:TRUE* ]] || die "bundle $bundle_id: $f is not a CA certificate"
        fp=$(cert_sha256 "$f")
        [[ $seen == *" $fp "* ]] && continue
        seen+="$fp "
        openssl x509 -in "$f" >>"$SCRATCH/bundle.pem"
      done <<<"$files"
    done
    cat -- "$SCRATCH/bundle.pem"
    ;;

  mark-bundled)
    nv=$(ca_version "$state/next")
    [[ $nv == "$version" ]] || die "$ca: $version is not the accepted successor (${nv:-none})"
    read -r bv _ <<<"$(read_marker "$state/bundled")" || true
    if [[ ${bv:-} == "$version" ]]; then
      printf 'unchanged %s %s\n' "$ca" "$version"
      exit 0
    fi
    write_marker "$state/bundled" "$version $now"
    printf 'bundled %s %s\n' "$ca" "$version"
    ;;

  switch)
    adopt
    [[ -f $config ]] || die "cfssl config not found: $config"
    read -r so sn sat _ <<<"$(read_marker "$state/switched")" || true
    if [[ -z ${sn:-} ]]; then
      # Not started: every precondition, then the intent (what a cut run finishes).
      nv=$(ca_version "$state/next")
      cv=$(ca_version "$state/current")
      [[ -n $nv ]] || die "$ca: no successor accepted: nothing to switch to"
      [[ -z $(ca_version "$state/old") ]] || die "$ca: the old version $(ca_version "$state/old") is not retired yet"
      read -r bv bat _ <<<"$(read_marker "$state/bundled")" || true
      [[ ${bv:-} == "$nv" && ${bat:-} =~ ^[0-9]+$ ]] ||
        die "$ca: the successor $nv is not marked as in every bundle (mark-bundled): refusing to switch"
      if ((now - bat < min_lead)); then
        die "$ca: the successor is in the bundles since $(date -u -d "@$bat" '+%Y-%m-%d %H:%M:%S UTC'): the switch needs ${min_lead} s of bundle lead, from $(date -u -d "@$((bat + min_lead))" '+%Y-%m-%d %H:%M:%S UTC')"
      fi
      lmax=$(leaf_max_seconds)
      ((now + lmax <= $(enddate_epoch "$state/$nv/cert.pem"))) ||
        die "$ca: the successor would not outlive a leaf signed now: refusing"
      write_marker "$state/switched" "$cv $nv $now"
      so=$cv
      sn=$nv
    fi
    [[ $so =~ ^v-[0-9a-f]{16}$ && $sn =~ ^v-[0-9a-f]{16}$ && -d $state/$sn ]] ||
      die "$ca: the switch record $state/switched is damaged"
    if [[ $(ca_version "$state/current") == "$sn" && -z $(ca_version "$state/next") ]]; then
      rm -f -- "$state/bundled"
      printf 'unchanged %s %s\n' "$ca" "$sn"
      exit 0
    fi
    # old first (still trusted), then ONE rename makes the successor sign.
    [[ -d $state/$so ]] && point_link "$state/old" "$so"
    point_link "$state/current" "$sn"
    rm -f -- "$state/next" "$state/bundled"
    info "$ca: $sn signs from now; $so stays in the bundles until retired"
    printf 'switched %s %s\n' "$ca" "$sn"
    ;;

  retire)
    [[ -f $config ]] || die "cfssl config not found: $config"
    read -r so sn sat _ <<<"$(read_marker "$state/switched")" || true
    read -r rv _ <<<"$(read_marker "$state/retired")" || true
    ov=$(ca_version "$state/old")
    if [[ -z ${so:-} && -z $ov ]]; then
      printf 'unchanged %s%s\n' "$ca" "${rv:+ $rv}"
      exit 0
    fi
    # A retire cut after its record was written was decided already: no second time check.
    if [[ ${sat:-} =~ ^[0-9]+$ && -z ${rv:-} ]]; then
      lmax=$(leaf_max_seconds)
      if ((now < sat + lmax && early == 0)); then
        die "$ca: leaves signed by ${ov:-$so} before the switch may be valid until $(date -u -d "@$((sat + lmax))" '+%Y-%m-%d %H:%M:%S UTC') (switch + ${lmax} s): retire then, or --early when none is left anywhere"
      fi
    fi
    gone=${ov:-$so}
    [[ $gone =~ ^v-[0-9a-f]{16}$ ]] || die "$ca: the switch record $state/switched is damaged"
    # The record first: until finish, status says the bundles still have to lose it.
    [[ ${rv:-} == "$gone" ]] || write_marker "$state/retired" "$gone $now"
    rm -f -- "$state/old"
    [[ $gone != "$(ca_version "$state/current")" ]] && rm -rf -- "${state:?}/$gone"
    rm -f -- "$state/switched"
    prune
    info "$ca: retired $gone: push every bundle without it, then finish"
    printf 'retired %s %s\n' "$ca" "$gone"
    ;;

  finish)
    if [[ -n $(ca_version "$state/old") || -f $state/switched ]]; then
      die "$ca: the old version is not retired yet"
    fi
    if [[ ! -f $state/retired ]]; then
      printf 'unchanged %s\n' "$ca"
      exit 0
    fi
    rm -f -- "$state/retired"
    printf 'finished %s\n' "$ca"
    ;;
esac
