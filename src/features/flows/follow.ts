/**
 * One Hubble stream: a forward to an Observer API (endpoint.ts: a node's hubble.sock, or
 * hubble-relay through a node), a GetFlows call (follow, with the query's whitelist sent
 * server-side), ServerStatus every few seconds, and reconnection with backoff when the
 * stream, the tunnel or the server goes away. What arrives is decoded (codec.ts) into a
 * bounded ring and aggregates: memory is bounded whatever the flow rate; gRPC's flow
 * control holds a sender back while this process is busy. LostEvents are counted and kept,
 * never dropped silently.
 */
import type { LocalForward } from '../../store/io.js';
import { visible } from '../../store/sanitise.js';
import { FlowAggregate, Ring } from './aggregate.js';
import type { ObserverClient } from './client.js';
import type { HubbleEndpoint } from './endpoint.js';
import type { FlowQuery } from './filter.js';
import type { FlowRecord, LostEventRecord, NodeStatusRecord, ServerStatusRecord } from './types.js';

// grpc-js and protobufjs load with the first stream: a command without flows never compiles them.
type Wire = [typeof import('./client.js'), typeof import('./codec.js')];
let wire: Promise<Wire> | undefined;
const loadWire = (): Promise<Wire> =>
  (wire ??= Promise.all([import('./client.js'), import('./codec.js')]));

export type { SocketDialer } from './endpoint.js';

/**
 * `suspended`: not following while no pane shows the flows (the console's idle CPU, issue
 * 13); `wake` follows again from where it stopped (`since`).
 */
export type FollowState = 'connecting' | 'streaming' | 'retrying' | 'suspended' | 'stopped';

/** An instant as Hubble's Timestamp has it. */
interface Instant {
  seconds: number;
  nanos: number;
}
const instantOf = (f: FlowRecord): Instant => ({
  seconds: Math.floor(f.timeMs / 1000),
  nanos: f.nanos,
});
const cmpInstant = (a: Instant, b: Instant): number => a.seconds - b.seconds || a.nanos - b.nanos;
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && Buffer.compare(a, b) === 0;

/**
 * Where a woken stream picks up: `since` the newest flow held (Hubble replays what its ring
 * still has from that instant on, the instant included), the flows already held at that
 * very instant (not counted twice), and the last ServerStatus before (to tell how many
 * flows passed while not followed beyond what the ring keeps).
 */
interface Resume {
  since: Instant;
  held: Uint8Array[];
  fromMs: number;
  seenBefore: number | undefined;
}

/** The LostEvent source a woken stream reports flows under that Hubble's ring no longer held. */
export const NOT_FOLLOWED = 'K8OPS_NOT_FOLLOWED';

export interface FollowOptions {
  /** Flows kept (the ring). */
  capacity?: number;
  /** Flows asked for before following (`number`). */
  backlog?: number;
  statusIntervalMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called for every decoded flow (k8ops flows --follow prints them). */
  onFlow?(f: FlowRecord): void;
  /** Called for every LostEvent, in stream order with the flows. */
  onLost?(l: LostEventRecord): void;
}

/** What a node's stream looks like at one moment (the flows source's value). */
export interface FollowSnapshot {
  state: FollowState;
  error?: string;
  /** Successful GetFlows calls so far (>1: it reconnected). */
  connects: number;
  /** Responses that did not decode (counted, shown, skipped). */
  malformed: number;
  /** Flows received since start (all queries). */
  received: number;
  /** The newest flows, newest first. */
  flows: FlowRecord[];
  counts: ReturnType<FlowAggregate['counts']>;
  rate: ReturnType<FlowAggregate['rate']>;
  talkers: ReturnType<FlowAggregate['topTalkers']>;
  lost: ReturnType<FlowAggregate['lost']['newest']>;
  nodeStatus?: NodeStatusRecord;
  server?: ServerStatusRecord;
  serverError?: string;
  /** The query the current stream follows. */
  query: string;
}

/**
 * Messages held undecoded (a follower without `onFlow`/`onLost`: the console's) are decoded
 * when this many are held, or this many bytes, if nobody reads the follower before.
 */
export const PENDING_MAX = 256;
const PENDING_BYTES = 1024 * 1024;

export class FlowFollower {
  state: FollowState = 'connecting';
  error: string | undefined;
  connects = 0;
  server: ServerStatusRecord | undefined;
  serverError: string | undefined;
  /** Bumped on every change a reader would see (a message held undecoded too). */
  version = 0;

  #malformed = 0;
  #received = 0;
  #ring: Ring<FlowRecord>;
  #agg = new FlowAggregate();
  #nodeStatus: NodeStatusRecord | undefined;
  /**
   * Messages received and not decoded yet, in stream order (issue 13: idle CPU). Without
   * `onFlow`/`onLost` nothing needs a message the moment it comes, so they are decoded in
   * one run when the follower is read (its ring, counts, summaries: every getter below
   * decodes them first) or when PENDING_MAX are held: a few hundred decodes in a row run
   * at about a third of the CPU of the same decodes spread over as many network reads.
   */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  #query: FlowQuery;
  #forward: LocalForward | undefined;
  #client: ObserverClient | undefined;
  #stream: { cancel(): void; pause(): void; resume(): void } | undefined;
  #paused = false;
  #decode: Wire[1]['decodeResponse'] | undefined;
  #timer: NodeJS.Timeout | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  #backoff: number;
  #generation = 0;
  #resume: Resume | undefined;
  /** `received` when the last ServerStatus came (what the server saw since is at least the rest). */
  #receivedAtStatus = 0;
  /** Set by `wake` until the first ServerStatus of a stream after it (the gap's estimate). */
  #gap: { seenBefore: number; fromMs: number } | undefined;
  readonly #opts: Required<Omit<FollowOptions, 'onFlow' | 'onLost'>> &
    Pick<FollowOptions, 'onFlow' | 'onLost'>;

  /** Where the current (or last) stream goes: the endpoint's label once opened. */
  label: string;

  constructor(
    readonly endpoint: HubbleEndpoint,
    query: FlowQuery,
    opts: FollowOptions = {},
  ) {
    this.label = endpoint.label;
    this.#opts = {
      capacity: opts.capacity ?? 10_000,
      backlog: opts.backlog ?? 200,
      statusIntervalMs: opts.statusIntervalMs ?? 5000,
      minBackoffMs: opts.minBackoffMs ?? 500,
      maxBackoffMs: opts.maxBackoffMs ?? 10_000,
      onFlow: opts.onFlow,
      onLost: opts.onLost,
    };
    this.#backoff = this.#opts.minBackoffMs;
    this.#ring = new Ring(this.#opts.capacity);
    this.#query = query;
  }

  get query(): FlowQuery {
    return this.#query;
  }

  /** The newest flows (a bounded ring). */
  get ring(): Ring<FlowRecord> {
    this.#decodePending();
    return this.#ring;
  }

  /** Counts, rate, top talkers and lost events of the flows since start (or the query). */
  get agg(): FlowAggregate {
    this.#decodePending();
    return this.#agg;
  }

  /** Flows received since start (all queries). */
  get received(): number {
    this.#decodePending();
    return this.#received;
  }

  /** Responses that did not decode (counted, shown, skipped). */
  get malformed(): number {
    this.#decodePending();
    return this.#malformed;
  }

  /** Relay's last NodeStatusEvent. */
  get nodeStatus(): NodeStatusRecord | undefined {
    this.#decodePending();
    return this.#nodeStatus;
  }

  start(): void {
    if (this.state === 'stopped') return;
    void this.#connect();
  }

  /** Follow another query: the ring and counts start over, the stream restarts. */
  setQuery(q: FlowQuery): void {
    if (JSON.stringify(q.whitelist) === JSON.stringify(this.#query.whitelist)) return;
    // What the old query's stream brought is counted (`received`: all queries), then dropped.
    this.#decodePending();
    this.#query = q;
    this.#ring.clear();
    this.#agg = new FlowAggregate();
    this.version++;
    // Nothing held any more to pick up from: the new query starts from now (as live).
    this.#resume = undefined;
    this.#gap = undefined;
    if (this.state === 'stopped' || this.state === 'suspended') return;
    this.#teardown();
    this.#backoff = this.#opts.minBackoffMs;
    void this.#connect();
  }

  /**
   * Stop reading (a slow consumer, e.g. a full stdout pipe): gRPC flow control then holds
   * the agent back, whose ring overwrites what this stream did not read — announced as a
   * LostEvent when reading resumes. Nothing is buffered here meanwhile.
   */
  pause(): void {
    this.#paused = true;
    this.#stream?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#stream?.resume();
  }

  /**
   * Stop following (no pane shows the flows): the stream, its tunnel and the status poll
   * close; the ring, counts and rate stay as they are. Re-running it is harmless.
   */
  suspend(): void {
    if (this.state === 'stopped' || this.state === 'suspended') return;
    // The newest instant held (a relay's merge may deliver a little out of order).
    const held = this.ring.newest(this.ring.size);
    let since: Instant | undefined;
    for (const f of held) {
      const t = instantOf(f);
      if (!since || cmpInstant(t, since) > 0) since = t;
    }
    const now = Date.now();
    since ??= { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 };
    const at = since;
    this.#resume = {
      since: at,
      held: held.filter((f) => cmpInstant(instantOf(f), at) === 0).map((f) => f.raw),
      fromMs: now,
      // seen_flows now, estimated: the last status's plus what arrived since.
      seenBefore: this.server && this.server.seenFlows + this.received - this.#receivedAtStatus,
    };
    void this.#teardown();
    this.state = 'suspended';
    this.error = undefined;
    this.version++;
  }

  /** Follow again after `suspend`: Hubble replays what its ring holds since the newest flow held. */
  wake(): void {
    if (this.state !== 'suspended') return;
    const r = this.#resume;
    if (r?.seenBefore !== undefined) this.#gap = { seenBefore: r.seenBefore, fromMs: r.fromMs };
    this.#backoff = this.#opts.minBackoffMs;
    void this.#connect();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    this.version++;
    await this.#teardown();
  }

  #teardown(): Promise<void> {
    this.#generation++;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#statusTimer) clearInterval(this.#statusTimer);
    this.#timer = undefined;
    this.#statusTimer = undefined;
    this.#stream?.cancel();
    this.#stream = undefined;
    this.#client?.close();
    this.#client = undefined;
    const fwd = this.#forward;
    this.#forward = undefined;
    return fwd ? fwd.close().catch(() => {}) : Promise.resolve();
  }

  async #connect(): Promise<void> {
    const gen = ++this.#generation;
    this.state = this.error || (this.connects > 0 && !this.#resume) ? 'retrying' : 'connecting';
    let fwd: LocalForward;
    let opened: Awaited<ReturnType<HubbleEndpoint['open']>>;
    let Client: typeof ObserverClient;
    try {
      const [c, codec] = await loadWire();
      this.#decode = codec.decodeResponse;
      Client = c.ObserverClient;
      opened = await this.endpoint.open({ timeoutMs: 10_000 });
      fwd = opened.forward;
    } catch (e) {
      if (gen !== this.#generation) return;
      this.#failed(visible(e instanceof Error ? e.message : String(e)));
      return;
    }
    if (gen !== this.#generation) {
      void fwd.close().catch(() => {});
      return;
    }
    this.#forward = fwd;
    if (opened.label !== this.label) {
      this.label = opened.label;
      this.version++;
    }
    // A relay's errors name it and the node it is dialled through; a socket's are the node's.
    const prefix = this.endpoint.failed ? `${opened.label}: ` : '';
    const client = new Client(fwd.address, opened.tls);
    this.#client = client;
    let first = true;
    const resume = this.#resume;
    this.#stream = client.getFlows(
      resume
        ? { since: resume.since, follow: true, whitelist: this.#query.whitelist }
        : {
            number: this.connects === 0 ? this.#opts.backlog : 0,
            follow: true,
            whitelist: this.#query.whitelist,
          },
      {
        data: (b) => {
          if (gen !== this.#generation) return;
          if (first) {
            first = false;
            this.#streaming();
          }
          this.#onData(b);
        },
        end: (e) => {
          if (gen !== this.#generation) return;
          // Why the tunnel's connection failed (the target refused it, no such socket), if so.
          const ssh = fwd.lastError?.();
          this.endpoint.failed?.();
          this.#failed(
            `${prefix}${e ? `hubble: ${e.message || `gRPC status ${e.code}`}` : 'hubble ended the stream'}${ssh ? ` (SSH: ${ssh})` : ''}`,
          );
        },
      },
    );
    if (this.#paused) this.#stream.pause();
    const poll = async () => {
      const s = await client.serverStatus(5000);
      if (gen !== this.#generation) return;
      if ('kind' in s) this.serverError = s.message;
      else {
        this.server = s;
        this.serverError = undefined;
        this.#receivedAtStatus = this.received;
        this.#afterGap(s);
        // A status answer proves the channel works even before the first flow.
        if (first) {
          first = false;
          this.#streaming();
        }
      }
      this.version++;
    };
    void poll();
    this.#statusTimer = setInterval(() => void poll(), this.#opts.statusIntervalMs);
    this.#statusTimer.unref?.();
  }

  /**
   * The first ServerStatus after a wake: flows Hubble saw while not followed beyond what its
   * ring keeps (seen_flows' growth past max_flows) could not be replayed — reported as a
   * lost event (NOT_FOLLOWED), as Hubble reports its own overwritten flows. An estimate:
   * the counters are before any filter (at most that many were flows this query follows;
   * without a filter, exact but for flows in flight at the suspend), and with a relay they
   * sum the agents', so one busy agent's loss may not show.
   */
  #afterGap(s: ServerStatusRecord): void {
    const gap = this.#gap;
    if (!gap) return;
    this.#gap = undefined;
    const over = s.seenFlows - gap.seenBefore - s.maxFlows;
    if (over <= 0) return;
    const lost: LostEventRecord = {
      source: NOT_FOLLOWED,
      count: over,
      cpu: undefined,
      node: this.label,
      timeMs: gap.fromMs,
    };
    this.agg.addLost(lost);
    this.#opts.onLost?.(lost);
  }

  #streaming(): void {
    if (this.state !== 'streaming') this.connects++;
    this.state = 'streaming';
    this.error = undefined;
    this.#backoff = this.#opts.minBackoffMs;
    this.version++;
  }

  #failed(message: string): void {
    if (this.state === 'stopped') return;
    void this.#teardown();
    this.state = 'retrying';
    this.error = message;
    this.version++;
    const wait = this.#backoff;
    this.#backoff = Math.min(this.#opts.maxBackoffMs, this.#backoff * 2);
    const gen = this.#generation;
    this.#timer = setTimeout(() => {
      if (gen === this.#generation && this.state !== 'stopped') void this.#connect();
    }, wait);
    this.#timer.unref?.();
  }

  #onData(b: Buffer): void {
    if (!this.#decode) return;
    // A copy: grpc-js may hand out a view into a larger buffer, which the ring would pin.
    const bytes: Uint8Array = Uint8Array.prototype.slice.call(b);
    this.version++;
    if (this.#opts.onFlow || this.#opts.onLost) {
      this.#apply(bytes);
      return;
    }
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pending.length >= PENDING_MAX || this.#pendingBytes >= PENDING_BYTES)
      this.#decodePending();
  }

  /** Decode what is held, in order (see `#pending`). */
  #decodePending(): void {
    if (this.#pending.length === 0) return;
    const held = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (const b of held) this.#apply(b);
  }

  /** One message into the ring, counts and callbacks. */
  #apply(bytes: Uint8Array): void {
    const ev = this.#decode!(bytes);
    switch (ev.kind) {
      case 'flow':
        if (this.#resume && this.#replayed(ev.flow)) return;
        this.#received++;
        this.#ring.push(ev.flow);
        this.#agg.add(ev.flow);
        this.#opts.onFlow?.(ev.flow);
        return;
      case 'lost':
        this.#agg.addLost(ev.lost);
        this.#opts.onLost?.(ev.lost);
        return;
      case 'node-status':
        this.#nodeStatus = ev.status;
        return;
      case 'error':
        this.#malformed++;
        return;
      default:
        return;
    }
  }

  /**
   * While a woken stream replays: whether `f` is a flow already held (at the instant it
   * picks up from, the bytes equal). The first flow past that instant ends the check.
   */
  #replayed(f: FlowRecord): boolean {
    const r = this.#resume!;
    const c = cmpInstant(instantOf(f), r.since);
    if (c > 0) {
      this.#resume = undefined;
      return false;
    }
    return c < 0 || r.held.some((b) => sameBytes(b, f.raw));
  }

  snapshot(rows: number): FollowSnapshot {
    return this.status({
      flows: this.ring.newest(rows),
      rate: this.agg.rate(),
      talkers: this.agg.topTalkers(10),
      lost: this.agg.lost.newest(20),
    });
  }

  /**
   * The stream's state and counters now (cheap: no sort, no copy of the ring) with the
   * given rows and summaries — `snapshot`'s, or earlier ones kept while nobody shows them.
   */
  status(summary: Pick<FollowSnapshot, 'flows' | 'rate' | 'talkers' | 'lost'>): FollowSnapshot {
    const s: FollowSnapshot = {
      state: this.state,
      connects: this.connects,
      malformed: this.malformed,
      received: this.received,
      flows: summary.flows,
      counts: this.agg.counts(),
      rate: summary.rate,
      talkers: summary.talkers,
      lost: summary.lost,
      query: this.#query.text,
    };
    if (this.error !== undefined) s.error = this.error;
    if (this.server) s.server = this.server;
    if (this.serverError !== undefined) s.serverError = this.serverError;
    if (this.nodeStatus) s.nodeStatus = this.nodeStatus;
    return s;
  }
}
