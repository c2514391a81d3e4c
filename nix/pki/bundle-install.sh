#!/usr/bin/env bash
# bundle-install.sh: ON THE NODE, put a trust bundle in place during an intermediate's
# rotation (k8ops rotate --ca): the successor joins the bundle before it signs anything, the
# predecessor leaves it after its last leaf. The certificates come from the signer
# (ca-rotate.sh bundle); only public certificates are handled. Needs bash, coreutils, jq and
# openssl.
#
# Nothing the node holds may stop verifying: before writing (and with --check, instead of
# writing) every installed leaf of the bundle's CAs (the layout's certificates found in the
# PKI directory) is verified against the new bundle; one that would not verify is named and
# nothing is written. The components that read the bundle once (etcd, kubelet, …:
# reload.json) must be restarted after a change: <pki-dir>/.bundles/<id>/restart-pending
# says so until k8ops has restarted them and gated their health (--restarted).
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG --bundle ID --certs FILE [--check] [--pki-dir DIR] [--layout FILE]
       $PROG --bundle ID --restarted|--rollback|--show [--pki-dir DIR] [--layout FILE]

Write trust bundle ID of the layout (<pki-dir>/<its path>, its mode, atomically) with the
certificates of FILE (- reads stdin; from ca-rotate.sh bundle at the signer):
  - every certificate must be a CA (not self-signed) whose subject is one of the bundle's
    CAs in the layout; duplicates are dropped; at most 16;
  - every installed leaf of those CAs on this node must verify against the new content
    (openssl verify -partial_chain), else nothing is written and the leaf is named;
  - the previous content is kept (<pki-dir>/.bundles/ID/previous.pem) and a restart is
    marked pending (<pki-dir>/.bundles/ID/restart-pending).
Prints "installed ID", "unchanged ID" (same content, nothing pending) or "pending ID" (same
content, the restart after an earlier change is still to be done).

--check      only the leaf check against FILE: prints "ok ID" or fails naming the leaf
--restarted  the units that read the bundle were restarted and are healthy: clear the mark
--rollback   put the previous content back (marks a restart pending)
--show       JSON: {bundle, path, exists, fingerprints, restartPending}

Options:
  --bundle ID     trust bundle id of the layout
  --certs FILE    the bundle's certificates (- reads stdin)
  --pki-dir DIR   PKI directory (default: the layout's pkiDir)
  --layout FILE   layout (default: layout.json next to this script)
  -h, --help      this help
EOF
}

layout=$DEFAULT_LAYOUT
pki_dir=""
bundle_id=""
certs_in=""
mode_op=install
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --pki-dir) need_value "$1" "$#"; pki_dir=$(check_path "$1" "$2"); shift 2 ;;
    --bundle) need_value "$1" "$#"; check_id "$2"; bundle_id=$2; shift 2 ;;
    --certs)
      need_value "$1" "$#"
      if [[ $2 == - ]]; then certs_in=-; else certs_in=$(check_path "$1" "$2"); fi
      shift 2
      ;;
    --check | --restarted | --rollback | --show)
      [[ $mode_op == install ]] || usage_error "$1 and --$mode_op exclude each other"
      mode_op=${1#--}
      shift
      ;;
    *) usage_error "unexpected argument $1" ;;
  esac
done
[[ -n $bundle_id ]] || usage_error "--bundle is required"
case $mode_op in
  install | check) [[ -n $certs_in ]] || usage_error "--certs is required" ;;
  *) [[ -z $certs_in ]] || usage_error "--$mode_op takes no --certs" ;;
esac

need_tools jq openssl
load_layout "$layout"
[[ -n $pki_dir ]] || pki_dir=$LAYOUT_PKI_DIR
# Made here, before any $(…) subshell could make (and leak) its own.
make_scratch

# shellcheck disable=SC2016 # a jq program: its $names are jq variables
IFS=$US read -r rel bmode cas < <(lq '[.bundles[] | select(.id == $id)][0] // empty
  | [.path, .mode, (.cas | join(","))] | join("\u001f")' --arg id "$bundle_id") || true
[[ -n ${rel:-} ]] || die "bundle '$bundle_id' is not in the layout"
dest=$(abspath "$pki_dir/$rel")
state="$pki_dir/.bundles/$bundle_id"
marker="$state/restart-pending"
cas_list=()
split_csv "$cas" cas_list

fingerprints_json() { # FILE: the fingerprints of its certificates, as a JSON array
  local n i
  local -a fps=()
  if [[ -f $1 ]] && n=$(split_pem "$1" "$SCRATCH/show"); then
    for ((i = 0; i < n; i++)); do fps+=("$(cert_sha256 "$SCRATCH/show.$i.pem")"); done
  fi
  json_array "${fps[@]}"
}

case $mode_op in
  show)
    exists=false
    [[ -f $dest ]] && exists=true
    pending=false
    [[ -f $marker ]] && pending=true
    jq -cn --arg b "$bundle_id" --arg p "$dest" --argjson e "$exists" --argjson r "$pending" \
      --argjson fps "$(fingerprints_json "$dest")" \
      '{bundle: $b, path: $p, exists: $e, fingerprints: $fps, restartPending: $r}'
    exit 0
    ;;
  restarted)
    rm -f -- "$marker"
    printf 'restarted %s\n' "$bundle_id"
    exit 0
    ;;
  rollback)
    [[ -f $state/previous.pem ]] || die "bundle $bundle_id: no previous content to roll back to"
    make_dir 0755 "$state"
    : >"$marker"
    write_file "$state/previous.pem" "$dest" "$bmode"
    info "bundle $bundle_id: the previous content is back in $dest"
    printf 'installed %s\n' "$bundle_id"
    exit 0
    ;;
esac

# --- The new content: CA certificates of the bundle's CAs, each once.
subjects=$'\x1e'
for c in "${cas_list[@]}"; do
  s=$(ca_subject "$c") || die "bundle $bundle_id: CA $c is not in the layout"
  subjects+="$s"$'\x1e'
done
make_scratch
read_input "$certs_in" "$SCRATCH/in.pem"
n=$(split_pem "$SCRATCH/in.pem" "$SCRATCH/part") || die "bundle $bundle_id: unreadable PEM"
((n >= 1)) || die "bundle $bundle_id: no certificate given"
((n <= 16)) || die "bundle $bundle_id: $n certificates: at most 16"
: >"$SCRATCH/new.pem"
seen=" "
for ((i = 0; i < n; i++)); do
  c="$SCRATCH/part.$i.pem"
  bc=$(openssl x509 -in "$c" -noout -ext basicConstraints 2>/dev/null || true)
  [[ $bc == *CA:TRUE* ]] || die "bundle $bundle_id: certificate $((i + 1)) is not a CA"
  subj=$(openssl x509 -in "$c" -noout -subject -nameopt RFC2253)
  subj=${subj#subject=}
  iss=$(openssl x509 -in "$c" -noout -issuer -nameopt RFC2253)
  iss=${iss#issuer=}
  [[ $subj != "$iss" ]] || die "bundle $bundle_id: certificate $((i + 1)) ($subj) is self-signed: a root never goes into a bundle"
  [[ $subjects == *$'\x1e'"$subj"$'\x1e'* ]] ||
    die "bundle $bundle_id: certificate $((i + 1)) ($subj) is not one of its CAs (${cas})"
  fp=$(cert_sha256 "$c")
  [[ $seen == *" $fp "* ]] && continue
  seen+="$fp "
  cat -- "$c" >>"$SCRATCH/new.pem"
done

# --- Every installed leaf of the bundle's CAs must still verify.
# shellcheck disable=SC2016 # a jq program: its $names are jq variables
leaves=$(lq '.certs[] | select(.ca as $c | $cas | split(",") | index($c)) | [.id, .cert] | join("\u001f")' --arg cas "$cas")
checked=0
while IFS=$US read -r lid lrel; do
  [[ -n $lid ]] || continue
  lf=$(abspath "$pki_dir/$lrel")
  [[ -f $lf ]] || continue
  openssl x509 -in "$lf" -out "$SCRATCH/leaf.pem" 2>/dev/null || die "bundle $bundle_id: cannot read the certificate of $lid ($lf)"
  if ! msg=$(openssl verify -no-CApath -no-CAstore -partial_chain -CAfile "$SCRATCH/new.pem" "$SCRATCH/leaf.pem" 2>&1); then
    iss=$(openssl x509 -in "$SCRATCH/leaf.pem" -noout -issuer -nameopt RFC2253)
    die "bundle $bundle_id: $lid ($lf, issued by ${iss#issuer=}) would not verify against the new bundle: ${msg//$'\n'/; }: refusing"
  fi
  checked=$((checked + 1))
done <<<"$leaves"

if [[ $mode_op == check ]]; then
  info "bundle $bundle_id: $checked installed leaf/leaves verify against the new content"
  printf 'ok %s\n' "$bundle_id"
  exit 0
fi

if same_content "$SCRATCH/new.pem" "$dest"; then
  if [[ -f $marker ]]; then
    printf 'pending %s\n' "$bundle_id"
  else
    printf 'unchanged %s\n' "$bundle_id"
  fi
  exit 0
fi
make_dir 0755 "$pki_dir/.bundles"
make_dir 0755 "$state"
# The mark first: a cut after the write still says the restart is owed.
: >"$marker"
if [[ -f $dest ]]; then
  write_file "$dest" "$state/previous.pem" 0644
fi
make_dir 0755 "$(dirname -- "$dest")"
write_file "$SCRATCH/new.pem" "$dest" "$bmode"
info "bundle $bundle_id: $dest holds $(grep -c 'BEGIN CERTIFICATE' "$SCRATCH/new.pem") CA certificate(s); $checked leaf/leaves verify"
printf 'installed %s\n' "$bundle_id"
