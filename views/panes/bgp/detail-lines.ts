/**
 * The lines of a session's details: problems, both sides, the router's received routes,
 * then the kube API's configuration of the peer (CiliumBGPPeerConfig, the
 * CiliumBGPAdvertisements that apply, the LoadBalancer VIPs compared).
 */
import type { BgpPeerConfigView } from '../../../src/features/bgp/crds.js';
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

const list = (xs: readonly string[]): string => (xs.length ? xs.join(', ') : '-');

/** The kube API's configuration of the peer (crds.ts), as detail lines. */
export function configLines(c: BgpPeerConfigView | undefined, model: BgpModel): DetailLine[] {
  const head = (t: string): DetailLine => ({ text: t, tone: 'head' });
  if (!c) {
    const k = model.kube;
    const why =
      k.absent ??
      k.error ??
      (k.apiVersion
        ? 'no CiliumBGPNodeConfig or CiliumBGPClusterConfig peer has this address'
        : 'CiliumBGPNodeConfig not read');
    return [head('Kube configuration'), { text: `  ${why}`, tone: 'dim' }];
  }
  const target =
    c.state === 'none'
      ? 'no CiliumBGPPeerConfig (defaults)'
      : `CiliumBGPPeerConfig ${c.peerConfig ?? '?'}${c.state === 'missing' ? ' (missing)' : c.state === 'unknown' ? ' (not read)' : ''}`;
  const out: DetailLine[] = [
    head(`Kube configuration (${c.from} → ${target})`),
    { text: `  peer         ${v(c.peer)} of instance ${v(c.instance)}` },
  ];
  if (c.timers) {
    const d = c.timers.defaulted;
    const mark = (k: string) => (d.includes(k) ? ' (default)' : '');
    out.push({
      text: `  timers       hold ${c.timers.holdTimeSeconds} s${mark('holdTimeSeconds')}  keepalive ${c.timers.keepAliveTimeSeconds} s${mark('keepAliveTimeSeconds')}  connect retry ${c.timers.connectRetryTimeSeconds} s${mark('connectRetryTimeSeconds')}`,
    });
  }
  if (c.state === 'found') {
    const gr = c.gracefulRestart;
    out.push({
      text: `  transport    peer port ${c.peerPort ?? '179 (default)'}  eBGP multihop ${c.ebgpMultihop ?? '1 (default)'}  graceful restart ${gr?.enabled ? `on${gr.restartTimeSeconds !== undefined ? ` (${gr.restartTimeSeconds} s)` : ''}` : 'off'}`,
    });
    out.push({
      text: `  auth         ${c.authSecretRef ? `Secret ${c.authSecretRef} (name only; never read)` : 'none'}`,
    });
  }
  for (const f of c.families) {
    out.push({ text: `  family ${f.afi}/${f.safi}  advertisements ${f.selector}` });
    if (f.advertisements.length === 0)
      out.push({ text: '    no CiliumBGPAdvertisement selected', tone: 'warn' });
    for (const a of f.advertisements) {
      const what = [
        a.type,
        a.addresses.length ? a.addresses.join('+') : '',
        a.type === 'PodCIDR' ? '' : `selector ${a.selector}`,
        a.communities.length ? `communities ${a.communities.join(' ')}` : '',
        a.localPreference !== undefined ? `local-pref ${a.localPreference}` : '',
      ]
        .filter(Boolean)
        .join('  ');
      out.push({ text: `    ${a.advertisement}  ${what}` });
      if (a.services)
        out.push({
          text: `      → ${a.services.length ? a.services.join(', ') : 'no Service selected'}${a.moreServices ? ` +${a.moreServices}` : ''}`,
          tone: a.services.length ? undefined : 'dim',
        });
    }
  }
  const lb = c.loadBalancerVips;
  if (lb) {
    out.push({
      text: `  LB VIPs      expected ${list(lb.expected.map((e) => `${e.prefix} (${e.services.join(', ')}${e.optional ? ', eTP Local' : ''})`))}`,
    });
    out.push({ text: `               advertised ${list(lb.advertised)}` });
    if (lb.missing.length)
      out.push({ text: `               not advertised ${lb.missing.join(', ')}`, tone: 'bad' });
    if (lb.unexpected.length)
      out.push({
        text: `               advertised, no selected Service ${lb.unexpected.join(', ')}`,
        tone: 'bad',
      });
  }
  for (const n of c.notes) out.push({ text: `  · ${n}`, tone: 'dim' });
  return out;
}

/**
 * `line` cut into lines of at most `width` characters at spaces (a word longer than that
 * is cut), the continuation lines indented 4 past the line's own indentation.
 */
export function wrapLine(line: DetailLine, width: number): DetailLine[] {
  const chars = [...line.text];
  if (width < 16 || chars.length <= width) return [line];
  const indent = line.text.match(/^ */)![0].length + 4;
  const out: DetailLine[] = [];
  let rest = line.text;
  let first = true;
  while ([...rest].length > 0) {
    const room = first ? width : width - indent;
    const cs = [...rest];
    if (cs.length <= room) {
      out.push({ ...line, text: first ? rest : `${' '.repeat(indent)}${rest}` });
      break;
    }
    let cut = cs
      .slice(0, room + 1)
      .join('')
      .lastIndexOf(' ');
    const minCut = first ? indent : 1;
    if (cut < minCut) cut = cs.slice(0, room).join('').length;
    const head = rest.slice(0, cut).trimEnd();
    out.push({ ...line, text: first ? head : `${' '.repeat(indent)}${head}` });
    rest = rest.slice(cut).trimStart();
    first = false;
  }
  return out;
}

/** The detail lines, each wrapped to `width` when one is given (the pane's width). */
export function detailLines(
  row: BgpRow,
  model: BgpModel,
  now: number,
  width?: number,
): DetailLine[] {
  const lines = unwrapped(row, model, now);
  return width === undefined ? lines : lines.flatMap((l) => wrapLine(l, width));
}

function unwrapped(row: BgpRow, model: BgpModel, now: number): DetailLine[] {
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
  out.push({ text: '' });
  out.push(...configLines(row.config, model));
  return out;
}
