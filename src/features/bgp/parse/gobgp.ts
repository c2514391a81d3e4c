/**
 * GoBGP CLI JSON (`gobgp -j neighbor`, `gobgp -j global rib`), pure. The CLI marshals the
 * API structs with Go's encoding/json: snake_case keys, enums as numbers, zero values
 * omitted, times as absolute `{seconds}` (net-apis.md §3, checked on gobgp 3.10 output).
 */
import { arr, num, obj, str } from '../../../kube/parse/meta.js';
import type { BgpState, Parsed, SideSession } from '../types.js';
import { isAddressLike, parseJson } from './json.js';

const SESSION_STATES: Record<number, BgpState> = {
  1: 'idle',
  2: 'connect',
  3: 'active',
  4: 'opensent',
  5: 'openconfirm',
  6: 'established',
};
const STATE_TEXT: Record<BgpState, string> = {
  idle: 'Idle',
  connect: 'Connect',
  active: 'Active',
  opensent: 'Sent',
  openconfirm: 'Confirm',
  established: 'Establ',
  unknown: 'Unknown',
};

/** `gobgp -j neighbor` (an array) or `gobgp -j neighbor ADDR` (one object). */
export function parseGobgpNeighbors(text: unknown): Parsed<SideSession[]> {
  const j = parseJson(text, 'gobgp -j neighbor');
  if (!j.ok) return j;
  const list = Array.isArray(j.value)
    ? j.value
    : j.value && typeof j.value === 'object'
      ? [j.value]
      : undefined;
  if (!list) return { ok: false, error: 'gobgp -j neighbor: expected a JSON array of peers' };
  const out: SideSession[] = [];
  for (const p of list) {
    const o = obj(p);
    const conf = obj(o.conf);
    const st = obj(o.state);
    const peerAddress = str(st.neighbor_address) ?? str(conf.neighbor_address);
    if (!isAddressLike(peerAddress)) continue;
    const code = num(st.session_state) ?? 0;
    const state = SESSION_STATES[code] ?? 'unknown';
    const admin = num(st.admin_state) ?? 0;
    const s: SideSession = { peerAddress, state, flaps: 0 };
    s.stateText = admin === 1 ? 'Idle(Admin)' : admin === 2 ? 'Idle(PfxCt)' : STATE_TEXT[state];
    const local = str(obj(obj(o.transport)).local_address);
    if (isAddressLike(local)) s.localAddress = local;
    const lasn = num(st.local_asn) ?? num(conf.local_asn);
    if (lasn !== undefined) s.localAsn = lasn;
    const pasn = num(st.peer_asn) ?? num(conf.peer_asn);
    if (pasn !== undefined) s.peerAsn = pasn;
    const timers = obj(obj(o.timers).state);
    const up = num(obj(timers.uptime).seconds);
    if (state === 'established' && up !== undefined && up > 0) s.upSince = up * 1000;
    const hold = num(timers.negotiated_hold_time);
    if (hold !== undefined && state === 'established') s.holdTimeSeconds = hold;
    let received: number | undefined;
    let accepted: number | undefined;
    let advertised: number | undefined;
    for (const a of arr(o.afi_safis)) {
      const as = obj(obj(a).state);
      const add = (v: unknown, cur: number | undefined) => {
        const n = num(v);
        return n === undefined ? cur : (cur ?? 0) + n;
      };
      received = add(as.received, received);
      accepted = add(as.accepted, accepted);
      advertised = add(as.advertised, advertised);
    }
    // Zero counts are omitted: an established session with families reports 0, not unknown.
    s.received = received ?? 0;
    s.accepted = accepted ?? 0;
    if (advertised !== undefined) s.advertised = advertised;
    out.push(s);
  }
  return { ok: true, value: out };
}

/** `gobgp -j global rib` → the prefixes each neighbor sent (paths without `neighbor-ip` are local). */
export function parseGobgpRib(text: unknown): Parsed<Record<string, string[]>> {
  const j = parseJson(text, 'gobgp -j global rib');
  if (!j.ok) return j;
  const v = j.value;
  if (!v || typeof v !== 'object' || Array.isArray(v))
    return { ok: false, error: 'gobgp -j global rib: expected a JSON object keyed by prefix' };
  const out: Record<string, Set<string>> = {};
  for (const [prefix, paths] of Object.entries(v as Record<string, unknown>)) {
    if (!isAddressLike(prefix)) continue;
    for (const p of arr(paths)) {
      const n = str(obj(p)['neighbor-ip']);
      if (!isAddressLike(n)) continue;
      const set = out[n] ?? new Set<string>();
      set.add(prefix);
      out[n] = set;
    }
  }
  return {
    ok: true,
    value: Object.fromEntries(Object.entries(out).map(([k, s]) => [k, [...s].sort()])),
  };
}
