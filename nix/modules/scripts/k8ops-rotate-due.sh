#!/usr/bin/env bash
# k8ops-rotate-due: decide which of this node's certificates are due for rotation, with the
# node's slot offset (DESIGN.md "Rotation schedule"), and hand the due ones to a hook.
#
#   due(cert)       = notAfter − renewBefore     (renewBefore: configured, else lifetime / 3)
#   scheduled(cert) = due + offset               (offset = node index × spread / node count)
#
# A certificate is rotated when now ≥ scheduled; a missing or unreadable certificate file is
# due at once. The hook (K8OPS_ROTATE_HOOK) runs once with the due certificate ids as
# arguments and does the rotation itself (key + CSR on the node, signing at the signer,
# install). Without a hook, or with --dry-run, nothing is run.
#
# Input: the plan file (--plan, K8OPS_ROTATION_PLAN, else /etc/k8ops/rotation-plan.json),
# written by nix/modules/node-tools.nix:
#   {"node": "...", "offsetSeconds": N, "renewBeforeSeconds": N|null,
#    "certs": [{"id": "...", "certPath": "...", "units": ["..."]}]}
# Output: one JSON object on stdout: {"node","now","offsetSeconds","due":[…],"certs":[…]},
# progress on stderr. Exit status: 0 nothing due or the hook succeeded, 2 bad input,
# 3 another run holds the lock, else the hook's status.
set -euo pipefail

usage() {
  echo "usage: k8ops-rotate-due [--plan FILE] [--dry-run] [--now EPOCH]" >&2
}

plan="${K8OPS_ROTATION_PLAN:-/etc/k8ops/rotation-plan.json}"
hook="${K8OPS_ROTATE_HOOK:-}"
now="${K8OPS_NOW:-}"
lock="${K8OPS_ROTATE_LOCK:-/run/k8ops-rotate.lock}"
dry_run=0

while [ "$#" -gt 0 ]; do
  case "$1" in
    --plan) plan="${2:?--plan needs a file}"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --now) now="${2:?--now needs an epoch}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage; exit 2 ;;
  esac
done

if [ -z "$plan" ] || [ ! -r "$plan" ]; then
  echo "k8ops-rotate-due: no readable plan file (K8OPS_ROTATION_PLAN or --plan)" >&2
  exit 2
fi
if [ -z "$now" ]; then
  now="$(date -u +%s)"
fi
case "$now" in
  '' | *[!0-9]*) echo "k8ops-rotate-due: --now must be seconds since the epoch" >&2; exit 2 ;;
esac

node="$(jq -er '.node' "$plan")" || { echo "k8ops-rotate-due: plan has no node" >&2; exit 2; }
offset="$(jq -er '.offsetSeconds' "$plan")" || { echo "k8ops-rotate-due: plan has no offsetSeconds" >&2; exit 2; }
renew_before="$(jq -r '.renewBeforeSeconds // empty' "$plan")"
case "$offset" in
  '' | *[!0-9]*) echo "k8ops-rotate-due: offsetSeconds must be a whole number" >&2; exit 2 ;;
esac
case "$renew_before" in
  *[!0-9]*) echo "k8ops-rotate-due: renewBeforeSeconds must be a whole number" >&2; exit 2 ;;
esac

# Epoch seconds of a certificate's notBefore/notAfter ("start"/"end"); empty if unreadable.
cert_time() {
  local which="$1" file="$2" line
  line="$(openssl x509 -noout "-${which}date" -in "$file" 2>/dev/null)" || return 0
  date -u -d "${line#*=}" +%s 2>/dev/null || true
}

due_ids=()
entries=()
while IFS=$'\t' read -r id path; do
  [ -n "$id" ] || continue
  reason=""
  not_before=""
  not_after=""
  scheduled=""
  if [ ! -e "$path" ]; then
    reason="missing"
    scheduled="$now"
  else
    not_before="$(cert_time start "$path")"
    not_after="$(cert_time end "$path")"
    if [ -z "$not_before" ] || [ -z "$not_after" ]; then
      reason="unreadable"
      scheduled="$now"
    else
      lifetime=$((not_after - not_before))
      if [ -n "$renew_before" ]; then
        before="$renew_before"
      else
        before=$((lifetime / 3))
      fi
      scheduled=$((not_after - before + offset))
      if [ "$now" -ge "$not_after" ]; then
        reason="expired"
      elif [ "$now" -ge "$scheduled" ]; then
        reason="scheduled"
      fi
    fi
  fi
  if [ -n "$reason" ]; then
    due_ids+=("$id")
    echo "k8ops-rotate-due: ${node}: ${id} is due (${reason})" >&2
  fi
  entries+=("$(jq -cn --arg id "$id" --arg path "$path" --arg reason "$reason" \
    --arg notBefore "$not_before" --arg notAfter "$not_after" --arg scheduled "$scheduled" \
    '{id: $id, path: $path, due: ($reason != ""), reason: (if $reason == "" then null else $reason end),
      notBefore: ($notBefore | tonumber? // null), notAfter: ($notAfter | tonumber? // null),
      scheduled: ($scheduled | tonumber? // null)}')")
done < <(jq -r '.certs[] | [.id, .certPath] | @tsv' "$plan")

summary() {
  local ran="$1" status="$2"
  printf '%s\n' "${entries[@]+"${entries[@]}"}" | jq -cs --arg node "$node" --argjson now "$now" \
    --argjson offset "$offset" --argjson ran "$ran" --argjson status "$status" \
    '{node: $node, now: $now, offsetSeconds: $offset, due: [.[] | select(.due) | .id],
      hookRan: $ran, hookStatus: $status, certs: .}'
}

if [ "${#due_ids[@]}" -eq 0 ]; then
  next="$(printf '%s\n' "${entries[@]+"${entries[@]}"}" | jq -rs '[.[] | .scheduled | numbers] | min // empty')"
  if [ -n "$next" ]; then
    echo "k8ops-rotate-due: ${node}: nothing due; next at $(date -u -d "@${next}" +%Y-%m-%dT%H:%M:%SZ)" >&2
  else
    echo "k8ops-rotate-due: ${node}: nothing due" >&2
  fi
  summary false null
  exit 0
fi

if [ "$dry_run" -eq 1 ] || [ -z "$hook" ]; then
  echo "k8ops-rotate-due: ${node}: not rotating (dry run or no hook configured)" >&2
  summary false null
  exit 0
fi

exec 9>"$lock"
if ! flock -n 9; then
  echo "k8ops-rotate-due: ${node}: another rotation holds ${lock}" >&2
  exit 3
fi

status=0
# The hook's own output goes to stderr (the journal); stdout carries only the summary.
"$hook" "${due_ids[@]}" >&2 || status=$?
summary true "$status"
exit "$status"
