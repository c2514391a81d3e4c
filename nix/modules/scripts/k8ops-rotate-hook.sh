#!/usr/bin/env bash
# k8ops-rotate-hook: the default rotation of k8ops-rotate-due (nix/modules/node-tools.nix),
# for the certificate ids given as arguments, with the PKI scripts of nix/pki/:
#
#   0. the node's rotation lock               (k8ops-pki-lock acquire: the one k8ops takes,
#                                              so the console, `k8ops rotate --due` and this
#                                              timer never rotate the node twice at once)
#   1. on this node: a new key + CSR          (k8ops-pki-node-csr --only ID)
#   2. at the signer: the signature           (k8ops-pki-sign, over ssh, or here when
#                                              K8OPS_SIGNER=local)
#   3. on this node: verify and install       (k8ops-pki-install; keeps the previous pair)
#   4. per affected unit, in the plan's unitOrder (nix/pki/reload.json, the order k8ops uses):
#      restart it only when one of its certificates needs it (reload.json: etcd re-reads its
#      pair per handshake, the API server's serving pair is reloaded from disk…), then wait
#      for it to be active; if it does not come up, put the previous pairs of its
#      certificates back (install --rollback), restart it again and fail.
# The same scripts in the same order as `k8ops rotate` (src/actions/rotate/plan.ts), which
# adds the component health gates it can run from outside (etcd endpoint health, /readyz).
#
# Environment (set by the module from k8ops.cluster):
#   K8OPS_NODE, K8OPS_ROLES (comma-separated), K8OPS_ADDRESSES (comma-separated),
#   K8OPS_APISERVER_ADDRESS, K8OPS_CLUSTER_DOMAIN, K8OPS_SERVICE_CIDR, K8OPS_PKI_DIR (optional),
#   K8OPS_SIGNER (ssh destination of the signer, or "local"), K8OPS_CA_DIR (local signer's
#   CA directory, optional), K8OPS_ROTATION_PLAN (the units of each id),
#   K8OPS_UNIT_TIMEOUT (seconds a restarted unit gets to become active, default 120).
# Re-running after a failure at any step converges: node-csr reuses a pending key, install
# of an installed chain is a no-op.
set -euo pipefail

die() {
  echo "k8ops-rotate-hook: $*" >&2
  exit 1
}

[ "$#" -gt 0 ] || die "usage: k8ops-rotate-hook ID…"
node="${K8OPS_NODE:?K8OPS_NODE is not set}"
roles="${K8OPS_ROLES:?K8OPS_ROLES is not set}"
addresses="${K8OPS_ADDRESSES:-}"
signer="${K8OPS_SIGNER:?K8OPS_SIGNER is not set (ssh destination of the signer, or local)}"
plan="${K8OPS_ROTATION_PLAN:-/etc/k8ops/rotation-plan.json}"
timeout="${K8OPS_UNIT_TIMEOUT:-120}"
case "$timeout" in '' | *[!0-9]*) die "K8OPS_UNIT_TIMEOUT must be whole seconds" ;; esac

# The node parameters node-csr and sign must both get (the CSR is checked against them).
params=(--node "$node" --roles "$roles")
[ -z "$addresses" ] || params+=(--addresses "$addresses")
[ -z "${K8OPS_APISERVER_ADDRESS:-}" ] || params+=(--apiserver-address "$K8OPS_APISERVER_ADDRESS")
[ -z "${K8OPS_CLUSTER_DOMAIN:-}" ] || params+=(--cluster-domain "$K8OPS_CLUSTER_DOMAIN")
[ -z "${K8OPS_SERVICE_CIDR:-}" ] || params+=(--service-cidr "$K8OPS_SERVICE_CIDR")
pki=()
[ -z "${K8OPS_PKI_DIR:-}" ] || pki=(--pki-dir "$K8OPS_PKI_DIR")

work="$(mktemp -d)"
token=""
cleanup() {
  if [ -n "$token" ]; then
    k8ops-pki-lock release --token "$token" "${pki[@]+"${pki[@]}"}" >/dev/null || true
  fi
  rm -rf -- "$work"
}
trap cleanup EXIT

# 0. The node's lock (exit 3, like a held flock, when another rotation holds it).
lock_rc=0
lock_out="$(k8ops-pki-lock acquire --owner node-timer --host "$node" --pid "$$" "${pki[@]+"${pki[@]}"}")" || lock_rc=$?
if [ "$lock_rc" -eq 3 ]; then
  echo "k8ops-rotate-hook: ${node}: another rotation holds the node's lock: ${lock_out}" >&2
  exit 3
fi
[ "$lock_rc" -eq 0 ] || die "cannot take the node's rotation lock (exit ${lock_rc})"
token="$(jq -r '.token // empty' <<<"$lock_out")"
[ -n "$token" ] || die "the lock gave no token: ${lock_out}"

sign() {
  local id="$1" csr="$2" out="$3"
  if [ "$signer" = local ]; then
    local ca=()
    [ -z "${K8OPS_CA_DIR:-}" ] || ca=(--ca-dir "$K8OPS_CA_DIR")
    k8ops-pki-sign "${params[@]}" "${ca[@]+"${ca[@]}"}" --id "$id" --csr "$csr" --out "$out"
  else
    # The remote command is built from validated values, each quoted for the remote shell.
    local remote
    remote="f=\$(mktemp) && cat > \"\$f\" && k8ops-pki-sign$(printf ' %q' "${params[@]}" --id "$id") --csr \"\$f\"; rc=\$?; rm -f \"\$f\"; exit \$rc"
    ssh -o BatchMode=yes -- "$signer" "$remote" < "$csr" > "$out.tmp"
    mv -- "$out.tmp" "$out"
  fi
}

installed=()
for id in "$@"; do
  case "$id" in '' | *[!a-z0-9-]*) die "invalid certificate id: $id" ;; esac
  echo "k8ops-rotate-hook: ${node}: ${id}: key + CSR" >&2
  csr="$(k8ops-pki-node-csr "${params[@]}" "${pki[@]+"${pki[@]}"}" --only "$id" | tail -n 1)"
  if [ -z "$csr" ] || [ ! -f "$csr" ]; then
    die "${id}: node-csr printed no CSR"
  fi
  echo "k8ops-rotate-hook: ${node}: ${id}: signing at ${signer}" >&2
  sign "$id" "$csr" "$work/$id.pem"
  result="$(k8ops-pki-install --node "$node" --id "$id" --cert "$work/$id.pem" "${pki[@]+"${pki[@]}"}")"
  echo "k8ops-rotate-hook: ${node}: ${result}" >&2
  k8ops-pki-lock note --token "$token" --id "$id" "${pki[@]+"${pki[@]}"}" >/dev/null
  case "$result" in installed*) installed+=("$id") ;; esac
done

[ "${#installed[@]}" -gt 0 ] || exit 0

# Units of the installed certificates in the plan's unitOrder (unknown units last, by name),
# each with whether one of its installed certificates needs a restart.
mapfile -t units < <(
  jq -r --args '
    (.unitOrder // []) as $order
    | [.certs[] | select(.id as $id | $ARGS.positional | index($id))] as $certs
    | [$certs[] | .units[]] | unique
    | sort_by(. as $u | [($order | index($u)) // 99, $u])
    | .[] | . as $u
    | [$u, (if any($certs[]; (.units | index($u)) and (.restart != false)) then "restart" else "reload" end)]
    | @tsv' "${installed[@]}" < "$plan"
)

active_within() {
  local unit="$1" waited=0
  while [ "$waited" -lt "$timeout" ]; do
    systemctl is-active --quiet "$unit" && return 0
    sleep 2
    waited=$((waited + 2))
  done
  systemctl is-active --quiet "$unit"
}

for entry in "${units[@]+"${units[@]}"}"; do
  unit="${entry%%$'\t'*}"
  how="${entry#*$'\t'}"
  if [ "$how" = restart ]; then
    echo "k8ops-rotate-hook: ${node}: restarting ${unit}" >&2
    systemctl restart "$unit" || true
  else
    echo "k8ops-rotate-hook: ${node}: ${unit} picks its new pair up by itself: no restart" >&2
  fi
  if ! active_within "$unit"; then
    echo "k8ops-rotate-hook: ${node}: ${unit} is not active after ${timeout} s: rolling back" >&2
    mapfile -t ids < <(
      jq -r --arg unit "$unit" --args \
        '.certs[] | select((.units | index($unit)) and (.id as $id | $ARGS.positional | index($id))) | .id' \
        "${installed[@]}" < "$plan"
    )
    for id in "${ids[@]}"; do
      k8ops-pki-install --node "$node" --id "$id" --rollback "${pki[@]+"${pki[@]}"}" >&2 || true
    done
    systemctl restart "$unit" || true
    die "${unit} failed with the new certificates (${ids[*]}); the previous ones are back"
  fi
done
echo "k8ops-rotate-hook: ${node}: rotated ${installed[*]}" >&2
