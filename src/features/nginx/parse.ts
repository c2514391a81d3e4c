/**
 * The access log parser: one line of the ingress-nginx format (format.ts, the definition
 * the NixOS module writes) → a typed record, or an error value. Pure; never throws, on any
 * input. Every text field kept is hostile (clients choose the Host header, the request line
 * and the User-Agent): only the host and the upstream name are kept, made visible and cut.
 */
import { visible } from '../../store/sanitise.js';
import { type CompiledFormat, compileFormat } from './format.js';

export const CACHE_STATUSES = [
  'HIT',
  'MISS',
  'EXPIRED',
  'STALE',
  'UPDATING',
  'REVALIDATED',
  'BYPASS',
  '-',
] as const;
export type CacheStatus = (typeof CACHE_STATUSES)[number];
const CACHE_INDEX: Readonly<Record<string, number>> = Object.fromEntries(
  CACHE_STATUSES.map((s, i) => [s, i]),
);

export interface AccessRecord {
  /** Epoch ms from `$time_local` (undefined when the field is not a time). */
  time: number | undefined;
  /** `$host`; without it (the plain default format) the upstream name, else `-`. */
  host: string;
  /** `$proxy_upstream_name` (`namespace-service-port`; `` for requests rejected before routing). */
  upstream: string;
  status: number;
  /** `$body_bytes_sent`. */
  bytes: number;
  /** `$request_time`, seconds. */
  requestTime: number;
  /** `$upstream_response_time` summed over the upstreams tried, seconds; undefined for `-`. */
  upstreamTime: number | undefined;
  /** `$upstream_status` as written (`200`, `502, 200`, `-`). */
  upstreamStatus: string;
  cache: CacheStatus;
  /** Index of `cache` in CACHE_STATUSES. */
  cacheIndex: number;
}

export type ParseResult = { ok: true; record: AccessRecord } | { ok: false; error: string };

const MAX_FIELD = 253;
const clean = (s: string): string => {
  const v = visible(s);
  return v.length > MAX_FIELD ? `${v.slice(0, MAX_FIELD - 1)}…` : v;
};

const MONTHS: Readonly<Record<string, number>> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

const TIME_RE = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

/** `06/Dec/2026:03:30:24 +0000` → epoch ms, or undefined. */
export function parseTimeLocal(s: string): number | undefined {
  const m = TIME_RE.exec(s);
  if (!m) return undefined;
  const mon = MONTHS[m[2]!];
  if (mon === undefined) return undefined;
  const utc = Date.UTC(+m[3]!, mon, +m[1]!, +m[4]!, +m[5]!, +m[6]!);
  const off = (+m[8]! * 60 + +m[9]!) * 60_000 * (m[7] === '-' ? -1 : 1);
  const t = utc - off;
  return Number.isFinite(t) ? t : undefined;
}

/** `0.004`, `0.001, 0.003 : 0.002`, `-` → the sum, or undefined when no number is in it. */
export function sumSeconds(s: string): number | undefined {
  if (s === '-' || s === '') return undefined;
  if (s.indexOf(',') === -1 && s.indexOf(':') === -1) {
    const n = Number(s);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  }
  let sum = 0;
  let any = false;
  for (const part of s.split(/[,:]/)) {
    const n = Number(part.trim());
    if (part.trim() !== '' && Number.isFinite(n) && n >= 0) {
      sum += n;
      any = true;
    }
  }
  return any ? sum : undefined;
}

/** A parser for one compiled format (the shipped one by default). */
export function makeParser(
  format: CompiledFormat = compileFormat(),
): (line: string) => ParseResult {
  const steps = format.steps;
  const idx = (name: string) => format.vars.indexOf(name);
  const iTime = idx('time_local');
  const iHost = idx('host');
  const iUp = idx('proxy_upstream_name');
  const iStatus = idx('status');
  const iBytes = idx('body_bytes_sent');
  const iReqTime = idx('request_time');
  const iUpTime = idx('upstream_response_time');
  const iUpStatus = idx('upstream_status');
  const iCache = idx('upstream_cache_status');
  const nVars = format.vars.length;
  // Only the fields kept are cut out of the line (the request, the User-Agent… are skipped).
  const keep = format.vars.map((_, i) =>
    [iTime, iHost, iUp, iStatus, iBytes, iReqTime, iUpTime, iUpStatus, iCache].includes(i),
  );
  // Reused between calls (the parser is synchronous).
  const vals: Array<string | undefined> = new Array(nVars);
  let lastTimeText = '';
  let lastTime: number | undefined;

  return (input: string): ParseResult => {
    if (typeof input !== 'string') return { ok: false, error: 'not text' };
    const line = input.endsWith('\r') ? input.slice(0, -1) : input;
    vals.fill(undefined);
    let pos = 0;
    let v = 0;
    for (let s = 0; s < steps.length; s++) {
      const st = steps[s]!;
      if (st.kind === 'lit') {
        if (line.startsWith(st.text, pos)) {
          pos += st.text.length;
          continue;
        }
        const next = steps[s + 1];
        // The line stops before an optional (extra) field: written in the plain default format.
        if (pos === line.length && next?.kind === 'var' && next.optional) break;
        return { ok: false, error: `expected ${JSON.stringify(st.text)} at column ${pos + 1}` };
      }
      if (st.until === '') {
        vals[v] = keep[v] ? line.slice(pos) : '';
        v++;
        pos = line.length;
        continue;
      }
      let end = line.indexOf(st.until, pos);
      if (st.list && st.until === ' ') {
        // `a, b` and `a : b` are one value (several upstreams tried).
        while (end !== -1) {
          if (end > pos && line.charCodeAt(end - 1) === 44 /* , */) {
            end = line.indexOf(' ', end + 1);
          } else if (line.startsWith(' : ', end)) {
            end = line.indexOf(' ', end + 3);
          } else break;
        }
      }
      if (end === -1) {
        const next = steps[s + 2];
        if (next?.kind === 'var' && next.optional) {
          vals[v] = keep[v] ? line.slice(pos) : '';
          v++;
          pos = line.length;
          break;
        }
        return { ok: false, error: `field $${st.name} does not end (column ${pos + 1})` };
      }
      vals[v] = keep[v] ? line.slice(pos, end) : '';
      v++;
      pos = end;
    }
    const statusText = vals[iStatus] ?? '';
    const status = statusText.length === 3 ? Number(statusText) : Number.NaN;
    if (!(status >= 100 && status <= 599)) return { ok: false, error: 'status is not a code' };
    const bytesText = vals[iBytes] ?? '';
    const bytes = bytesText === '-' ? 0 : Number(bytesText);
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytesText === '')
      return { ok: false, error: 'bytes sent is not a number' };
    const reqText = vals[iReqTime] ?? '';
    const requestTime = Number(reqText);
    if (reqText === '' || !Number.isFinite(requestTime) || requestTime < 0)
      return { ok: false, error: 'request time is not a number' };
    const cacheText = iCache >= 0 ? (vals[iCache] ?? '-') : '-';
    const cacheIndex = CACHE_INDEX[cacheText];
    if (cacheIndex === undefined || !Object.hasOwn(CACHE_INDEX, cacheText))
      return { ok: false, error: 'unknown cache status' };
    const timeText = vals[iTime] ?? '';
    if (timeText !== lastTimeText) {
      lastTimeText = timeText;
      lastTime = parseTimeLocal(timeText);
    }
    const upstream = clean(vals[iUp] ?? '');
    const hostText = iHost >= 0 ? vals[iHost] : undefined;
    const host =
      hostText !== undefined && hostText !== '' && hostText !== '-'
        ? clean(hostText.toLowerCase())
        : upstream !== ''
          ? upstream
          : '-';
    return {
      ok: true,
      record: {
        time: lastTime,
        host,
        upstream,
        status,
        bytes,
        requestTime,
        upstreamTime: sumSeconds(vals[iUpTime] ?? '-'),
        upstreamStatus: clean(vals[iUpStatus] ?? '-'),
        cache: cacheText as CacheStatus,
        cacheIndex,
      },
    };
  };
}

let shared: ((line: string) => ParseResult) | undefined;

/** Parse one line of the shipped format. */
export function parseAccessLine(line: string): ParseResult {
  shared ??= makeParser();
  return shared(line);
}
