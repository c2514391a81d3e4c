/**
 * Pure parsers from API objects (already JSON-decoded, untrusted) to the typed values the
 * panes show. They never throw: a malformed object yields `undefined` (skipped by the
 * watcher) or a value with the fields that were readable.
 */
import type {
  AddonVersion,
  BgpInstanceStatus,
  BgpNodeConfigStatus,
  BgpPeerStatus,
  BgpRouteCount,
  CiliumConfigSummary,
  ImageRef,
  KubeCondition,
  KubeContainerStatus,
  KubeNodeAddress,
  KubeNodeStatus,
  KubePod,
} from './types.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const MAX_TEXT = 1024;
/** Remote text for the terminal: control characters (escape sequences) out, bounded length. */
const clip = (s: string | undefined, max = MAX_TEXT): string | undefined => {
  if (s === undefined) return undefined;
  const t = s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

export interface ObjectMeta {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  labels: Record<string, string>;
}

export function meta(o: unknown): ObjectMeta | undefined {
  const m = obj(obj(o).metadata);
  const name = str(m.name);
  if (!name) return undefined;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(m.labels))) if (typeof v === 'string') labels[k] = v;
  const out: ObjectMeta = { name, labels };
  const ns = str(m.namespace);
  if (ns) out.namespace = ns;
  const rv = str(m.resourceVersion);
  if (rv) out.resourceVersion = rv;
  return out;
}

export function objectKey(o: unknown): string | undefined {
  const m = meta(o);
  return m ? `${m.namespace ?? ''}/${m.name}` : undefined;
}

function conditions(v: unknown): KubeCondition[] {
  const out: KubeCondition[] = [];
  for (const c of arr(v)) {
    const o = obj(c);
    const type = str(o.type);
    const status = str(o.status);
    if (!type || !status) continue;
    const cond: KubeCondition = { type, status };
    const reason = str(o.reason);
    if (reason) cond.reason = clip(reason)!;
    const message = str(o.message);
    if (message) cond.message = clip(message)!;
    const t = str(o.lastTransitionTime);
    if (t) cond.lastTransitionTime = t;
    out.push(cond);
  }
  return out;
}

/** A v1 Node → readiness, kubelet version, addresses, conditions. */
export function parseNode(o: unknown): KubeNodeStatus | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const spec = obj(obj(o).spec);
  const status = obj(obj(o).status);
  const conds = conditions(status.conditions);
  const readyCond = conds.find((c) => c.type === 'Ready');
  const ready = readyCond?.status === 'True';
  const node: KubeNodeStatus = { name: m.name, ready };
  if (!ready) {
    if (!readyCond) node.reason = 'no Ready condition reported';
    else {
      const parts = [readyCond.reason, readyCond.message].filter(Boolean);
      node.reason =
        parts.join(': ') || (readyCond.status === 'Unknown' ? 'NodeStatusUnknown' : 'NotReady');
    }
  }
  const info = obj(status.nodeInfo);
  const kubelet = str(info.kubeletVersion);
  if (kubelet) node.kubeletVersion = kubelet;
  const os = str(info.osImage);
  if (os) node.osImage = os;
  const kernel = str(info.kernelVersion);
  if (kernel) node.kernelVersion = kernel;
  const cri = str(info.containerRuntimeVersion);
  if (cri) node.containerRuntimeVersion = cri;
  const addresses: KubeNodeAddress[] = [];
  for (const a of arr(status.addresses)) {
    const type = str(obj(a).type);
    const address = str(obj(a).address);
    if (type && address) addresses.push({ type, address });
  }
  node.addresses = addresses;
  const internal = addresses.find((a) => a.type === 'InternalIP');
  if (internal) node.internalIP = internal.address;
  node.conditions = conds;
  const roles = Object.keys(m.labels)
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter(Boolean)
    .sort();
  node.roles = roles;
  if (spec.unschedulable === true) node.unschedulable = true;
  return node;
}

function containerStatus(c: unknown): KubeContainerStatus | undefined {
  const o = obj(c);
  const name = str(o.name);
  if (!name) return undefined;
  const state = obj(o.state);
  let st = 'unknown';
  let reason: string | undefined;
  if (isObj(state.running)) st = 'running';
  else if (isObj(state.waiting)) {
    st = 'waiting';
    reason = str(state.waiting.reason);
  } else if (isObj(state.terminated)) {
    st = 'terminated';
    reason = str(state.terminated.reason);
  }
  const out: KubeContainerStatus = {
    name,
    image: str(o.image) ?? '',
    ready: o.ready === true,
    restartCount: num(o.restartCount) ?? 0,
    state: st,
  };
  if (reason) out.reason = clip(reason)!;
  return out;
}

/** A v1 Pod → what `kubectl get pods -o wide` shows, plus container names for logs. */
export function parsePod(o: unknown): KubePod | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const spec = obj(obj(o).spec);
  const status = obj(obj(o).status);
  const phase = str(status.phase) ?? 'Unknown';
  const containers: KubeContainerStatus[] = [];
  for (const c of arr(status.containerStatuses)) {
    const cs = containerStatus(c);
    if (cs) containers.push(cs);
  }
  const containerNames = arr(spec.containers)
    .map((c) => str(obj(c).name))
    .filter((n): n is string => n !== undefined);
  const conds = conditions(status.conditions);
  let shown = str(status.reason) ?? phase;
  for (const c of containers) {
    if (c.state !== 'running' && c.reason) shown = c.reason;
  }
  if (str(obj(obj(o).metadata).deletionTimestamp)) shown = 'Terminating';
  const pod: KubePod = {
    namespace: m.namespace ?? '',
    name: m.name,
    phase,
    status: shown,
    ready: conds.some((c) => c.type === 'Ready' && c.status === 'True'),
    containersReady: containers.filter((c) => c.ready).length,
    containersTotal: containerNames.length || containers.length,
    restarts: containers.reduce((s, c) => s + c.restartCount, 0),
    containerNames,
    containers,
    labels: m.labels,
  };
  const nodeName = str(spec.nodeName);
  if (nodeName) pod.nodeName = nodeName;
  const podIP = str(status.podIP);
  if (podIP) pod.podIP = podIP;
  const hostIP = str(status.hostIP);
  if (hostIP) pod.hostIP = hostIP;
  const startTime = str(status.startTime);
  if (startTime) pod.startTime = startTime;
  return pod;
}

const truthy = (v: string | undefined): boolean | undefined =>
  v === undefined ? undefined : v === 'true' || v === 'strict';

/** The `cilium-config` ConfigMap → the keys the MTU/BGP/Flows panes need, plus all data. */
export function parseCiliumConfig(o: unknown): CiliumConfigSummary | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(obj(o).data))) {
    if (typeof v === 'string') data[k] = v.length > 4096 ? v.slice(0, 4096) : v;
  }
  const out: CiliumConfigSummary = { namespace: m.namespace ?? '', data };
  if (m.resourceVersion) out.resourceVersion = m.resourceVersion;
  // routing-mode (1.14+); before, `tunnel: disabled|vxlan|geneve`.
  const tunnel = data.tunnel;
  const routing =
    data['routing-mode'] ?? (tunnel ? (tunnel === 'disabled' ? 'native' : 'tunnel') : undefined);
  if (routing) out.routingMode = routing;
  const proto = data['tunnel-protocol'] ?? (tunnel && tunnel !== 'disabled' ? tunnel : undefined);
  if (proto) out.tunnelProtocol = proto;
  if (data['kube-proxy-replacement']) out.kubeProxyReplacement = data['kube-proxy-replacement'];
  const bgp = truthy(data['enable-bgp-control-plane']);
  if (bgp !== undefined) out.bgpControlPlane = bgp;
  const hubble = truthy(data['enable-hubble']);
  if (hubble !== undefined) out.hubble = hubble;
  if (data.ipam) out.ipam = data.ipam;
  if (data['cluster-name']) out.clusterName = data['cluster-name'];
  if (data.devices) out.devices = data.devices;
  const mtu = data.mtu !== undefined ? Number(data.mtu) : Number.NaN;
  if (Number.isInteger(mtu) && mtu > 0) out.mtu = mtu;
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
  return { node: m.name, instances, conditions: conditions(status.conditions) };
}

/** `registry:5000/ns/name:tag@sha256:…` → tag and digest. */
export function parseImage(container: string, image: string): ImageRef {
  const out: ImageRef = { container, image };
  let rest = image;
  const at = rest.indexOf('@');
  if (at !== -1) {
    out.digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) out.tag = rest.slice(colon + 1);
  return out;
}

/** Known addons: how to recognise their workloads. */
const ADDONS: Array<{
  addon: string;
  match: (name: string, labels: Record<string, string>) => boolean;
}> = [
  {
    addon: 'cilium',
    match: (n, l) =>
      l['k8s-app'] === 'cilium' ||
      (n === 'cilium' && !l['app.kubernetes.io/name']) ||
      l['app.kubernetes.io/name'] === 'cilium-agent',
  },
  {
    addon: 'cilium-operator',
    match: (n, l) =>
      n === 'cilium-operator' ||
      l['io.cilium/app'] === 'operator' ||
      l['app.kubernetes.io/name'] === 'cilium-operator',
  },
  {
    addon: 'hubble-relay',
    match: (n, l) => n === 'hubble-relay' || l['k8s-app'] === 'hubble-relay',
  },
  { addon: 'hubble-ui', match: (n, l) => n === 'hubble-ui' || l['k8s-app'] === 'hubble-ui' },
  {
    addon: 'ingress-nginx',
    match: (n, l) =>
      (l['app.kubernetes.io/name'] === 'ingress-nginx' &&
        (l['app.kubernetes.io/component'] ?? 'controller') === 'controller') ||
      n === 'ingress-nginx-controller',
  },
  { addon: 'coredns', match: (n, l) => n === 'coredns' || l['k8s-app'] === 'kube-dns' },
];

export function addonOf(name: string, labels: Record<string, string>): string {
  return ADDONS.find((a) => a.match(name, labels))?.addon ?? name;
}

/** A Deployment or DaemonSet (apps/v1) → the addon version it runs. */
export function parseWorkload(
  o: unknown,
  kind: 'Deployment' | 'DaemonSet',
): AddonVersion | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const spec = obj(obj(o).spec);
  const status = obj(obj(o).status);
  const podSpec = obj(obj(spec.template).spec);
  const images = arr(podSpec.containers)
    .map((c) => {
      const name = str(obj(c).name);
      const image = str(obj(c).image);
      return name && image ? parseImage(name, image) : undefined;
    })
    .filter((i): i is ImageRef => i !== undefined);
  const addon = addonOf(m.name, m.labels);
  const out: AddonVersion = { addon, namespace: m.namespace ?? '', kind, name: m.name, images };
  const label = m.labels['app.kubernetes.io/version'];
  if (label) {
    out.version = label;
    out.versionSource = 'label';
  } else {
    // The main container: same name as the workload/addon, else the first.
    const main =
      images.find((i) => i.container === m.name || i.container === addon) ??
      images.find((i) => i.tag !== undefined);
    if (main?.tag) {
      out.version = main.tag;
      out.versionSource = 'image';
    }
  }
  if (kind === 'Deployment') {
    const desired = num(spec.replicas) ?? 1;
    out.desired = desired;
    out.ready = num(status.readyReplicas) ?? 0;
  } else {
    out.desired = num(status.desiredNumberScheduled) ?? 0;
    out.ready = num(status.numberReady) ?? 0;
  }
  return out;
}
