/**
 * The job runner: runs a JobSpec through a JobContext. It records each step (start, end,
 * result, note), keeps the last output lines in memory and every line in the job's log
 * file, sanitises all of it (outside text is hostile), persists the record on every step
 * change (output at most every FLUSH_MS), appends the audit log at start and at end, and
 * cancels through an AbortSignal. If the audit log cannot be written, the job does not run.
 */
import { visible, visibleDeep } from '../../store/sanitise.js';
import type { JobContext, JobSpec } from '../types.js';
import { type AuditEntry, appendAudit, localHost, osUser } from './audit.js';
import { JOB_RECORD_VERSION, type JobRecord, newJobId, type StepRecord } from './record.js';
import type { JobStore } from './store.js';

/** Output lines kept in memory (and in the record) per job. */
export const TAIL_LINES = 200;
/** Output is written to the record at most this often (steps and the end at once). */
export const FLUSH_MS = 250;
/** One output line is cut at this many characters. */
export const MAX_LINE_CHARS = 4000;

export interface RunJobOptions {
  store: JobStore;
  /** Cancels the job (as the handle's `cancel` does). */
  signal?: AbortSignal;
  now?: () => number;
  user?: string;
  tailLines?: number;
  /**
   * Told of every step change and output line as it happens (sanitised), e.g. for a
   * command that prints its job on stderr while the runner records it. A throw is ignored.
   */
  onEvent?: (e: JobEvent) => void;
}

export type JobEvent = { kind: 'step'; step: StepRecord } | { kind: 'line'; line: string };

export interface JobHandle {
  readonly id: string;
  /** The job's record when it ended (never rejects: a failure is a `failed` record). */
  readonly done: Promise<JobRecord>;
  cancel(reason?: string): void;
}

export class JobCancelled extends Error {
  override readonly name = 'JobCancelled';
}

const message = (e: unknown): string => visible(e instanceof Error ? e.message : String(e));

const stamp = (t: number): string => new Date(t).toISOString().slice(11, 23);

/** A JSON-safe copy of a return value (functions and cycles dropped), sanitised. */
function jsonValue(v: unknown): unknown {
  if (v === undefined) return undefined;
  try {
    const text = JSON.stringify(v);
    return text === undefined ? undefined : visibleDeep(JSON.parse(text));
  } catch {
    return visible(String(v));
  }
}

/**
 * Start a job: returns at once with its id (the record is on disk and the audit `start`
 * line written, or the job is already `failed` saying why not); `done` settles at its end.
 */
export function runJob(spec: JobSpec, opts: RunJobOptions): JobHandle {
  const { store } = opts;
  const now = opts.now ?? Date.now;
  const tailMax = opts.tailLines ?? TAIL_LINES;
  const abort = new AbortController();
  const onOuter = () => abort.abort(opts.signal?.reason ?? new JobCancelled('cancelled'));
  if (opts.signal?.aborted) onOuter();
  else opts.signal?.addEventListener('abort', onOuter, { once: true });

  const startedAt = now();
  const id = newJobId(spec.action, startedAt);
  let rec: JobRecord = {
    v: JOB_RECORD_VERSION,
    id,
    action: spec.action,
    title: visible(spec.title),
    targets: spec.targets.map(visible),
    plan: jsonValue(spec.plan) ?? null,
    state: 'running',
    user: visible(opts.user ?? osUser()),
    host: visible(localHost()),
    pid: process.pid,
    startedAt,
    steps: [],
    tail: [],
    lines: 0,
  };

  const audit = (e: Partial<AuditEntry> & Pick<AuditEntry, 'event'>) =>
    appendAudit(store.auditFile, {
      v: 1,
      at: new Date(now()).toISOString(),
      who: rec.user,
      host: rec.host,
      pid: rec.pid,
      action: rec.action,
      targets: rec.targets,
      job: id,
      ...e,
    });

  // Output: to the log file at once, to the record's tail in memory, flushed lazily.
  let pending: string[] = [];
  let flushTimer: NodeJS.Timeout | undefined;
  const save = () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    try {
      store.update(rec);
    } catch {
      // The disk refused the record: the job goes on; the next save tries again.
    }
  };
  const writeLines = (lines: string[]) => {
    try {
      store.appendLog(id, lines);
    } catch {
      // A full disk loses log lines, not the job.
    }
    const tail = [...rec.tail, ...lines];
    rec = {
      ...rec,
      tail: tail.length > tailMax ? tail.slice(tail.length - tailMax) : tail,
      lines: rec.lines + lines.length,
    };
  };
  /** Output from the action (told to onEvent), or the runner's own step markers (`mark`). */
  const log = (text: string, mark = false) => {
    const lines = String(text)
      .split(/\r?\n/)
      .map((l) => {
        const v = visible(l);
        return v.length > MAX_LINE_CHARS ? `${v.slice(0, MAX_LINE_CHARS)}…` : v;
      });
    const t = stamp(now());
    if (!mark) for (const line of lines) tell({ kind: 'line', line });
    // The action's lines are indented under the runner's `==` step markers: output that
    // reads like a marker (`== cp-1: ok`) cannot pass for one.
    pending.push(...lines.map((l) => (mark ? `${t} ${l}` : `${t}   ${l}`)));
    if (pending.length >= 64) flush(false);
    else if (!flushTimer) flushTimer = setTimeout(() => flush(true), FLUSH_MS);
  };
  const flush = (persist: boolean) => {
    if (pending.length) {
      const lines = pending;
      pending = [];
      writeLines(lines);
    }
    if (persist) save();
    else store.update(rec, false);
  };

  const tell = (e: JobEvent) => {
    try {
      opts.onEvent?.(e);
    } catch {
      // an observer never breaks the job
    }
  };

  const setStep = (i: number, s: StepRecord) => {
    tell({ kind: 'step', step: s });
    const steps = rec.steps.slice();
    steps[i] = s;
    rec = { ...rec, steps };
  };

  const ctx: JobContext = {
    jobId: id,
    signal: abort.signal,
    async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
      abort.signal.throwIfAborted();
      const n = visible(name);
      const i = rec.steps.length;
      const started = now();
      const first: StepRecord = { name: n, state: 'running', startedAt: started };
      rec = { ...rec, steps: [...rec.steps, first] };
      tell({ kind: 'step', step: first });
      log(`== ${n}`, true);
      flush(true);
      try {
        const value = await fn();
        const ended = now();
        setStep(i, { name: n, state: 'ok', startedAt: started, endedAt: ended });
        log(`== ${n}: ok`, true);
        flush(true);
        return value;
      } catch (e) {
        const ended = now();
        const note = message(e);
        setStep(i, { name: n, state: 'failed', startedAt: started, endedAt: ended, note });
        log(`== ${n}: FAILED: ${note}`, true);
        flush(true);
        throw e;
      }
    },
    skip(name: string, why: string) {
      const n = visible(name);
      const skipped: StepRecord = { name: n, state: 'skipped', note: visible(why) };
      rec = { ...rec, steps: [...rec.steps, skipped] };
      tell({ kind: 'step', step: skipped });
      log(`== ${n}: skipped (${visible(why)})`, true);
      flush(true);
    },
    log: (line) => log(line),
    progress(target: string, text: string) {
      const t = visible(target).slice(0, 200);
      const x = visible(text).slice(0, MAX_LINE_CHARS);
      const cur = rec.progress ?? [];
      const i = cur.findIndex((p) => p.target === t);
      if (i >= 0 && cur[i]!.text === x) return;
      const next = cur.slice();
      if (i >= 0) next[i] = { target: t, text: x };
      else if (next.length < 256) next.push({ target: t, text: x });
      else return;
      rec = { ...rec, progress: next };
      flush(true);
    },
  };

  const finish = (state: JobRecord['state'], extra: Partial<JobRecord>): JobRecord => {
    flush(false);
    const endedAt = now();
    rec = { ...rec, ...extra, state, endedAt };
    save();
    try {
      audit({
        event: 'end',
        result: state,
        elapsedMs: endedAt - startedAt,
        ...(rec.error ? { error: rec.error } : {}),
      });
    } catch (e) {
      // The job ran; record that its end could not be audited.
      rec = { ...rec, error: `${rec.error ? `${rec.error}; ` : ''}audit log: ${message(e)}` };
      save();
    }
    opts.signal?.removeEventListener('abort', onOuter);
    return rec;
  };

  let created = false;
  try {
    store.create(rec);
    created = true;
    audit({ event: 'start', plan: rec.plan });
  } catch (e) {
    // No record, or no audit line: the job does not run.
    const why = `not started: ${created ? 'audit log' : 'job store'}: ${message(e)}`;
    rec = { ...rec, state: 'failed', endedAt: now(), error: why };
    try {
      if (created) store.update(rec);
      else store.update(rec, false);
    } catch {
      store.update(rec, false);
    }
    return { id, done: Promise.resolve(rec), cancel: () => {} };
  }

  const done = (async (): Promise<JobRecord> => {
    try {
      abort.signal.throwIfAborted();
      const value = await spec.run(ctx);
      const result = jsonValue(value);
      return finish('ok', result === undefined ? {} : { result });
    } catch (e) {
      if (abort.signal.aborted) {
        const reason = abort.signal.reason;
        return finish('cancelled', { error: `cancelled: ${message(reason ?? e)}` });
      }
      return finish('failed', { error: message(e) });
    }
  })();

  return {
    id,
    done,
    cancel: (reason = 'cancelled by the operator') => abort.abort(new JobCancelled(reason)),
  };
}
