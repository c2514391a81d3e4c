/**
 * Cilium's BGP v2 configuration CRDs (cluster-scoped; `cilium.io/v2` from Cilium 1.18,
 * `cilium.io/v2alpha1` up to 1.17, the same spec fields in both), parsed purely: a field
 * of the wrong type is left out and named in `problems`, never guessed, and nothing
 * throws. Field names from cilium `pkg/k8s/apis/cilium.io/{v2,v2alpha1}/bgp_peer_types.go`,
 * `bgp_advert_types.go`, `bgp_cluster_types.go`.
 *
 * - CiliumBGPPeerConfig: `spec.transport{peerPort, localPort (v2alpha1)}`,
 *   `spec.timers{connectRetryTimeSeconds, holdTimeSeconds, keepAliveTimeSeconds}`,
 *   `spec.authSecretRef` (a Secret's name; only the name is kept), `spec.gracefulRestart
 *   {enabled, restartTimeSeconds}`, `spec.ebgpMultihop`, `spec.families[{afi, safi,
 *   advertisements: LabelSelector}]`, `status.conditions` (`cilium.io/MissingAuthSecret`).
 * - CiliumBGPAdvertisement: `metadata.labels`, `spec.advertisements[{advertisementType,
 *   service{addresses, aggregationLengthIPv4/IPv6}, selector, attributes{communities
 *   {standard, wellKnown, large}, localPreference}}]`.
 * - CiliumBGPClusterConfig: `spec.nodeSelector`, `spec.bgpInstances[{name, localASN,
 *   peers[{name, peerAddress, peerASN, peerConfigRef{name}}]}]`, `status.conditions`.
 */
import type {
  BgpAdvertisementEntry,
  BgpAdvertisementObject,
  BgpClusterConfig,
  BgpPeerConfig,
  BgpPeerFamily,
} from '../types.js';
import { clip, conditions, isObj, meta, type Obj, obj, shown } from './meta.js';
import { parseLabelSelector } from './selector.js';

/** Bound on list fields (the CRDs cap instances at 16; peers, families and entries are small). */
const MAX_LIST = 256;

/** Typed reads of one object's fields, recording what is present but unreadable. */
class Fields {
  readonly problems: string[] = [];

  /** A list at `path` (absent: empty; not a list or too long: a problem). */
  list(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.problems.push(`${path}: not a list`);
      return [];
    }
    if (v.length > MAX_LIST) {
      this.problems.push(`${path}: ${v.length} entries, only the first ${MAX_LIST} read`);
      return v.slice(0, MAX_LIST);
    }
    return v;
  }

  object(v: unknown, path: string): Obj | undefined {
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) {
      this.problems.push(`${path}: not an object`);
      return undefined;
    }
    return v;
  }

  int(v: unknown, path: string, min: number, max: number): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.problems.push(
        `${path}: ${typeof v === 'number' ? v : shown(v)} is not an integer in ${min}…${max}`,
      );
      return undefined;
    }
    return v;
  }

  string(v: unknown, path: string, max = 253): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      this.problems.push(`${path}: not a string`);
      return undefined;
    }
    return v === '' ? undefined : clip(v, max);
  }

  bool(v: unknown, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.problems.push(`${path}: not true or false`);
      return undefined;
    }
    return v;
  }

  strings(v: unknown, path: string, max = 253): string[] {
    const out: string[] = [];
    for (const [i, x] of this.list(v, path).entries()) {
      const s = this.string(x, `${path}[${i}]`, max);
      if (s !== undefined) out.push(s);
    }
    return out;
  }
}

const ASN_MAX = 4294967295;

/** A CiliumBGPPeerConfig; undefined only without `metadata.name`. */
export function parseBgpPeerConfig(o: unknown): BgpPeerConfig | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const f = new Fields();
  const spec = f.object(obj(o).spec, 'spec') ?? {};
  const out: BgpPeerConfig = {
    name: clip(m.name, 253)!,
    families: [],
    conditions: conditions(obj(obj(o).status).conditions),
    problems: f.problems,
  };
  const transport = f.object(spec.transport, 'spec.transport');
  if (transport) {
    const peerPort = f.int(transport.peerPort, 'spec.transport.peerPort', 1, 65535);
    if (peerPort !== undefined) out.peerPort = peerPort;
    const localPort = f.int(transport.localPort, 'spec.transport.localPort', 1, 65535);
    if (localPort !== undefined) out.localPort = localPort;
  }
  const timers = f.object(spec.timers, 'spec.timers');
  if (timers) {
    const hold = f.int(timers.holdTimeSeconds, 'spec.timers.holdTimeSeconds', 3, 65535);
    if (hold !== undefined) out.holdTimeSeconds = hold;
    const ka = f.int(timers.keepAliveTimeSeconds, 'spec.timers.keepAliveTimeSeconds', 1, 65535);
    if (ka !== undefined) out.keepAliveTimeSeconds = ka;
    const cr = f.int(
      timers.connectRetryTimeSeconds,
      'spec.timers.connectRetryTimeSeconds',
      1,
      2147483647,
    );
    if (cr !== undefined) out.connectRetryTimeSeconds = cr;
  }
  const hop = f.int(spec.ebgpMultihop, 'spec.ebgpMultihop', 1, 255);
  if (hop !== undefined) out.ebgpMultihop = hop;
  const secret = f.string(spec.authSecretRef, 'spec.authSecretRef');
  if (secret !== undefined) out.authSecretRef = secret;
  const gr = f.object(spec.gracefulRestart, 'spec.gracefulRestart');
  if (gr) {
    const enabled = f.bool(gr.enabled, 'spec.gracefulRestart.enabled') ?? false;
    const rt = f.int(gr.restartTimeSeconds, 'spec.gracefulRestart.restartTimeSeconds', 1, 4095);
    out.gracefulRestart = { enabled, ...(rt !== undefined ? { restartTimeSeconds: rt } : {}) };
  }
  for (const [i, x] of f.list(spec.families, 'spec.families').entries()) {
    const at = `spec.families[${i}]`;
    const fo = f.object(x, at);
    if (!fo) continue;
    const afi = f.string(fo.afi, `${at}.afi`, 32);
    const safi = f.string(fo.safi, `${at}.safi`, 32);
    if (!afi || !safi) {
      if (!f.problems.some((p) => p.startsWith(at))) f.problems.push(`${at}: no afi/safi`);
      continue;
    }
    const fam: BgpPeerFamily = { afi, safi };
    const sel = parseLabelSelector(fo.advertisements, `${at}.advertisements`, f.problems);
    if (sel) fam.advertisements = sel;
    out.families.push(fam);
  }
  if (out.families.length === 0 && !f.problems.some((p) => p.startsWith('spec.families')))
    out.defaultFamilies = true;
  return out;
}

function communities(f: Fields, v: unknown, path: string): string[] {
  const c = f.object(v, path);
  if (!c) return [];
  return [
    ...f.strings(c.standard, `${path}.standard`, 32),
    ...f.strings(c.wellKnown, `${path}.wellKnown`, 32),
    ...f.strings(c.large, `${path}.large`, 40),
  ];
}

/** A CiliumBGPAdvertisement; undefined only without `metadata.name`. */
export function parseBgpAdvertisement(o: unknown): BgpAdvertisementObject | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const f = new Fields();
  const spec = f.object(obj(o).spec, 'spec') ?? {};
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.labels))
    if (k !== '__proto__') labels[clip(k, 317)!] = clip(v, 253)!;
  const out: BgpAdvertisementObject = {
    name: clip(m.name, 253)!,
    labels,
    advertisements: [],
    problems: f.problems,
  };
  for (const [i, x] of f.list(spec.advertisements, 'spec.advertisements').entries()) {
    const at = `spec.advertisements[${i}]`;
    const ao = f.object(x, at);
    if (!ao) continue;
    const type = f.string(ao.advertisementType, `${at}.advertisementType`, 64);
    if (!type) {
      if (!f.problems.some((p) => p.startsWith(at))) f.problems.push(`${at}: no advertisementType`);
      continue;
    }
    const e: BgpAdvertisementEntry = { advertisementType: type, addresses: [], communities: [] };
    const svc = f.object(ao.service, `${at}.service`);
    if (svc) {
      e.addresses = f.strings(svc.addresses, `${at}.service.addresses`, 64);
      const a4 = f.int(svc.aggregationLengthIPv4, `${at}.service.aggregationLengthIPv4`, 0, 31);
      if (a4 !== undefined) e.aggregationLengthIPv4 = a4;
      const a6 = f.int(svc.aggregationLengthIPv6, `${at}.service.aggregationLengthIPv6`, 0, 127);
      if (a6 !== undefined) e.aggregationLengthIPv6 = a6;
    } else if (type === 'Service') {
      f.problems.push(`${at}: advertisementType Service without service.addresses`);
    }
    const sel = parseLabelSelector(ao.selector, `${at}.selector`, f.problems);
    if (sel) e.selector = sel;
    const attrs = f.object(ao.attributes, `${at}.attributes`);
    if (attrs) {
      e.communities = communities(f, attrs.communities, `${at}.attributes.communities`);
      const lp = f.int(attrs.localPreference, `${at}.attributes.localPreference`, 0, ASN_MAX);
      if (lp !== undefined) e.localPreference = lp;
    }
    out.advertisements.push(e);
  }
  return out;
}

/** A CiliumBGPClusterConfig; undefined only without `metadata.name`. */
export function parseBgpClusterConfig(o: unknown): BgpClusterConfig | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const f = new Fields();
  const spec = f.object(obj(o).spec, 'spec') ?? {};
  const out: BgpClusterConfig = {
    name: clip(m.name, 253)!,
    instances: [],
    conditions: conditions(obj(obj(o).status).conditions),
    problems: f.problems,
  };
  const ns = parseLabelSelector(spec.nodeSelector, 'spec.nodeSelector', f.problems);
  if (ns) out.nodeSelector = ns;
  for (const [i, x] of f.list(spec.bgpInstances, 'spec.bgpInstances').entries()) {
    const at = `spec.bgpInstances[${i}]`;
    const io = f.object(x, at);
    if (!io) continue;
    const name = f.string(io.name, `${at}.name`);
    if (!name) continue;
    const inst: BgpClusterConfig['instances'][number] = { name, peers: [] };
    const asn = f.int(io.localASN, `${at}.localASN`, 1, ASN_MAX);
    if (asn !== undefined) inst.localASN = asn;
    for (const [j, y] of f.list(io.peers, `${at}.peers`).entries()) {
      const pat = `${at}.peers[${j}]`;
      const po = f.object(y, pat);
      if (!po) continue;
      const pname = f.string(po.name, `${pat}.name`);
      if (!pname) continue;
      const peer: BgpClusterConfig['instances'][number]['peers'][number] = { name: pname };
      const addr = f.string(po.peerAddress, `${pat}.peerAddress`, 64);
      if (addr) peer.peerAddress = addr;
      const pasn = f.int(po.peerASN, `${pat}.peerASN`, 0, ASN_MAX);
      if (pasn !== undefined) peer.peerASN = pasn;
      const ref = f.object(po.peerConfigRef, `${pat}.peerConfigRef`);
      const refName = ref ? f.string(ref.name, `${pat}.peerConfigRef.name`) : undefined;
      if (refName) peer.peerConfigRef = refName;
      inst.peers.push(peer);
    }
    out.instances.push(inst);
  }
  return out;
}
