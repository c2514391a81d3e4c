/**
 * What the console keeps of a flow stream, in bounded memory whatever the rate: a ring of
 * the newest flows, counts per verdict, drops per reason, a per-second verdict rate over
 * the last minute, top talkers (a capped map), and the lost events announced. Pure data
 * structures; `add` is O(1).
 */
import type { FlowRecord, LostEventRecord } from './types.js';

/** A ring buffer of the newest `capacity` items. */
export class Ring<T> {
  /**
   * Grows with what is pushed, up to `capacity`, then wraps: 200 nodes whose Hubble sends
   * nothing (or is not there) hold no 10,000-slot arrays each (issue 13: 16 MB at 200 nodes).
   */
  #buf: T[] = [];
  #next = 0;
  readonly capacity: number;
  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
  }
  get size(): number {
    return this.#buf.length;
  }
  push(x: T): void {
    if (this.#buf.length < this.capacity) {
      this.#buf.push(x);
      this.#next = this.#buf.length % this.capacity;
      return;
    }
    this.#buf[this.#next] = x;
    this.#next = (this.#next + 1) % this.capacity;
  }
  /** The newest `n` items, newest first. */
  newest(n: number): T[] {
    const out: T[] = [];
    const len = this.#buf.length;
    for (let i = 1; i <= Math.min(n, len); i++) out.push(this.#buf[(this.#next - i + len) % len]!);
    return out;
  }
  clear(): void {
    this.#buf = [];
    this.#next = 0;
  }
}

export interface RatePoint {
  /** Epoch second. */
  sec: number;
  forwarded: number;
  dropped: number;
  other: number;
}

export interface Talker {
  /** `source -> destination` as the table shows them (ASCII: cheaper for Ink to draw). */
  key: string;
  flows: number;
  drops: number;
}

export interface FlowCounts {
  total: number;
  byVerdict: Record<string, number>;
  dropsByReason: Record<string, number>;
  lostTotal: number;
}

const RATE_SECONDS = 60;
const TALKER_CAP = 4096;

/** `ns/pod`, or `ip` (with `:port` for the destination) when the side has no pod. */
export const sideName = (e: FlowRecord['src'], withPort: boolean): string =>
  e.pod
    ? `${e.namespace}/${e.pod}${withPort && e.port ? `:${e.port}` : ''}`
    : `${e.ip || '?'}${withPort && e.port ? `:${e.port}` : ''}`;

export class FlowAggregate {
  total = 0;
  readonly byVerdict = new Map<string, number>();
  readonly dropsByReason = new Map<string, number>();
  readonly #rate: RatePoint[] = [];
  readonly #talkers = new Map<string, Talker>();
  readonly lost: Ring<LostEventRecord> = new Ring(20);
  lostTotal = 0;

  add(f: FlowRecord): void {
    this.total++;
    this.byVerdict.set(f.verdict, (this.byVerdict.get(f.verdict) ?? 0) + 1);
    const dropped = f.verdict === 'DROPPED';
    if (dropped) {
      const r = f.dropReason || 'DROP_REASON_UNKNOWN';
      this.dropsByReason.set(r, (this.dropsByReason.get(r) ?? 0) + 1);
    }
    const sec = Math.floor(f.timeMs / 1000);
    let p = this.#rate.at(-1);
    if (!p || sec > p.sec) {
      p = { sec, forwarded: 0, dropped: 0, other: 0 };
      this.#rate.push(p);
      if (this.#rate.length > RATE_SECONDS) this.#rate.shift();
    } else if (sec < p.sec) {
      // An older flow (another node's clock, a backlog): counted in its second if kept.
      p = this.#rate.find((x) => x.sec === sec) ?? p;
    }
    if (dropped) p.dropped++;
    else if (f.verdict === 'FORWARDED') p.forwarded++;
    else p.other++;
    const key = `${sideName(f.src, false)} -> ${sideName(f.dst, true)}`;
    let t = this.#talkers.get(key);
    if (!t) {
      if (this.#talkers.size >= TALKER_CAP) this.#prune();
      t = { key, flows: 0, drops: 0 };
      this.#talkers.set(key, t);
    }
    t.flows++;
    if (dropped) t.drops++;
  }

  addLost(l: LostEventRecord): void {
    this.lost.push(l);
    this.lostTotal += l.count;
  }

  /** Halve every talker's count and forget those left at zero (keeps the heavy ones). */
  #prune(): void {
    for (const [k, t] of this.#talkers) {
      t.flows >>= 1;
      t.drops >>= 1;
      if (t.flows === 0) this.#talkers.delete(k);
    }
  }

  counts(): FlowCounts {
    return {
      total: this.total,
      byVerdict: Object.fromEntries(this.byVerdict),
      dropsByReason: Object.fromEntries(this.dropsByReason),
      lostTotal: this.lostTotal,
    };
  }

  /** The last minute's per-second points (oldest first). */
  rate(): RatePoint[] {
    return this.#rate.map((p) => ({ ...p }));
  }

  /**
   * The n talkers with the most flows (ties by key), copied. A selection, not a sort of the
   * up to TALKER_CAP talkers: the Flows pane's source asks twice a second (issue 13: idle CPU).
   */
  topTalkers(n: number): Talker[] {
    const top: Talker[] = [];
    if (n <= 0) return top;
    for (const t of this.#talkers.values()) {
      if (top.length === n && talkerOrder(t, top[n - 1]!) >= 0) continue;
      let i = top.length === n ? n - 1 : top.length;
      while (i > 0 && talkerOrder(t, top[i - 1]!) < 0) {
        top[i] = top[i - 1]!;
        i--;
      }
      top[i] = t;
    }
    return top.map((t) => ({ ...t }));
  }
}

/** Most flows first, then by key: the talkers' order. */
function talkerOrder(a: Talker, b: Talker): number {
  return b.flows - a.flows || a.key.localeCompare(b.key);
}
