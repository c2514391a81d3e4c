/**
 * Cross-field checks of k8ops.yaml that the per-field schema cannot make: uniqueness,
 * index range, the signer, role duplicates, control-plane presence.
 *
 * They run on the raw parsed YAML (not the schema output), so they still report when
 * other fields are broken: a file with a duplicate name *and* an unknown role gets both
 * messages at once. Every access is defensive; values of the wrong type are skipped here
 * (the schema reports them).
 */

import { formatDuration, parseDuration } from './duration.js';
import type { PathSegment, Position } from './issues.js';
import { DEFAULTS } from './schema.js';
import { checkHost, isSafeNodeName } from './validate.js';

export interface Finding {
  severity: 'error' | 'warning';
  path: PathSegment[];
  message: string;
}

/** Position of a path, for "first used at line N" in messages. */
export type Where = (path: readonly PathSegment[]) => Position;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => JSON.stringify(v);

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function crossCheck(raw: unknown, where: Where): Finding[] {
  const out: Finding[] = [];
  if (!isObj(raw)) return out;
  const error = (path: PathSegment[], message: string) =>
    out.push({ severity: 'error', path, message });
  const warn = (path: PathSegment[], message: string) =>
    out.push({ severity: 'warning', path, message });
  const lineOf = (path: PathSegment[]) => where(path).line;

  const nodes = list(raw.nodes);
  const count = nodes.length;
  const names = new Map<string, number>();
  const indexes = new Map<number, { node: number; explicit: boolean }>();
  const hosts = new Map<string, number>();
  const addresses = new Map<string, number>();
  let controlPlanes = 0;

  const label = (i: number): string => {
    const n = nodes[i];
    return isObj(n) && typeof n.name === 'string' ? `nodes[${i}] "${n.name}"` : `nodes[${i}]`;
  };

  for (const [i, node] of nodes.entries()) {
    if (!isObj(node)) continue;

    // Names.
    if (typeof node.name === 'string') {
      const first = names.get(node.name);
      if (first !== undefined) {
        error(
          ['nodes', i, 'name'],
          `duplicate node name ${show(node.name)} (first used by nodes[${first}] at line ${lineOf(['nodes', first, 'name'])}); names must be unique`,
        );
      } else names.set(node.name, i);
    }

    // Index: explicit, else the position in the list.
    const explicit = node.index !== undefined && node.index !== null;
    const index = explicit ? node.index : i;
    if (typeof index === 'number' && Number.isInteger(index) && index >= 0) {
      if (index >= count) {
        error(
          ['nodes', i, 'index'],
          `index ${index} is out of range; expected 0..${count - 1} (there ${count === 1 ? 'is 1 node' : `are ${count} nodes`})`,
        );
      }
      const first = indexes.get(index);
      if (first !== undefined) {
        const mine = explicit ? '' : ` (its default: the position in the list)`;
        const theirs = first.explicit ? '' : ' by default (its position in the list)';
        error(
          explicit ? ['nodes', i, 'index'] : ['nodes', i],
          `duplicate index ${index}${mine}: ${label(first.node)} at line ${lineOf(['nodes', first.node])} also has it${theirs}; indexes must be unique`,
        );
      } else indexes.set(index, { node: i, explicit });
    }

    // Roles.
    const roles = list(node.roles);
    const seenRoles = new Set<string>();
    for (const [r, role] of roles.entries()) {
      if (typeof role !== 'string') continue;
      if (seenRoles.has(role)) error(['nodes', i, 'roles', r], `duplicate role ${show(role)}`);
      seenRoles.add(role);
    }
    if (seenRoles.has('control-plane')) controlPlanes += 1;

    // Same ssh destination or address twice: almost always a copy-paste slip.
    const host =
      typeof node.host === 'string'
        ? node.host
        : typeof node.name === 'string'
          ? node.name
          : undefined;
    if (host !== undefined) {
      const first = hosts.get(host);
      if (first !== undefined) {
        warn(
          typeof node.host === 'string' ? ['nodes', i, 'host'] : ['nodes', i],
          `host ${show(host)} is also the ssh destination of ${label(first)} (line ${lineOf(['nodes', first])})`,
        );
      } else hosts.set(host, i);
    }
    for (const [a, address] of list(node.addresses).entries()) {
      if (typeof address !== 'string') continue;
      const first = addresses.get(address);
      if (first !== undefined && first !== i) {
        warn(
          ['nodes', i, 'addresses', a],
          `address ${address} is also listed for ${label(first)} (line ${lineOf(['nodes', first])})`,
        );
      } else addresses.set(address, i);
    }
  }

  if (count > 0 && controlPlanes === 0) {
    warn(
      ['nodes'],
      'no node has the control-plane role; kube and rotation checks need at least one',
    );
  }

  // BGP router names.
  const network = isObj(raw.network) ? raw.network : {};
  const routerNames = new Map<string, number>();
  for (const [i, router] of list(network.bgpRouters).entries()) {
    if (!isObj(router) || typeof router.name !== 'string') continue;
    const first = routerNames.get(router.name);
    if (first !== undefined) {
      error(
        ['network', 'bgpRouters', i, 'name'],
        `duplicate router name ${show(router.name)} (first used by bgpRouters[${first}] at line ${lineOf(['network', 'bgpRouters', first, 'name'])}); names must be unique`,
      );
    } else routerNames.set(router.name, i);
  }

  // Signer: a node of this inventory, or at least a valid ssh host.
  const pki = isObj(raw.pki) ? raw.pki : {};
  if (typeof pki.signer === 'string' && !names.has(pki.signer)) {
    const c = checkHost(pki.signer);
    const nodeList = [...names.keys()].filter((n) => isSafeNodeName(n)).join(', ');
    if (!c.ok) {
      error(
        ['pki', 'signer'],
        `invalid signer ${show(pki.signer)}: not a node of this inventory (${nodeList || 'none'}) and not a valid host: ${c.reason}`,
      );
    } else {
      warn(
        ['pki', 'signer'],
        `signer ${show(pki.signer)} is not a node of this inventory (${nodeList || 'none'}); it will be reached as an ssh host`,
      );
    }
  }

  // The addon-manager nodes a sync rebuilds: nodes of this inventory.
  const addons = isObj(raw.addons) ? raw.addons : {};
  for (const [i, n] of list(addons.applyOn).entries()) {
    if (typeof n === 'string' && isSafeNodeName(n) && !names.has(n)) {
      const nodeList = [...names.keys()].filter((x) => isSafeNodeName(x)).join(', ');
      error(
        ['addons', 'applyOn', i],
        `addons.applyOn names ${show(n)}, which is not a node of this inventory (${nodeList || 'none'})`,
      );
    }
  }

  // A renew window that ends inside the minimum remaining time flags every schedule.
  const rotation = isObj(raw.rotation) ? raw.rotation : {};
  const ms = (v: unknown, fallback: number | undefined): number | undefined => {
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') return undefined;
    const r = parseDuration(v);
    return r.ok ? r.ms : undefined;
  };
  const renewBefore =
    rotation.renewBefore === 'auto' ? undefined : ms(rotation.renewBefore, undefined);
  const minRemaining = ms(rotation.minRemaining, DEFAULTS.rotation.minRemainingMs);
  if (renewBefore !== undefined && minRemaining !== undefined && renewBefore <= minRemaining) {
    warn(
      ['rotation', 'renewBefore'],
      `renewBefore (${formatDuration(renewBefore)}) is not longer than minRemaining (${formatDuration(minRemaining)}); every scheduled rotation would be flagged`,
    );
  }

  return out;
}
