/**
 * The MTU model: per node every link with its role and verdict against the target
 * (`network.targetMtu`), Cilium's device and route MTU against what the routing mode
 * implies, and the node × node path-MTU matrix. Pure (no I/O, time passed in): the pane
 * and `k8ops mtu --json` share it.
 */
import type { Inventory } from '../../config/types.js';
import type { FeatureDef, SnapshotReader } from '../types.js';
import { type CiliumMtuConfig, classifyLink, type LinkRole } from './parse.js';
import type { PathResult, PathStatus } from './probe.js';
import {
  type CiliumValue,
  ciliumSource,
  type LinksValue,
  linksSource,
  type PathsValue,
  pathsSource,
} from './sources.js';

export type Severity = 'ok' | 'info' | 'warn' | 'bad';
export type NodeHealth = Severity | 'down' | 'pending';

/** Encapsulation overhead Cilium takes off the route MTU (pkg/mtu TunnelOverhead). */
export const TUNNEL_OVERHEAD = 50;

export interface LinkRow {
  name: string;
  mtu: number;
  role: LinkRole;
  /** `low`/`high` against `expected`; `n/a` for loopback. */
  verdict: 'ok' | 'low' | 'high' | 'n/a';
  expected?: number;
  severity: Severity;
  up: boolean;
  operstate: string;
  /** Bond or bridge it is a port of. */
  master?: string;
  kind?: string;
}

export interface CiliumRow {
  state: 'ok' | 'absent' | 'error' | 'pending';
  error?: string;
  deviceMtu?: number;
  routeMtu?: number;
  datapathMode?: string;
  /** How the routing mode was learnt: the agent's config, or its tunnel device. */
  mode?: 'tunnel' | 'native';
  modeFrom?: 'agent' | 'links';
  tunnelProtocol?: string;
  expectedDeviceMtu: number;
  expectedRouteMtu?: number;
  findings: string[];
  severity: Severity;
}

export interface MtuNodeRow {
  name: string;
  reach: 'up' | 'down' | 'pending';
  error?: string;
  /** `ip -j -d link show` answered but could not be read. */
  parseError?: string;
  links: LinkRow[];
  /** Links off target (verdict low/high), most severe first. */
  offTarget: LinkRow[];
  lowest?: { name: string; mtu: number };
  cilium: CiliumRow;
  health: NodeHealth;
  stale: boolean;
}

export interface MatrixCell {
  from: string;
  to: string;
  status: PathStatus | 'pending' | 'self';
  mtu?: number;
  okUpTo?: number;
  failFrom?: number;
  reportedBy?: string;
  message?: string;
  severity: Severity | 'pending';
}

export interface MtuModel {
  target: number;
  nodes: MtuNodeRow[];
  /** Inventory order, rows = from, columns = to. */
  matrix: { nodes: string[]; cells: MatrixCell[][]; probedAt?: number; probing: boolean };
  totals: {
    nodes: number;
    down: number;
    linksOff: number;
    pathsLow: number;
    pathsProbed: number;
    worst: NodeHealth;
  };
}

const RANK: Record<NodeHealth, number> = {
  pending: 0,
  ok: 1,
  info: 2,
  warn: 3,
  bad: 4,
  down: 5,
};
const worse = <T extends NodeHealth>(a: T, b: T): T => (RANK[b] > RANK[a] ? b : a);

export function linkRow(l: LinksValue & { ok: true }, i: number, target: number): LinkRow {
  const link = l.links[i]!;
  const role = classifyLink(link);
  const base = {
    name: link.name,
    mtu: link.mtu,
    role,
    up: link.up,
    operstate: link.operstate,
    ...(link.master ? { master: link.master } : {}),
    ...(link.kind ? { kind: link.kind } : {}),
  };
  if (role === 'loopback') return { ...base, verdict: 'n/a', severity: 'ok' };
  const verdict = link.mtu < target ? 'low' : link.mtu > target ? 'high' : 'ok';
  let severity: Severity = 'ok';
  if (verdict === 'low') severity = role === 'other' || !link.up ? 'warn' : 'bad';
  else if (verdict === 'high') severity = 'warn';
  return { ...base, verdict, expected: target, severity };
}

/** Cilium's MTUs against the target and the routing mode (tunnel: route = device − 50). */
export function ciliumRow(
  snap: { value?: CiliumValue; error?: { message: string } },
  links: LinkRow[] | undefined,
  target: number,
): CiliumRow {
  const row: CiliumRow = {
    state: 'pending',
    expectedDeviceMtu: target,
    findings: [],
    severity: 'ok',
  };
  const v = snap.value;
  if (!v) {
    if (snap.error) {
      row.state = 'error';
      row.error = snap.error.message;
      row.severity = 'warn';
    }
    return row;
  }
  if (!v.ok) {
    row.state = v.absent ? 'absent' : 'error';
    row.error = v.error;
    row.severity = 'warn';
    return row;
  }
  const c: CiliumMtuConfig = v.config;
  row.state = 'ok';
  if (c.deviceMtu !== undefined) row.deviceMtu = c.deviceMtu;
  if (c.routeMtu !== undefined) row.routeMtu = c.routeMtu;
  if (c.datapathMode) row.datapathMode = c.datapathMode;
  const tunnelLink = links?.find((l) => l.role === 'tunnel' && /^cilium_/.test(l.name));
  if (c.routingMode === 'tunnel' || c.routingMode === 'native') {
    row.mode = c.routingMode;
    row.modeFrom = 'agent';
  } else if (links) {
    row.mode = tunnelLink ? 'tunnel' : 'native';
    row.modeFrom = 'links';
  }
  if (row.mode === 'tunnel')
    row.tunnelProtocol =
      c.tunnelProtocol ?? (tunnelLink?.name === 'cilium_geneve' ? 'geneve' : 'vxlan');
  const device = c.deviceMtu ?? target;
  if (row.mode) row.expectedRouteMtu = row.mode === 'tunnel' ? device - TUNNEL_OVERHEAD : device;
  let sev: Severity = 'ok';
  if (c.deviceMtu === undefined) {
    row.findings.push('the agent reports no deviceMTU');
    sev = worse(sev, 'warn');
  } else if (c.deviceMtu < target) {
    row.findings.push(`device MTU ${c.deviceMtu} below the target ${target}`);
    sev = worse(sev, 'bad');
  } else if (c.deviceMtu > target) {
    row.findings.push(`device MTU ${c.deviceMtu} above the target ${target}`);
    sev = worse(sev, 'warn');
  }
  if (c.routeMtu === undefined) {
    row.findings.push('the agent reports no routeMTU');
    sev = worse(sev, 'warn');
  } else if (row.expectedRouteMtu !== undefined && c.routeMtu !== row.expectedRouteMtu) {
    const why =
      row.mode === 'tunnel'
        ? `${row.tunnelProtocol} tunnel: device ${device} − ${TUNNEL_OVERHEAD}`
        : 'native routing: the device MTU';
    if (c.routeMtu > row.expectedRouteMtu) {
      row.findings.push(
        `route MTU ${c.routeMtu} above ${row.expectedRouteMtu} (${why}): encapsulated packets will not fit`,
      );
      sev = worse(sev, 'bad');
    } else {
      row.findings.push(`route MTU ${c.routeMtu} below ${row.expectedRouteMtu} (${why})`);
      sev = worse(sev, 'warn');
    }
  }
  row.severity = sev;
  return row;
}

function cellOf(from: string, to: string, r: PathResult | undefined, target: number): MatrixCell {
  if (from === to) return { from, to, status: 'self', severity: 'ok' };
  if (!r) return { from, to, status: 'pending', severity: 'pending' };
  const cell: MatrixCell = { from, to, status: r.status, severity: 'ok' };
  if (r.mtu !== undefined) cell.mtu = r.mtu;
  if (r.okUpTo !== undefined) cell.okUpTo = r.okUpTo;
  if (r.failFrom !== undefined) cell.failFrom = r.failFrom;
  if (r.reportedBy) cell.reportedBy = r.reportedBy;
  if (r.message) cell.message = r.message;
  if (r.status === 'low' || r.status === 'black-hole')
    cell.severity = (r.mtu ?? 0) < target ? 'bad' : 'ok';
  else if (r.status === 'unreachable' || r.status === 'error') cell.severity = 'warn';
  return cell;
}

export function buildMtuModel(inv: Inventory, read: SnapshotReader): MtuModel {
  const target = inv.network.targetMtu;
  const names = inv.nodes.map((n) => n.name);
  let probing = false;
  let probedAt: number | undefined;
  const byNode = new Map<string, Map<string, PathResult>>();
  /** Nodes whose probing failed as a whole (never answered): their row says why. */
  const probeErrors = new Map<string, string>();
  const nodes = inv.nodes.map((node): MtuNodeRow => {
    const ls = read<LinksValue>(node.name, linksSource.id);
    const cs = read<CiliumValue>(node.name, ciliumSource.id);
    const ps = read<PathsValue>(node.name, pathsSource.id);
    if (ps.loading) probing = true;
    if (ps.updatedAt !== undefined) probedAt = Math.max(probedAt ?? 0, ps.updatedAt);
    byNode.set(node.name, new Map((ps.value?.results ?? []).map((r) => [r.to, r])));
    if (ps.error && !ps.value) probeErrors.set(node.name, ps.error.message);

    const row: MtuNodeRow = {
      name: node.name,
      reach: ls.value ? 'up' : ls.error ? 'down' : 'pending',
      links: [],
      offTarget: [],
      cilium: ciliumRow(cs, undefined, target),
      health: 'pending',
      stale: ls.stale,
    };
    if (ls.error) row.error = ls.error.message;
    if (ls.error && ls.value) row.reach = 'down';
    const v = ls.value;
    if (v && !v.ok) row.parseError = v.error;
    if (v?.ok) {
      row.links = v.links.map((_, i) => linkRow(v, i, target));
      row.offTarget = row.links
        .filter((l) => l.verdict === 'low' || l.verdict === 'high')
        .sort((a, b) => RANK[b.severity] - RANK[a.severity] || a.mtu - b.mtu);
      const checked = row.links.filter((l) => l.verdict !== 'n/a');
      const low = checked.reduce<LinkRow | undefined>(
        (m, l) => (!m || l.mtu < m.mtu ? l : m),
        undefined,
      );
      if (low) row.lowest = { name: low.name, mtu: low.mtu };
      row.cilium = ciliumRow(cs, row.links, target);
    }
    if (row.reach === 'down')
      // Whatever the socket forward said, the node itself is the problem.
      row.cilium = {
        ...ciliumRow({}, undefined, target),
        state: 'error',
        error: 'not read: node unreachable',
        severity: 'warn',
      };
    let health: NodeHealth = 'ok';
    if (row.reach === 'pending') health = 'pending';
    else if (row.reach === 'down') health = 'down';
    else {
      if (row.parseError) health = worse(health, 'warn');
      for (const l of row.links) health = worse(health, l.severity);
      health = worse(health, row.cilium.severity);
    }
    row.health = health;
    return row;
  });
  const cells = names.map((from) =>
    names.map((to) => {
      const why = probeErrors.get(from);
      if (why !== undefined && from !== to)
        return {
          from,
          to,
          status: 'error' as const,
          message: `not probed: ${why}`,
          severity: 'warn' as const,
        };
      return cellOf(from, to, byNode.get(from)?.get(to), target);
    }),
  );
  const flat = cells.flat().filter((c) => c.status !== 'self');
  return {
    target,
    nodes,
    matrix: { nodes: names, cells, probing, ...(probedAt !== undefined ? { probedAt } : {}) },
    totals: {
      nodes: nodes.length,
      down: nodes.filter((n) => n.reach === 'down').length,
      linksOff: nodes.reduce((s, n) => s + n.offTarget.length, 0),
      pathsLow: flat.filter((c) => c.severity === 'bad').length,
      pathsProbed: flat.filter((c) => c.status !== 'pending').length,
      // Paths count here, not in a node's health: a 1500 hop shows on the node that has
      // it, not on every node that sends to it.
      worst: flat.reduce<NodeHealth>(
        (w, c) => (c.severity === 'pending' ? w : worse(w, c.severity)),
        nodes.reduce<NodeHealth>((w, n) => worse(w, n.health), 'ok'),
      ),
    },
  };
}

/** `k8ops mtu` exit code: 3 a node unreachable, 2 critical, 1 warning, 0 ok. */
export function mtuExitCode(m: MtuModel): number {
  if (m.totals.down > 0) return 3;
  const w = m.totals.worst;
  if (w === 'bad') return 2;
  if (w === 'warn') return 1;
  return 0;
}

/** A short text for a cell: the path MTU, `✓` at target, `BH` for a black hole. */
export function cellText(c: MatrixCell, target: number): string {
  switch (c.status) {
    case 'self':
      return '·';
    case 'pending':
      return '…';
    case 'ok':
      return String(c.mtu ?? target);
    case 'low':
      return c.mtu !== undefined ? String(c.mtu) : '<?';
    case 'black-hole':
      return `BH≤${c.okUpTo ?? '?'}`;
    case 'unreachable':
      return 'noreply';
    case 'error':
      return 'err';
  }
}

export const mtuFeature: FeatureDef<MtuModel> = {
  id: 'mtu',
  sources: [linksSource, ciliumSource, pathsSource],
  model: ({ inventory, read }) => buildMtuModel(inventory, read),
  signature: (m) => JSON.stringify(m),
};
