/**
 * Access log lines → counts in 10-second buckets per host, kept for 15 minutes: requests,
 * per cache status, status classes, bytes (all, and served from cache), and upstream
 * response times in a log-scale histogram (p50/p95 within one bin: ±12 %). Lines that do
 * not parse are counted, with the last few kept (made visible, cut) to show why. The
 * aggregator is the only state; what it hands out (`snapshot()`) is plain frozen data the
 * pure model turns into windows.
 */
import { visible } from '../../store/sanitise.js';
import { CACHE_STATUSES, type ParseResult, parseAccessLine } from './parse.js';

export const BUCKET_MS = 10_000;
export const KEEP_MS = 15 * 60_000;
/** Distinct hosts per bucket; the rest are counted under OTHER_HOSTS. */
export const MAX_HOSTS = 256;
export const OTHER_HOSTS = '(other hosts)';
/** Upstream time histogram: bin i holds times ≤ HIST_BASE × HIST_RATIO^i seconds. */
export const HIST_BASE = 0.0005;
export const HIST_RATIO = 1.25;
export const HIST_BINS = 56;
const MAX_SAMPLES = 5;
const MAX_SAMPLE_CHARS = 200;
/** Cache statuses whose body came from the cache. */
export const FROM_CACHE: ReadonlySet<string> = new Set(['HIT', 'STALE', 'UPDATING', 'REVALIDATED']);
const FROM_CACHE_INDEX = CACHE_STATUSES.map((s) => FROM_CACHE.has(s));
const STALE_INDEX = CACHE_STATUSES.indexOf('STALE');

/** The last upstream tried answered 5xx, or none answered (`-`, `502, 504`, `200 : 502`). */
export function upstreamFailed(status: string): boolean {
  const last = status.split(/[,:]/).at(-1)?.trim() ?? '-';
  return last === '-' || last === '' || /^5\d\d$/.test(last);
}

export interface HostCounts {
  requests: number;
  /** Per CACHE_STATUSES index. */
  cache: number[];
  /** 1xx … 5xx. */
  classes: number[];
  bytes: number;
  cacheBytes: number;
  /** Sparse histogram of upstream response times: bin → count. */
  upstreamHist: Record<number, number>;
  upstreamCount: number;
  /** STALE served because the upstream failed (its status 5xx, or none), not a background refresh. */
  staleFailed: number;
}

export interface StatsBucket {
  start: number;
  hosts: Record<string, HostCounts>;
}

export interface UnparsedSample {
  error: string;
  line: string;
}

export interface NginxStats {
  /** Oldest first. */
  buckets: StatsBucket[];
  lines: number;
  parsed: number;
  unparseable: number;
  samples: UnparsedSample[];
  /** Lines the source lost before they were read (evicted from the ring, or a gap in the file). */
  missed: number;
  /** Epoch ms of the newest line read. */
  lastLineAt?: number;
}

export const emptyCounts = (): HostCounts => ({
  requests: 0,
  cache: CACHE_STATUSES.map(() => 0),
  classes: [0, 0, 0, 0, 0],
  bytes: 0,
  cacheBytes: 0,
  upstreamHist: {},
  upstreamCount: 0,
  staleFailed: 0,
});

export function histBin(seconds: number): number {
  if (!(seconds > HIST_BASE)) return 0;
  return Math.min(HIST_BINS - 1, Math.ceil(Math.log(seconds / HIST_BASE) / Math.log(HIST_RATIO)));
}

export const binUpper = (bin: number): number => HIST_BASE * HIST_RATIO ** bin;

export function addCounts(into: HostCounts, c: HostCounts): void {
  into.requests += c.requests;
  for (let i = 0; i < into.cache.length; i++) into.cache[i]! += c.cache[i] ?? 0;
  for (let i = 0; i < into.classes.length; i++) into.classes[i]! += c.classes[i] ?? 0;
  into.bytes += c.bytes;
  into.cacheBytes += c.cacheBytes;
  into.upstreamCount += c.upstreamCount;
  into.staleFailed += c.staleFailed ?? 0;
  for (const [b, n] of Object.entries(c.upstreamHist))
    into.upstreamHist[+b] = (into.upstreamHist[+b] ?? 0) + n;
}

/** The p-quantile (0..1) of a histogram, as its bin's upper bound in seconds. */
export function quantile(h: Record<number, number>, count: number, p: number): number | undefined {
  if (count <= 0) return undefined;
  const rank = Math.max(1, Math.ceil(p * count));
  let seen = 0;
  const bins = Object.keys(h)
    .map(Number)
    .sort((a, b) => a - b);
  for (const b of bins) {
    seen += h[b] ?? 0;
    if (seen >= rank) return binUpper(b);
  }
  return binUpper(bins.at(-1) ?? 0);
}

export interface AggregatorOptions {
  now?: () => number;
  parse?: (line: string) => ParseResult;
}

export class NginxAggregator {
  readonly #now: () => number;
  readonly #parse: (line: string) => ParseResult;
  readonly #buckets = new Map<number, Map<string, HostCounts>>();
  #lines = 0;
  #parsed = 0;
  #unparseable = 0;
  #missed = 0;
  #samples: UnparsedSample[] = [];
  #lastLineAt: number | undefined;
  #snap: NginxStats | undefined;
  /** Each bucket as the last snapshot froze it, and the buckets changed since (issue 13). */
  readonly #frozen = new Map<number, NginxStats['buckets'][number]>();
  readonly #dirty = new Set<number>();

  constructor(opts: AggregatorOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#parse = opts.parse ?? parseAccessLine;
  }

  /** One log line; `fallbackTime` (the kube API's timestamp) when the line has no time of its own. */
  add(line: string, fallbackTime?: number): void {
    this.#snap = undefined;
    this.#lines++;
    const r = this.#parse(line);
    if (!r.ok) {
      this.#unparseable++;
      const shown = visible(
        line.length > MAX_SAMPLE_CHARS ? line.slice(0, MAX_SAMPLE_CHARS) : line,
      );
      this.#samples.push({ error: r.error, line: shown });
      if (this.#samples.length > MAX_SAMPLES) this.#samples.shift();
      return;
    }
    this.#parsed++;
    const rec = r.record;
    const now = this.#now();
    const t = rec.time ?? fallbackTime ?? now;
    if (this.#lastLineAt === undefined || t > this.#lastLineAt) this.#lastLineAt = t;
    if (t < now - KEEP_MS) return;
    const start = t - (((t % BUCKET_MS) + BUCKET_MS) % BUCKET_MS);
    let hosts = this.#buckets.get(start);
    if (!hosts) {
      hosts = new Map();
      this.#buckets.set(start, hosts);
      this.#prune(now);
    }
    let c = hosts.get(rec.host);
    if (!c) {
      const key = hosts.size >= MAX_HOSTS ? OTHER_HOSTS : rec.host;
      c = hosts.get(key) ?? emptyCounts();
      hosts.set(key, c);
    }
    this.#dirty.add(start);
    c.requests++;
    c.cache[rec.cacheIndex]!++;
    const cls = Math.floor(rec.status / 100) - 1;
    if (cls >= 0 && cls < 5) c.classes[cls]!++;
    c.bytes += rec.bytes;
    if (FROM_CACHE_INDEX[rec.cacheIndex]) c.cacheBytes += rec.bytes;
    if (rec.cacheIndex === STALE_INDEX && upstreamFailed(rec.upstreamStatus)) c.staleFailed++;
    if (rec.upstreamTime !== undefined) {
      const b = histBin(rec.upstreamTime);
      c.upstreamHist[b] = (c.upstreamHist[b] ?? 0) + 1;
      c.upstreamCount++;
    }
  }

  /** Lines the source lost before they were read. */
  addMissed(n: number): void {
    if (n <= 0) return;
    this.#missed += n;
    this.#snap = undefined;
  }

  #prune(now: number): void {
    for (const start of this.#buckets.keys())
      if (start + BUCKET_MS <= now - KEEP_MS) {
        this.#buckets.delete(start);
        this.#frozen.delete(start);
      }
  }

  /**
   * Plain, frozen; the same object until a line is added. Only the buckets that changed
   * since the last snapshot are copied: the others are the same frozen objects as before.
   */
  snapshot(): NginxStats {
    if (this.#snap) return this.#snap;
    this.#prune(this.#now());
    const buckets = [...this.#buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([start, hosts]) => {
        const have = this.#frozen.get(start);
        if (have && !this.#dirty.has(start)) return have;
        const b = Object.freeze({
          start,
          hosts: Object.freeze(
            Object.fromEntries([...hosts.entries()].map(([h, c]) => [h, structuredClone(c)])),
          ),
        });
        this.#frozen.set(start, b);
        return b;
      });
    this.#dirty.clear();
    this.#snap = Object.freeze({
      buckets,
      lines: this.#lines,
      parsed: this.#parsed,
      unparseable: this.#unparseable,
      samples: [...this.#samples],
      missed: this.#missed,
      ...(this.#lastLineAt !== undefined ? { lastLineAt: this.#lastLineAt } : {}),
    });
    return this.#snap;
  }
}

/** Reads a KubeLogView-like ring by sequence number: each line once, losses counted. */
export class RingReader {
  #lastSeq = 0;
  constructor(readonly agg: NginxAggregator) {}

  read(view: {
    lines: readonly { seq: number; text: string; time?: string | undefined }[];
    total: number;
  }): number {
    const lines = view.lines;
    if (lines.length === 0 || view.total <= this.#lastSeq) {
      if (view.total < this.#lastSeq) this.#lastSeq = 0; // a new ring (context switched)
      return 0;
    }
    const first = lines[0]!.seq;
    if (first > this.#lastSeq + 1) this.agg.addMissed(first - this.#lastSeq - 1);
    let n = 0;
    // The newest lines are at the end: find where the unread ones start.
    let i = lines.length - 1;
    while (i > 0 && lines[i - 1]!.seq > this.#lastSeq) i--;
    for (; i < lines.length; i++) {
      const l = lines[i]!;
      if (l.seq <= this.#lastSeq) continue;
      const t = l.time ? Date.parse(l.time) : Number.NaN;
      this.agg.add(l.text, Number.isFinite(t) ? t : undefined);
      this.#lastSeq = l.seq;
      n++;
    }
    return n;
  }
}

/**
 * Reads successive `tail -n N` outputs of a file: only the lines after the previous read's
 * last ones (matched by up to 3 trailing lines; each line carries a unique `$req_id`). When they are not found, every line is new
 * and a possible gap is counted (rotation, or more than N lines between two reads).
 */
export class TailReader {
  #tail: string[] = [];
  #first = true;
  constructor(readonly agg: NginxAggregator) {}

  read(output: string, requested: number): number {
    const lines = output.split('\n');
    if (lines.at(-1) === '') lines.pop();
    let start = 0;
    if (this.#tail.length > 0) {
      const k = this.#tail.length;
      start = -1;
      // The newest position whose line ends the previous read (and whose preceding lines,
      // as far as this output goes back, match it too).
      for (let i = lines.length - 1; i >= 0; i--) {
        let match = true;
        for (let j = 0; j < k && i - j >= 0; j++) {
          if (lines[i - j] !== this.#tail[k - 1 - j]) {
            match = false;
            break;
          }
        }
        if (match) {
          start = i + 1;
          break;
        }
      }
      if (start === -1) {
        start = 0;
        if (lines.length >= requested) this.agg.addMissed(1);
      }
    }
    if (this.#first) this.#first = false;
    for (let i = start; i < lines.length; i++) this.agg.add(lines[i]!);
    if (lines.length > 0) this.#tail = lines.slice(-3);
    return lines.length - start;
  }
}
