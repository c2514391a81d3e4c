/**
 * The BGP model: both sides of every session on one row — Cilium's (per node, from the
 * agent) and the upstream router's (gobgp or BIRD over SSH) — joined by addresses: a
 * router session's neighbor is a node address, and its local address is the peer address
 * Cilium dials. Disagreements are flagged per row, and each row carries the kube API's
 * configuration of its peer (CiliumBGPPeerConfig, the advertisements and Services that
 * apply: crds.ts) with its findings. Pure (time passed in); the pane and `k8ops bgp --json`
 * share it.
 */
import type {
  BgpAdvertisementObject,
  BgpClusterConfig,
  BgpCrdList,
  BgpNodeConfigs,
  BgpPeerConfig,
  BgpPeerStatus,
  KubeServiceVips,
} from '../../kube/types.js';
import type { ProbeResult } from '../../nodes/agent.js';
import { CLUSTER_SCOPE, type Snapshot } from '../../store/types.js';
import { kubeSource, reachSource } from '../overview/sources.js';
import type { FeatureDef, ModelInput } from '../types.js';
import {
  type BgpKubeInputs,
  type BgpPeerConfigView,
  type KubePart,
  peerConfigView,
} from './crds.js';
import { bgpRoutersSource, ciliumBgpSource } from './sources.js';
import {
  type CiliumBgpValue,
  isHostRoute,
  type RouterBgpResult,
  type RoutersValue,
  type SideSession,
} from './types.js';

export type Severity = 'ok' | 'warning' | 'critical';

export interface BgpRow {
  /** `node|peer address` (stable across refreshes: the pane's selection). */
  key: string;
  node: string;
  /** The node's address the router sees (the router's neighbor address). */
  nodeAddress?: string;
  /** The router's address (Cilium's peer address). */
  peerAddress: string;
  router?: string;
  cilium?: SideSession;
  routerSide?: SideSession;
  /** How the router's side was read. */
  routerRead: 'ok' | 'timeout' | 'error' | 'not-configured';
  routerError?: string;
  /** The state shown: the sides' states, `a/b` when they differ. */
  state: string;
  established: boolean;
  localAsn?: number;
  peerAsn?: number;
  /** Cilium's uptime, else the router's (ms); undefined when down. */
  uptimeMs?: number;
  received?: number;
  accepted?: number;
  advertised?: number;
  /** LoadBalancer VIPs (host routes) Cilium advertises on this session. */
  vips: string[];
  /** Of those, the ones absent from the router's RIB. */
  vipsMissing: string[];
  /** The router's received routes from this node. */
  routerRoutes: string[];
  /** Flaps seen over the console's lifetime (the larger of the two sides' counts). */
  flaps: number;
  /** CiliumBGPNodeConfig status for this peer, when the kube API has it. */
  kube?: BgpPeerStatus;
  /**
   * The kube API's configuration of this peer: its CiliumBGPPeerConfig (timers, families),
   * the CiliumBGPAdvertisements that apply and the Services they select (crds.ts).
   */
  config?: BgpPeerConfigView;
  problems: string[];
  severity: Severity;
}

export interface BgpNodeState {
  node: string;
  /** The node itself could not be reached (reach probe failed). */
  unreachable?: string;
  /** Cilium's side could not be read. */
  error?: string;
  /** BGP control plane is off on this node's agent. */
  disabled?: boolean;
  pending: boolean;
}

export interface BgpRouterState {
  name: string;
  kind: 'gobgp' | 'bird';
  read: 'ok' | 'timeout' | 'error' | 'pending';
  error?: string;
  sessions: number;
  established: number;
}

/** How one kind was read from the kube API. */
export interface BgpKubeKind {
  apiVersion?: string;
  absent?: string;
  error?: string;
  /** Objects read (undefined until listed). */
  count?: number;
}

export interface BgpModel {
  rows: BgpRow[];
  nodes: BgpNodeState[];
  routers: BgpRouterState[];
  /** CiliumBGPNodeConfig (`apiVersion`, `absent`, `error`), and the other kinds read. */
  kube: {
    apiVersion?: string;
    absent?: string;
    error?: string;
    peerConfigs: BgpKubeKind;
    advertisements: BgpKubeKind;
    clusterConfigs: BgpKubeKind;
    services: BgpKubeKind;
  };
  totals: {
    sessions: number;
    established: number;
    warnings: number;
    critical: number;
    unreachable: number;
  };
  /** 0 ok, 1 warning, 2 critical, 3 nodes unreachable (the highest that applies). */
  exitCode: 0 | 1 | 2 | 3;
}

const stateWord = (s: SideSession | undefined): string => (s ? s.state : '?');

/** Store ids of the kube sections the model reads (cluster scope; src/kube/watches). */
export const BGP_KUBE_SOURCES = {
  nodeConfigs: 'kube.bgp',
  peerConfigs: 'kube.bgp-peer-configs',
  advertisements: 'kube.bgp-advertisements',
  clusterConfigs: 'kube.bgp-cluster-configs',
  services: 'kube.services',
} as const;

function kindOf(
  part: KubePart<{ apiVersion?: string; absent?: string; items: unknown[] }>,
): BgpKubeKind {
  const k: BgpKubeKind = {};
  if (part.value?.apiVersion) k.apiVersion = part.value.apiVersion;
  if (part.value?.absent) k.absent = part.value.absent;
  if (part.error) k.error = part.error;
  if (part.value && !part.value.absent) k.count = part.value.items.length;
  return k;
}

function addAll(into: string[], more: Iterable<string>): void {
  for (const x of more) if (!into.includes(x)) into.push(x);
}

export function buildBgpModel(input: ModelInput): BgpModel {
  const { inventory: inv, read, now } = input;
  const rows = new Map<string, BgpRow>();
  const nodes: BgpNodeState[] = [];
  const addrToNode = new Map<string, string>();
  for (const n of inv.nodes) for (const a of n.addresses) addrToNode.set(a, n.name);
  const nodeAddr = new Map<string, string>();

  // CiliumBGPNodeConfig status, by node and peer address.
  const kubeSnap = read<BgpNodeConfigs>(CLUSTER_SCOPE, BGP_KUBE_SOURCES.nodeConfigs);
  const kubeVal = kubeSnap.value;
  const part = <T>(id: string): KubePart<T> => {
    const sn = read<T>(CLUSTER_SCOPE, id);
    return {
      ...(sn.value !== undefined ? { value: sn.value } : {}),
      ...(sn.error ? { error: sn.error.message } : {}),
    };
  };
  const kubeIn: BgpKubeInputs = {
    nodeConfigs: part<BgpNodeConfigs>(BGP_KUBE_SOURCES.nodeConfigs),
    peerConfigs: part<BgpCrdList<BgpPeerConfig>>(BGP_KUBE_SOURCES.peerConfigs),
    advertisements: part<BgpCrdList<BgpAdvertisementObject>>(BGP_KUBE_SOURCES.advertisements),
    clusterConfigs: part<BgpCrdList<BgpClusterConfig>>(BGP_KUBE_SOURCES.clusterConfigs),
    services: part<readonly KubeServiceVips[]>(BGP_KUBE_SOURCES.services),
  };
  /** Rows whose advertised routes the agent reported. */
  const vipsKnown = new Set<string>();
  const kubePeers = new Map<string, BgpPeerStatus>();
  for (const n of kubeVal?.nodes ?? [])
    for (const i of n.instances)
      for (const p of i.peers) kubePeers.set(`${n.node}|${p.peerAddress}`, p);

  // Routers: results by name, and each router's addresses (to name the router of a row).
  const routersSnap = read<RoutersValue>(CLUSTER_SCOPE, bgpRoutersSource.id);
  const results = new Map<string, RouterBgpResult>();
  for (const r of routersSnap.value ?? []) results.set(r.router, r);
  const routerOfAddress = new Map<string, string>();
  for (const r of results.values()) {
    for (const a of r.addresses ?? []) routerOfAddress.set(a, r.router);
    for (const s of r.sessions) if (s.localAddress) routerOfAddress.set(s.localAddress, r.router);
  }
  // A Cilium peer named like a router (CiliumBGPClusterConfig peer name) names it too.
  const routerNames = new Set(inv.network.bgpRouters.map((r) => r.name));

  // Cilium's side.
  const ciliumOk = new Set<string>();
  for (const n of inv.nodes) {
    const reach = read<ProbeResult>(n.name, reachSource.id);
    const snap: Snapshot<CiliumBgpValue> = read<CiliumBgpValue>(n.name, ciliumBgpSource.id);
    const st: BgpNodeState = { node: n.name, pending: !snap.value && !snap.error };
    if (reach.error && !reach.value) st.unreachable = reach.error.message;
    else if (reach.error && reach.stale) st.unreachable = reach.error.message;
    if (snap.error) st.error = snap.error.message;
    if (snap.value?.disabled) st.disabled = true;
    nodes.push(st);
    if (!snap.value || snap.error) continue;
    ciliumOk.add(n.name);
    for (const p of snap.value.peers) {
      const key = `${n.name}|${p.peerAddress}`;
      const adv = snap.value.advertised[p.peerAddress] ?? [];
      const row: BgpRow = {
        key,
        node: n.name,
        peerAddress: p.peerAddress,
        cilium: p,
        routerRead: 'not-configured',
        state: '',
        established: false,
        vips: adv.filter(isHostRoute),
        vipsMissing: [],
        routerRoutes: [],
        flaps: p.flaps,
        problems: [],
        severity: 'ok',
      };
      const routeErr = snap.value.routeErrors[p.peerAddress];
      if (routeErr) row.problems.push(`advertised routes unknown: ${routeErr}`);
      else if (snap.value.advertised[p.peerAddress]) vipsKnown.add(key);
      const r =
        routerOfAddress.get(p.peerAddress) ??
        (p.name && routerNames.has(p.name) ? p.name : undefined);
      if (r) row.router = r;
      rows.set(key, row);
    }
  }

  // The routers' side.
  const routerStates: BgpRouterState[] = [];
  for (const cfg of inv.network.bgpRouters) {
    const res = results.get(cfg.name);
    const rs: BgpRouterState = {
      name: cfg.name,
      kind: cfg.kind,
      read: !res
        ? 'pending'
        : res.timedOut
          ? 'timeout'
          : res.error && res.sessions.length === 0
            ? 'error'
            : 'ok',
      sessions: res?.sessions.length ?? 0,
      established: res?.sessions.filter((s) => s.state === 'established').length ?? 0,
    };
    if (res?.error) rs.error = res.error;
    if (!res && routersSnap.error) {
      rs.read = 'error';
      rs.error = routersSnap.error.message;
    }
    routerStates.push(rs);
    if (!res) continue;
    for (const s of res.sessions) {
      const node = addrToNode.get(s.peerAddress);
      let row: BgpRow | undefined;
      if (node) {
        nodeAddr.set(node, s.peerAddress);
        if (s.localAddress) row = rows.get(`${node}|${s.localAddress}`);
        if (!row) {
          // No local address: the one Cilium peer of that node with this router's ASN not yet paired.
          const cands = [...rows.values()].filter(
            (x) =>
              x.node === node &&
              !x.routerSide &&
              x.cilium?.peerAsn === s.localAsn &&
              (!x.router || x.router === cfg.name),
          );
          if (cands.length === 1) row = cands[0];
        }
      }
      if (!row) {
        const peer = s.localAddress ?? `${cfg.name}`;
        const key = `${node ?? s.peerAddress}|${peer}`;
        row = {
          key,
          node: node ?? '?',
          peerAddress: peer,
          routerRead: 'ok',
          state: '',
          established: false,
          vips: [],
          vipsMissing: [],
          routerRoutes: [],
          flaps: 0,
          problems: [],
          severity: 'ok',
        };
        rows.set(key, row);
        if (!node) row.problems.push(`neighbor ${s.peerAddress} is no node of the inventory`);
        else if (ciliumOk.has(node))
          row.problems.push('Cilium has no peer for this router session');
        else {
          const st = nodes.find((x) => x.node === node);
          row.problems.push(
            st?.pending
              ? "Cilium's side not read yet"
              : `Cilium's side unreadable: ${st?.unreachable ?? st?.error ?? 'no answer'}`,
          );
        }
      }
      row.router = cfg.name;
      row.routerSide = s;
      row.nodeAddress = s.peerAddress;
      row.routerRead = 'ok';
      row.routerRoutes = res.received[s.peerAddress] ?? [];
    }
    // Rows of this router the router did not report (it failed, or has no such session).
    for (const row of rows.values()) {
      if (row.router !== cfg.name || row.routerSide) continue;
      if (res.timedOut) {
        row.routerRead = 'timeout';
        row.routerError = res.error ?? 'no answer';
      } else if (res.error && res.sessions.length === 0) {
        row.routerRead = 'error';
        row.routerError = res.error;
      } else {
        row.routerRead = 'ok';
        row.problems.push(`router ${cfg.name} has no session with this node`);
      }
    }
  }

  // Verdicts.
  for (const row of rows.values()) {
    row.nodeAddress ??= nodeAddr.get(row.node);
    const c = row.cilium;
    const r = row.routerSide;
    row.kube = kubePeers.get(`${row.node}|${row.peerAddress}`);
    if (!row.kube) delete row.kube;
    const cs = stateWord(c);
    const rs = r
      ? r.state
      : row.routerRead === 'timeout'
        ? 'timeout'
        : row.routerRead === 'error'
          ? 'error'
          : row.router
            ? '?'
            : '-';
    row.state = !r ? cs : !c ? rs : cs === rs ? cs : `${cs}/${rs}`;
    row.established =
      (c?.state ?? r?.state) === 'established' &&
      (!c || !r || (c.state === 'established' && r.state === 'established'));
    row.localAsn = c?.localAsn ?? r?.peerAsn;
    row.peerAsn = c?.peerAsn ?? r?.localAsn;
    const up = c?.upSince ?? r?.upSince;
    if (row.established && up !== undefined) row.uptimeMs = Math.max(0, now - up);
    row.received = c?.received ?? r?.advertised;
    row.accepted = c?.accepted;
    row.advertised = c?.advertised ?? r?.received;
    row.flaps = Math.max(c?.flaps ?? 0, r?.flaps ?? 0);
    const crit: string[] = [];
    const warn: string[] = [];
    if (c && r && (c.state === 'established') !== (r.state === 'established'))
      crit.push(`disagree: Cilium ${c.state}, router ${row.router} ${r.stateText ?? r.state}`);
    else if ((c && c.state !== 'established') || (r && r.state !== 'established'))
      crit.push(
        `session down (${[c ? `Cilium ${c.state}` : '', r ? `router ${row.router} ${r.stateText ?? r.state}` : ''].filter(Boolean).join(', ')})${r?.lastError ? `: ${r.lastError}` : ''}`,
      );
    if (c && r) {
      if (c.localAsn && r.peerAsn && c.localAsn !== r.peerAsn)
        crit.push(
          `ASN mismatch: Cilium local AS ${c.localAsn}, router ${row.router} expects ${r.peerAsn}`,
        );
      if (c.peerAsn && r.localAsn && c.peerAsn !== r.localAsn)
        crit.push(
          `ASN mismatch: Cilium expects peer AS ${c.peerAsn}, router ${row.router} is AS ${r.localAsn}`,
        );
    }
    if (row.routerRead === 'timeout')
      (c?.state === 'established' ? warn : crit).push(
        `router ${row.router} not answering: ${row.routerError ?? 'timeout'}`,
      );
    else if (row.routerRead === 'error')
      (c?.state === 'established' ? warn : crit).push(
        `router ${row.router} unreadable: ${row.routerError ?? 'error'}`,
      );
    if (c && r && c.state === 'established' && r.state === 'established') {
      const have = new Set(row.routerRoutes);
      row.vipsMissing = row.vips.filter((v) => !have.has(v));
      if (row.vipsMissing.length > 0)
        warn.push(
          `VIP${row.vipsMissing.length > 1 ? 's' : ''} advertised by Cilium, absent from router ${row.router}'s RIB: ${row.vipsMissing.join(', ')}`,
        );
    }
    const view = peerConfigView(kubeIn, {
      node: row.node,
      peerAddress: row.peerAddress,
      ...(c ? { cilium: c } : {}),
      ...(vipsKnown.has(row.key) ? { vips: row.vips } : {}),
      ...(row.router ? { router: row.router } : {}),
      ...(r ? { routerSide: r } : {}),
    });
    if (view) {
      row.config = view;
      warn.push(...view.problems);
    }
    const rest = row.problems;
    row.problems = [...crit, ...warn];
    addAll(row.problems, rest);
    row.severity = crit.length > 0 ? 'critical' : row.problems.length > 0 ? 'warning' : 'ok';
  }

  const order = new Map(inv.nodes.map((n, i) => [n.name, i]));
  const nodeOrder = (name: string): number => order.get(name) ?? Number.MAX_SAFE_INTEGER;
  const list = [...rows.values()].sort(
    (a, b) =>
      nodeOrder(a.node) - nodeOrder(b.node) ||
      (a.peerAddress < b.peerAddress ? -1 : a.peerAddress > b.peerAddress ? 1 : 0),
  );
  const kube: BgpModel['kube'] = {
    peerConfigs: kindOf(kubeIn.peerConfigs),
    advertisements: kindOf(kubeIn.advertisements),
    clusterConfigs: kindOf(kubeIn.clusterConfigs),
    services: kindOf({
      ...(kubeIn.services.value ? { value: { items: [...kubeIn.services.value] } } : {}),
      ...(kubeIn.services.error ? { error: kubeIn.services.error } : {}),
    }),
  };
  if (kubeVal?.apiVersion) kube.apiVersion = kubeVal.apiVersion;
  if (kubeVal?.absent) kube.absent = kubeVal.absent;
  if (kubeSnap.error) kube.error = kubeSnap.error.message;
  const unreachable = nodes.filter((n) => n.unreachable).length;
  const nodeErrors = nodes.filter((n) => !n.unreachable && n.error).length;
  const routerErrors = routerStates.filter(
    (r) => r.read === 'error' || r.read === 'timeout',
  ).length;
  const totals = {
    sessions: list.length,
    established: list.filter((r) => r.established).length,
    warnings: list.filter((r) => r.severity === 'warning').length + nodeErrors + routerErrors,
    critical: list.filter((r) => r.severity === 'critical').length,
    unreachable,
  };
  const exitCode = unreachable > 0 ? 3 : totals.critical > 0 ? 2 : totals.warnings > 0 ? 1 : 0;
  return { rows: list, nodes, routers: routerStates, kube, totals, exitCode };
}

export const bgpFeature: FeatureDef<BgpModel> = {
  id: 'bgp',
  sources: [ciliumBgpSource, bgpRoutersSource, reachSource, kubeSource],
  reads: Object.values(BGP_KUBE_SOURCES).map((id) => ({ scope: 'cluster' as const, id })),
  model: buildBgpModel,
  signature: (m) => JSON.stringify(m),
};
