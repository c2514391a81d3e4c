import type { NodeSpec } from '../config/types.js';
import type { NodeExecResult } from '../store/io.js';
import type { DemoCommand, DemoCommandContext } from './node-commands.js';
import type { DemoHttpRoute } from './node-sockets.js';

export const DEMO_TARGET_MTU = 9216;
export const DEMO_NARROW_NODE = 'worker-3';
const TOR = '10.77.0.1';

/** The MTU of a node's uplink (the VLAN carrying its address). */
const uplinkMtu = (name: string): number => (name === DEMO_NARROW_NODE ? 1500 : DEMO_TARGET_MTU);

/** A stable pseudo-MAC from a node name and a link index. */
function mac(node: NodeSpec, i: number): string {
  let h = 2166136261;
  for (const c of `${node.name}/${i}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  const b = [0x3c, 0xec, (h >>> 24) & 0xff, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

const COMMON = {
  qdisc: 'noqueue',
  linkmode: 'DEFAULT',
  group: 'default',
  txqlen: 1000,
  promiscuity: 0,
  allmulti: 0,
  min_mtu: 68,
  max_mtu: 65535,
  inet6_addr_gen_mode: 'eui64',
  num_tx_queues: 1,
  num_rx_queues: 1,
  gso_max_size: 65536,
  gso_max_segs: 65535,
  tso_max_size: 65536,
  tso_max_segs: 65535,
  gro_max_size: 65536,
};
const UP = ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'];

/** The node's links as `ip -j -d link show` prints them. */
export function demoLinks(node: NodeSpec): Record<string, unknown>[] {
  const links: Record<string, unknown>[] = [];
  const add = (o: Record<string, unknown>) => {
    const ifindex = links.length + 1;
    links.push({
      ifindex,
      ...o,
      ...COMMON,
      link_type: o.link_type ?? 'ether',
      address: mac(node, ifindex),
      broadcast: 'ff:ff:ff:ff:ff:ff',
    });
  };
  links.push({
    ifindex: 1,
    ifname: 'lo',
    flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
    mtu: 65536,
    qdisc: 'noqueue',
    operstate: 'UNKNOWN',
    linkmode: 'DEFAULT',
    group: 'default',
    txqlen: 1000,
    link_type: 'loopback',
    address: '00:00:00:00:00:00',
    broadcast: '00:00:00:00:00:00',
    promiscuity: 0,
    allmulti: 0,
    min_mtu: 0,
    max_mtu: 0,
    num_tx_queues: 1,
    num_rx_queues: 1,
    gso_max_size: 65536,
    gso_max_segs: 65535,
    tso_max_size: 524280,
    tso_max_segs: 65535,
    gro_max_size: 65536,
  });
  for (const [i, port] of ['eno1', 'eno2'].entries())
    add({
      ifname: port,
      flags: ['BROADCAST', 'MULTICAST', 'SLAVE', 'UP', 'LOWER_UP'],
      mtu: DEMO_TARGET_MTU,
      master: 'bond0',
      operstate: 'UP',
      linkinfo: {
        info_slave_kind: 'bond',
        info_slave_data: { state: 'ACTIVE', mii_status: 'UP', link_failure_count: 0 },
      },
      parentbus: 'pci',
      parentdev: `0000:18:00.${i}`,
    });
  add({
    ifname: 'bond0',
    flags: ['BROADCAST', 'MULTICAST', 'MASTER', 'UP', 'LOWER_UP'],
    mtu: DEMO_TARGET_MTU,
    operstate: 'UP',
    linkinfo: {
      info_kind: 'bond',
      info_data: { mode: '802.3ad', miimon: 100, xmit_hash_policy: 'layer3+4' },
    },
  });
  add({
    ifname: 'bond0.30',
    flags: UP,
    mtu: uplinkMtu(node.name),
    link: 'bond0',
    operstate: 'UP',
    linkinfo: {
      info_kind: 'vlan',
      info_data: { protocol: '802.1Q', id: 30, flags: ['REORDER_HDR'] },
    },
  });
  add({
    ifname: 'cilium_net',
    flags: ['BROADCAST', 'MULTICAST', 'NOARP', 'UP', 'LOWER_UP'],
    mtu: DEMO_TARGET_MTU,
    link: 'cilium_host',
    operstate: 'UP',
    linkinfo: { info_kind: 'veth' },
  });
  add({
    ifname: 'cilium_host',
    flags: ['BROADCAST', 'MULTICAST', 'NOARP', 'UP', 'LOWER_UP'],
    mtu: DEMO_TARGET_MTU,
    link: 'cilium_net',
    operstate: 'UP',
    linkinfo: { info_kind: 'veth' },
  });
  add({
    ifname: 'cilium_vxlan',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    mtu: DEMO_TARGET_MTU,
    operstate: 'UNKNOWN',
    linkinfo: {
      info_kind: 'vxlan',
      info_data: { external: true, id: 0, port_range: { low: 0, high: 0 }, port: 8472 },
    },
  });
  const pods = node.roles.includes('worker') ? 6 : 2;
  for (let p = 0; p <= pods; p++) {
    const hash = mac(node, 100 + p)
      .replaceAll(':', '')
      .slice(0, 12);
    add({
      ifname: p === 0 ? 'lxc_health' : `lxc${hash}`,
      flags: UP,
      mtu: DEMO_TARGET_MTU,
      operstate: 'UP',
      link_index: 2,
      link_netnsid: p,
      linkinfo: { info_kind: 'veth' },
    });
  }
  return links;
}

const ok = (stdout: string): NodeExecResult => ({ stdout, stderr: '', code: 0 });

function pingAnswer(argv: readonly string[], ctx: DemoCommandContext): NodeExecResult {
  const to = argv.at(-1) ?? '';
  const sIdx = argv.indexOf('-s');
  const payload = Number(argv[sIdx + 1]);
  if (sIdx < 0 || !Number.isInteger(payload) || payload < 0)
    return { stdout: '', stderr: 'ping: invalid argument\n', code: 2 };
  const size = payload + 28;
  const head = `PING ${to} (${to}) ${payload}(${size}) bytes of data.\n`;
  const peer = ctx.inventory.nodes.find((n) => n.addresses.includes(to));
  const stats = (rx: number, errors: boolean) =>
    `\n--- ${to} ping statistics ---\n1 packets transmitted, ${rx} received, ${errors ? '+1 errors, ' : ''}${rx ? 0 : 100}% packet loss, time 0ms\n`;
  if (!peer) return { stdout: `${head}${stats(0, false)}\n`, stderr: '', code: 1 };
  const own = uplinkMtu(ctx.node.name);
  if (size > own)
    return {
      stdout: `${head}${stats(0, true)}\n`,
      stderr: `ping: local error: message too long, mtu=${own}\n`,
      code: 1,
    };
  const far = uplinkMtu(peer.name);
  if (size > far)
    return {
      stdout: `${head}From ${TOR} icmp_seq=1 Frag needed and DF set (mtu = ${far})\n${stats(0, true)}\n`,
      stderr: '',
      code: 1,
    };
  const rtt = (0.18 + (ctx.node.index + peer.index) * 0.011).toFixed(3);
  return ok(
    `${head}${payload + 8} bytes from ${to}: icmp_seq=1 ttl=63 time=${rtt} ms\n${stats(1, false)}rtt min/avg/max/mdev = ${rtt}/${rtt}/${rtt}/0.000 ms\n`,
  );
}

export const demoMtuCommands: readonly DemoCommand[] = [
  {
    program: 'ip',
    matches: (argv) => argv.join(' ') === 'ip -j -d link show',
    run: (_argv, ctx) => ok(`${JSON.stringify(demoLinks(ctx.node))}\n`),
  },
  { program: 'ping', run: (argv, ctx) => pingAnswer(argv, ctx) },
];

/** The agent's `/v1/config` (Cilium 1.17 shape), VXLAN tunnel mode at 9216. */
export function demoCiliumConfig(node: NodeSpec): Record<string, unknown> {
  return {
    spec: { options: {}, 'policy-enforcement': 'default' },
    status: {
      addressing: { ipv4: { enabled: true, ip: `10.0.${node.index}.1`, 'address-type': '' } },
      datapathMode: 'veth',
      deviceMTU: DEMO_TARGET_MTU,
      routeMTU: DEMO_TARGET_MTU - 50,
      'ipam-mode': 'kubernetes',
      masquerade: true,
      masqueradeProtocols: { ipv4: true },
      'k8s-configuration': '',
      'k8s-endpoint': 'https://10.77.0.10:6443',
      GROMaxSize: 65536,
      GSOMaxSize: 65536,
      daemonConfigurationMap: {
        RoutingMode: 'tunnel',
        EnableIPv4: true,
        EnableIPv6: false,
        KubeProxyReplacement: 'true',
        EnableBGPControlPlane: true,
      },
    },
  };
}

/** The agent's `GET /v1/config` on cilium.sock (served with the other demo routes of that socket). */
export const ciliumConfigRoute: DemoHttpRoute = {
  path: '/var/run/cilium/cilium.sock',
  handle: (req, res, { node }) => {
    if (req.method !== 'GET' || req.url !== '/v1/config') return false;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(demoCiliumConfig(node)));
    return true;
  },
};
