/**
 * Expiry arithmetic and countdown formatting. Pure; time is always passed in (epoch ms).
 */
import type { CertFile, CertSummary } from './types.js';

export type Urgency = 'expired' | 'renew' | 'soon' | 'ok';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type Validity = Pick<CertSummary, 'notBefore' | 'notAfter'>;

/** Default renew window: one third of the certificate's lifetime (cert-manager's default). */
export function defaultRenewBeforeMs(cert: Validity): number {
  return Math.max(0, (cert.notAfter - cert.notBefore) / 3);
}

/**
 * How close `cert` is to expiry at `now`.
 * - `expired`: now is past notAfter (notAfter itself is still valid, RFC 5280);
 * - `renew`: inside the renew window (remaining ≤ renewBefore, i.e. at or after the due time);
 * - `soon`: within twice the renew window;
 * - `ok`: otherwise.
 */
export function urgency(cert: Validity, now: number, renewBeforeMs?: number): Urgency {
  const remaining = cert.notAfter - now;
  if (remaining < 0) return 'expired';
  const window =
    renewBeforeMs !== undefined && renewBeforeMs >= 0 ? renewBeforeMs : defaultRenewBeforeMs(cert);
  if (remaining <= window) return 'renew';
  if (remaining <= 2 * window) return 'soon';
  return 'ok';
}

/** A service certificate's lifetime: cfssl's server/client/peer profiles expire after 336 h. */
export const LEAF_LIFETIME_MS = 14 * DAY;

/** An intermediate is due when less than one leaf lifetime plus 2 days is left (DESIGN.md). */
export const INTERMEDIATE_RENEW_BEFORE_MS = LEAF_LIFETIME_MS + 2 * DAY;

/**
 * The renew window of a certificate by its place in the tree: leaves use the inventory's
 * `renewBefore` (else a third of their lifetime), intermediates one leaf lifetime + 2 d,
 * the root a third of its lifetime. The one rule the checks, the panes and the planner use.
 */
export function renewWindowMs(
  role: 'root' | 'intermediate' | 'leaf',
  cert: Validity,
  leafRenewBeforeMs?: number,
): number {
  if (role === 'intermediate') return INTERMEDIATE_RENEW_BEFORE_MS;
  if (role === 'leaf' && leafRenewBeforeMs !== undefined && leafRenewBeforeMs >= 0)
    return leafRenewBeforeMs;
  return defaultRenewBeforeMs(cert);
}

/** How close a certificate is to expiry by its place in the tree (renewWindowMs). */
export function roleUrgency(
  role: 'root' | 'intermediate' | 'leaf',
  cert: Validity,
  now: number,
  leafRenewBeforeMs?: number,
): Urgency {
  return urgency(cert, now, renewWindowMs(role, cert, leafRenewBeforeMs));
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

function parts(ms: number): { days: number; hours: number; minutes: number; seconds: number } {
  const totalSeconds = Math.floor(ms / SECOND);
  return {
    days: Math.floor(totalSeconds / 86400),
    hours: Math.floor((totalSeconds % 86400) / 3600),
    minutes: Math.floor((totalSeconds % 3600) / 60),
    seconds: totalSeconds % 60,
  };
}

function format(ms: number, withSeconds: boolean): string {
  if (!Number.isFinite(ms)) return '?';
  const abs = Math.abs(ms);
  const p = parts(abs);
  const clock = withSeconds
    ? `${pad2(p.hours)}:${pad2(p.minutes)}:${pad2(p.seconds)}`
    : `${pad2(p.hours)}:${pad2(p.minutes)}`;
  const text = p.days > 0 ? `${p.days}d ${clock}` : clock;
  // Anything that rounds to zero is shown as 00:00:00, not "expired 00:00:00 ago".
  const unit = withSeconds ? SECOND : MINUTE;
  return ms < 0 && abs >= unit ? `expired ${text} ago` : text;
}

/** `13d 04:12:55`; `04:12:55` under a day; `expired 2d 03:00:00 ago` when negative. Whole seconds, truncated. */
export function formatCountdown(ms: number): string {
  return format(ms, true);
}

/** Minute precision for rows that do not tick every second: `13d 04:12`, `04:12`, `expired 2d 03:00 ago`. */
export function formatCountdownCoarse(ms: number): string {
  return format(ms, false);
}

export interface WorstCert {
  node: string;
  path: string;
  /** Position of the certificate in its file (0 = first, the leaf of a chain file). */
  index: number;
  cert: CertSummary;
  /** notAfter − now (negative when expired). */
  remainingMs: number;
}

/**
 * The certificate (leaf or CA) with the least remaining time across `files`, with where it
 * was found; ties go to the first one seen. Undefined when there are no certificates.
 */
export function worstCert(files: readonly CertFile[], now: number): WorstCert | undefined {
  let worst: WorstCert | undefined;
  for (const f of files) {
    f.certs.forEach((cert, index) => {
      const remainingMs = cert.notAfter - now;
      if (!worst || remainingMs < worst.remainingMs) {
        worst = { node: f.node, path: f.path, index, cert, remainingMs };
      }
    });
  }
  return worst;
}

export const DURATION = { SECOND, MINUTE, HOUR, DAY } as const;
