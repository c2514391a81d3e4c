/**
 * Pure parsers of the MTU feature: `ip -j -d link show` (iproute2), `ping -M do` (iputils)
 * and the Cilium agent's `GET /v1/config`. None throws: bad input gives an error value the
 * pane shows. Everything they return is plain data (strings made visible by the session).
 */

/** What a link is for, as far as the MTU is concerned. */
export type LinkRole =
  | 'nic'
  | 'bond'
  | 'vlan'
  | 'bridge'
  | 'cilium'
  | 'tunnel'
  | 'lxc'
  | 'veth'
  | 'loopback'
  | 'other';

export interface Link {
  ifindex: number;
  name: string;
  mtu: number;
  /** `linkinfo.info_kind` (veth, vxlan, geneve, bond, bridge, vlan, dummy…). */
  kind?: string;
  /** `linkinfo.info_slave_kind` (bond, bridge): a port of `master`. */
  slaveKind?: string;
  master?: string;
  /** Peer or parent link in the same namespace (`link`). */
  peer?: string;
  /** The peer lives in another namespace (`link_netnsid`, e.g. the pod side of lxc*). */
  peerInOtherNetns: boolean;
  operstate: string;
  linkType: string;
  /** `parentbus` (pci, virtio…): a device backed by hardware. */
  parentbus?: string;
  up: boolean;
  /** Tunnel details (vxlan/geneve `info_data`). */
  tunnel?: { port?: number; external: boolean; id?: number };
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const MAX_LINKS = 20_000;

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;

function snippet(text: string): string {
  const s = text.trim().slice(0, 60);
  return s.length ? `"${s}${text.trim().length > 60 ? '…' : ''}"` : 'empty output';
}

/** One `ip -j -d link show` object, or why it is not one. */
function linkOf(o: unknown, i: number): Link | string {
  if (!isObj(o)) return `entry ${i} is not an object`;
  const name = str(o.ifname);
  const mtu = int(o.mtu);
  const ifindex = int(o.ifindex) ?? 0;
  if (!name) return `entry ${i} has no ifname`;
  if (mtu === undefined) return `${name}: no mtu`;
  const info = isObj(o.linkinfo) ? o.linkinfo : {};
  const flags = Array.isArray(o.flags)
    ? o.flags.filter((f): f is string => typeof f === 'string')
    : [];
  const link: Link = {
    ifindex,
    name,
    mtu,
    peerInOtherNetns: o.link_netnsid !== undefined,
    operstate: str(o.operstate) ?? 'UNKNOWN',
    linkType: str(o.link_type) ?? 'unknown',
    up: flags.includes('UP'),
  };
  const kind = str(info.info_kind);
  if (kind) link.kind = kind;
  const slaveKind = str(info.info_slave_kind);
  if (slaveKind) link.slaveKind = slaveKind;
  const master = str(o.master);
  if (master) link.master = master;
  const peer = str(o.link);
  if (peer) link.peer = peer;
  const parentbus = str(o.parentbus);
  if (parentbus) link.parentbus = parentbus;
  if ((kind === 'vxlan' || kind === 'geneve') && isObj(info.info_data)) {
    const d = info.info_data;
    const port = int(d.port);
    const id = int(d.id);
    link.tunnel = {
      external: d.external === true,
      ...(port !== undefined ? { port } : {}),
      ...(id !== undefined ? { id } : {}),
    };
  } else if (kind === 'vxlan' || kind === 'geneve') link.tunnel = { external: false };
  return link;
}

/**
 * `ip -j -d link show`: every link with a name and an MTU. A malformed entry is skipped
 * and named in `skipped`; output that is not a JSON array of links is an error.
 */
export function parseIpLinks(text: string): Parsed<{ links: Link[]; skipped: string[] }> {
  if (typeof text !== 'string') return { ok: false, error: 'no output' };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, error: `ip -j -d link show: not JSON (${snippet(text)})` };
  }
  if (!Array.isArray(doc))
    return { ok: false, error: 'ip -j -d link show: expected a JSON array of links' };
  if (doc.length > MAX_LINKS)
    return { ok: false, error: `ip -j -d link show: ${doc.length} links (over ${MAX_LINKS})` };
  const links: Link[] = [];
  const skipped: string[] = [];
  doc.forEach((o, i) => {
    const l = linkOf(o, i);
    if (typeof l === 'string') skipped.push(l);
    else links.push(l);
  });
  if (links.length === 0 && doc.length > 0)
    return { ok: false, error: `ip -j -d link show: no usable link (${skipped[0]})` };
  return { ok: true, value: { links, skipped } };
}

/** The role of a link: by Cilium's device names first, then the kernel's link kind. */
export function classifyLink(l: Link): LinkRole {
  if (l.linkType === 'loopback' || l.name === 'lo') return 'loopback';
  if (l.name === 'cilium_host' || l.name === 'cilium_net') return 'cilium';
  if (l.kind === 'vxlan' || l.kind === 'geneve' || /^cilium_(vxlan|geneve)$/.test(l.name))
    return 'tunnel';
  if (l.name.startsWith('lxc')) return 'lxc';
  switch (l.kind) {
    case 'bond':
      return 'bond';
    case 'vlan':
      return 'vlan';
    case 'bridge':
      return 'bridge';
    case 'veth':
      return 'veth';
    case undefined:
      // No kind: a device backed by hardware (or a driver iproute2 does not name).
      return l.linkType === 'ether' ? 'nic' : 'other';
    default:
      return 'other';
  }
}

// ---------------------------------------------------------------------------------------
// ping

/** What one `ping -M do -c 1` probe said. */
export type PingOutcome =
  | { kind: 'ok' }
  /** Too big for the path: locally (`message too long, mtu=N`) or a router's ICMP. */
  | { kind: 'too-big'; where: 'local' | 'remote'; mtu?: number; from?: string }
  /** No answer within the deadline (lost, filtered, or a black hole). */
  | { kind: 'timeout' }
  /** Anything else (unreachable host, bad address, ping missing…). */
  | { kind: 'error'; message: string };

// IPv4 says `mtu=1500`, IPv6 `mtu: 1500` (captured: test/fixtures/mtu/ping*-local-too-big.json).
const LOCAL_TOO_BIG = /local error: message too long(?:, mtu[=:] ?(\d+))?/i;
const REMOTE_TOO_BIG =
  /From (\S+) icmp_seq=\d+ Frag(?:mentation)? needed and DF set \(mtu = (\d+)\)/i;
const RECEIVED = /(\d+) packets transmitted, (\d+) (?:packets )?received/;
const REPLY_LINE = /^\d+ bytes from \S+ icmp_seq=\d+/m;
const V6_TOO_BIG = /From (\S+) icmp_seq=\d+ Packet too big: mtu=(\d+)/i;

function mtuOf(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isInteger(n) && n >= 68 && n <= 1_000_000 ? n : undefined;
}

/** One line of text for an error message: the first non-empty line, bounded. */
function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.trim().slice(0, 160);
}

/** iputils `ping -M do -c 1 -W 1` output (stdout and stderr) and its exit code. */
export function parsePing(stdout: string, stderr: string, code: number | null): PingOutcome {
  const out = typeof stdout === 'string' ? stdout : '';
  const err = typeof stderr === 'string' ? stderr : '';
  const all = `${out}\n${err}`;
  const local = LOCAL_TOO_BIG.exec(all);
  if (local) {
    const mtu = mtuOf(local[1]);
    return { kind: 'too-big', where: 'local', ...(mtu !== undefined ? { mtu } : {}) };
  }
  const remote = REMOTE_TOO_BIG.exec(all);
  if (remote) {
    const mtu = mtuOf(remote[2]);
    return {
      kind: 'too-big',
      where: 'remote',
      from: (remote[1] ?? '').slice(0, 64),
      ...(mtu !== undefined ? { mtu } : {}),
    };
  }
  const v6 = V6_TOO_BIG.exec(all);
  if (v6) {
    const mtu = mtuOf(v6[2]);
    return {
      kind: 'too-big',
      where: 'remote',
      from: (v6[1] ?? '').slice(0, 64),
      ...(mtu !== undefined ? { mtu } : {}),
    };
  }
  const stats = RECEIVED.exec(out);
  if (code === 0 && (REPLY_LINE.test(out) || (stats && Number(stats[2]) > 0)))
    return { kind: 'ok' };
  if (stats && Number(stats[2]) === 0 && code === 1) {
    // Replies from elsewhere ("Destination Host Unreachable") are errors, silence a timeout.
    const icmp = /From \S+ icmp_seq=\d+ (.+)/.exec(out);
    if (icmp) return { kind: 'error', message: firstLine(icmp[1] ?? '') };
    return { kind: 'timeout' };
  }
  if (code === 127) return { kind: 'error', message: 'ping is not installed on the node' };
  const why = firstLine(err) || firstLine(out) || `ping exited with ${code ?? 'a signal'}`;
  return { kind: 'error', message: why };
}

// ---------------------------------------------------------------------------------------
// Cilium agent: GET /v1/config

/**
 * What the MTU feature takes from `GET /v1/config` (`DaemonConfigurationStatus` in
 * cilium/cilium api/v1/models/daemon_configuration_status.go: `status.deviceMTU`,
 * `status.routeMTU`, `status.datapathMode`, `status.daemonConfigurationMap`).
 */
export interface CiliumMtuConfig {
  deviceMtu?: number;
  routeMtu?: number;
  datapathMode?: string;
  /** `daemonConfigurationMap.RoutingMode`: `tunnel` or `native`, when the agent says. */
  routingMode?: string;
  /** `daemonConfigurationMap.TunnelProtocol` (`vxlan`, `geneve`), when the agent says. */
  tunnelProtocol?: string;
}

export function parseCiliumConfig(text: string): Parsed<CiliumMtuConfig> {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof text === 'string' ? text : '');
  } catch {
    return { ok: false, error: `cilium /v1/config: not JSON (${snippet(String(text))})` };
  }
  if (!isObj(doc) || !isObj(doc.status))
    return { ok: false, error: 'cilium /v1/config: no "status" object' };
  const s = doc.status;
  const out: CiliumMtuConfig = {};
  const dev = int(s.deviceMTU);
  const route = int(s.routeMTU);
  if (dev !== undefined && dev > 0) out.deviceMtu = dev;
  if (route !== undefined && route > 0) out.routeMtu = route;
  const dp = str(s.datapathMode);
  if (dp) out.datapathMode = dp.slice(0, 32);
  const m = isObj(s.daemonConfigurationMap) ? s.daemonConfigurationMap : {};
  const rm = str(m.RoutingMode);
  if (rm) out.routingMode = rm.toLowerCase().slice(0, 32);
  const tp = str(m.TunnelProtocol);
  if (tp) out.tunnelProtocol = tp.toLowerCase().slice(0, 32);
  return { ok: true, value: out };
}
