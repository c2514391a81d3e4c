/** CiliumBGPNodeConfig status and its spec's peers, parsed (pure; never throws). */
import type {
  BgpInstanceStatus,
  BgpNodeConfigStatus,
  BgpNodeSpecPeer,
  BgpPeerStatus,
  BgpRouteCount,
} from '../types.js';
import { arr, clip, conditions, meta, num, obj, str } from './meta.js';

/** Bound on instances × peers read from one object (the CRD caps instances at 16). */
const MAX_SPEC_PEERS = 256;

/** `spec.bgpInstances[].peers[]`: name, addresses, ASN and the PeerConfig each peer uses. */
function specPeers(spec: unknown): BgpNodeSpecPeer[] {
  const out: BgpNodeSpecPeer[] = [];
  for (const i of arr(obj(spec).bgpInstances)) {
    const io = obj(i);
    const instance = str(io.name);
    if (!instance) continue;
    for (const p of arr(io.peers)) {
      if (out.length >= MAX_SPEC_PEERS) return out;
      const po = obj(p);
      const name = str(po.name);
      if (!name) continue;
      const sp: BgpNodeSpecPeer = { instance: clip(instance, 255)!, name: clip(name, 255)! };
      const addr = str(po.peerAddress);
      if (addr) sp.peerAddress = clip(addr, 64)!;
      const asn = num(po.peerASN);
      if (asn !== undefined) sp.peerASN = asn;
      const local = str(po.localAddress);
      if (local) sp.localAddress = clip(local, 64)!;
      const ref = str(obj(po.peerConfigRef).name);
      if (ref) sp.peerConfigRef = clip(ref, 253)!;
      out.push(sp);
    }
  }
  return out;
}

function peerStatus(p: unknown): BgpPeerStatus | undefined {
  const o = obj(p);
  const name = str(o.name);
  const peerAddress = str(o.peerAddress);
  if (!name || !peerAddress) return undefined;
  const routeCount: BgpRouteCount[] = [];
  for (const r of arr(o.routeCount)) {
    const ro = obj(r);
    const afi = str(ro.afi);
    const safi = str(ro.safi);
    if (!afi || !safi) continue;
    const rc: BgpRouteCount = { afi, safi };
    const rcv = num(ro.received);
    if (rcv !== undefined) rc.received = rcv;
    const adv = num(ro.advertised);
    if (adv !== undefined) rc.advertised = adv;
    routeCount.push(rc);
  }
  const out: BgpPeerStatus = { name, peerAddress, routeCount };
  const asn = num(o.peerASN);
  if (asn !== undefined) out.peerASN = asn;
  const state = str(o.peeringState);
  if (state) out.peeringState = state;
  const est = str(o.establishedTime);
  if (est) out.establishedTime = est;
  const up = str(o.uptime);
  if (up) out.uptime = up;
  const sum = (k: 'received' | 'advertised') =>
    routeCount.some((r) => r[k] !== undefined)
      ? routeCount.reduce((s, r) => s + (r[k] ?? 0), 0)
      : undefined;
  const received = sum('received') ?? num(o.routesReceived);
  if (received !== undefined) out.routesReceived = received;
  const advertised = sum('advertised') ?? num(o.routesAdvertised);
  if (advertised !== undefined) out.routesAdvertised = advertised;
  const timers = obj(o.timers);
  const hold = num(timers.appliedHoldTimeSeconds);
  if (hold !== undefined) out.holdTimeSeconds = hold;
  const ka = num(timers.appliedKeepaliveSeconds);
  if (ka !== undefined) out.keepaliveSeconds = ka;
  return out;
}

/** A CiliumBGPNodeConfig (cilium.io/v2alpha1 or v2; both status shapes) → per-peer state. */
export function parseBgpNodeConfig(o: unknown): BgpNodeConfigStatus | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const status = obj(obj(o).status);
  const instances: BgpInstanceStatus[] = [];
  for (const i of arr(status.bgpInstances)) {
    const io = obj(i);
    const name = str(io.name);
    if (!name) continue;
    const inst: BgpInstanceStatus = {
      name,
      peers: arr(io.peers)
        .map(peerStatus)
        .filter((p): p is BgpPeerStatus => p !== undefined),
    };
    const asn = num(io.localASN);
    if (asn !== undefined) inst.localASN = asn;
    instances.push(inst);
  }
  const out: BgpNodeConfigStatus = {
    node: m.name,
    instances,
    conditions: conditions(status.conditions),
  };
  const sp = specPeers(obj(o).spec);
  if (sp.length > 0) out.specPeers = sp;
  return out;
}
