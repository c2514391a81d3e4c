/**
 * The kube API's configuration of one BGP session, joined the way Cilium's agent joins it
 * (cilium `pkg/bgpv1/manager/reconcilerv2/peer_advertisements.go`, `service.go`):
 * the node's CiliumBGPNodeConfig peer (else a CiliumBGPClusterConfig peer with the same
 * address) → its `peerConfigRef` → the CiliumBGPPeerConfig → per family, the
 * CiliumBGPAdvertisements its `advertisements` selector matches by label → for `Service`
 * entries, the Services their `selector` matches (labels plus `io.kubernetes.service.name`
 * / `.namespace`). Pure; the model calls it per row and adds its findings as problems.
 *
 * Findings (all warnings; a down session is already critical on its own):
 * - the referenced CiliumBGPPeerConfig does not exist, or none is referenced (Cilium then
 *   advertises nothing to the peer);
 * - a family whose selector matches no CiliumBGPAdvertisement (or has no selector);
 * - a `Service`/`LoadBalancerIP` advertisement applies, and the host routes the agent
 *   advertises to the peer differ from the selected LoadBalancer Services'
 *   `status.loadBalancer.ingress` IPs (ClusterIP/ExternalIP entries explain their own
 *   routes; a Service with `externalTrafficPolicy: Local` may rightly be absent, since
 *   Cilium advertises it only from nodes with a local endpoint, which k8ops does not read);
 * - the PeerConfig's hold time differs from the one the router negotiated;
 * - the PeerConfig's auth Secret is missing (its `cilium.io/MissingAuthSecret` condition),
 *   or one of its fields is unreadable.
 */
import { isIP } from 'node:net';
import { formatSelector, selectorMatches } from '../../kube/parse/selector.js';
import type {
  BgpAdvertisementObject,
  BgpClusterConfig,
  BgpCrdList,
  BgpNodeConfigs,
  BgpPeerConfig,
  KubeServiceVips,
} from '../../kube/types.js';
import type { SideSession } from './types.js';

/** Cilium's defaults for a peer without a PeerConfig value (cilium `bgp_peer_types.go`). */
export const CILIUM_DEFAULT_TIMERS = {
  holdTimeSeconds: 90,
  keepAliveTimeSeconds: 30,
  connectRetryTimeSeconds: 120,
} as const;
/** `spec.loadBalancerClass` values Cilium's BGP control plane announces (besides none). */
export const BGP_LB_CLASS = 'io.cilium/bgp-control-plane';
/** Selected Services named per advertisement entry (the rest counted). */
const MAX_NAMED_SERVICES = 8;

/** A section of the kube snapshot as the model reads it from the store. */
export interface KubePart<T> {
  value?: T;
  error?: string;
}

export interface BgpKubeInputs {
  nodeConfigs: KubePart<BgpNodeConfigs>;
  peerConfigs: KubePart<BgpCrdList<BgpPeerConfig>>;
  advertisements: KubePart<BgpCrdList<BgpAdvertisementObject>>;
  clusterConfigs: KubePart<BgpCrdList<BgpClusterConfig>>;
  services: KubePart<readonly KubeServiceVips[]>;
}

export interface BgpAdvertView {
  /** `name[index]` of the CiliumBGPAdvertisement entry. */
  advertisement: string;
  type: string;
  /** `service.addresses` */
  addresses: string[];
  selector: string;
  communities: string[];
  localPreference?: number;
  /** Service entries: the Services the selector matches (`ns/name`), when Services were read. */
  services?: string[];
  /** Matched Services beyond the named ones. */
  moreServices?: number;
}

export interface BgpFamilyView {
  afi: string;
  safi: string;
  /** The family's `advertisements` selector, printed. */
  selector: string;
  advertisements: BgpAdvertView[];
}

export interface BgpVipCheck {
  /** LoadBalancer VIPs the selected Services hold, with their Services; `optional` for externalTrafficPolicy Local. */
  expected: Array<{ prefix: string; services: string[]; optional: boolean }>;
  /** Host routes the agent advertises to the peer. */
  advertised: string[];
  /** Expected (not optional) but not advertised. */
  missing: string[];
  /** Advertised, but held by no selected Service (LoadBalancer, ClusterIP or ExternalIP entry). */
  unexpected: string[];
}

export interface BgpPeerConfigView {
  /** What tied the session to its configuration, e.g. `CiliumBGPNodeConfig worker-1`. */
  from: string;
  instance?: string;
  /** The peer's name in the instance. */
  peer?: string;
  /** `peerConfigRef.name`; undefined when the peer references none. */
  peerConfig?: string;
  /** `found`; `missing` (referenced, does not exist); `none` (no reference: defaults); `unknown` (not readable). */
  state: 'found' | 'missing' | 'none' | 'unknown';
  /** Effective timers (Cilium's defaults where the PeerConfig leaves one out; listed in `defaulted`). */
  timers?: {
    holdTimeSeconds: number;
    keepAliveTimeSeconds: number;
    connectRetryTimeSeconds: number;
    defaulted: string[];
  };
  peerPort?: number;
  ebgpMultihop?: number;
  gracefulRestart?: { enabled: boolean; restartTimeSeconds?: number };
  /** The auth Secret's name (never its content). */
  authSecretRef?: string;
  families: BgpFamilyView[];
  /** Present when a Service/LoadBalancerIP advertisement applies and both sides could be read. */
  loadBalancerVips?: BgpVipCheck;
  /** What could not be checked, and why (no severity). */
  notes: string[];
  /** Findings (warnings), also in the row's problems. */
  problems: string[];
}

export interface RowFacts {
  node: string;
  peerAddress: string;
  cilium?: SideSession;
  /** Host routes the agent advertises to the peer; undefined when unknown. */
  vips?: string[];
  router?: string;
  routerSide?: SideSession;
}

/** Services a selector picks: labels plus Cilium's two name/namespace keys. */
function serviceLabels(s: KubeServiceVips): Record<string, string> {
  return {
    ...s.labels,
    'io.kubernetes.service.name': s.name,
    'io.kubernetes.service.namespace': s.namespace,
  };
}

/**
 * Derived values of the (immutable) kube sections, computed once per section value and
 * shared by every row: the model joins the same objects for each of its sessions.
 */
const selectedCache = new WeakMap<
  readonly KubeServiceVips[],
  { labels: Array<Record<string, string>>; bySelector: WeakMap<object, KubeServiceVips[]> }
>();

/** The Services `entry`'s selector matches (none without a selector). */
function selectedServices(
  services: readonly KubeServiceVips[],
  entry: BgpAdvertisementObject['advertisements'][number],
): KubeServiceVips[] {
  let c = selectedCache.get(services);
  if (!c) {
    c = { labels: services.map(serviceLabels), bySelector: new WeakMap() };
    selectedCache.set(services, c);
  }
  const sel = entry.selector;
  if (!sel) return [];
  let hit = c.bySelector.get(sel);
  if (!hit) {
    const labels = c.labels;
    hit = services.filter((_, i) => selectorMatches(sel, labels[i]!));
    c.bySelector.set(sel, hit);
  }
  return hit;
}

const nodeIndex = new WeakMap<BgpNodeConfigs, Map<string, BgpNodeConfigs['nodes'][number]>>();

function nodeConfigOf(v: BgpNodeConfigs | undefined, node: string) {
  if (!v) return undefined;
  let m = nodeIndex.get(v);
  if (!m) {
    m = new Map(v.nodes.map((n) => [n.node, n]));
    nodeIndex.set(v, m);
  }
  return m.get(node);
}

const hostRoute = (ip: string): string => `${ip}/${isIP(ip) === 6 ? 128 : 32}`;
const familyOf = (ip: string): string => (isIP(ip) === 6 ? 'ipv6' : 'ipv4');
const sortUniq = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

/** Where the session's peer is configured: the node's NodeConfig spec, else a ClusterConfig. */
function tie(
  k: BgpKubeInputs,
  node: string,
  peerAddress: string,
):
  | { from: string; instance?: string; peer?: string; ref?: string; ambiguous?: string[] }
  | undefined {
  const nc = nodeConfigOf(k.nodeConfigs.value, node);
  const sp = nc?.specPeers?.find((p) => p.peerAddress === peerAddress);
  if (sp)
    return {
      from: `CiliumBGPNodeConfig ${node}`,
      instance: sp.instance,
      peer: sp.name,
      ...(sp.peerConfigRef ? { ref: sp.peerConfigRef } : {}),
    };
  const hits: Array<{ cc: string; instance: string; peer: string; ref?: string }> = [];
  for (const cc of k.clusterConfigs.value?.items ?? [])
    for (const i of cc.instances)
      for (const p of i.peers)
        if (p.peerAddress === peerAddress)
          hits.push({
            cc: cc.name,
            instance: i.name,
            peer: p.name,
            ...(p.peerConfigRef ? { ref: p.peerConfigRef } : {}),
          });
  const first = hits[0];
  if (!first) return undefined;
  const refs = sortUniq(hits.map((h) => h.ref ?? '(none)'));
  return {
    from: `CiliumBGPClusterConfig ${first.cc}`,
    instance: first.instance,
    peer: first.peer,
    ...(first.ref ? { ref: first.ref } : {}),
    ...(refs.length > 1 ? { ambiguous: hits.map((h) => `${h.cc}: ${h.ref ?? '(none)'}`) } : {}),
  };
}

/** The configuration view of one session, or undefined when the kube API says nothing of it. */
export function peerConfigView(k: BgpKubeInputs, row: RowFacts): BgpPeerConfigView | undefined {
  const t = tie(k, row.node, row.peerAddress);
  if (!t) return undefined;
  const view: BgpPeerConfigView = {
    from: t.from,
    state: 'unknown',
    families: [],
    notes: [],
    problems: [],
  };
  if (t.instance) view.instance = t.instance;
  if (t.peer) view.peer = t.peer;
  if (t.ambiguous)
    view.notes.push(
      `the ClusterConfigs disagree on this peer's PeerConfig (${t.ambiguous.join('; ')}); shown: the first`,
    );
  const who = `peer ${t.peer ?? row.peerAddress} of ${t.from}`;
  let pc: BgpPeerConfig | undefined;
  if (!t.ref) {
    view.state = 'none';
    view.problems.push(
      `${who} references no CiliumBGPPeerConfig: Cilium's default timers, nothing advertised to this peer`,
    );
  } else {
    view.peerConfig = t.ref;
    const list = k.peerConfigs.value;
    if (!list || list.absent) {
      view.notes.push(
        `CiliumBGPPeerConfig not read: ${k.peerConfigs.error ?? list?.absent ?? 'not listed yet'}`,
      );
    } else {
      pc = list.items.find((p) => p.name === t.ref);
      if (pc) view.state = 'found';
      else {
        view.state = 'missing';
        view.problems.push(
          `CiliumBGPPeerConfig "${t.ref}" (referenced by ${who}) does not exist: Cilium advertises nothing to this peer`,
        );
      }
    }
  }
  if (view.state === 'found' || view.state === 'none') {
    const d = CILIUM_DEFAULT_TIMERS;
    const defaulted: string[] = [];
    const pick = (key: keyof typeof d): number => {
      const v = pc?.[key];
      if (v === undefined) defaulted.push(key);
      return v ?? d[key];
    };
    view.timers = {
      holdTimeSeconds: pick('holdTimeSeconds'),
      keepAliveTimeSeconds: pick('keepAliveTimeSeconds'),
      connectRetryTimeSeconds: pick('connectRetryTimeSeconds'),
      defaulted,
    };
  }
  if (pc) {
    if (pc.peerPort !== undefined) view.peerPort = pc.peerPort;
    if (pc.ebgpMultihop !== undefined) view.ebgpMultihop = pc.ebgpMultihop;
    if (pc.gracefulRestart) view.gracefulRestart = pc.gracefulRestart;
    if (pc.authSecretRef) {
      view.authSecretRef = pc.authSecretRef;
      const c = pc.conditions.find((x) => x.type === 'cilium.io/MissingAuthSecret');
      if (c?.status === 'True')
        view.problems.push(
          `auth Secret "${pc.authSecretRef}" of CiliumBGPPeerConfig "${pc.name}" is missing (cilium.io/MissingAuthSecret${c.message ? `: ${c.message}` : ''}): the session uses no password`,
        );
    }
    for (const p of pc.problems) view.problems.push(`CiliumBGPPeerConfig "${pc.name}": ${p}`);
    families(k, pc, view);
  }
  vipCheck(k, row, view);
  holdCheck(row, view);
  return view;
}

function families(k: BgpKubeInputs, pc: BgpPeerConfig, view: BgpPeerConfigView): void {
  const adverts = k.advertisements.value;
  const advertsKnown = !!adverts && !adverts.absent;
  if (!advertsKnown)
    view.notes.push(
      `CiliumBGPAdvertisement not read: ${k.advertisements.error ?? adverts?.absent ?? 'not listed yet'}`,
    );
  const services = k.services.value;
  if (!services && k.services.error) view.notes.push(`Services not read: ${k.services.error}`);
  const fams = pc.defaultFamilies
    ? [
        { afi: 'ipv6', safi: 'unicast' },
        { afi: 'ipv4', safi: 'unicast' },
      ]
    : pc.families;
  if (pc.defaultFamilies)
    view.notes.push(
      `CiliumBGPPeerConfig "${pc.name}" lists no families: Cilium's defaults (ipv6 and ipv4 unicast, no advertisements)`,
    );
  for (const f of fams) {
    const sel = 'advertisements' in f ? f.advertisements : undefined;
    const fv: BgpFamilyView = {
      afi: f.afi,
      safi: f.safi,
      selector: formatSelector(sel),
      advertisements: [],
    };
    view.families.push(fv);
    const fam = `${f.afi}/${f.safi}`;
    if (!sel) {
      view.problems.push(
        `family ${fam} of CiliumBGPPeerConfig "${pc.name}" selects no advertisements: nothing is advertised in it`,
      );
      continue;
    }
    if (!advertsKnown) continue;
    const matched = adverts.items.filter((a) => selectorMatches(sel, a.labels));
    if (matched.length === 0) {
      view.problems.push(
        `family ${fam} of CiliumBGPPeerConfig "${pc.name}": its advertisements selector (${fv.selector}) matches no CiliumBGPAdvertisement`,
      );
      continue;
    }
    for (const a of matched) {
      for (const p of a.problems) view.problems.push(`CiliumBGPAdvertisement "${a.name}": ${p}`);
      for (const [i, e] of a.advertisements.entries()) {
        const av: BgpAdvertView = {
          advertisement: `${a.name}[${i}]`,
          type: e.advertisementType,
          addresses: e.addresses,
          selector: formatSelector(e.selector),
          communities: e.communities,
        };
        if (e.localPreference !== undefined) av.localPreference = e.localPreference;
        if (e.advertisementType === 'Service' && services) {
          const picked = sortUniq(
            selectedServices(services, e).map((s) => `${s.namespace}/${s.name}`),
          );
          av.services = picked.slice(0, MAX_NAMED_SERVICES);
          if (picked.length > MAX_NAMED_SERVICES)
            av.moreServices = picked.length - MAX_NAMED_SERVICES;
        }
        fv.advertisements.push(av);
      }
    }
  }
}

/** Service advertisement entries that apply to this session's family, with their Services. */
function serviceEntries(
  k: BgpKubeInputs,
  pc: BgpPeerConfig,
  afi: string,
): Array<{ addresses: string[]; services: KubeServiceVips[]; aggregated: boolean }> {
  const out: Array<{ addresses: string[]; services: KubeServiceVips[]; aggregated: boolean }> = [];
  for (const f of pc.families) {
    if (f.afi !== afi || !f.advertisements) continue;
    for (const a of k.advertisements.value?.items ?? []) {
      if (!selectorMatches(f.advertisements, a.labels)) continue;
      for (const e of a.advertisements) {
        if (e.advertisementType !== 'Service' || !e.selector) continue;
        out.push({
          addresses: e.addresses,
          services: k.services.value ? selectedServices(k.services.value, e) : [],
          aggregated:
            (afi === 'ipv4' ? e.aggregationLengthIPv4 : e.aggregationLengthIPv6) !== undefined,
        });
      }
    }
  }
  return out;
}

function vipCheck(k: BgpKubeInputs, row: RowFacts, view: BgpPeerConfigView): void {
  if (view.state !== 'found') return;
  const pc = k.peerConfigs.value?.items.find((p) => p.name === view.peerConfig);
  if (!pc) return;
  const afi = row.peerAddress.includes(':') ? 'ipv6' : 'ipv4';
  const entries = serviceEntries(k, pc, afi);
  if (!entries.some((e) => e.addresses.includes('LoadBalancerIP'))) return;
  if (!k.services.value) {
    view.notes.push(
      `LoadBalancer VIPs not compared: Services not read${k.services.error ? `: ${k.services.error}` : ''}`,
    );
    return;
  }
  if (row.cilium?.state !== 'established') {
    view.notes.push('LoadBalancer VIPs not compared: the session is not established');
    return;
  }
  if (!row.vips) {
    view.notes.push("LoadBalancer VIPs not compared: the agent's advertised routes are unknown");
    return;
  }
  if (entries.some((e) => e.aggregated)) {
    view.notes.push(
      'LoadBalancer VIPs not compared: a Service advertisement aggregates its routes (aggregationLength)',
    );
    return;
  }
  const expected = new Map<string, { services: string[]; optional: boolean }>();
  const explained = new Set<string>();
  for (const e of entries)
    for (const s of e.services) {
      const id = `${s.namespace}/${s.name}`;
      const etpLocal = s.externalTrafficPolicy === 'Local';
      if (e.addresses.includes('LoadBalancerIP') && s.type === 'LoadBalancer') {
        if (s.loadBalancerClass === undefined || s.loadBalancerClass === BGP_LB_CLASS)
          for (const ip of s.loadBalancerIPs) {
            if (familyOf(ip) !== afi) continue;
            const p = hostRoute(ip);
            const cur = expected.get(p) ?? { services: [], optional: true };
            cur.services.push(id);
            cur.optional &&= etpLocal;
            expected.set(p, cur);
          }
      }
      if (e.addresses.includes('ClusterIP'))
        for (const ip of s.clusterIPs) if (familyOf(ip) === afi) explained.add(hostRoute(ip));
      if (e.addresses.includes('ExternalIP'))
        for (const ip of s.externalIPs) if (familyOf(ip) === afi) explained.add(hostRoute(ip));
    }
  const advertised = sortUniq(row.vips);
  const have = new Set(advertised);
  const missing = [...expected.entries()]
    .filter(([p, x]) => !x.optional && !have.has(p))
    .map(([p]) => p)
    .sort();
  const unexpected = advertised.filter((p) => !expected.has(p) && !explained.has(p));
  view.loadBalancerVips = {
    expected: [...expected.entries()]
      .map(([prefix, x]) => ({ prefix, services: x.services, optional: x.optional }))
      .sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0)),
    advertised,
    missing,
    unexpected,
  };
  if (missing.length === 0 && unexpected.length === 0) return;
  const parts: string[] = [];
  if (missing.length > 0)
    parts.push(
      `not advertised: ${missing.map((p) => `${p} (${expected.get(p)!.services.join(', ')})`).join(', ')}`,
    );
  if (unexpected.length > 0)
    parts.push(`advertised but held by no selected Service: ${unexpected.join(', ')}`);
  view.problems.push(
    `LoadBalancer VIPs disagree with the selected Services' status.loadBalancer.ingress: ${parts.join('; ')}`,
  );
}

function holdCheck(row: RowFacts, view: BgpPeerConfigView): void {
  const want = view.timers?.holdTimeSeconds;
  const r = row.routerSide;
  if (want === undefined || !r || r.state !== 'established' || r.holdTimeSeconds === undefined)
    return;
  if (r.holdTimeSeconds === want) return;
  const src =
    view.state === 'found'
      ? `CiliumBGPPeerConfig "${view.peerConfig}" asks ${want} s${view.timers?.defaulted.includes('holdTimeSeconds') ? " (Cilium's default)" : ''}`
      : `Cilium's default is ${want} s`;
  view.problems.push(
    `hold time: ${src}, router ${row.router ?? '?'} negotiated ${r.holdTimeSeconds} s`,
  );
}
