/**
 * Cilium agent API (1.17), pure: `GET /v1/bgp/peers` → BgpPeer[] and `GET /v1/bgp/routes`
 * → BgpRoute[] (api/v1/models/bgp_peer.go, bgp_route.go: go-swagger structs, every field
 * but `families`/`paths` `omitempty`, so zero values are absent and default to 0).
 */
import { arr, num, obj, str } from '../../../kube/parse/meta.js';
import type { Parsed, SideSession } from '../types.js';
import { stateOf } from '../types.js';
import { isAddressLike, parseJson } from './json.js';

/** `/v1/bgp/peers` body → Cilium's side of each session (`now`: when it was read, epoch ms). */
export function parseCiliumPeers(text: unknown, now: number): Parsed<SideSession[]> {
  const j = parseJson(text, 'cilium /v1/bgp/peers');
  if (!j.ok) return j;
  if (!Array.isArray(j.value))
    return { ok: false, error: 'cilium /v1/bgp/peers: expected a JSON array of BgpPeer' };
  const out: SideSession[] = [];
  for (const p of j.value) {
    const o = obj(p);
    const peerAddress = str(o['peer-address']);
    if (!isAddressLike(peerAddress)) continue;
    const stateText = str(o['session-state']);
    const s: SideSession = { peerAddress, state: stateOf(stateText), flaps: 0 };
    if (stateText) s.stateText = stateText;
    s.localAsn = num(o['local-asn']) ?? 0;
    s.peerAsn = num(o['peer-asn']) ?? 0;
    const name = str(o.name);
    if (name) s.name = name;
    const up = num(o['uptime-nanoseconds']) ?? 0;
    if (s.state === 'established') s.upSince = now - Math.floor(up / 1e6);
    let received = 0;
    let accepted = 0;
    let advertised = 0;
    for (const f of arr(o.families)) {
      const fo = obj(f);
      received += num(fo.received) ?? 0;
      accepted += num(fo.accepted) ?? 0;
      advertised += num(fo.advertised) ?? 0;
    }
    s.received = received;
    s.accepted = accepted;
    s.advertised = advertised;
    const hold = num(o['applied-hold-time-seconds']) ?? num(o['configured-hold-time-seconds']);
    if (hold !== undefined) s.holdTimeSeconds = hold;
    out.push(s);
  }
  return { ok: true, value: out };
}

/** `/v1/bgp/routes` body → the prefixes (sorted, unique). */
export function parseCiliumRoutes(text: unknown): Parsed<string[]> {
  const j = parseJson(text, 'cilium /v1/bgp/routes');
  if (!j.ok) return j;
  if (!Array.isArray(j.value))
    return { ok: false, error: 'cilium /v1/bgp/routes: expected a JSON array of BgpRoute' };
  const set = new Set<string>();
  for (const r of j.value) {
    const p = str(obj(r).prefix);
    if (isAddressLike(p) && p.includes('/')) set.add(p);
  }
  return { ok: true, value: [...set].sort() };
}
