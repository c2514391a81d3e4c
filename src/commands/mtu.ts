/**
 * `k8ops mtu [--json]`: the MTU pane headless, from the same model: every node's links
 * (role, MTU, verdict against `network.targetMtu`), Cilium's device/route MTU, and the
 * node × node path-MTU matrix from `ping -M do` probes (one round, bounded).
 * Exit code: 0 ok; 1 warnings; 2 critical (a link or path below target, a route MTU too
 * big for the tunnel); 3 nodes unreachable; the highest that applies.
 */
import { cellText, type MtuModel, mtuExitCode, mtuFeature } from '../features/mtu/model.js';
import type { Session } from '../session/session.js';
import { safeJson } from '../store/sanitise.js';
import { formatTable, type Out, settleOnce } from './common.js';

export { mtuExitCode } from '../features/mtu/model.js';

function pathNote(m: MtuModel): string[] {
  const lines: string[] = [];
  for (const row of m.matrix.cells)
    for (const c of row) {
      if (c.status === 'low')
        lines.push(
          `path ${c.from} → ${c.to}: ${c.mtu ?? '?'}${c.reportedBy === 'local' ? ' (local: message too long)' : c.reportedBy ? ` (Frag needed from ${c.reportedBy})` : ''}`,
        );
      else if (c.status === 'black-hole')
        lines.push(
          `path ${c.from} → ${c.to}: black hole (ok ≤ ${c.okUpTo ?? '?'}, fail ≥ ${c.failFrom ?? '?'})`,
        );
      else if (c.status === 'unreachable' || c.status === 'error')
        lines.push(`path ${c.from} → ${c.to}: ${c.status}${c.message ? `: ${c.message}` : ''}`);
    }
  return lines;
}

export function formatMtuText(m: MtuModel): string {
  const header = ['NODE', 'HEALTH', 'LINKS OFF', 'LOWEST', 'CILIUM DEV/ROUTE', 'MODE'];
  const rows = m.nodes.map((n) => [
    n.name,
    n.health,
    n.reach === 'down'
      ? `down: ${n.error ?? ''}`
      : n.parseError
        ? `unreadable: ${n.parseError}`
        : `${n.offTarget.length}/${n.links.length}`,
    n.lowest ? `${n.lowest.name} ${n.lowest.mtu}` : '-',
    n.cilium.state === 'ok'
      ? `${n.cilium.deviceMtu ?? '?'}/${n.cilium.routeMtu ?? '?'}` +
        (n.cilium.expectedRouteMtu !== undefined
          ? ` (route expected ${n.cilium.expectedRouteMtu})`
          : '')
      : n.cilium.state === 'pending'
        ? '-'
        : `${n.cilium.state}: ${n.cilium.error ?? ''}`,
    n.cilium.mode
      ? `${n.cilium.mode}${n.cilium.tunnelProtocol ? `/${n.cilium.tunnelProtocol}` : ''}`
      : '-',
  ]);
  const lines = [`target MTU ${m.target}`, ...formatTable(header, rows), ''];
  const findings: string[] = [];
  for (const n of m.nodes) {
    for (const l of n.offTarget)
      findings.push(
        `${n.name} ${l.name} (${l.role}): MTU ${l.mtu}, expected ${l.expected} [${l.severity}]`,
      );
    for (const f of n.cilium.findings)
      findings.push(`${n.name} cilium: ${f} [${n.cilium.severity}]`);
  }
  findings.push(...pathNote(m));
  const names = m.matrix.nodes;
  lines.push('path MTU (row → column)');
  lines.push(
    ...formatTable(
      ['FROM\\TO', ...names],
      m.matrix.cells.map((row, i) => [names[i] ?? '', ...row.map((c) => cellText(c, m.target))]),
    ),
  );
  if (findings.length) lines.push('', ...findings);
  return `${lines.join('\n')}\n`;
}

export async function mtuCommand(session: Session, json: boolean, out: Out): Promise<number> {
  await settleOnce(session);
  const now = Date.now();
  const m = mtuFeature.model({
    inventory: session.inventory,
    read: (s, src) => session.store.get(s, src),
    now,
    hasKube: session.hasKube,
  });
  const code = mtuExitCode(m);
  if (json) {
    const doc = {
      cluster: session.inventory.cluster,
      mode: session.mode,
      generatedAt: new Date(now).toISOString(),
      exitCode: code,
      target: m.target,
      totals: m.totals,
      nodes: m.nodes,
      matrix: {
        nodes: m.matrix.nodes,
        probedAt: m.matrix.probedAt ? new Date(m.matrix.probedAt).toISOString() : null,
        cells: m.matrix.cells,
      },
    };
    out.write(`${safeJson(doc, 2)}\n`);
  } else out.write(formatMtuText(m));
  return code;
}
