/**
 * The NGINX model: the aggregated access log (the controller log ring, or the nodes' log
 * files) turned into windows of 1, 5 and 15 minutes per host and overall — hit ratio,
 * counts per cache status, bytes served from cache, request rate, status classes, upstream
 * time p50/p95 — a 15-minute request sparkline, the lines that did not parse, and the ACME
 * certificates of the ingress. Pure (time passed in); shared by the pane and `k8ops nginx`.
 */
import { CLUSTER_SCOPE } from '../../store/types.js';
import type { FeatureDef, ModelInput } from '../types.js';
import { ACME_READS, type AcmeModel, readAcme } from './acme.js';
import {
  addCounts,
  BUCKET_MS,
  emptyCounts,
  FROM_CACHE,
  type HostCounts,
  type NginxStats,
  quantile,
  type StatsBucket,
  type UnparsedSample,
} from './aggregate.js';
import type { NodeCacheValue } from './cache.js';
import { CACHE_STATUSES, type CacheStatus } from './parse.js';
import {
  NGINX_CACHE,
  NGINX_FILE,
  NGINX_RING,
  nginxCacheSource,
  nginxFileSource,
  nginxRingSource,
} from './sources.js';

export const WINDOWS_MIN = [1, 5, 15] as const;
/** Sparkline: 30 columns of 30 s over 15 minutes. */
export const SPARK_COLUMNS = 30;
export const SPARK_STEP_MS = 30_000;
/** A host "never caches" when none of at least this many requests in 15 min came from the cache. */
export const NEVER_CACHES_MIN = 20;

export interface WindowStats {
  minutes: number;
  requests: number;
  /** Requests per second over the window. */
  rate: number;
  /** (HIT + STALE + UPDATING + REVALIDATED) / requests with a cache status; null without any. */
  hitRatio: number | null;
  cache: Record<CacheStatus, number>;
  /** `1xx` … `5xx`. */
  classes: Record<string, number>;
  bytes: number;
  /** Bytes whose body came from the cache (HIT, STALE, UPDATING, REVALIDATED). */
  cacheBytes: number;
  /** Seconds (upper bound of the histogram bin); null without upstream requests. */
  upstreamP50: number | null;
  upstreamP95: number | null;
  /** STALE responses served because the upstream failed (5xx or none), not a background refresh. */
  staleFailed: number;
}

export interface HostStats {
  host: string;
  windows: WindowStats[];
  /** Requests per SPARK_STEP_MS, oldest first. */
  spark: number[];
  /** Many requests in 15 min, none from the cache. */
  neverCaches: boolean;
}

export type NginxSourceKind = 'ring' | 'file' | 'none';

export interface NginxModel {
  now: number;
  source: NginxSourceKind;
  /** Where the lines come from, one line (pods followed, or files on nodes). */
  sourceText: string;
  /** Why lines are not coming (kube log follow failing, a node's tail failing). */
  errors: string[];
  pending: boolean;
  overall: HostStats;
  /** By 15-minute requests, most first. */
  hosts: HostStats[];
  lines: number;
  parsed: number;
  unparseable: number;
  samples: UnparsedSample[];
  missed: number;
  lastLineAt?: number;
  acme: AcmeModel;
  /** The proxy cache's size on disk per node and zone (cache.ts), against max_size. */
  cache: CacheModel;
}

/** One cache zone of one nginx (a controller replica, or nginx on a node). */
export interface CacheRow {
  node: string;
  pid: number;
  zone: string;
  /** The proxy_cache_path directory, as nginx sees it. */
  path: string;
  bytes?: number;
  maxBytes?: number;
  /** bytes / maxBytes. */
  fill?: number;
  error?: string;
  /** The inventory's `ingress.cacheZone` (the zone the hit counts are about). */
  configured: boolean;
}

export interface CacheModel {
  rows: CacheRow[];
  /** Nodes whose cache could not be read (pgrep, the config, du). */
  errors: string[];
  /** Nodes not answered yet. */
  pending: number;
  /** Nodes where an nginx master runs. */
  nginxNodes: number;
}

/** The cache rows from every node's `nginx.cache` snapshot. */
export function cacheModel(
  inventory: ModelInput['inventory'],
  read: ModelInput['read'],
): CacheModel {
  const out: CacheModel = { rows: [], errors: [], pending: 0, nginxNodes: 0 };
  for (const n of inventory.nodes) {
    const snap = read<NodeCacheValue>(n.name, NGINX_CACHE);
    if (snap.error) out.errors.push(`${n.name}: ${snap.error.message}`);
    const v = snap.value;
    if (!v) {
      if (!snap.error) out.pending++;
      continue;
    }
    if (v.masters.length > 0) out.nginxNodes++;
    for (const m of v.masters) {
      if (m.error) out.errors.push(`${n.name}: nginx ${m.pid}: ${m.error}`);
      for (const z of m.zones) {
        const row: CacheRow = {
          node: n.name,
          pid: m.pid,
          zone: z.zone,
          path: z.path,
          configured: z.zone === inventory.ingress.cacheZone,
        };
        if (z.bytes !== undefined) row.bytes = z.bytes;
        if (z.maxBytes !== undefined) row.maxBytes = z.maxBytes;
        if (z.bytes !== undefined && z.maxBytes) row.fill = z.bytes / z.maxBytes;
        if (z.error) row.error = z.error;
        out.rows.push(row);
      }
    }
  }
  out.rows.sort(
    (a, b) =>
      Number(b.configured) - Number(a.configured) ||
      a.zone.localeCompare(b.zone) ||
      a.node.localeCompare(b.node) ||
      a.pid - b.pid,
  );
  return out;
}

const CLASS_NAMES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

function windowOf(c: HostCounts, minutes: number): WindowStats {
  const cache = Object.fromEntries(CACHE_STATUSES.map((s, i) => [s, c.cache[i] ?? 0])) as Record<
    CacheStatus,
    number
  >;
  const withStatus = c.requests - cache['-'];
  const fromCache = CACHE_STATUSES.reduce(
    (s, st, i) => s + (FROM_CACHE.has(st) ? (c.cache[i] ?? 0) : 0),
    0,
  );
  return {
    minutes,
    requests: c.requests,
    rate: c.requests / (minutes * 60),
    hitRatio: withStatus > 0 ? fromCache / withStatus : null,
    cache,
    classes: Object.fromEntries(CLASS_NAMES.map((n, i) => [n, c.classes[i] ?? 0])),
    bytes: c.bytes,
    cacheBytes: c.cacheBytes,
    upstreamP50: quantile(c.upstreamHist, c.upstreamCount, 0.5) ?? null,
    upstreamP95: quantile(c.upstreamHist, c.upstreamCount, 0.95) ?? null,
    staleFailed: c.staleFailed,
  };
}

/** Every stats document merged (several nodes' files), buckets by start. */
function mergeStats(all: readonly NginxStats[]): NginxStats {
  if (all.length === 1) return all[0]!;
  const buckets = new Map<number, Record<string, HostCounts>>();
  const out: NginxStats = {
    buckets: [],
    lines: 0,
    parsed: 0,
    unparseable: 0,
    samples: [],
    missed: 0,
  };
  for (const s of all) {
    out.lines += s.lines;
    out.parsed += s.parsed;
    out.unparseable += s.unparseable;
    out.missed += s.missed;
    out.samples.push(...s.samples);
    if (s.lastLineAt !== undefined) out.lastLineAt = Math.max(out.lastLineAt ?? 0, s.lastLineAt);
    for (const b of s.buckets) {
      const into = buckets.get(b.start) ?? {};
      for (const [h, c] of Object.entries(b.hosts)) {
        const cur = into[h] ?? emptyCounts();
        addCounts(cur, c);
        into[h] = cur;
      }
      buckets.set(b.start, into);
    }
  }
  out.samples = out.samples.slice(-5);
  out.buckets = [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([start, hosts]) => ({ start, hosts }));
  return out;
}

interface Sums {
  w: HostCounts[];
  spark: number[];
}

const emptySums = (): Sums => ({
  w: WINDOWS_MIN.map(() => emptyCounts()),
  spark: new Array(SPARK_COLUMNS).fill(0),
});

const copyCounts = (c: HostCounts): HostCounts => ({
  ...c,
  cache: [...c.cache],
  classes: [...c.classes],
  upstreamHist: { ...c.upstreamHist },
});

const copySums = (x: Sums): Sums => ({ w: x.w.map(copyCounts), spark: [...x.spark] });

/**
 * The buckets already folded for one `now`: every bucket but the newest is settled between
 * two snapshots (the aggregator hands out the same frozen object until it changes), so a
 * second's new snapshot folds only what is new onto a copy of these sums (issue 13: the
 * NGINX pane rebuilt its 1/5/15-minute windows from all ~90 buckets every second).
 */
export interface StatsMemo {
  now?: number;
  buckets: readonly StatsBucket[];
  perHost: Map<string, Sums>;
  overall: Sums;
}

export const createStatsMemo = (): StatsMemo => ({
  buckets: [],
  perHost: new Map(),
  overall: emptySums(),
});

const sharedMemo = createStatsMemo();

function fold(into: { perHost: Map<string, Sums>; overall: Sums }, b: StatsBucket, now: number) {
  const age = now - b.start;
  const col = Math.floor((b.start - (now - SPARK_COLUMNS * SPARK_STEP_MS)) / SPARK_STEP_MS);
  for (const [host, c] of Object.entries(b.hosts)) {
    let h = into.perHost.get(host);
    if (!h) {
      h = emptySums();
      into.perHost.set(host, h);
    }
    WINDOWS_MIN.forEach((m, i) => {
      // A bucket belongs to a window when it started inside it (the current one included).
      if (age < m * 60_000 + BUCKET_MS / 2 && age > -BUCKET_MS) {
        addCounts(h.w[i]!, c);
        addCounts(into.overall.w[i]!, c);
      }
    });
    if (col >= 0 && col < SPARK_COLUMNS) {
      h.spark[col] = (h.spark[col] ?? 0) + c.requests;
      into.overall.spark[col] = (into.overall.spark[col] ?? 0) + c.requests;
    }
  }
}

/**
 * Per host and overall, over each window, from the buckets. Pure in what it returns: `memo`
 * only keeps the sums of the settled buckets for the next call (the same result without it:
 * `test/unit/features/nginx/stats-memo.test.ts`).
 */
export function statsModel(
  s: NginxStats,
  now: number,
  memo: StatsMemo = sharedMemo,
): { overall: HostStats; hosts: HostStats[] } {
  const settled = Math.max(0, s.buckets.length - 1);
  let reuse = memo.now === now && memo.buckets.length <= settled;
  for (let i = 0; reuse && i < memo.buckets.length; i++) reuse = memo.buckets[i] === s.buckets[i];
  if (!reuse) {
    memo.buckets = [];
    memo.perHost = new Map();
    memo.overall = emptySums();
  }
  // Not reusable while folding: a throw halfway through a bucket leaves nothing half-counted.
  memo.now = undefined;
  for (let i = memo.buckets.length; i < settled; i++) fold(memo, s.buckets[i]!, now);
  memo.buckets = s.buckets.slice(0, settled);
  memo.now = now;
  const out = {
    perHost: new Map([...memo.perHost].map(([h, x]) => [h, copySums(x)])),
    overall: copySums(memo.overall),
  };
  for (let i = settled; i < s.buckets.length; i++) fold(out, s.buckets[i]!, now);
  const toStats = (host: string, x: Sums): HostStats => {
    const windows = x.w.map((c, i) => windowOf(c, WINDOWS_MIN[i]!));
    const w15 = windows[2]!;
    return {
      host,
      windows,
      spark: x.spark,
      neverCaches: w15.requests >= NEVER_CACHES_MIN && (w15.hitRatio ?? 0) === 0,
    };
  };
  const hosts = [...out.perHost.entries()]
    .map(([h, x]) => toStats(h, x))
    .sort(
      (a, b) => b.windows[2]!.requests - a.windows[2]!.requests || a.host.localeCompare(b.host),
    );
  return { overall: { ...toStats('(all hosts)', out.overall), neverCaches: false }, hosts };
}

export function nginxModel({ inventory, read, now }: ModelInput): NginxModel {
  const acme = readAcme(read, now);
  const errors: string[] = [];
  let source: NginxSourceKind = 'none';
  let sourceText = 'no log source: neither a kube source nor ingress.logFile in the inventory';
  const docs: NginxStats[] = [];
  let pending = false;
  if (inventory.ingress.logFile) {
    source = 'file';
    const nodes = inventory.nodes.filter(
      (n) => !inventory.ingress.logNodes?.length || inventory.ingress.logNodes.includes(n.name),
    );
    sourceText = `${inventory.ingress.logFile} on ${nodes.map((n) => n.name).join(', ')} (tail over SSH)`;
    for (const n of nodes) {
      const snap = read<NginxStats | null>(n.name, NGINX_FILE);
      if (snap.value) docs.push(snap.value);
      if (snap.error) errors.push(`${n.name}: ${snap.error.message}`);
      if (!snap.value && !snap.error) pending = true;
    }
  } else {
    const ring = read<NginxStats>(CLUSTER_SCOPE, NGINX_RING);
    const log = read<{ following?: readonly string[] }>(CLUSTER_SCOPE, 'kube.ingress-log');
    if (ring.value || log.value || log.error) {
      source = 'ring';
      const following = log.value?.following ?? [];
      sourceText =
        following.length > 0
          ? `controller logs of ${following.join(', ')}`
          : `no ingress-nginx controller pod followed in namespace ${inventory.ingress.namespace}`;
    }
    if (ring.value) docs.push(ring.value);
    else if (source === 'ring') pending = true;
    if (log.error) errors.push(`controller logs: ${log.error.message}`);
  }
  const stats = docs.length > 0 ? mergeStats(docs) : mergeStats([]);
  const { overall, hosts } = statsModel(stats, now);
  const out: NginxModel = {
    now,
    source,
    sourceText,
    errors,
    pending,
    overall,
    hosts,
    lines: stats.lines,
    parsed: stats.parsed,
    unparseable: stats.unparseable,
    samples: stats.samples,
    missed: stats.missed,
    acme,
    cache: cacheModel(inventory, read),
  };
  if (stats.lastLineAt !== undefined) out.lastLineAt = stats.lastLineAt;
  return out;
}

/** What the pane shows, as a string: changes with any count, and with the minute. */
export function nginxSignature(m: NginxModel): string {
  return JSON.stringify([
    Math.floor(m.now / 5000),
    m.lines,
    m.errors,
    m.source,
    m.sourceText,
    m.acme.rows.map((r) => [r.name, r.worst, r.notAfter, r.ready]),
    m.acme.absent,
    m.acme.error,
    m.cache.rows.map((r) => [r.node, r.zone, r.bytes, r.maxBytes, r.error]),
    m.cache.errors,
  ]);
}

export const nginxFeature: FeatureDef<NginxModel> = {
  id: 'nginx',
  sources: [nginxRingSource, nginxFileSource, nginxCacheSource],
  reads: [{ scope: 'cluster', id: 'kube.ingress-log' }, ...ACME_READS],
  model: nginxModel,
  signature: nginxSignature,
  // What it reads is written several times a second (the kube log section with the lines
  // the controllers print; the ring on the clock's seconds): read on every write, the model
  // was rebuilt 4–7 times a second on the demo and drawn once. Read on the seconds, it is
  // rebuilt at most once, in the frame the countdowns draw anyway (issue 13: idle CPU).
  drawEvery: 'second',
};

// ---- text shared by the pane and `k8ops nginx` -------------------------------------------

export const CACHE_LABELS: Readonly<Record<CacheStatus, string>> = {
  HIT: 'HIT',
  MISS: 'MISS',
  EXPIRED: 'EXP',
  STALE: 'STALE',
  UPDATING: 'UPD',
  REVALIDATED: 'REVAL',
  BYPASS: 'BYP',
  '-': 'none',
};

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export const fmtPct = (r: number | null): string =>
  r === null ? '—' : `${(r * 100).toFixed(r >= 0.995 || r === 0 ? 0 : 1)}%`;

export function fmtSeconds(s: number | null): string {
  if (s === null) return '—';
  if (s < 1) return `≤${Math.max(1, Math.round(s * 1000))}ms`;
  return `≤${s.toFixed(s < 10 ? 2 : 1)}s`;
}

export const fmtRate = (r: number): string =>
  r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);

const SPARK = ' ▁▂▃▄▅▆▇█';
/** Values as block characters scaled to their maximum. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  if (max === 0) return SPARK[0]!.repeat(values.length);
  return values.map((v) => SPARK[v <= 0 ? 0 : Math.max(1, Math.round((v / max) * 8))]).join('');
}
