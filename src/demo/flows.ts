/**
 * The demo lab's Hubble: each node's /var/run/cilium/hubble.sock answered by an in-process
 * Observer server (hubble-observer.ts) on a local listener, fed with synthetic flows —
 * about 60 a second per node (a few hundred across the lab), some 8 % dropped for one of
 * three reasons (policy deny, a service without backends, a missing TCP ACK), L7 HTTP and
 * DNS among them, and now and then a LostEvent from the perf ring. Each node draws a pool
 * of flows once, encoded, and re-sends them with a fresh time and uuid (`nodeFeed`).
 */
import type { LocalForward } from '../store/io.js';
import { mulberry32 as rng } from '../store/prng.js';
import type { FlowObject } from './hubble-observer.js';
import type { DemoSocket, DemoSocketContext, DemoTcpTarget } from './node-sockets.js';

export interface Pod {
  ns: string;
  name: string;
  app: string;
  ip: string;
  workload: string;
}

const POD_SPECS: Array<[string, string, string, number]> = [
  ['shop', 'frontend', 'frontend-7d9c8f', 3],
  ['shop', 'api', 'api-5f6b7c', 2],
  ['shop', 'cart', 'cart-6c8d9e', 2],
  ['shop', 'postgres', 'postgres', 1],
  ['kube-system', 'coredns', 'coredns-668d6bf9bc', 2],
  ['monitoring', 'prometheus', 'prometheus-k8s', 1],
  ['ingress-nginx', 'ingress-nginx', 'ingress-nginx-controller-6b9f', 2],
];

const SUFFIX = 'abcdefghjkmnpqrstvwxz2456789';

function pods(seed: number): Pod[] {
  const r = rng(seed);
  const out: Pod[] = [];
  let host = 10;
  for (const [ns, app, prefix, n] of POD_SPECS)
    for (let i = 0; i < n; i++) {
      const sfx = Array.from({ length: 5 }, () => SUFFIX[Math.floor(r() * SUFFIX.length)]).join('');
      out.push({
        ns,
        app,
        name:
          prefix === 'postgres' || prefix === 'prometheus-k8s'
            ? `${prefix}-${i}`
            : `${prefix}-${sfx}`,
        ip: `10.42.${(host >> 8) + 1}.${host & 255}`,
        workload: prefix.includes('-') ? app : prefix,
      });
      host += 7;
    }
  return out;
}

// Who talks to whom, on which port, how often (weights).
const EDGES: Array<[string, string, number, 'TCP' | 'UDP', number, 'HTTP' | 'DNS' | '']> = [
  ['ingress-nginx', 'frontend', 8080, 'TCP', 30, 'HTTP'],
  ['frontend', 'api', 8080, 'TCP', 25, 'HTTP'],
  ['api', 'cart', 9090, 'TCP', 12, ''],
  ['api', 'postgres', 5432, 'TCP', 10, ''],
  ['frontend', 'coredns', 53, 'UDP', 10, 'DNS'],
  ['api', 'coredns', 53, 'UDP', 8, 'DNS'],
  ['prometheus', 'api', 9102, 'TCP', 5, ''],
];
const TOTAL_WEIGHT = EDGES.reduce((s, e) => s + e[4], 0);

// The three ways the demo drops: a policy denies cart → postgres, frontend → a service
// without backends, and stray packets without a TCP ACK.
const DROPS: Array<{ reason: string; code: number; src: string; dst: string; port: number }> = [
  { reason: 'POLICY_DENY', code: 181, src: 'cart', dst: 'postgres', port: 5432 },
  { reason: 'SERVICE_BACKEND_NOT_FOUND', code: 158, src: 'frontend', dst: 'cart', port: 9091 },
  {
    reason: 'CT_MISSING_TCP_ACK_FLAG',
    code: 136,
    src: 'ingress-nginx',
    dst: 'frontend',
    port: 8080,
  },
];

const endpoint = (p: Pod, id: number) => ({
  ID: id,
  identity: 10_000 + ((p.app.length * 977) % 50_000),
  cluster_name: 'demo',
  namespace: p.ns,
  labels: [`k8s:app=${p.app}`, `k8s:io.kubernetes.pod.namespace=${p.ns}`],
  pod_name: p.name,
  workloads: [{ name: p.workload, kind: p.app === 'postgres' ? 'StatefulSet' : 'Deployment' }],
});

/** One synthetic flow at `ms` on `node`, from the lab's pods. */
export function demoFlow(r: () => number, all: Pod[], node: string, ms: number): FlowObject {
  const pick = (app: string) => {
    const c = all.filter((p) => p.app === app);
    return c[Math.floor(r() * c.length)] as Pod;
  };
  const time = { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 + Math.floor(r() * 1e6) };
  const uuid = Array.from({ length: 32 }, () => Math.floor(r() * 16).toString(16)).join('');
  const u = `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-${uuid.slice(12, 16)}-${uuid.slice(16, 20)}-${uuid.slice(20)}`;
  if (r() < 0.08) {
    const d = DROPS[Math.floor(r() * DROPS.length)] as (typeof DROPS)[number];
    const s = pick(d.src);
    const t = pick(d.dst);
    return {
      time,
      uuid: u,
      verdict: 'DROPPED',
      drop_reason: d.code,
      drop_reason_desc: d.reason,
      IP: { source: s.ip, destination: t.ip, ipVersion: 'IPv4' },
      l4: {
        TCP: {
          source_port: 32768 + Math.floor(r() * 28000),
          destination_port: d.port,
          flags: d.reason === 'CT_MISSING_TCP_ACK_FLAG' ? { PSH: true } : { SYN: true },
        },
      },
      source: endpoint(s, 100 + Math.floor(r() * 3000)),
      destination: endpoint(t, 100 + Math.floor(r() * 3000)),
      Type: 'L3_L4',
      node_name: node,
      event_type: { type: 1, sub_type: d.code },
      traffic_direction: 'EGRESS',
      Summary: 'TCP Flags: SYN',
    };
  }
  let w = r() * TOTAL_WEIGHT;
  let e = EDGES[0] as (typeof EDGES)[number];
  for (const x of EDGES) {
    w -= x[4];
    if (w <= 0) {
      e = x;
      break;
    }
  }
  const [from, to, port, proto, , l7] = e;
  const reply = r() < 0.45;
  const [s, t] = reply ? [pick(to), pick(from)] : [pick(from), pick(to)];
  const eph = 32768 + Math.floor(r() * 28000);
  const [sp, dp] = reply ? [port, eph] : [eph, port];
  const flow: FlowObject = {
    time,
    uuid: u,
    verdict: 'FORWARDED',
    IP: { source: s.ip, destination: t.ip, ipVersion: 'IPv4' },
    l4:
      proto === 'TCP'
        ? {
            TCP: {
              source_port: sp,
              destination_port: dp,
              flags: reply ? { ACK: true } : { SYN: true },
            },
          }
        : { UDP: { source_port: sp, destination_port: dp } },
    source: endpoint(s, 100 + Math.floor(r() * 3000)),
    destination: endpoint(t, 100 + Math.floor(r() * 3000)),
    Type: 'L3_L4',
    node_name: node,
    event_type: { type: 4, sub_type: 0 },
    traffic_direction: reply ? 'INGRESS' : 'EGRESS',
    trace_observation_point: 'TO_ENDPOINT',
    is_reply: { value: reply },
    Summary: proto === 'TCP' ? `TCP Flags: ${reply ? 'ACK' : 'SYN'}` : 'UDP',
  };
  if (l7 && r() < 0.3) {
    flow.Type = 'L7';
    flow.l7 =
      l7 === 'HTTP'
        ? {
            type: reply ? 'RESPONSE' : 'REQUEST',
            latency_ns: reply ? 1_000_000 + Math.floor(r() * 40_000_000) : 0,
            http: {
              code: reply ? (r() < 0.05 ? 503 : 200) : 0,
              method: r() < 0.8 ? 'GET' : 'POST',
              url: `http://${t.app}.${t.ns}.svc:${port}/api/v1/items`,
              protocol: 'HTTP/1.1',
            },
          }
        : {
            type: reply ? 'RESPONSE' : 'REQUEST',
            dns: {
              query: 'api.shop.svc.cluster.local.',
              qtypes: ['A'],
              ...(reply ? { ips: ['10.96.12.7'], ttl: 30, rcode: 0, rrtypes: ['A'] } : {}),
              observation_source: 'proxy',
            },
          };
  }
  return flow;
}

/** A seeded generator of the lab's flows on `node` (the benchmark feeds on it too). */
export function demoFlows(seed: number, node: string): (ms: number) => FlowObject {
  const r = rng(seed);
  const all = pods(42);
  return (ms) => demoFlow(r, all, node, ms);
}

/** Flows a second per node (the console's per-pane bench feeds its Flows pane at this rate). */
export const DEMO_FLOWS_PER_NODE = 60;

/**
 * Distinct flows each node's feed draws before it only re-sends them (`nodeFeed`): enough
 * for a table that looks alive (every pod pair, ports, verdicts, L7) at no encoding cost.
 */
export const FEED_POOL = 512;

type Observer = import('./hubble-observer.js').ObserverServer;
type Proto = typeof import('./hubble-proto.js');

/** One flow of a feed: the object the server's filters match, and its GetFlowsResponse. */
export interface FedFlow {
  flow: FlowObject;
  bytes: Buffer;
  /** The time in `bytes`. */
  time: { seconds: number; nanos: number };
}

/**
 * A node's flows as a feed sends them, encoded: the first `pool` flows are drawn by
 * `demoFlow` and encoded once each (`flowTemplate`); from then on a flow of that pool is
 * picked at random and re-sent with a fresh time and uuid (`flowFrame`, a few copies: the
 * same bytes protobufjs would give). The demo's Observer stand-in thus costs next to
 * nothing per flow, and k8ops still decodes the real wire format.
 */
export function nodeFeed(
  proto: Pick<Proto, 'flowTemplate' | 'flowFrame'>,
  r: () => number,
  all: Pod[],
  node: string,
  pool = FEED_POOL,
): (ms: number) => FedFlow {
  const templates: ReturnType<Proto['flowTemplate']>[] = [];
  const hex = () =>
    Math.floor(r() * 4294967296)
      .toString(16)
      .padStart(8, '0');
  return (ms) => {
    let t: (typeof templates)[number];
    if (templates.length < pool) {
      t = proto.flowTemplate(demoFlow(r, all, node, ms), node);
      templates.push(t);
    } else t = templates[Math.floor(r() * templates.length)]!;
    const seconds = Math.floor(ms / 1000);
    const nanos = (ms % 1000) * 1e6 + Math.floor(r() * 1e6);
    const [a, b, c, d] = [hex(), hex(), hex(), hex()];
    const uuid = `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
    return {
      flow: t.flow,
      bytes: proto.flowFrame(t, seconds, nanos, uuid),
      time: { seconds, nanos },
    };
  };
}

/** The lab's pods (the same in every node's feed). */
export const labPods = (): Pod[] => pods(42);

/** A running feed: stopped for good, or paused while nobody follows its server. */
export interface Feed {
  stop(): void;
  /** No connection: draw nothing (a demo lab in the console's process costs it CPU). */
  pause(): void;
  /**
   * A connection again: the flows the pause skipped as a real agent would hold them — its
   * counters grown by every flow, its ring holding the last `capacity` of them.
   */
  resume(): void;
}

/**
 * Feed `server` with the flows of `nodes` (each its own generator, as each agent sees its
 * own traffic): a ring already holding the last 5 s (more would cost the console's first
 * screen), then DEMO_FLOWS_PER_NODE a second per node, and now and then a LostEvent from
 * a node's perf ring. Paused (`Feed.pause`), it draws nothing and catches up on `resume`.
 */
export function feed(
  proto: Proto,
  server: Observer,
  nodes: ReadonlyArray<{ name: string; index: number }>,
  capacity: number,
): Feed {
  const all = pods(42);
  const gens = nodes.map((n) => {
    const r = rng(n.index * 7919 + 17);
    return { ...n, r, next: nodeFeed(proto, r, all, n.name) };
  });
  const send = (x: FedFlow) => server.pushFrame(x.flow, x.bytes, x.time);
  const now = Date.now();
  // In time order across nodes, as relay merges its agents' streams (its sort buffer).
  for (let i = 0; i < 300; i++)
    for (const g of gens) send(g.next(Math.floor(now - 5000 + (i * 5000) / 300)));
  let carry = 0;
  let last = Date.now();
  let ticks = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = () => {
    const t = Date.now();
    carry += ((t - last) * DEMO_FLOWS_PER_NODE) / 1000;
    const from = last;
    last = t;
    const n = Math.floor(carry);
    carry -= n;
    ticks++;
    // Spread over the time since the last tick (after a pause: the whole pause), of which
    // only the newest flows still fit the ring; the rest are counted as seen.
    const keep = n * gens.length > capacity ? Math.ceil(capacity / gens.length) : n;
    server.skipSeen((n - keep) * gens.length);
    for (let i = n - keep; i < n; i++)
      for (const g of gens) send(g.next(Math.floor(from + ((i + 1) * (t - from)) / n)));
    if (keep < n) return;
    for (const g of gens) {
      if (ticks % 300 === 17 + g.index)
        server.pushLost(
          1 + Math.floor(g.r() * 40),
          'PERF_EVENT_RING_BUFFER',
          Math.floor(g.r() * 4),
          g.name,
        );
    }
  };
  const start = () => {
    timer = setInterval(tick, 100);
    timer.unref();
  };
  start();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
    },
    pause: () => {
      clearInterval(timer);
      timer = undefined;
    },
    resume: () => {
      if (stopped || timer) return;
      tick();
      start();
    },
  };
}

/**
 * How long a demo agent or relay outlives its last connection. A real one runs on whatever
 * its clients do, so a console that stops following while its Flows pane is hidden and
 * comes back (`since`) finds the same ring and counters. Meanwhile its feed is paused (the
 * demo lab runs in the console's process, and a real cluster's Hubble costs the console
 * nothing) and catches up on the next connection (`Feed.resume`); past this, the server is
 * dropped (as a restarted agent, the next one starts afresh).
 */
export const DEMO_HUBBLE_LINGER_MS = 120_000;

/** Each demo agent's (and the relay's) ring: max_flows, as Hubble's default 4095. */
const DEMO_HUBBLE_CAPACITY = 4095;

interface Running {
  server: Observer;
  feed: Feed;
  users: number;
  linger?: NodeJS.Timeout;
}

/** The demo's running Observer servers: per session (its inventory), by what they stand for. */
const running = new WeakMap<object, Map<string, Promise<Running>>>();

/**
 * A forward to the demo's Observer server `key` of this session, started by `start` on the
 * first connection and kept running DEMO_HUBBLE_LINGER_MS after the last one closes.
 */
async function connect(
  ctx: DemoSocketContext,
  key: string,
  target: string,
  start: () => Promise<Omit<Running, 'users'>>,
): Promise<LocalForward> {
  let byKey = running.get(ctx.inventory);
  if (!byKey) {
    byKey = new Map();
    running.set(ctx.inventory, byKey);
  }
  const have = byKey.get(key);
  const made = have ?? start().then((r) => ({ ...r, users: 0 }));
  if (!have) {
    byKey.set(key, made);
    const map = byKey;
    made.catch(() => map.delete(key));
  }
  const r = await made;
  if (r.linger) clearTimeout(r.linger);
  r.linger = undefined;
  if (r.users++ === 0) r.feed.resume();
  let listener: { port: number; close(): void };
  try {
    listener = await r.server.open('127.0.0.1:0');
  } catch (e) {
    if (--r.users === 0) r.feed.pause();
    throw e;
  }
  const map = byKey;
  let closed = false;
  return {
    host: '127.0.0.1',
    port: listener.port,
    address: `127.0.0.1:${listener.port}`,
    target,
    lastError: () => undefined,
    close: async () => {
      if (closed) return;
      closed = true;
      listener.close();
      if (--r.users > 0) return;
      r.feed.pause();
      r.linger = setTimeout(() => {
        if (r.users > 0) return;
        map.delete(key);
        r.feed.stop();
        r.server.close();
      }, DEMO_HUBBLE_LINGER_MS);
      r.linger.unref();
    },
  };
}

async function open(ctx: DemoSocketContext): Promise<LocalForward> {
  const nodeName = `${ctx.inventory.cluster}/${ctx.node.name}`;
  // grpc-js loads when a demo node's hubble.sock is first dialled.
  const [{ ObserverServer }, proto] = await Promise.all([
    import('./hubble-observer.js'),
    import('./hubble-proto.js'),
  ]);
  return connect(
    ctx,
    `agent:${ctx.node.name}`,
    `${ctx.node.name}:/var/run/cilium/hubble.sock`,
    async () => {
      const server = new ObserverServer({ nodeName, capacity: DEMO_HUBBLE_CAPACITY });
      const nodes = [{ name: nodeName, index: ctx.node.index }];
      return { server, feed: feed(proto, server, nodes, DEMO_HUBBLE_CAPACITY) };
    },
  );
}

export const demoHubbleSocket: DemoSocket = { path: '/var/run/cilium/hubble.sock', open };

/**
 * The demo cluster's hubble-relay Service (the Cilium chart's: port 80 → relay's 4245), as
 * the demo kube API answers it (session/demo.ts) and as the demo nodes route its ClusterIP.
 */
export const DEMO_RELAY_SERVICE = {
  namespace: 'kube-system',
  name: 'hubble-relay',
  type: 'ClusterIP',
  clusterIP: '10.96.148.27',
  ports: [{ port: 80, targetPort: 4245, protocol: 'TCP' }],
} as const;

/**
 * hubble-relay at its ClusterIP, as every demo node reaches it: one Observer server merging
 * every node's flows (each keeps its node_name), ServerStatus with the agents connected,
 * a NODE_CONNECTED event first — relay's shape (hubble-observer.ts `relay`).
 */
async function openRelay(ctx: DemoSocketContext): Promise<LocalForward> {
  // Benchmark hook (test/bench/flows.mjs): K8OPS_DEMO_RELAY=127.0.0.1:PORT puts another
  // process's Observer server behind the demo's hubble-relay (a feed at 20,000 flows/s
  // whose cost is not the console's). Loopback only.
  const ext = /^127\.0\.0\.1:(\d{1,5})$/.exec(process.env.K8OPS_DEMO_RELAY ?? '');
  if (ext)
    return {
      host: '127.0.0.1',
      port: Number(ext[1]),
      address: `127.0.0.1:${ext[1]}`,
      target: `${ctx.node.name}:${DEMO_RELAY_SERVICE.clusterIP}:80 (K8OPS_DEMO_RELAY)`,
      lastError: () => undefined,
      close: async () => {},
    };
  const [{ ObserverServer }, proto] = await Promise.all([
    import('./hubble-observer.js'),
    import('./hubble-proto.js'),
  ]);
  const names = ctx.inventory.nodes.map((n) => ({
    name: `${ctx.inventory.cluster}/${n.name}`,
    index: n.index,
  }));
  // One relay (the chart's one replica) whichever node it is reached through.
  return connect(
    ctx,
    'relay',
    `${ctx.node.name}:${DEMO_RELAY_SERVICE.clusterIP}:${DEMO_RELAY_SERVICE.ports[0].port}`,
    async () => {
      const server = new ObserverServer({
        capacity: DEMO_HUBBLE_CAPACITY,
        relay: { nodes: names.map((n) => n.name) },
      });
      return { server, feed: feed(proto, server, names, DEMO_HUBBLE_CAPACITY) };
    },
  );
}

export const demoRelayTarget: DemoTcpTarget = {
  host: DEMO_RELAY_SERVICE.clusterIP,
  port: DEMO_RELAY_SERVICE.ports[0].port,
  open: openRelay,
};
