#!/usr/bin/env bash
# k8ops-rotate-hook: the default rotation of k8ops-rotate-due (nix/modules/node-tools.nix),
# for the certificate ids given as arguments, with the PKI scripts of nix/pki/:
#
#   1. on this node: a new key + CSR          (k8ops-pki-node-csr --only ID)
#   2. at the signer: the signature           (k8ops-pki-sign, over ssh, or here when
#                                              K8OPS_SIGNER=local)
#   3. on this node: verify and install       (k8ops-pki-install; keeps the previous pair)
#   4. restart each affected unit, one at a time, and wait for it to be active; if one does
#      not come up, put the previous pairs of its certificates back (install --rollback),
#      restart it again and fail.
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
trap 'rm -rf -- "$work"' EXIT

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
  case "$result" in installed*) installed+=("$id") ;; esac
done

[ "${#installed[@]}" -gt 0 ] || exit 0

# Units of the installed certificates, in a safe restart order (etcd first, kubelet last).
mapfile -t units < <(
  jq -r --args '
    ["etcd.service", "kube-apiserver.service", "kube-controller-manager.service",
     "kube-scheduler.service", "kube-addon-manager.service", "kube-proxy.service",
     "flannel.service", "kubelet.service"] as $order
    | [.certs[] | select(.id as $id | $ARGS.positional | index($id)) | .units[]] | unique
    | sort_by(. as $u | ($order | index($u)) // 99) | .[]' "${installed[@]}" < "$plan"
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

for unit in "${units[@]+"${units[@]}"}"; do
  echo "k8ops-rotate-hook: ${node}: restarting ${unit}" >&2
  systemctl restart "$unit" || true
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
