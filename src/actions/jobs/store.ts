/**
 * The job store: every job's record in `<stateDir>/jobs/<id>.json` (written atomically: a
 * temporary file in the same directory, then rename; 0600 in a 0700 directory) and its full
 * output in `<id>.log` (appended line by line). The Jobs pane reads it through `subscribe`
 * and `list` (useSyncExternalStore), so a job survives pane switches; a new process loads
 * the records from disk, so it survives a console restart too. A record found `running`
 * whose process is gone (same host, pid not alive, or our own pid but not one of our jobs)
 * is shown — and rewritten — as `interrupted`, with an audit `end` line.
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { visibleDeep } from '../../store/sanitise.js';
import { type AuditEntry, appendAudit, auditPath, localHost } from './audit.js';
import { isFinished, JOB_ID_RE, type JobRecord, parseJobRecord } from './record.js';

/** Jobs loaded from disk at start (the newest; older files stay on disk). */
export const MAX_LOADED_JOBS = 200;
/** The full log as `readLog` returns it, at most (the newest lines are kept). */
export const MAX_LOG_LINES = 20_000;

export interface JobStoreOptions {
  /** The k8ops state directory (`$XDG_STATE_HOME/k8ops`); jobs go to `<dir>/jobs`. */
  stateDir: string;
  now?: () => number;
  /** Whether a pid is alive on this host (test seam; default: kill(pid, 0)). */
  pidAlive?: (pid: number) => boolean;
  host?: string;
}

export interface JobLog {
  id: string;
  lines: string[];
  /** Lines dropped from the front (the log was longer than MAX_LOG_LINES). */
  dropped: number;
  /** Why it could not be read, if it could not. */
  error?: string;
}

/**
 * Whether a process exists and is not a zombie: kill(pid, 0) succeeds on a zombie (a killed
 * k8ops whose parent has not reaped it yet), so on Linux its state in /proc decides.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: alive, another user's.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (not Linux): kill(0) said it exists
  }
}

export class JobStore {
  readonly dir: string;
  readonly auditFile: string;
  private readonly now: () => number;
  private readonly pidAlive: (pid: number) => boolean;
  private readonly host: string;
  private readonly jobs = new Map<string, JobRecord>();
  /** Ids of the jobs this process runs (their pid is ours and they are live). */
  private readonly live = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private snapshot: readonly JobRecord[] = [];
  private loaded = false;
  private loadError: string | undefined;
  private openLog: JobLog | undefined;

  constructor(opts: JobStoreOptions) {
    this.dir = join(opts.stateDir, 'jobs');
    this.auditFile = auditPath(opts.stateDir);
    this.now = opts.now ?? Date.now;
    this.pidAlive = opts.pidAlive ?? pidAlive;
    this.host = opts.host ?? localHost();
  }

  /** Every job, newest first (the same array until something changes). */
  list(): readonly JobRecord[] {
    this.load();
    return this.snapshot;
  }

  get(id: string): JobRecord | undefined {
    this.load();
    return this.jobs.get(id);
  }

  /** Why the jobs directory could not be read (shown by the pane), if it could not. */
  error(): string | undefined {
    this.load();
    return this.loadError;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The log the pane shows in full (loaded by `loadLog`, kept current while it runs). */
  shownLog(): JobLog | undefined {
    return this.openLog;
  }

  /** Read a job's full log and keep it current while the job writes (one log at a time). */
  loadLog(id: string): JobLog {
    const log = this.readLog(id);
    this.openLog = log;
    this.emit();
    return log;
  }

  closeLog(): void {
    if (!this.openLog) return;
    this.openLog = undefined;
    this.emit();
  }

  /** A job's full log from disk (the newest MAX_LOG_LINES lines). */
  readLog(id: string): JobLog {
    if (!JOB_ID_RE.test(id)) return { id, lines: [], dropped: 0, error: 'not a job id' };
    let text: string;
    try {
      text = readFileSync(this.logPath(id), 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return {
        id,
        lines: [],
        dropped: 0,
        ...(code === 'ENOENT' ? {} : { error: (e as Error).message }),
      };
    }
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    const dropped = Math.max(0, all.length - MAX_LOG_LINES);
    // Written sanitised; made visible again in case the file was tampered with.
    return { id, lines: visibleDeep(dropped ? all.slice(dropped) : all), dropped };
  }

  /* ---------- for the runner ---------- */

  /** Record a new job of this process (creates the directory, writes the record). */
  create(record: JobRecord): void {
    this.load();
    this.ensureDir();
    this.live.add(record.id);
    this.jobs.set(record.id, record);
    this.write(record);
    this.emit();
  }

  /** Replace a job's record; `persist: false` updates memory only (a later write saves it). */
  update(record: JobRecord, persist = true): void {
    this.jobs.set(record.id, record);
    if (persist) this.write(record);
    if (isFinished(record)) this.live.delete(record.id);
    this.emit();
  }

  /** Append output lines (already sanitised) to a job's log file. */
  appendLog(id: string, lines: readonly string[]): void {
    if (lines.length === 0) return;
    const fd = openSync(this.logPath(id), 'a', 0o600);
    try {
      writeSync(fd, `${lines.join('\n')}\n`);
    } finally {
      closeSync(fd);
    }
    const open = this.openLog;
    if (open && open.id === id) {
      const next = [...open.lines, ...lines];
      const over = Math.max(0, next.length - MAX_LOG_LINES);
      this.openLog = {
        ...open,
        lines: over ? next.slice(over) : next,
        dropped: open.dropped + over,
      };
      this.emit();
    }
  }

  logPath(id: string): string {
    return join(this.dir, `${id}.log`);
  }

  recordPath(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  /* ---------- internals ---------- */

  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** tmp + rename in the same directory: a reader sees the old record or the new, never half. */
  private write(record: JobRecord): void {
    const path = this.recordPath(record.id);
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
      renameSync(tmp, path);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing to clean up
      }
      throw e;
    }
  }

  private emit(): void {
    this.snapshot = [...this.jobs.values()].sort(
      (a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1),
    );
    for (const l of [...this.listeners]) l();
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.loadError = `jobs in ${this.dir}: ${(e as Error).message}`;
      return;
    }
    const ids = names
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -5))
      .filter((id) => JOB_ID_RE.test(id))
      .sort()
      .reverse()
      .slice(0, MAX_LOADED_JOBS);
    for (const id of ids) {
      let text: string;
      try {
        text = readFileSync(this.recordPath(id), 'utf8');
      } catch {
        continue;
      }
      const parsed = parseJobRecord(text);
      if (!parsed || parsed.id !== id) continue;
      const record = visibleDeep(parsed);
      this.jobs.set(id, this.checkAlive(record));
    }
    this.emit();
  }

  /** A job left `running` by a process that is gone is `interrupted` (rewritten, audited). */
  private checkAlive(r: JobRecord): JobRecord {
    if (isFinished(r) || r.host !== this.host) return r;
    const gone = r.pid === process.pid ? !this.live.has(r.id) : !this.pidAlive(r.pid);
    if (!gone) return r;
    const at = this.now();
    // Its end is the last thing it recorded (its elapsed time is not the time until now).
    const lastSeen = Math.max(r.startedAt, ...r.steps.map((s) => s.endedAt ?? s.startedAt ?? 0));
    const why = `interrupted: k8ops (pid ${r.pid} on ${r.host}) ended while the job ran`;
    const next: JobRecord = {
      ...r,
      state: 'interrupted',
      endedAt: lastSeen,
      error: why,
      steps: r.steps.map((s) =>
        s.state === 'running'
          ? { ...s, state: 'failed', endedAt: lastSeen, note: 'interrupted' }
          : s,
      ),
    };
    try {
      this.write(next);
      const end: AuditEntry = {
        v: 1,
        at: new Date(at).toISOString(),
        event: 'end',
        who: r.user,
        host: r.host,
        pid: r.pid,
        action: r.action,
        targets: r.targets,
        job: r.id,
        result: 'interrupted',
        error: why,
        elapsedMs: lastSeen - r.startedAt,
      };
      appendAudit(this.auditFile, end);
    } catch {
      // Shown as interrupted anyway; the next start tries again.
    }
    return next;
  }
}
