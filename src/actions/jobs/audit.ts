/**
 * The audit log: `$XDG_STATE_HOME/k8ops/audit.jsonl`, one JSON object per line, one line
 * when a job starts and one when it ends (who, when, action, targets, plan, result, job id).
 * Append-only: opened with O_APPEND for each line and written with ONE write(2) of the whole
 * line, so lines of two k8ops processes never interleave (the kernel appends each write at
 * the end of the file under the inode lock); created 0600 in a 0700 directory. Every string
 * is made visible first and the line is `safeJson`, so no control byte reaches the file.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { safeJson, visibleDeep } from '../../store/sanitise.js';
import type { JobAction, JobState } from '../types.js';

export const AUDIT_FILE_NAME = 'audit.jsonl';
export const AUDIT_VERSION = 1;

export interface AuditEntry {
  v: typeof AUDIT_VERSION;
  /** ISO 8601, UTC, milliseconds. */
  at: string;
  event: 'start' | 'end';
  /** OS user running k8ops, with the host and pid. */
  who: string;
  host: string;
  pid: number;
  action: JobAction;
  targets: string[];
  job: string;
  /** The confirmed plan (start lines). */
  plan?: unknown;
  /** How it ended (end lines). */
  result?: JobState;
  /** Why it failed, was cancelled or interrupted (end lines). */
  error?: string;
  /** Elapsed ms (end lines). */
  elapsedMs?: number;
}

export const auditPath = (stateDir: string): string => join(stateDir, AUDIT_FILE_NAME);

/** The OS user name (never throws: a user without a passwd entry is `uid:N`). */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return typeof process.getuid === 'function' ? `uid:${process.getuid()}` : 'unknown';
  }
}

export const localHost = (): string => hostname();

/** Append one entry as one line. Throws when the log cannot be written (the caller refuses). */
export function appendAudit(path: string, entry: AuditEntry): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const line = Buffer.from(`${safeJson(visibleDeep(entry))}\n`, 'utf8');
  const fd = openSync(path, 'a', 0o600);
  try {
    const n = writeSync(fd, line, 0, line.length);
    if (n !== line.length) throw new Error(`short write to ${path}: ${n} of ${line.length} bytes`);
  } finally {
    closeSync(fd);
  }
}

export interface AuditRead {
  entries: AuditEntry[];
  /** 1-based numbers of lines that are not an audit entry (skipped). */
  malformed: number[];
  /** The file does not exist yet (nothing was ever audited). */
  missing: boolean;
}

const isEntry = (v: unknown): v is AuditEntry => {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Partial<AuditEntry>;
  return (
    typeof e.at === 'string' &&
    (e.event === 'start' || e.event === 'end') &&
    typeof e.action === 'string' &&
    typeof e.job === 'string' &&
    Array.isArray(e.targets) &&
    typeof e.who === 'string'
  );
};

/** Parse the log's text (pure; never throws): entries, and the lines that are not entries. */
export function parseAudit(text: string): Omit<AuditRead, 'missing'> {
  const entries: AuditEntry[] = [];
  const malformed: number[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      malformed.push(i + 1);
      continue;
    }
    // The file is ours, but anyone who could write it could plant control bytes.
    if (isEntry(v)) entries.push(visibleDeep(v));
    else malformed.push(i + 1);
  }
  return { entries, malformed };
}

/** Read the log; a missing file is an empty log. Throws on other read errors. */
export function readAudit(path: string): AuditRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      return { entries: [], malformed: [], missing: true };
    throw e;
  }
  return { ...parseAudit(text), missing: false };
}
