/**
 * The rebuild roll-out (pure): which nodes, in which waves — control-plane nodes one at a
 * time (etcd members with them), then etcd-only nodes one at a time, then workers up to
 * `parallel` at once — and the exact nixos-rebuild command per node: run here with
 * `--target-host` and NIX_SSHOPTS carrying the console's jump chain, known_hosts and
 * identity (strict host-key checking, batch mode), or on the node itself.
 */
import type { Inventory, NodeSpec, Role } from '../../config/types.js';

export const REBUILD_ACTIONS = ['switch', 'test', 'boot', 'dry-activate'] as const;
export type RebuildAction = (typeof REBUILD_ACTIONS)[number];

export interface RebuildRequest {
  /** Node names (empty: every node, or those of `role`). */
  nodes: readonly string[];
  role?: Role;
  action: RebuildAction;
  /** Workers at once (default 1). */
  parallel: number;
  /** `switch --rollback`: back to the previous generation. */
  rollback?: boolean;
}

export type RolloutPlan = { ok: true; waves: NodeSpec[][] } | { ok: false; error: string };

const rank = (n: NodeSpec): number =>
  n.roles.includes('control-plane') ? 0 : n.roles.includes('etcd') ? 1 : 2;

export function planRollout(inv: Inventory, req: RebuildRequest): RolloutPlan {
  if (!Number.isInteger(req.parallel) || req.parallel < 1 || req.parallel > 64)
    return { ok: false, error: `--parallel must be 1 to 64, not ${req.parallel}` };
  const unknown = req.nodes.filter((n) => !inv.nodes.some((x) => x.name === n));
  if (unknown.length) return { ok: false, error: `not in the inventory: ${unknown.join(', ')}` };
  let nodes = req.nodes.length
    ? inv.nodes.filter((n) => req.nodes.includes(n.name))
    : [...inv.nodes];
  if (req.role) nodes = nodes.filter((n) => n.roles.includes(req.role!));
  if (nodes.length === 0) return { ok: false, error: 'no node selected' };
  nodes.sort((a, b) => rank(a) - rank(b) || a.index - b.index);
  const waves: NodeSpec[][] = [];
  const workers: NodeSpec[] = [];
  for (const n of nodes) rank(n) < 2 ? waves.push([n]) : workers.push(n);
  for (let i = 0; i < workers.length; i += req.parallel)
    waves.push(workers.slice(i, i + req.parallel));
  return { ok: true, waves };
}

export class RebuildConfigError extends Error {
  override readonly name = 'RebuildConfigError';
  readonly kind = 'config' as const;
}

/** A value NIX_SSHOPTS can carry: Nix and nixos-rebuild split it on blanks, so none, and no quotes. */
function sshOptValue(what: string, v: string): string {
  if (!/^[A-Za-z0-9_./:@%+=,~[\]-]+$/.test(v) || v.startsWith('-'))
    throw new RebuildConfigError(
      `${what} ${JSON.stringify(v)} cannot be passed in NIX_SSHOPTS (no blanks, quotes or leading '-'); put it in ~/.ssh/config instead`,
    );
  return v;
}

export interface LocalCommand {
  argv: string[];
  env: { NIX_SSHOPTS: string };
  /** `user@host` */
  target: string;
}

export interface LocalCommandOptions {
  /** ssh_config to resolve hosts with (the console's --ssh-config). */
  sshConfig?: string;
  rollback?: boolean;
}

/** nixos-rebuild run here for `node`, with the console's SSH settings in NIX_SSHOPTS. */
export function localRebuildCommand(
  inv: Inventory,
  node: NodeSpec,
  action: RebuildAction,
  opts: LocalCommandOptions = {},
): LocalCommand {
  const flake = inv.rebuild?.flake;
  if (!flake && !opts.rollback)
    throw new RebuildConfigError('no flake: set rebuild.flake in the inventory');
  const ssh = { ...inv.ssh, ...node.ssh };
  const user = ssh.user ?? 'root';
  const target = `${sshOptValue('user', user)}@${sshOptValue('host', node.host)}`;
  const o: string[] = [];
  if (opts.sshConfig) o.push('-F', sshOptValue('ssh config', opts.sshConfig));
  const jump = ssh.jump ?? [];
  if (jump.length)
    o.push('-o', `ProxyJump=${jump.map((h) => sshOptValue('jump host', h)).join(',')}`);
  if (ssh.knownHosts)
    o.push('-o', `UserKnownHostsFile=${sshOptValue('known_hosts', ssh.knownHosts)}`);
  if (ssh.identity) o.push('-i', sshOptValue('identity', ssh.identity));
  if (ssh.port) o.push('-p', String(ssh.port));
  o.push('-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes');
  o.push('-o', `ConnectTimeout=${Math.max(1, Math.ceil((ssh.connectTimeoutMs ?? 5000) / 1000))}`);
  const argv = ['nixos-rebuild', opts.rollback ? 'switch' : action];
  if (opts.rollback) argv.push('--rollback');
  else argv.push('--flake', `${sshOptValue('flake', flake!)}#${node.name}`);
  argv.push('--target-host', target);
  if (user !== 'root') argv.push('--use-remote-sudo');
  return { argv, env: { NIX_SSHOPTS: o.join(' ') }, target };
}

/** nixos-rebuild run on the node itself (rebuild.runOn: node): the flake is a path there. */
export function nodeRebuildArgv(
  inv: Inventory,
  node: NodeSpec,
  action: RebuildAction,
  opts: { rollback?: boolean } = {},
): string[] {
  if (opts.rollback) return ['nixos-rebuild', 'switch', '--rollback'];
  const flake = inv.rebuild?.flake;
  if (!flake) throw new RebuildConfigError('no flake: set rebuild.flake in the inventory');
  return ['nixos-rebuild', action, '--flake', `${flake}#${node.name}`];
}
