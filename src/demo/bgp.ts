import type { Inventory, NodeSpec } from '../config/types.js';
import type { DemoCommand } from './node-commands.js';
import type { DemoHttpRoute } from './node-sockets.js';

const ROUTER_ADDR = '10.77.0.1';
const ROUTER_AS = 65000;
const NODE_AS = 65001;
const VIPS = ['10.77.100.10/32', '10.77.100.11/32'];
/** Sessions came up this long before the first read (fixed per process). */
const STARTED = Date.now() - (3 * 86_400_000 + 4 * 3_600_000);

/** shop/web's VIP before LB-IPAM moved it to VIPS[1]: still advertised by one agent (the fault). */
const STALE_VIP = '10.77.100.12/32';

const workers = (inv: Inventory): NodeSpec[] => inv.nodes.filter((n) => n.roles.includes('worker'));
const downNode = (inv: Inventory): string | undefined => workers(inv).at(-1)?.name;
/** The first worker (when there is another): its agent still advertises shop/web's old VIP. */
const staleNode = (inv: Inventory): string | undefined => {
  const w = workers(inv);
  return w.length > 1 ? w[0]?.name : undefined;
};
const podCidr = (n: NodeSpec): string => `10.244.${n.index}.0/24`;
const advertisedBy = (inv: Inventory, n: NodeSpec): string[] =>
  staleNode(inv) === n.name ? [podCidr(n), VIPS[0]!, STALE_VIP] : [podCidr(n), ...VIPS];

function peersOf(inv: Inventory, node: NodeSpec, now: number): unknown[] {
  const down = downNode(inv) === node.name;
  const adv = advertisedBy(inv, node).length;
  return [
    {
      'applied-hold-time-seconds': down ? undefined : 90,
      'applied-keep-alive-time-seconds': down ? undefined : 30,
      'configured-hold-time-seconds': 90,
      'configured-keep-alive-time-seconds': 30,
      'connect-retry-time-seconds': 120,
      'ebgp-multihop-ttl': 1,
      families: [
        down
          ? { afi: 'ipv4', safi: 'unicast' }
          : { afi: 'ipv4', safi: 'unicast', received: 1, accepted: 1, advertised: adv },
      ],
      'graceful-restart': { enabled: true, 'restart-time-seconds': 120 },
      'local-asn': NODE_AS,
      'peer-address': ROUTER_ADDR,
      'peer-asn': ROUTER_AS,
      'peer-port': 179,
      'session-state': down ? 'active' : 'established',
      'uptime-nanoseconds': down ? undefined : (now - STARTED - node.index * 60_000) * 1e6,
    },
  ];
}

function routesOf(inv: Inventory, node: NodeSpec, neighbor: string | null): unknown[] {
  if (neighbor !== null && neighbor !== ROUTER_ADDR) return [];
  return advertisedBy(inv, node).map((prefix) => ({
    paths: [
      {
        'age-nanoseconds': 3_600_000_000_000,
        best: true,
        family: { afi: 'ipv4', safi: 'unicast' },
        nlri: { base64: '' },
        'path-attributes': [],
      },
    ],
    prefix,
    'router-asn': NODE_AS,
  }));
}

/** The agent's BGP API on cilium.sock (served with the other demo routes of that socket). */
export const ciliumBgpRoutes: DemoHttpRoute = {
  path: '/var/run/cilium/cilium.sock',
  handle: (req, res, { inventory, node }) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
      return true;
    };
    if (url.pathname === '/v1/bgp/peers') return send(200, peersOf(inventory, node, Date.now()));
    if (url.pathname === '/v1/bgp/routes') {
      if (downNode(inventory) === node.name) return send(200, []);
      return send(200, routesOf(inventory, node, url.searchParams.get('neighbor')));
    }
    return false;
  },
};

function gobgpNeighbors(inv: Inventory, now: number): unknown[] {
  const down = downNode(inv);
  return inv.nodes.map((n) => {
    const addr = n.addresses[0] ?? '';
    const up = n.name !== down;
    const received = advertisedBy(inv, n).length;
    return {
      apply_policy: { export_policy: { direction: 2 }, import_policy: { direction: 1 } },
      conf: { local_asn: ROUTER_AS, neighbor_address: addr, peer_asn: NODE_AS, type: 1 },
      state: {
        messages: up
          ? {
              received: { update: 4, open: 1, keepalive: 8800, total: 8805 },
              sent: { update: 1, open: 1, keepalive: 8800, total: 8802 },
            }
          : { received: {}, sent: {} },
        neighbor_address: addr,
        peer_asn: NODE_AS,
        type: 1,
        queues: {},
        session_state: up ? 6 : 3,
        ...(up ? { router_id: addr } : {}),
      },
      timers: {
        config: {
          connect_retry: 120,
          hold_time: 90,
          keepalive_interval: 30,
          idle_hold_time_after_reset: 30,
        },
        state: up
          ? {
              keepalive_interval: 30,
              negotiated_hold_time: 90,
              uptime: { seconds: Math.floor((STARTED + n.index * 60_000) / 1000) },
              downtime: { seconds: Math.floor(STARTED / 1000) },
            }
          : { downtime: { seconds: Math.floor((now - 1_320_000) / 1000) } },
      },
      transport: { local_address: ROUTER_ADDR },
      afi_safis: [
        {
          config: { family: { afi: 1, safi: 1 }, enabled: true },
          state: up
            ? { family: { afi: 1, safi: 1 }, enabled: true, received, accepted: received }
            : { family: { afi: 1, safi: 1 }, enabled: true },
        },
      ],
    };
  });
}

function gobgpRib(inv: Inventory): Record<string, unknown[]> {
  const down = downNode(inv);
  const rib: Record<string, unknown[]> = {
    '0.0.0.0/0': [
      {
        nlri: { prefix: '0.0.0.0/0' },
        age: Math.floor(STARTED / 1000),
        best: true,
        attrs: [
          { type: 1, value: 2 },
          { type: 3, nexthop: '0.0.0.0' },
        ],
        stale: false,
      },
    ],
  };
  for (const n of inv.nodes) {
    if (n.name === down) continue;
    const addr = n.addresses[0] ?? '';
    for (const prefix of advertisedBy(inv, n)) {
      const paths = rib[prefix] ?? [];
      rib[prefix] = paths;
      paths.push({
        nlri: { prefix },
        age: Math.floor((STARTED + n.index * 60_000) / 1000),
        best: paths.length === 0,
        attrs: [
          { type: 1, value: 2 },
          { type: 2, as_paths: [{ segment_type: 2, num: 1, asns: [NODE_AS] }] },
          { type: 3, nexthop: addr },
        ],
        stale: false,
        'source-id': addr,
        'neighbor-ip': addr,
      });
    }
  }
  return rib;
}

const words = (argv: readonly string[]): string[] => {
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '-u' || argv[i] === '-p') i++;
    else if (argv[i] !== '-j') out.push(argv[i]!);
  }
  return out;
};

export const gobgpCommand: DemoCommand = {
  program: 'gobgp',
  run: (argv, { inventory, node, now }) => {
    if (!inventory.network.bgpRouters.some((r) => r.name === node.name && r.kind === 'gobgp'))
      return { stdout: '', stderr: `sh: 1: gobgp: not found\n`, code: 127 };
    const w = words(argv).join(' ');
    if (w === 'neighbor')
      return { stdout: `${JSON.stringify(gobgpNeighbors(inventory, now))}\n`, stderr: '', code: 0 };
    if (w === 'global rib')
      return { stdout: `${JSON.stringify(gobgpRib(inventory))}\n`, stderr: '', code: 0 };
    return { stdout: '', stderr: `unknown command "${w}" for "gobgp"\n`, code: 1 };
  },
};
