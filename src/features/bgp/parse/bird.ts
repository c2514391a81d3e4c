/**
 * BIRD 2 `birdc` text, pure: `show protocols all` (nest/proto.c proto_cmd_show, BGP details
 * from proto/bgp/bgp.c bgp_show_proto_info), `show route all` and `show status` — checked
 * on BIRD 2.0.12 output (fixtures in test/fixtures/bgp). Times are the router's local
 * time of day (today) or a date (earlier); `show status` gives the router's "now" to
 * turn them into an uptime.
 */
import type { Parsed, SideSession } from '../types.js';
import { stateOf } from '../types.js';
import { isAddressLike } from './json.js';

const MAX_LINES = 200_000;

function lines(text: unknown, what: string): Parsed<string[]> {
  if (typeof text !== 'string') return { ok: false, error: `${what}: no text` };
  const ls = text.split(/\r?\n/);
  if (ls.length > MAX_LINES) return { ok: false, error: `${what}: output too long` };
  return { ok: true, value: ls };
}

/** birdc's own failure lines ("Unable to connect to server control socket …"). */
function birdcError(ls: readonly string[]): string | undefined {
  const l = ls.find((x) => /^Unable to connect|^Access denied|^syntax error|^\d{4} /.test(x));
  if (!l) return undefined;
  // Numbered reply codes 8xxx/9xxx are errors (e.g. "9001 syntax error").
  if (/^\d{4} /.test(l) && !/^[89]\d{3} /.test(l)) return undefined;
  return l.trim().slice(0, 200);
}

/** Wall-clock fields as if UTC: both sides of a difference share the router's offset. */
function clockMs(date: string, time: string | undefined): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return undefined;
  let ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (time !== undefined) {
    const t = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(time);
    if (!t) return undefined;
    ms += ((Number(t[1]) * 60 + Number(t[2])) * 60 + Number(t[3])) * 1000;
    ms += t[4] ? Number(t[4].padEnd(3, '0')) : 0;
  }
  return Number.isFinite(ms) ? ms : undefined;
}

/** `birdc show status` → the router's current wall-clock time (`YYYY-MM-DD`, `HH:MM:SS.mmm`). */
export function parseBirdStatus(text: unknown): Parsed<{ date: string; time: string }> {
  const l = lines(text, 'birdc show status');
  if (!l.ok) return l;
  const err = birdcError(l.value);
  if (err) return { ok: false, error: err };
  for (const x of l.value) {
    const m = /Current server time is (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)/.exec(x);
    if (m) return { ok: true, value: { date: m[1]!, time: m[2]! } };
  }
  return { ok: false, error: 'birdc show status: no "Current server time" line' };
}

/**
 * How long ago `since` (a protocol's Since column) was, by the router's clock `now`;
 * undefined if either cannot be read.
 */
export function birdAgeMs(
  since: string,
  now: { date: string; time: string } | undefined,
): number | undefined {
  if (!now) return undefined;
  const nowMs = clockMs(now.date, now.time.slice(0, 12));
  if (nowMs === undefined) return undefined;
  const [a, b] = since.split(' ');
  let at: number | undefined;
  if (a && /^\d{4}-/.test(a)) at = clockMs(a, b);
  else if (a) {
    at = clockMs(now.date, a);
    // A time of day later than now is yesterday's.
    if (at !== undefined && at > nowMs + 1000) at -= 86_400_000;
  }
  return at === undefined ? undefined : Math.max(0, nowMs - at);
}

export interface BirdProtocol extends SideSession {
  /** The protocol name (`k8s_n1`). */
  name: string;
  /** The Since column as printed. */
  since: string;
}

/**
 * `birdc show protocols all` → every BGP protocol. `ageOf(since)` turns the Since column
 * into an age (ms) for the uptime; `at` is when the output was read (epoch ms).
 */
export function parseBirdProtocols(
  text: unknown,
  at: number,
  ageOf: (since: string) => number | undefined = () => undefined,
): Parsed<BirdProtocol[]> {
  const l = lines(text, 'birdc show protocols all');
  if (!l.ok) return l;
  const err = birdcError(l.value);
  if (err) return { ok: false, error: err };
  if (!l.value.some((x) => /^Name\s+Proto\s+Table\s+State\s+Since\s+Info/.test(x)))
    return { ok: false, error: 'birdc show protocols all: no protocol table header' };
  const out: BirdProtocol[] = [];
  let cur: (BirdProtocol & { bgp: boolean }) | undefined;
  let inChannel = false;
  let imp = { received: 0, withdrawn: 0 };
  const finish = () => {
    if (cur?.bgp && isAddressLike(cur.peerAddress)) {
      const { bgp: _b, ...p } = cur;
      // Prefixes the peer currently announces: its announcements less its withdrawals
      // (cumulative counters; never below what was imported).
      if (cur.accepted !== undefined)
        p.received = Math.max(cur.accepted, imp.received - imp.withdrawn);
      out.push(p);
    }
    cur = undefined;
    inChannel = false;
    imp = { received: 0, withdrawn: 0 };
  };
  for (const raw of l.value) {
    const line = raw.trimEnd();
    if (line === '' || /^BIRD \S+ ready\.$/.test(line) || /^Name\s+Proto\s/.test(line)) continue;
    if (!/^\s/.test(line)) {
      finish();
      // name proto table state since [info…]; since may be "date time".
      const m =
        /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}:\d{2}(?:\.\d+)?)?|\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*(.*)$/.exec(
          line,
        );
      if (!m) continue;
      const info = m[6] ?? '';
      const word = info.split(/\s+/)[0];
      cur = {
        name: m[1]!,
        since: m[5]!,
        peerAddress: '',
        state: stateOf(word),
        flaps: 0,
        bgp: m[2] === 'BGP',
      };
      if (info) cur.stateText = info.replace(/\s+/g, ' ');
      if (m[4] !== 'up' && cur.state === 'established') cur.state = 'unknown';
      if (cur.state === 'established') {
        const age = ageOf(cur.since);
        if (age !== undefined) cur.upSince = at - age;
      }
      continue;
    }
    if (!cur) continue;
    const kv = /^\s+([A-Za-z][A-Za-z0-9 ]*?):\s*(.*)$/.exec(line);
    if (/^\s+Channel\s/.test(line)) inChannel = true;
    const u = /^\s+Import (updates|withdraws):\s+(\d+)/.exec(line);
    if (u) {
      if (inChannel) {
        if (u[1] === 'updates') imp.received += Number(u[2]);
        else imp.withdrawn += Number(u[2]);
      }
      continue;
    }
    if (!kv) continue;
    const key = kv[1]!;
    const val = kv[2]!.trim();
    switch (key) {
      case 'BGP state':
        cur.state = stateOf(val);
        break;
      case 'Neighbor address':
        if (isAddressLike(val.split('%')[0])) cur.peerAddress = val.split('%')[0]!;
        break;
      case 'Neighbor AS':
        if (/^\d+$/.test(val)) cur.peerAsn = Number(val);
        break;
      case 'Local AS':
        if (/^\d+$/.test(val)) cur.localAsn = Number(val);
        break;
      case 'Source address':
        if (isAddressLike(val)) cur.localAddress = val;
        break;
      case 'Hold timer': {
        const h = /\/(\d+)$/.exec(val);
        if (h) cur.holdTimeSeconds = Number(h[1]);
        break;
      }
      case 'Last error':
        if (val) cur.lastError = val.slice(0, 200);
        break;
      case 'Routes': {
        const r = /(\d+) imported, (?:(\d+) filtered, )?(\d+) exported/.exec(val);
        if (r) {
          cur.accepted = (cur.accepted ?? 0) + Number(r[1]);
          cur.advertised = (cur.advertised ?? 0) + Number(r[3]);
        }
        break;
      }
      default:
        break;
    }
  }
  finish();
  for (const p of out) {
    p.received ??= 0;
    p.accepted ??= 0;
    p.advertised ??= 0;
  }
  return { ok: true, value: out };
}

export interface BirdRoute {
  prefix: string;
  /** The protocol it came from. */
  proto: string;
  /** `from ADDR` (the BGP neighbor), when printed. */
  from?: string;
}

/** `birdc show route all` (or `show route`) → every route with its protocol and neighbor. */
export function parseBirdRoutes(text: unknown): Parsed<BirdRoute[]> {
  const l = lines(text, 'birdc show route');
  if (!l.ok) return l;
  const err = birdcError(l.value);
  if (err) return { ok: false, error: err };
  const out: BirdRoute[] = [];
  let prefix: string | undefined;
  for (const line of l.value) {
    if (/^\s*(Type:|BGP\.|Table |BIRD )/.test(line) || line.trim() === '') continue;
    const head = /^(\S+)\s+(.*)$/.exec(line);
    let rest: string;
    if (head && /\//.test(head[1]!)) {
      prefix = isAddressLike(head[1]) ? head[1] : undefined;
      rest = head[2]!;
    } else if (/^\s/.test(line)) rest = line;
    else continue;
    if (!prefix) continue;
    const m = /\[(\S+) [^\]]*?(?: from (\S+?))?\]/.exec(rest);
    if (!m) continue;
    const r: BirdRoute = { prefix, proto: m[1]! };
    if (m[2] && isAddressLike(m[2])) r.from = m[2];
    out.push(r);
  }
  return { ok: true, value: out };
}
