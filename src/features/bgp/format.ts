/** Cells the BGP pane and `k8ops bgp` print alike. */
import type { BgpRow } from './model.js';

/** `3d4h`, `2h5m`, `4m10s`, `9s`. */
export function formatUptime(ms: number | undefined): string {
  if (ms === undefined) return '-';
  const s = Math.floor(Math.max(0, ms) / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s % 60}s`;
  return `${s}s`;
}

const n = (v: number | undefined): string => (v === undefined ? '-' : String(v));

/** Received/accepted/advertised as `r/a/v`. */
export const prefixCell = (r: BgpRow): string =>
  `${n(r.received)}/${n(r.accepted)}/${n(r.advertised)}`;

/** `65010→65000`. */
export const asnCell = (r: BgpRow): string => `${n(r.localAsn)}→${n(r.peerAsn)}`;

/** The VIPs, shortened to `first +N`. */
export function vipCell(r: BgpRow, max = 1): string {
  if (r.vips.length === 0) return '-';
  const shown = r.vips.slice(0, max).map((v) => v.replace(/\/(32|128)$/, ''));
  return r.vips.length > max ? `${shown.join(',')} +${r.vips.length - max}` : shown.join(',');
}
