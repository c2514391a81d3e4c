/**
 * `k8ops nodes [--json]`: reach every inventory node over SSH (through its jump chain) and
 * report reachability, route, host key status, auth method, round-trip time and OS.
 * Exit code: 0 all reachable; 1 some unreachable (timeout, refused, dropped);
 * 2 some configuration, host-key or authentication error (needs the operator's action).
 */

import type { Inventory, NodeSpec } from '../config/types.js';
import { RemoteExecError } from '../ssh/errors.js';
import { SshPool } from '../ssh/pool.js';
import { UnsafeValueError } from '../ssh/quote.js';
import { visibleDeep } from '../store/sanitise.js';
import type { NodeAgent } from './agent.js';
import { SshNodeAgent } from './ssh-agent.js';

export type HostKeyReport = 'ok' | 'added' | 'unknown' | 'changed' | 'revoked' | 'n/a';

export interface NodeReportRow {
  node: string;
  host: string;
  reachable: boolean;
  /** `direct`, `via bastion`, `via a,b`; `?` when the route could not be resolved. */
  route: string;
  hostKey: HostKeyReport;
  /** `agent` or `publickey` when connected. */
  auth: string | null;
  rttMs: number | null;
  os: string | null;
  error: {
    kind: string;
    message: string;
    hint?: string;
    fingerprint?: string;
    knownHostsFile?: string;
    knownHostsLine?: number;
  } | null;
}

export interface NodesReportOptions {
  /** Record unknown host keys (`--accept-new`). */
  acceptNew?: boolean;
  /** `ssh -F` file. */
  sshConfigFile?: string;
  /** Per-node deadline for connect + probe (default 15 s). */
  timeoutMs?: number;
  /**
   * The session's agents (the console's pool, or the demo lab's agents); otherwise an SSH
   * agent per node on a private pool that is closed afterwards.
   */
  agents?: ReadonlyMap<string, NodeAgent>;
}

const CONFIG_KINDS = new Set([
  'config',
  'hostkey-unknown',
  'hostkey-changed',
  'hostkey-revoked',
  'auth',
]);

function hostKeyOf(e: RemoteExecError): HostKeyReport {
  switch (e.kind) {
    case 'hostkey-unknown':
      return 'unknown';
    case 'hostkey-changed':
      return 'changed';
    case 'hostkey-revoked':
      return 'revoked';
    case 'auth':
      return 'ok'; // auth happens after the host key was verified
    default:
      return 'n/a';
  }
}

/** A node's row before anything is known. */
function emptyRow(node: NodeSpec): NodeReportRow {
  return {
    node: node.name,
    host: node.host,
    reachable: false,
    route: '?',
    hostKey: 'n/a',
    auth: null,
    rttMs: null,
    os: null,
    error: null,
  };
}

export async function nodesReport(
  inventory: Inventory,
  opts: NodesReportOptions = {},
): Promise<{ rows: NodeReportRow[]; exitCode: 0 | 1 | 2 }> {
  let pool: SshPool | undefined;
  let agents = opts.agents;
  if (!agents) {
    const poolOpts: ConstructorParameters<typeof SshPool>[0] = {
      acceptNew: opts.acceptNew ?? false,
    };
    if (opts.sshConfigFile) poolOpts.sshConfigFile = opts.sshConfigFile;
    const p = new SshPool(poolOpts);
    pool = p;
    agents = new Map(
      inventory.nodes.map((n) => [n.name, new SshNodeAgent(n, { pool: p, inventory })]),
    );
  }
  try {
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const rows = await Promise.all(
      // A node's answer (OS name, error text) is outside text: made visible here.
      inventory.nodes.map(async (node) =>
        visibleDeep(await probeRow(node, agents.get(node.name), timeoutMs)),
      ),
    );
    const exitCode: 0 | 1 | 2 = rows.some((r) => r.error && CONFIG_KINDS.has(r.error.kind))
      ? 2
      : rows.some((r) => !r.reachable)
        ? 1
        : 0;
    return { rows, exitCode };
  } finally {
    await pool?.close();
  }
}

/** One node's row: probe it; over SSH also its route and host key, whatever happens. */
async function probeRow(
  node: NodeSpec,
  agent: NodeAgent | undefined,
  timeoutMs: number,
): Promise<NodeReportRow> {
  const row = emptyRow(node);
  if (!agent) return { ...row, error: { kind: 'config', message: 'no agent for this node' } };
  const ssh = agent instanceof SshNodeAgent ? agent : undefined;
  try {
    if (ssh) row.route = (await ssh.host.route()).description;
    // Over SSH the deadline is the transport's (typed timeout errors); others get a signal.
    const p = await agent.probe(
      ssh ? { timeoutMs } : { timeoutMs, signal: AbortSignal.timeout(timeoutMs) },
    );
    row.reachable = true;
    row.route = p.route;
    if (ssh) row.hostKey = ssh.host.hostKeyStatus ?? 'ok';
    row.auth = p.auth ?? null;
    row.rttMs = p.rttMs;
    row.os = p.os ?? null;
  } catch (e) {
    if (e instanceof RemoteExecError) {
      row.hostKey = hostKeyOf(e);
      const err: NonNullable<NodeReportRow['error']> = {
        kind: e.kind,
        message: e.shortMessage,
      };
      if (e.hint) err.hint = e.hint;
      if (e.fingerprint) err.fingerprint = e.fingerprint;
      if (e.knownHostsFile) err.knownHostsFile = e.knownHostsFile;
      if (e.knownHostsLine !== undefined) err.knownHostsLine = e.knownHostsLine;
      row.error = err;
      if (e.route) row.route = e.route;
    } else if (e instanceof UnsafeValueError) {
      row.error = { kind: 'config', message: e.message };
    } else {
      const kind = (e as { kind?: unknown }).kind;
      row.error = {
        kind: typeof kind === 'string' ? kind : 'unreachable',
        message: (e as Error).message ?? String(e),
      };
    }
  }
  return row;
}

/** Human table for `k8ops nodes`; errors (with hints) listed under the table. */
export function formatNodesTable(rows: readonly NodeReportRow[]): string {
  const header = ['NODE', 'REACH', 'ROUTE', 'HOSTKEY', 'AUTH', 'RTT', 'OS'];
  const body = rows.map((r) => [
    r.node,
    r.reachable ? 'yes' : 'NO',
    r.route,
    r.hostKey,
    r.auth ?? '-',
    r.rttMs === null ? '-' : `${r.rttMs.toFixed(1)}ms`,
    r.os ?? (r.error ? r.error.kind : '-'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const lines = [fmt(header), ...body.map(fmt)];
  const errs = rows.filter((r) => r.error);
  if (errs.length) {
    lines.push('');
    for (const r of errs) {
      lines.push(`${r.node}: ${r.error!.message}`);
      if (r.error!.hint) lines.push(`  ${r.error!.hint}`);
    }
  }
  const up = rows.filter((r) => r.reachable).length;
  lines.push('', `${up}/${rows.length} reachable`);
  return `${lines.join('\n')}\n`;
}
