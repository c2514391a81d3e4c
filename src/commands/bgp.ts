/**
 * `k8ops bgp [--json]`: the BGP pane headless, from the same model — both sides of every
 * session (Cilium's agent per node, the upstream routers over SSH), disagreements flagged.
 * Exit code: 0 ok; 1 warnings; 2 critical (a session down or disagreeing, an ASN
 * mismatch); 3 nodes unreachable; the highest that applies.
 */
import { formatUptime, prefixCell, vipCell } from '../features/bgp/format.js';
import { type BgpModel, bgpFeature } from '../features/bgp/model.js';
import type { Session } from '../session/session.js';
import { safeJson } from '../store/sanitise.js';
import { formatTable, type Out, settleOnce } from './common.js';

export function bgpJson(session: Session, m: BgpModel, now: number): unknown {
  return {
    cluster: session.inventory.cluster,
    mode: session.mode,
    generatedAt: new Date(now).toISOString(),
    totals: m.totals,
    kube: m.kube,
    nodes: m.nodes,
    routers: m.routers,
    sessions: m.rows.map((r) => ({
      node: r.node,
      nodeAddress: r.nodeAddress ?? null,
      peerAddress: r.peerAddress,
      router: r.router ?? null,
      state: r.state,
      established: r.established,
      localAsn: r.localAsn ?? null,
      peerAsn: r.peerAsn ?? null,
      uptimeSeconds: r.uptimeMs === undefined ? null : Math.floor(r.uptimeMs / 1000),
      received: r.received ?? null,
      accepted: r.accepted ?? null,
      advertised: r.advertised ?? null,
      vips: r.vips,
      vipsMissing: r.vipsMissing,
      flaps: r.flaps,
      routerRead: r.routerRead,
      ciliumSide: r.cilium ?? null,
      routerSide: r.routerSide ?? null,
      routerRoutes: r.routerRoutes,
      kube: r.kube ?? null,
      config: r.config ?? null,
      severity: r.severity,
      problems: r.problems,
    })),
  };
}

export function bgpText(m: BgpModel, now: number): string {
  const header = [
    'NODE',
    'PEER',
    'ROUTER',
    'AS L→P',
    'STATE',
    'UPTIME',
    'RCV/ACC/ADV',
    'VIPS',
    'FLAPS',
    '',
  ];
  const rows = m.rows.map((r) => [
    r.node,
    r.peerAddress,
    r.router ?? '-',
    `${r.localAsn ?? '-'}→${r.peerAsn ?? '-'}`,
    r.state,
    formatUptime(r.uptimeMs),
    prefixCell(r),
    vipCell(r, 3),
    String(r.flaps),
    r.severity === 'ok' ? '' : r.severity === 'critical' ? '✗' : '!',
  ]);
  const out = formatTable(header, rows);
  const notes: string[] = [];
  for (const r of m.rows)
    for (const p of r.problems) notes.push(`${r.node} ${r.peerAddress}: ${p}`);
  for (const n of m.nodes) {
    if (n.unreachable) notes.push(`${n.node}: unreachable: ${n.unreachable}`);
    else if (n.error) notes.push(`${n.node}: Cilium side unreadable: ${n.error}`);
    else if (n.disabled) notes.push(`${n.node}: BGP control plane disabled on the agent`);
  }
  for (const r of m.routers)
    if (r.read !== 'ok')
      notes.push(`router ${r.name} (${r.kind}): ${r.read}${r.error ? `: ${r.error}` : ''}`);
  const t = m.totals;
  void now;
  return `${out.join('\n')}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}\n${t.established}/${t.sessions} sessions established; ${t.critical} critical, ${t.warnings} warnings, ${t.unreachable} nodes unreachable\n`;
}

export async function bgpCommand(session: Session, json: boolean, out: Out): Promise<number> {
  await settleOnce(session);
  const now = Date.now();
  const m = bgpFeature.model({
    inventory: session.inventory,
    read: (s, src) => session.store.get(s, src),
    now,
    hasKube: session.hasKube,
  });
  out.write(json ? `${safeJson(bgpJson(session, m, now), 2)}\n` : bgpText(m, now));
  return m.exitCode;
}
