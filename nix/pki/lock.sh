#!/usr/bin/env bash
# lock.sh: ON THE NODE, the rotation lock of this node, shared by the console, `k8ops rotate
# --due` and the node timer's hook, so that one node is never rotated twice at once.
# The lock is a directory (<pki-dir>/.rotate.lock) made with one mkdir(2): atomic, on the
# node itself, whoever asks. Its `holder` file says who holds it (owner, host, pid, time,
# token). A lock is never taken over because it looks old: `break` is an explicit command.
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG acquire --owner WHO --host HOST --pid PID [--pki-dir DIR] [--layout FILE]
       $PROG release --token TOKEN [--pki-dir DIR] [--layout FILE]
       $PROG show [--pki-dir DIR] [--layout FILE]
       $PROG break [--pki-dir DIR] [--layout FILE]

acquire  take the lock: prints {"token": "…"} (pass it to release); when another holds
         it, exits 3 and prints the holder as JSON {"held": true, "owner", "host", "pid",
         "since", "ageSeconds"} (since/owner empty when the holder died while taking it)
release  give the lock back; only with the token acquire printed (exit 3 otherwise)
show     print the holder as JSON, or {"held": false}
break    remove the lock whoever holds it (the operator's explicit decision)

WHO and HOST: letters, digits and . _ @ : - (at most 64); PID: a number.
Exit: 0 done, 2 usage, 3 held by another (acquire) or not ours (release), 1 other errors.
EOF
}

[[ $# -gt 0 ]] || usage_error "what to do? (acquire, release, show, break)"
verb=$1
shift
case $verb in
  acquire | release | show | break) ;;
  -h | --help) usage; exit 0 ;;
  *) usage_error "unknown action '$verb'" ;;
esac

layout=$DEFAULT_LAYOUT
pki_dir=""
owner=""
host=""
pid=""
token=""
WHO_RE='^[A-Za-z0-9._@:-]{1,64}$'
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --pki-dir) need_value "$1" "$#"; pki_dir=$(check_path "$1" "$2"); shift 2 ;;
    --owner) need_value "$1" "$#"; [[ $2 =~ $WHO_RE ]] || usage_error "invalid owner '$2'"; owner=$2; shift 2 ;;
    --host) need_value "$1" "$#"; [[ $2 =~ $WHO_RE ]] || usage_error "invalid host '$2'"; host=$2; shift 2 ;;
    --pid) need_value "$1" "$#"; [[ $2 =~ ^[0-9]{1,10}$ ]] || usage_error "invalid pid '$2'"; pid=$2; shift 2 ;;
    --token) need_value "$1" "$#"; [[ $2 =~ ^[0-9a-f]{32}$ ]] || usage_error "invalid token"; token=$2; shift 2 ;;
    *) usage_error "unexpected argument $1" ;;
  esac
done
if [[ $verb == acquire ]]; then
  [[ -n $owner && -n $host && -n $pid ]] || usage_error "acquire needs --owner, --host and --pid"
fi
if [[ $verb == release ]]; then
  [[ -n $token ]] || usage_error "release needs --token"
fi

need_tools jq
if [[ -z $pki_dir ]]; then
  load_layout "$layout"
  pki_dir=$LAYOUT_PKI_DIR
fi
lock="$pki_dir/.rotate.lock"

# holder_json: the lock's holder as JSON (fields empty when it died before writing them).
holder_json() {
  local o="" h="" p="" since="" now age mt
  if [[ -f $lock/holder ]]; then
    IFS=$'\t' read -r o h p since _ <"$lock/holder" || true
  fi
  now=$(date -u +%s)
  if [[ ! $since =~ ^[0-9]{1,12}$ ]]; then
    mt=$(stat -c %Y -- "$lock" 2>/dev/null || printf '%s' "$now")
    since=$mt
  fi
  age=$((now - since))
  jq -cn --arg o "$o" --arg h "$h" --arg p "$p" --argjson since "$since" --argjson age "$age" \
    '{held: true, owner: $o, host: $h, pid: ($p | tonumber? // null), since: $since, ageSeconds: $age}'
}

case $verb in
  acquire)
    make_dir 0755 "$pki_dir"
    if ! mkdir -m 0700 -- "$lock" 2>/dev/null; then
      [[ -d $lock ]] || die "cannot create $lock"
      holder_json
      exit 3
    fi
    token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    t="$lock/.holder.$$"
    printf '%s\t%s\t%s\t%s\t%s\n' "$owner" "$host" "$pid" "$(date -u +%s)" "$token" >"$t"
    mv -f -T -- "$t" "$lock/holder"
    jq -cn --arg t "$token" '{token: $t}'
    ;;
  release)
    if [[ ! -d $lock ]]; then
      printf '{"released":false,"held":false}\n'
      exit 0
    fi
    held=""
    if [[ -f $lock/holder ]]; then
      IFS=$'\t' read -r _ _ _ _ held <"$lock/holder" || true
    fi
    if [[ $held != "$token" ]]; then
      holder_json
      exit 3
    fi
    rm -rf -- "$lock"
    printf '{"released":true}\n'
    ;;
  show)
    if [[ -d $lock ]]; then holder_json; else printf '{"held":false}\n'; fi
    ;;
  break)
    if [[ -d $lock ]]; then
      h=$(holder_json)
      rm -rf -- "$lock"
      info "broke the lock held by $h"
      printf '{"broken":true,"was":%s}\n' "$h"
    else
      printf '{"broken":false,"held":false}\n'
    fi
    ;;
esac
