/**
 * A job as the runner records it and the Jobs pane shows it: the persisted
 * `$XDG_STATE_HOME/k8ops/jobs/<id>.json` (its full output is `<id>.log` beside it).
 * Every string in a record was made visible (src/store/sanitise.ts) before it got here.
 */
import { randomBytes } from 'node:crypto';
import type { JobAction, JobState, StepState } from '../types.js';

export const JOB_RECORD_VERSION = 1;

export interface StepRecord {
  name: string;
  state: StepState;
  /** Epoch ms; absent for a skipped step. */
  startedAt?: number;
  endedAt?: number;
  /** Why it failed (the error's message) or why it was skipped. */
  note?: string;
}

export interface JobRecord {
  v: typeof JOB_RECORD_VERSION;
  id: string;
  action: JobAction;
  title: string;
  targets: string[];
  /** The plan the operator confirmed (sanitised JSON). */
  plan: unknown;
  state: JobState;
  /** OS user, host and pid of the k8ops process that runs (or ran) it. */
  user: string;
  host: string;
  pid: number;
  startedAt: number;
  endedAt?: number;
  steps: StepRecord[];
  /** The last output lines (bounded); the whole output is in the log file. */
  tail: string[];
  /** Output lines written so far. */
  lines: number;
  /** Why it failed, was cancelled or interrupted. */
  error?: string;
  /** The action's return value, as sanitised JSON (absent when it returns nothing). */
  result?: unknown;
  /**
   * One line per target as the action last told it (JobContext.progress), in the order the
   * targets were first told: a roll-out's node and its phase (`worker-1: activating`).
   */
  progress?: Array<{ target: string; text: string }>;
}

export const FINISHED: ReadonlySet<JobState> = new Set([
  'ok',
  'failed',
  'cancelled',
  'interrupted',
]);
const STEP_STATES: ReadonlySet<StepState> = new Set([
  'pending',
  'running',
  'ok',
  'failed',
  'skipped',
]);
const JOB_STATES: ReadonlySet<JobState> = new Set([...FINISHED, 'queued', 'running']);

export const isFinished = (j: Pick<JobRecord, 'state'>): boolean => FINISHED.has(j.state);

/** A job id: sortable by start time, safe as a file name (`20261206T033000Z-demo-noop-3fa9c1`). */
export function newJobId(action: JobAction, now: number): string {
  const t = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${t}-${action}-${randomBytes(3).toString('hex')}`;
}

export const JOB_ID_RE = /^[0-9]{8}T[0-9]{6}Z-[a-z-]{1,32}-[0-9a-f]{6}$/;

/** Elapsed time of a job or a step: to its end, or to `now` while it runs. */
export const elapsedMs = (x: { startedAt?: number; endedAt?: number }, now: number): number =>
  x.startedAt === undefined ? 0 : Math.max(0, (x.endedAt ?? now) - x.startedAt);

/** `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatElapsed(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** A record read from disk, checked field by field (a hand-edited or truncated file is refused). */
export function parseJobRecord(text: string): JobRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Partial<JobRecord>;
  if (
    r.v !== JOB_RECORD_VERSION ||
    typeof r.id !== 'string' ||
    !JOB_ID_RE.test(r.id) ||
    typeof r.action !== 'string' ||
    typeof r.title !== 'string' ||
    !Array.isArray(r.targets) ||
    !JOB_STATES.has(r.state as JobState) ||
    typeof r.startedAt !== 'number' ||
    typeof r.pid !== 'number' ||
    typeof r.host !== 'string' ||
    !Array.isArray(r.steps) ||
    !r.steps.every(
      (x) =>
        typeof x === 'object' &&
        x !== null &&
        typeof (x as StepRecord).name === 'string' &&
        STEP_STATES.has((x as StepRecord).state),
    ) ||
    !Array.isArray(r.tail) ||
    !r.tail.every((l) => typeof l === 'string')
  )
    return undefined;
  if (r.progress !== undefined) {
    const ok = Array.isArray(r.progress)
      ? r.progress.filter(
          (x) =>
            typeof x === 'object' &&
            x !== null &&
            typeof (x as { target?: unknown }).target === 'string' &&
            typeof (x as { text?: unknown }).text === 'string',
        )
      : [];
    if (ok.length) r.progress = ok;
    else delete r.progress;
  }
  return r as JobRecord;
}
