/**
 * A stand-in for nixos-rebuild, which cannot run here (no NixOS, no Nix store with a
 * system to switch to). It takes nixos-rebuild's command line (`<action> --flake F#node
 * --target-host user@host [--use-remote-sudo] [--rollback]`), prints its lines for each
 * phase (test/fixtures/nixos-rebuild), and runs the activation ON THE TARGET over `ssh
 * $NIX_SSHOPTS`, as nixos-rebuild does — so the jump chain, known_hosts and identity k8ops
 * puts in NIX_SSHOPTS are exercised by the real OpenSSH client against real sshd.
 * Exit codes: 0; 1 (a failed build, or — like legacy nixos-rebuild — after a failed switch,
 * with its "warning: error(s) occurred while switching" line). Per node, files in `dir`
 * choose the behaviour: `<node>.build-fails`, `<node>.mode` (ok | units-failed | fail).
 * `calls` records every invocation, `activations` every activation's start and end.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FakeNixosRebuild {
  /** Put first on PATH. */
  binDir: string;
  dir: string;
}

export function installFakeNixosRebuild(dir: string): FakeNixosRebuild {
  const binDir = join(dir, 'bin');
  mkdirSync(binDir, { recursive: true });
  const q = `'${dir.replaceAll("'", `'\\''`)}'`;
  writeFileSync(
    join(binDir, 'nixos-rebuild'),
    `#!/bin/sh
# Stand-in for nixos-rebuild (test/helpers/fake-nixos-rebuild.ts).
set -u
FAKE=${q}
action=\${1:-}
[ $# -gt 0 ] && shift
flake= target= rollback=0
while [ $# -gt 0 ]; do
  case $1 in
    --flake) flake=$2; shift 2 ;;
    --target-host) target=$2; shift 2 ;;
    --use-remote-sudo) shift ;;
    --rollback) rollback=1; shift ;;
    *) echo "error: unrecognised flag '$1'" >&2; exit 1 ;;
  esac
done
case $action in switch|boot|test|dry-activate) ;; *) echo "error: unknown action '$action'" >&2; exit 1 ;; esac
if [ "$rollback" = 1 ]; then node=\${target#*@}; else node=\${flake##*#}; fi
printf '%s|%s|%s|%s|%s\\n' "$action" "$node" "$target" "$rollback" "\${NIX_SSHOPTS:-}" >> "$FAKE/calls"
if [ "$rollback" = 0 ]; then
  echo "building the system configuration..." >&2
  echo "these 2 derivations will be built:" >&2
  if [ -f "$FAKE/$node.build-fails" ]; then
    echo "error: builder for '/nix/store/2f9z0b8w1q4m7k3x5c6v8n0p2r4t6y8a-nixos-system-$node-25.05.drv' failed with exit code 1" >&2
    exit 1
  fi
  echo "building '/nix/store/2f9z0b8w1q4m7k3x5c6v8n0p2r4t6y8a-nixos-system-$node-25.05.drv'..." >&2
  echo "copying 3 paths..." >&2
fi
# shellcheck disable=SC2086
ssh $NIX_SSHOPTS "$target" sh -s -- "$action" "$node" < "$FAKE/switch-to-configuration"
rc=$?
if [ $rc -ne 0 ]; then
  echo "warning: error(s) occurred while switching to the new configuration" >&2
  exit 1
fi
`,
  );
  chmodSync(join(binDir, 'nixos-rebuild'), 0o755);
  writeFileSync(
    join(dir, 'switch-to-configuration'),
    `# The activation, run on the target by the fake nixos-rebuild (sh -s).
FAKE=${q}
action=$1 node=$2
mode=$(cat "$FAKE/$node.mode" 2>/dev/null || echo ok)
echo "$node start" >> "$FAKE/activations"
if [ -f "$FAKE/$node.barrier" ]; then
  # Wait (bounded) until the other node of the barrier has started: proves they run together.
  other=$(cat "$FAKE/$node.barrier"); i=0
  while ! grep -q "^$other start" "$FAKE/activations" && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
fi
if [ "$action" = dry-activate ]; then
  echo "would stop the following units: kube-proxy.service"
  echo "would activate the configuration..."
  echo "would restart the following units: kubelet.service"
  echo "$node end" >> "$FAKE/activations"
  exit 0
fi
echo "activating the configuration..."
echo "setting up /etc..."
echo "restarting the following units: kubelet.service"
case $mode in
  units-failed)
    echo "warning: the following units failed: kubelet.service"
    echo "$node end" >> "$FAKE/activations"
    exit 4 ;;
  fail)
    echo "error: the activation script failed"
    exit 1 ;;
esac
echo "Done. The new configuration is /nix/store/2a7hg1ffx3yd0qj9lywsm6l0d4wq0b1w-nixos-system-$node-25.05"
echo "$node end" >> "$FAKE/activations"
exit 0
`,
  );
  return { binDir, dir };
}
