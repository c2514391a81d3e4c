/**
 * A server of Hubble's Observer gRPC API (`/observer.Observer/GetFlows` streaming,
 * `/observer.Observer/ServerStatus` unary), with the real proto shape (features/flows/
 * proto.ts) and the agent's semantics as net-apis.md §1 records them: a bounded ring of
 * flows; `number` last flows (or the whole ring for 0 without follow), `first`, `follow`,
 * `since` (taking precedence over `number`: the ring's flows from that instant on);
 * whitelist/blacklist FlowFilters matched server-side (ANY whitelist entry, NO blacklist
 * entry; the set fields of one entry ANDed); LostEvents that ignore filters. A follower
 * that does not read fast enough loses flows, counted and announced with a LostEvent
 * (HUBBLE_RING_BUFFER) when it catches up, as a real agent's ring overwrites them.
 * It stands in for Hubble where no Cilium agent can run: the demo lab (demo/flows.ts) and
 * the tests. Every request is recorded, so a test can see which filters were sent.
 */
import * as grpc from '@grpc/grpc-js';
import {
  DIRECTIONS as DIRECTION_VALUES,
  DROP_REASONS as DROP_REASON_VALUES,
  decodeRequest as decodeGetFlowsRequest,
  encodeResponse,
  encodeServerStatus,
  type FilterIn as FlowFilterSpec,
  GET_FLOWS,
  type RequestIn as GetFlowsRequestSpec,
  SERVER_STATUS,
  VERDICTS as VERDICT_VALUES,
} from './hubble-proto.js';

/** A flow as a plain object in flow.proto's shape (field names as in the proto). */
// biome-ignore lint/suspicious/noExplicitAny: flows are free-form proto objects
export type FlowObject = Record<string, any>;

/** Hubble's Timestamp. */
export interface Instant {
  seconds: number;
  nanos: number;
}

interface Stored {
  flow: FlowObject;
  bytes: Buffer;
  /** The flow's time (what `since` compares). */
  time: Instant;
}

interface Follower {
  call: grpc.ServerWritableStream<GetFlowsRequestSpec, Buffer>;
  req: GetFlowsRequestSpec;
  queue: Buffer[];
  lost: number;
  waiting: boolean;
}

export interface ObserverOptions {
  /** Ring capacity (max_flows). */
  capacity?: number;
  /** Flows a slow follower may have queued before newer ones are lost. */
  followerQueue?: number;
  nodeName?: string;
  version?: string;
  /**
   * Answer as hubble-relay does: every flow keeps its own node_name (relay merges agents),
   * ServerStatus carries num_connected_nodes / num_unavailable_nodes / unavailable_nodes,
   * and a follower first gets a NodeStatusEvent (NODE_CONNECTED) naming the agents.
   */
  relay?: { nodes: string[]; unavailable?: string[] };
}

/** Server TLS for `listen` (hubble-relay's `hubble.relay.tls.server`), PEM. */
export interface ObserverServerTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** Client CA: when set, a client certificate signed by it is required (mTLS). */
  clientCa?: string | Buffer;
}

const sec = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

export class ObserverServer {
  readonly requests: GetFlowsRequestSpec[] = [];
  readonly #ring: Stored[] = [];
  #seen = 0;
  readonly #followers = new Set<Follower>();
  readonly #capacity: number;
  readonly #queueCap: number;
  readonly #node: string;
  readonly #version: string;
  readonly #started = Date.now();
  readonly #servers = new Set<grpc.Server>();
  #relay: { nodes: string[]; unavailable: string[] } | undefined;

  constructor(opts: ObserverOptions = {}) {
    this.#capacity = opts.capacity ?? 4095;
    this.#queueCap = opts.followerQueue ?? 2000;
    this.#node = opts.nodeName ?? '';
    this.#version = opts.version ?? '1.18.6+k8ops-stand-in';
    if (opts.relay)
      this.#relay = {
        nodes: [...opts.relay.nodes],
        unavailable: [...(opts.relay.unavailable ?? [])],
      };
  }

  /** Relay: the agents it can no longer reach (ServerStatus, and a NODE_UNAVAILABLE event). */
  setUnavailable(names: string[]): void {
    if (!this.#relay) return;
    const gone = names.filter((n) => !this.#relay!.unavailable.includes(n));
    this.#relay.unavailable = [...names];
    if (gone.length > 0) {
      const bytes = nodeStatusBytes('NODE_UNAVAILABLE', gone, 'connection refused');
      for (const f of this.#followers) this.#send(f, bytes, true);
    }
  }

  get seen(): number {
    return this.#seen;
  }

  /** Followers currently streaming. */
  get followers(): number {
    return this.#followers.size;
  }

  /** Add one flow to the ring and send it to every follower whose filters match. */
  push(flow: FlowObject): void {
    const bytes = encodeResponse({
      flow,
      node_name: flow.node_name ?? this.#node,
      time: flow.time,
    });
    this.pushFrame(flow, bytes, flow.time ? instant(flow.time) : undefined);
  }

  /**
   * Add one flow already encoded (`bytes`: its GetFlowsResponse, as `push` would encode it;
   * `flow`: what the filters match; `time`: the one in `bytes`, default now) — the demo's
   * feed re-sends flows it encoded once.
   */
  pushFrame(flow: FlowObject, bytes: Buffer, time?: Instant): void {
    this.#ring.push({ flow, bytes, time: time ?? instant(undefined) });
    if (this.#ring.length > this.#capacity) this.#ring.shift();
    this.#seen++;
    for (const f of this.#followers) if (matches(f.req, flow)) this.#send(f, bytes);
  }

  /**
   * Count `n` flows as seen that the ring no longer holds (the demo's feed, catching up after
   * a pause, stores only what a ring of this capacity would still have).
   */
  skipSeen(n: number): void {
    if (n > 0) this.#seen += n;
  }

  /** A LostEvent to every follower (they ignore filters); `node`: the agent's (relay). */
  pushLost(count: number, source = 'PERF_EVENT_RING_BUFFER', cpu?: number, node?: string): void {
    const bytes = lostBytes(count, source, node ?? this.#node, cpu);
    for (const f of this.#followers) this.#send(f, bytes, true);
  }

  #send(f: Follower, bytes: Buffer, always = false): void {
    if (f.waiting) {
      if (f.queue.length >= this.#queueCap && !always) {
        f.lost++;
        return;
      }
      f.queue.push(bytes);
      return;
    }
    if (!f.call.write(bytes)) f.waiting = true;
  }

  #drain(f: Follower): void {
    f.waiting = false;
    if (f.lost > 0) {
      const n = f.lost;
      f.lost = 0;
      if (!f.call.write(lostBytes(n, 'HUBBLE_RING_BUFFER', this.#node))) {
        f.waiting = true;
        return;
      }
    }
    while (f.queue.length > 0) {
      const b = f.queue.shift() as Buffer;
      if (!f.call.write(b)) {
        f.waiting = true;
        return;
      }
    }
  }

  #getFlows(call: grpc.ServerWritableStream<GetFlowsRequestSpec, Buffer>): void {
    const req = call.request;
    this.requests.push(req);
    const pick = this.#ring.filter((s) => matches(req, s.flow));
    const n = Number(req.number ?? 0);
    const backlog = req.since
      ? sinceBacklog(pick, instant(req.since))
      : n === 0
        ? req.follow
          ? []
          : pick
        : req.first
          ? pick.slice(0, n)
          : pick.slice(Math.max(0, pick.length - n));
    if (!req.follow) {
      for (const s of backlog) call.write(s.bytes);
      call.end();
      return;
    }
    const f: Follower = { call, req, queue: [], lost: 0, waiting: false };
    // Relay announces the agents it streams from before any flow.
    if (this.#relay) {
      const up = this.#relay.nodes.filter((n) => !this.#relay!.unavailable.includes(n));
      this.#send(f, nodeStatusBytes('NODE_CONNECTED', up, ''), true);
    }
    // The backlog is what the ring holds (bounded by it): an agent's ring reader hands it
    // over at the client's pace and loses only what the writer laps, so it is queued whole.
    for (const s of backlog) this.#send(f, s.bytes, true);
    this.#followers.add(f);
    call.on('drain', () => this.#drain(f));
    const done = () => this.#followers.delete(f);
    call.on('cancelled', done);
    call.on('close', done);
    call.on('error', done);
  }

  #status(): Buffer {
    const r = this.#relay;
    return encodeServerStatus({
      num_flows: this.#ring.length,
      max_flows: this.#capacity,
      seen_flows: this.#seen,
      uptime_ns: (Date.now() - this.#started) * 1e6,
      version: this.#version,
      flows_rate: 0,
      ...(r
        ? {
            num_connected_nodes: { value: r.nodes.length - r.unavailable.length },
            num_unavailable_nodes: { value: r.unavailable.length },
            unavailable_nodes: r.unavailable,
          }
        : {}),
    });
  }

  /**
   * Listen on `unix:/path` or `127.0.0.1:0`; resolves with the port (0 for a unix socket).
   * With `tls`, the server speaks TLS (as hubble-relay with its server TLS on).
   */
  async listen(address: string, tls?: ObserverServerTls): Promise<number> {
    return (await this.open(address, tls)).port;
  }

  /**
   * One more listener on the same ring and followers (`listen`), closed on its own: a
   * connection that goes away leaves the server — its ring, counters and uptime — running,
   * as a real agent or relay outlives any one client.
   */
  async open(address: string, tls?: ObserverServerTls): Promise<{ port: number; close(): void }> {
    const server = new grpc.Server();
    server.addService(
      {
        GetFlows: {
          path: GET_FLOWS,
          requestStream: false,
          responseStream: true,
          requestSerialize: (x: Buffer) => x,
          requestDeserialize: (b: Buffer) => decodeGetFlowsRequest(b),
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
        ServerStatus: {
          path: SERVER_STATUS,
          requestStream: false,
          responseStream: false,
          requestSerialize: (x: Buffer) => x,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      } as grpc.ServiceDefinition,
      {
        GetFlows: (call: grpc.ServerWritableStream<GetFlowsRequestSpec, Buffer>) =>
          this.#getFlows(call),
        ServerStatus: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, this.#status()),
      },
    );
    this.#servers.add(server);
    const close = () => {
      this.#servers.delete(server);
      server.forceShutdown();
    };
    return new Promise((resolve, reject) =>
      server.bindAsync(address, serverCredentials(tls), (err, port) =>
        err ? reject(err) : resolve({ port, close }),
      ),
    );
  }

  /**
   * End every follower's stream with a gRPC error status (the agent answers a bad filter
   * value with code Unknown, 2).
   */
  failFollowers(code: number, details: string): void {
    for (const f of this.#followers) f.call.emit('error', { code, details });
    this.#followers.clear();
  }

  /** Stop at once: every stream ends with an error at its client. */
  close(): void {
    for (const f of this.#followers) f.call.destroy();
    this.#followers.clear();
    for (const s of this.#servers) s.forceShutdown();
    this.#servers.clear();
  }
}

/** A Timestamp object (protobufjs, longs as numbers) as an Instant; none: now. */
function instant(t: { seconds?: unknown; nanos?: unknown } | undefined): Instant {
  if (!t) {
    const ms = Date.now();
    return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
  }
  return { seconds: Number(t.seconds ?? 0), nanos: Number(t.nanos ?? 0) };
}

/**
 * The agent's `since` (cilium pkg/hubble/observer `newRingReader`): rewind from the newest
 * matching flow until one older than `since`; what follows it is sent, oldest first.
 */
function sinceBacklog(pick: Stored[], since: Instant): Stored[] {
  let i = pick.length;
  while (i > 0) {
    const t = pick[i - 1]!.time;
    if (t.seconds < since.seconds || (t.seconds === since.seconds && t.nanos < since.nanos)) break;
    i--;
  }
  return pick.slice(i);
}

function serverCredentials(tls: ObserverServerTls | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const buf = (x: string | Buffer) => (typeof x === 'string' ? Buffer.from(x) : x);
  return grpc.ServerCredentials.createSsl(
    tls.clientCa ? buf(tls.clientCa) : null,
    [{ private_key: buf(tls.key), cert_chain: buf(tls.cert) }],
    tls.clientCa !== undefined,
  );
}

/** A relay's NodeStatusEvent (relay.proto), as GetFlowsResponse.node_status. */
function nodeStatusBytes(state: string, nodes: string[], message: string): Buffer {
  return encodeResponse({
    node_status: { state_change: state, node_names: nodes, message },
    time: sec(Date.now()),
  });
}

function lostBytes(count: number, source: string, node: string, cpu?: number): Buffer {
  return encodeResponse({
    lost_events: {
      source,
      num_events_lost: count,
      ...(cpu !== undefined ? { cpu: { value: cpu } } : {}),
    },
    node_name: node,
    time: sec(Date.now()),
  });
}

// ---- server-side filters (hubble pkg/hubble/filters, as far as k8ops sends them) --------

const enumNum = (m: ReadonlyMap<string, number>, v: unknown): number =>
  typeof v === 'number' ? v : (m.get(String(v)) ?? 0);

/** `ns/prefix` (a value without a slash: namespace `default`, pod-name prefix). */
function podMatches(values: string[], ep: FlowObject | undefined): boolean {
  return values.some((v) => {
    const [ns, prefix] = v.includes('/')
      ? [v.slice(0, v.indexOf('/')), v.slice(v.indexOf('/') + 1)]
      : ['default', v];
    return (ep?.namespace ?? '') === ns && String(ep?.pod_name ?? '').startsWith(prefix);
  });
}

function ports(l4: FlowObject | undefined): [number, number] {
  const x = l4?.TCP ?? l4?.UDP ?? l4?.SCTP;
  return x ? [Number(x.source_port ?? 0), Number(x.destination_port ?? 0)] : [0, 0];
}

const glob = (pattern: string, s: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(s) ||
  (!pattern.includes('*') && !pattern.includes('/') && s.endsWith(`/${pattern}`));

function filterMatches(f: FlowFilterSpec, flow: FlowObject): boolean {
  if (f.source_pod?.length && !podMatches(f.source_pod, flow.source)) return false;
  if (f.destination_pod?.length && !podMatches(f.destination_pod, flow.destination)) return false;
  if (f.source_ip?.length && !f.source_ip.includes(flow.IP?.source)) return false;
  if (f.destination_ip?.length && !f.destination_ip.includes(flow.IP?.destination)) return false;
  if (f.verdict?.length && !f.verdict.includes(enumNum(VERDICT_VALUES, flow.verdict))) return false;
  const [sp, dp] = ports(flow.l4);
  if (f.source_port?.length && !f.source_port.includes(String(sp))) return false;
  if (f.destination_port?.length && !f.destination_port.includes(String(dp))) return false;
  if (f.node_name?.length && !f.node_name.some((p) => glob(p, String(flow.node_name ?? ''))))
    return false;
  if (
    f.traffic_direction?.length &&
    !f.traffic_direction.includes(enumNum(DIRECTION_VALUES, flow.traffic_direction))
  )
    return false;
  if (f.drop_reason_desc?.length) {
    if (enumNum(VERDICT_VALUES, flow.verdict) !== 2) return false;
    if (!f.drop_reason_desc.includes(enumNum(DROP_REASON_VALUES, flow.drop_reason_desc)))
      return false;
  }
  if (f.protocol?.length) {
    const l4 = Object.keys(flow.l4 ?? {})[0]?.toLowerCase() ?? '';
    if (!f.protocol.some((p) => p.toLowerCase() === l4)) return false;
  }
  return true;
}

/** Whether a flow passes a request's filters: ANY whitelist entry and NO blacklist entry. */
export function matches(req: GetFlowsRequestSpec, flow: FlowObject): boolean {
  const wl = req.whitelist ?? [];
  if (wl.length > 0 && !wl.some((f) => filterMatches(f, flow))) return false;
  return !(req.blacklist ?? []).some((f) => filterMatches(f, flow));
}
