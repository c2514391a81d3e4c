/**
 * Container logs, followed (`GET …/pods/<pod>/log?follow=true&timestamps=true`) into one
 * bounded ring buffer. A dropped stream resumes with `sinceTime` = the last timestamp seen
 * and skips the lines it already has; lines longer than the bound are cut.
 */

import { visibleOnce } from '../store/sanitise.js';
import { isKubeError, KubeError, type ResourceRef } from './errors.js';
import { type KubeHttp, withQuery } from './http.js';
import { backoffMs, Sleeper } from './timers.js';
import type { KubeErrorInfo, KubeLogLine, KubePod } from './types.js';

export interface LogRingView {
  lines: readonly KubeLogLine[];
  total: number;
  dropped: number;
}

/** A ring of log lines bounded by count and by bytes. */
export class LogRing {
  readonly maxLines: number;
  readonly maxBytes: number;
  #buf: KubeLogLine[] = [];
  #head = 0;
  #bytes = 0;
  #seq = 0;
  #dropped = 0;
  #view: LogRingView | undefined;

  constructor(maxLines: number, maxBytes = Number.POSITIVE_INFINITY) {
    if (!(maxLines >= 1)) throw new RangeError('maxLines must be ≥ 1');
    this.maxLines = Math.floor(maxLines);
    this.maxBytes = maxBytes;
  }

  get size(): number {
    return this.#buf.length - this.#head;
  }

  get total(): number {
    return this.#seq;
  }

  /**
   * The line is made visible here, where it enters, and remembered as such (`visibleOnce`):
   * the store's sanitiser then skips it in every later view of the ring instead of reading
   * the whole ring again each time a line comes in.
   */
  push(pod: string, text: string, time?: string, truncated = false): KubeLogLine {
    const raw: KubeLogLine = { seq: ++this.#seq, pod, text };
    if (time) raw.time = time;
    if (truncated) raw.truncated = true;
    const line = visibleOnce(Object.freeze(raw));
    this.#buf.push(line);
    this.#bytes += cost(line);
    while (this.size > this.maxLines || (this.#bytes > this.maxBytes && this.size > 1)) {
      const old = this.#buf[this.#head]!;
      this.#head++;
      this.#bytes -= cost(old);
      this.#dropped++;
    }
    // Compact the array now and then, so eviction stays O(1) amortised.
    if (this.#head > 1024 && this.#head * 2 > this.#buf.length) {
      this.#buf = this.#buf.slice(this.#head);
      this.#head = 0;
    }
    this.#view = undefined;
    return line;
  }

  /** Oldest first; the same object until the next push. */
  view(): LogRingView {
    this.#view ??= Object.freeze({
      lines: Object.freeze(this.#buf.slice(this.#head)),
      total: this.#seq,
      dropped: this.#dropped,
    });
    return this.#view;
  }
}

const cost = (l: KubeLogLine): number => l.text.length + l.pod.length + (l.time?.length ?? 0) + 32;

/** Log text for the terminal: tabs kept, other control characters (escape sequences) shown as `�`. */
export function sanitizeLogText(text: string): string {
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, '\ufffd');
}

/** RFC 3339 timestamp → sortable key (seconds text + 9-digit fraction). */
export function timeKey(ts: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(ts);
  if (!m) return undefined;
  let base = m[1]!;
  if (m[3] !== 'Z') {
    const t = Date.parse(`${m[1]}${m[3]}`);
    if (Number.isNaN(t)) return undefined;
    base = new Date(t).toISOString().slice(0, 19);
  }
  return `${base}.${(m[2] ?? '').padEnd(9, '0')}`;
}

/** `2024-05-01T10:00:00.123456789Z message` → time and text. */
export function splitTimestamp(line: string): { time?: string; text: string } {
  const sp = line.indexOf(' ');
  const head = sp === -1 ? line : line.slice(0, sp);
  if (timeKey(head) === undefined) return { text: line };
  return { time: head, text: sp === -1 ? '' : line.slice(sp + 1) };
}

export interface LogTiming {
  connectTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Lines fetched on the first connection. */
  tailLines: number;
  maxLineBytes: number;
}

export const DEFAULT_LOG_TIMING: LogTiming = {
  connectTimeoutMs: 10_000,
  backoffInitialMs: 1000,
  backoffMaxMs: 30_000,
  tailLines: 200,
  maxLineBytes: 16 * 1024,
};

export interface PodLogTarget {
  namespace: string;
  pod: string;
  container?: string;
}

/** Follows one container's log into a ring; reconnects with backoff until closed or the pod is gone. */
export class PodLogFollower {
  readonly target: PodLogTarget;
  readonly #http: () => KubeHttp | undefined;
  readonly #ring: LogRing;
  readonly #t: LogTiming;
  readonly #onChange: () => void;
  #closed = false;
  #ctl: AbortController | undefined;
  readonly #sleeper = new Sleeper();
  #loop: Promise<void> | undefined;
  #lastKey: string | undefined;
  #lastTime: string | undefined;
  /** Lines already taken whose timestamp equals #lastKey. */
  #atLast = 0;
  error: KubeError | undefined;
  /** The pod is gone (404): the follower stopped. */
  gone = false;
  connects = 0;

  constructor(
    target: PodLogTarget,
    http: () => KubeHttp | undefined,
    ring: LogRing,
    onChange: () => void,
    timing: Partial<LogTiming> = {},
  ) {
    this.target = target;
    this.#http = http;
    this.#ring = ring;
    this.#onChange = onChange;
    this.#t = { ...DEFAULT_LOG_TIMING, ...timing };
  }

  get label(): string {
    return `${this.target.namespace}/${this.target.pod}`;
  }

  start(): void {
    this.#loop ??= this.#run().catch(() => undefined);
  }

  reconnect(): void {
    this.#ctl?.abort(new KubeError({ kind: 'aborted', message: 'reconnecting' }));
    this.#sleeper.wake();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#ctl?.abort(new KubeError({ kind: 'closed', message: 'log follow closed' }));
    this.#sleeper.close();
    await this.#loop;
  }

  #wait(ms: number): Promise<void> {
    return this.#sleeper.wait(ms);
  }

  #setError(err: KubeError | undefined): void {
    if (err?.message === this.error?.message) return;
    this.error = err;
    this.#onChange();
  }

  async #run(): Promise<void> {
    let attempt = 0;
    const { namespace, pod, container } = this.target;
    const ref: ResourceRef = { verb: 'get', resource: 'pods/log', namespace, name: pod };
    while (!this.#closed) {
      const http = this.#http();
      if (!http) {
        await this.#wait(this.#t.backoffInitialMs);
        continue;
      }
      const ctl = new AbortController();
      this.#ctl = ctl;
      let got = 0;
      try {
        const path = withQuery(
          `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`,
          {
            container,
            follow: true,
            timestamps: true,
            ...(this.#lastTime ? { sinceTime: this.#lastTime } : { tailLines: this.#t.tailLines }),
          },
        );
        this.connects++;
        await http.stream(path, ref, {
          signal: ctl.signal,
          connectTimeoutMs: this.#t.connectTimeoutMs,
          idleTimeoutMs: 0,
          maxLineBytes: this.#t.maxLineBytes,
          oversize: 'truncate',
          onOpen: () => this.#setError(undefined),
          onLine: (line, truncated) => {
            const { time, text } = splitTimestamp(line);
            const key = time ? timeKey(time) : undefined;
            if (key && this.#lastKey) {
              if (key < this.#lastKey) return true;
              if (key === this.#lastKey && got < this.#atLast) {
                // Resumed at sinceTime: these lines were taken before the drop.
                got++;
                return true;
              }
            }
            if (key) {
              if (key === this.#lastKey) this.#atLast++;
              else {
                this.#lastKey = key;
                this.#atLast = 1;
              }
              this.#lastTime = time;
              got = this.#atLast;
            }
            this.#ring.push(pod, sanitizeLogText(text), time, truncated);
            this.#onChange();
            return true;
          },
        });
        // The stream ended (container stopped, or the server closed it): follow again.
        attempt++;
        await this.#wait(this.#backoff(attempt));
        attempt = Math.min(attempt, 3);
      } catch (e) {
        if (this.#closed) break;
        const err = isKubeError(e)
          ? e
          : new KubeError({
              kind: 'protocol',
              message: `logs ${this.label}: ${(e as Error).message}`,
            });
        if (err.kind === 'aborted' || err.kind === 'closed') {
          if (err.kind === 'closed') await this.#wait(10);
          continue;
        }
        this.#setError(err);
        if (err.kind === 'not-found') {
          this.gone = true;
          break;
        }
        attempt++;
        await this.#wait(this.#backoff(attempt));
      } finally {
        if (this.#ctl === ctl) this.#ctl = undefined;
      }
    }
  }

  #backoff(attempt: number): number {
    return backoffMs(attempt, this.#t.backoffInitialMs, this.#t.backoffMaxMs);
  }
}

export interface LogFollowersView {
  following: string[];
  error?: KubeErrorInfo;
}

/**
 * The set of followed pods: `sync(pods)` starts a follower for each running pod (up to
 * `maxPods`) and stops those whose pod is gone.
 */
export class LogFollowers {
  readonly ring: LogRing;
  readonly #http: () => KubeHttp | undefined;
  readonly #onChange: () => void;
  readonly #timing: Partial<LogTiming>;
  readonly #maxPods: number;
  readonly #container: string;
  readonly #followers = new Map<string, PodLogFollower>();
  #closed = false;

  constructor(opts: {
    http: () => KubeHttp | undefined;
    ring: LogRing;
    onChange: () => void;
    timing?: Partial<LogTiming>;
    maxPods?: number;
    /** Container to follow when the pod has several (ingress-nginx: `controller`). */
    container?: string;
  }) {
    this.ring = opts.ring;
    this.#http = opts.http;
    this.#onChange = opts.onChange;
    this.#timing = opts.timing ?? {};
    this.#maxPods = opts.maxPods ?? 4;
    this.#container = opts.container ?? 'controller';
  }

  sync(pods: readonly KubePod[]): void {
    if (this.#closed) return;
    const wanted = pods
      .filter((p) => p.phase === 'Running' && p.status !== 'Terminating')
      .sort((a, b) => a.name.localeCompare(b.name))
      .slice(0, this.#maxPods);
    const keys = new Set(wanted.map((p) => `${p.namespace}/${p.name}`));
    let changed = false;
    for (const [key, f] of this.#followers) {
      if (!keys.has(key)) {
        this.#followers.delete(key);
        void f.close();
        changed = true;
      }
    }
    for (const p of wanted) {
      const key = `${p.namespace}/${p.name}`;
      const existing = this.#followers.get(key);
      if (existing && !existing.gone) continue;
      const container =
        p.containerNames.length > 1
          ? (p.containerNames.find((c) => c === this.#container) ?? p.containerNames[0])
          : undefined;
      const f = new PodLogFollower(
        { namespace: p.namespace, pod: p.name, ...(container ? { container } : {}) },
        this.#http,
        this.ring,
        this.#onChange,
        this.#timing,
      );
      this.#followers.set(key, f);
      f.start();
      changed = true;
    }
    if (changed) this.#onChange();
  }

  reconnect(): void {
    for (const f of this.#followers.values()) f.reconnect();
  }

  view(): LogFollowersView {
    const following = [...this.#followers.values()].filter((f) => !f.gone).map((f) => f.label);
    const failing = [...this.#followers.values()].find((f) => f.error);
    return failing?.error ? { following, error: failing.error.toInfo() } : { following };
  }

  followers(): PodLogFollower[] {
    return [...this.#followers.values()];
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#followers.values()];
    this.#followers.clear();
    await Promise.all(all.map((f) => f.close()));
  }
}
