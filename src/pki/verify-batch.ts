/**
 * Batched signature verification: pairs (certificate, issuer) are queued per issuer for a
 * few milliseconds and handed to an outside verifier in batches — the system OpenSSL
 * (src/pki/verify-openssl.ts), whose P-521 code is about three times faster than the one
 * bundled with Node. Only its positive answers are taken: a pair it does not confirm (a bad
 * signature, an issuer that is not a CA, a verifier that is missing or fails) is decided by
 * node:crypto (src/pki/verify.ts), so the verdicts are the same with or without it.
 *
 * The runner is injected; this module only queues, batches and falls back.
 */
import {
  needsVerdict,
  recordVerified,
  type SignatureVerdict,
  verifySignatureAsync,
} from './verify.js';

type Verifiable = Parameters<typeof verifySignatureAsync>[0] & { subject: string };

/**
 * Verify each child against its issuer's key; `true` at index i when child i verifies.
 * `issuers` have distinct subject names, so a child can only chain to its own issuer, and
 * no child is among them. Throw `VerifierUnavailable` when the verifier cannot be used at
 * all (not installed, refuses its arguments); any other failure falls back for that batch.
 */
export type BatchRunner = (
  issuerDers: readonly Uint8Array[],
  childDers: readonly Uint8Array[],
) => Promise<boolean[]>;

export class VerifierUnavailable extends Error {
  override name = 'VerifierUnavailable';
}

export interface BatcherOptions {
  runner: BatchRunner;
  /** Batches running at once (one outside process each). */
  parallel: number;
  /** Fewer pairs than this for one issuer go to node:crypto (a process start costs more). */
  minBatch: number;
  /** Most pairs in one batch. */
  maxBatch: number;
  /**
   * A queue longer than this (a cold scan of thousands of distinct certificates) is cut
   * into batches of even size, a multiple of `parallel` of them, so that every core has
   * the same share to the end and few processes are started. Default 256.
   */
  splitAbove?: number;
  /** How long an issuer's queue waits for more pairs before it is sent. */
  windowMs: number;
  /** The smallest batch the shared-out tail of an uneven queue goes down to (default 128). */
  tailMin?: number;
}

interface Pending {
  child: Verifiable;
  issuer: Verifiable;
  resolve: (v: SignatureVerdict) => void;
}

export interface BatcherStats {
  batches: number;
  /** Pairs the outside verifier confirmed. */
  confirmed: number;
  /** Pairs decided by node:crypto (small batches, rejections, failures). */
  fallback: number;
  /** Why the outside verifier was turned off, if it was. */
  disabled?: string;
}

export class SignatureBatcher {
  private queue: Pending[] = [];
  /** When the oldest waiting pair arrived (performance.now()). */
  private since = 0;
  private readonly inflight = new Map<string, Promise<SignatureVerdict>>();
  private running = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pumpQueued = false;
  /** The batch size of a long queue being worked off (batchSize). */
  private split: number | undefined;
  /** That size was fixed while a batch ran (batchSize: its tail is then shared out). */
  private uneven = false;
  private readonly counts: BatcherStats = { batches: 0, confirmed: 0, fallback: 0 };

  constructor(private readonly opts: BatcherOptions) {}

  stats(): BatcherStats {
    return { ...this.counts };
  }

  /** The verdict for (child, issuer): from a batch, or from node:crypto. */
  verify(child: Verifiable, issuer: Verifiable): Promise<SignatureVerdict> {
    // A self-signed certificate is its own trust anchor to openssl, which then never
    // checks its signature: those always go to node:crypto.
    if (
      this.counts.disabled !== undefined ||
      child.fingerprint === issuer.fingerprint ||
      !needsVerdict(child, issuer)
    )
      return verifySignatureAsync(child, issuer);
    const key = `${child.fingerprint}:${issuer.fingerprint}`;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const promise = new Promise<SignatureVerdict>((resolve) => {
      if (this.queue.length === 0) this.since = performance.now();
      this.queue.push({ child, issuer, resolve });
    });
    this.inflight.set(key, promise);
    void promise.then(() => this.inflight.delete(key));
    // After the caller's synchronous burst (prewarming queues every pair of a scan in one
    // loop): the batches are then cut from the whole queue, not started one by one.
    if (!this.pumpQueued) {
      this.pumpQueued = true;
      queueMicrotask(() => {
        this.pumpQueued = false;
        this.pump();
      });
    }
    return promise;
  }

  /**
   * Pairs in the next batch: up to maxBatch, or an even share of a long queue (fixed when
   * the queue grows long, kept until it drains, so that every batch of a scan is the same).
   */
  private batchSize(): number {
    const queued = this.queue.length;
    const { parallel, maxBatch } = this.opts;
    if (this.split === undefined && queued > (this.opts.splitAbove ?? 256)) {
      const batches = parallel * Math.ceil(queued / (parallel * maxBatch));
      this.split = Math.ceil(queued / batches);
      this.uneven = this.running > 0;
    }
    const size = this.split ?? Math.min(queued, maxBatch);
    // A long queue cut while a batch was already running (pairs queued as the files are
    // parsed, src/pki/chain.ts EarlyPrewarm): the batches no longer end together, so its
    // last round is shared out evenly between the verifiers as they come free, instead of
    // one working alone on a last full batch.
    if (this.uneven && queued < size * parallel)
      return Math.max(Math.min(queued, this.opts.tailMin ?? 128), Math.ceil(queued / parallel));
    return size;
  }

  /** Start batches while some are due and there is room; arm a timer for the next one. */
  private pump(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 && this.running < this.opts.parallel) {
      const due = this.since + this.opts.windowMs;
      const now = performance.now();
      if (this.queue.length < this.opts.maxBatch && due > now) {
        this.timer = setTimeout(() => this.pump(), due - now);
        return;
      }
      const { batch, issuers, rest } = takeBatch(this.queue, this.batchSize());
      this.queue = rest;
      if (rest.length === 0) this.split = undefined;
      this.since = now;
      if (batch.length < this.opts.minBatch) for (const p of batch) this.fallback(p);
      else void this.run(batch, issuers);
    }
  }

  private async run(batch: Pending[], issuers: Verifiable[]): Promise<void> {
    this.running++;
    this.counts.batches++;
    let oks: boolean[] = [];
    try {
      oks = await this.opts.runner(
        issuers.map((i) => i.der as Uint8Array),
        batch.map((p) => p.child.der as Uint8Array),
      );
    } catch (e) {
      if (e instanceof VerifierUnavailable) this.disable(e.message);
    } finally {
      this.running--;
    }
    batch.forEach((p, i) => {
      if (oks[i] === true) {
        this.counts.confirmed++;
        p.resolve(recordVerified(p.child, p.issuer));
      } else this.fallback(p);
    });
    this.pump();
  }

  private fallback(p: Pending): void {
    this.counts.fallback++;
    void verifySignatureAsync(p.child, p.issuer).then(p.resolve);
  }

  /** Turn the outside verifier off for good: everything waiting goes to node:crypto. */
  private disable(why: string): void {
    if (this.counts.disabled !== undefined) return;
    this.counts.disabled = why;
    const waiting = this.queue;
    this.queue = [];
    for (const p of waiting) this.fallback(p);
  }
}

/**
 * The next batch from the front of `queue`: at most `max` pairs whose issuers have distinct
 * subject names (compared loosely; two issuers named alike — an intermediate and its successor — would let
 * openssl pick either) and none of which is itself a child in the batch (a trusted child
 * is accepted without its signature being checked). Pairs that do not fit wait. Pure.
 */
export function takeBatch<P extends { child: Verifiable; issuer: Verifiable }>(
  queue: readonly P[],
  max: number,
): { batch: P[]; issuers: P['issuer'][]; rest: P[] } {
  const batch: P[] = [];
  const rest: P[] = [];
  const issuerByName = new Map<string, P['issuer']>();
  const issuerFps = new Set<string>();
  const childFps = new Set<string>();
  for (const p of queue) {
    const name = looseName(p.issuer.subject);
    const named = issuerByName.get(name);
    const fits =
      batch.length < max &&
      (named === undefined || named.fingerprint === p.issuer.fingerprint) &&
      !issuerFps.has(p.child.fingerprint) &&
      !childFps.has(p.issuer.fingerprint);
    if (!fits) {
      rest.push(p);
      continue;
    }
    batch.push(p);
    childFps.add(p.child.fingerprint);
    if (named === undefined) {
      issuerByName.set(name, p.issuer);
      issuerFps.add(p.issuer.fingerprint);
    }
  }
  return { batch, issuers: [...issuerByName.values()], rest };
}

/**
 * A subject name compared more loosely than OpenSSL's canonical form (which ignores case,
 * string types and repeated spaces): two issuers OpenSSL could confuse never share a batch.
 */
const looseName = (dn: string): string => dn.toLowerCase().replace(/\s+/g, '');
