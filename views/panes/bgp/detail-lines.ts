/** The lines of a session's details (both sides, problems, the router's received routes). */
import { formatUptime } from '../../../src/features/bgp/format.js';
import type { BgpModel, BgpRow } from '../../../src/features/bgp/model.js';
import type { SideSession } from '../../../src/features/bgp/types.js';

export interface DetailLine {
  text: string;
  tone?: 'bad' | 'warn' | 'dim' | 'head';
}

const v = (x: number | string | undefined): string => (x === undefined ? '-' : String(x));

function side(
  title: string,
  s: SideSession | undefined,
  now: number,
  missing: string,
): DetailLine[] {
  if (!s)
    return [
      { text: title, tone: 'head' },
      { text: `  ${missing}`, tone: 'dim' },
    ];
  return [
    { text: title, tone: 'head' },
    {
      text: `  state        ${s.state}${s.stateText && s.stateText.toLowerCase() !== s.state ? ` (${s.stateText})` : ''}`,
    },
    { text: `  addresses    local ${v(s.localAddress)}  peer ${s.peerAddress}` },
    { text: `  AS           local ${v(s.localAsn)}  peer ${v(s.peerAsn)}` },
    {
      text: `  uptime       ${s.upSince !== undefined ? formatUptime(now - s.upSince) : '-'}   hold ${v(s.holdTimeSeconds)} s   flaps ${s.flaps}`,
    },
    {
      text: `  prefixes     received ${v(s.received)}  accepted ${v(s.accepted)}  advertised ${v(s.advertised)}`,
    },
    ...(s.lastError ? [{ text: `  last error   ${s.lastError}`, tone: 'warn' as const }] : []),
  ];
}

export function detailLines(row: BgpRow, _model: BgpModel, now: number): DetailLine[] {
  const out: DetailLine[] = [
    {
      text: `${row.node} (${v(row.nodeAddress)}) ↔ ${row.router ?? '?'} (${row.peerAddress})   ${row.state}   flaps ${row.flaps}`,
      tone: 'head',
    },
  ];
  for (const p of row.problems)
    out.push({
      text: `  ${row.severity === 'critical' ? '✗' : '!'} ${p}`,
      tone: row.severity === 'critical' ? 'bad' : 'warn',
    });
  if (row.problems.length === 0) out.push({ text: '  no problem found', tone: 'dim' });
  out.push({ text: '' });
  out.push(...side("Cilium's side (agent /v1/bgp/peers)", row.cilium, now, 'no peer on the agent'));
  out.push({ text: `  VIPs advertised  ${row.vips.length ? row.vips.join(' ') : '-'}` });
  if (row.kube)
    out.push({
      text: `  CiliumBGPNodeConfig  ${v(row.kube.peeringState)}  routes received ${v(row.kube.routesReceived)} advertised ${v(row.kube.routesAdvertised)}`,
    });
  out.push({ text: '' });
  const missing =
    row.routerRead === 'timeout'
      ? `router not answering: ${row.routerError ?? ''}`
      : row.routerRead === 'error'
        ? `router unreadable: ${row.routerError ?? ''}`
        : row.router
          ? 'no session with this node on the router'
          : 'no router of the inventory has this session';
  out.push(
    ...side(`The router's side (${row.router ?? 'unknown router'})`, row.routerSide, now, missing),
  );
  out.push({ text: '' });
  out.push({
    text: `Routes the router received from ${v(row.nodeAddress)} (${row.routerRoutes.length})`,
    tone: 'head',
  });
  const missingSet = new Set(row.vipsMissing);
  for (const r of row.routerRoutes) out.push({ text: `  ${r}` });
  for (const m of missingSet)
    out.push({ text: `  ${m}  missing (advertised by Cilium)`, tone: 'bad' });
  if (row.routerRoutes.length === 0 && missingSet.size === 0)
    out.push({ text: '  none', tone: 'dim' });
  return out;
}
