/**
 * Compact durations as written in k8ops.yaml: `4d16h`, `30m`, `90s`, `1h30m`, `500ms`.
 *
 * Grammar: one or more `<number><unit>` terms, units from largest to smallest, each unit at
 * most once, no spaces inside; `<number>` is digits with an optional decimal fraction
 * (`1.5h`); units are `d`, `h`, `m`, `s`, `ms`. `0` alone is zero. The result must be a
 * whole number of milliseconds no larger than `Number.MAX_SAFE_INTEGER`.
 * Pure: never throws on bad input, returns a typed error instead.
 */

export type DurationErrorKind =
  | 'not-a-string'
  | 'empty'
  | 'negative'
  | 'syntax'
  | 'missing-unit'
  | 'unknown-unit'
  | 'duplicate-unit'
  | 'unit-order'
  | 'fraction'
  | 'overflow';

export interface DurationError {
  kind: DurationErrorKind;
  /** The input as given (stringified if it was not a string). */
  input: string;
  /** What is wrong, e.g. `unknown unit "x"` (no input, no expectation). */
  reason: string;
  /** One line: `invalid duration "5x": unknown unit "x"; expected e.g. 30m, …`. */
  message: string;
}

export type DurationResult = { ok: true; ms: number } | { ok: false; error: DurationError };

export const DURATION_UNITS = ['d', 'h', 'm', 's', 'ms'] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number];

const UNIT_MS: Record<DurationUnit, number> = {
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
};

const EXAMPLES = '30m, 1h30m, 4d16h or 500ms (units d, h, m, s, ms)';

function isUnit(u: string): u is DurationUnit {
  return (DURATION_UNITS as readonly string[]).includes(u);
}

/** The expected forms, for messages built elsewhere. */
export const DURATION_EXAMPLES = EXAMPLES;

function err(kind: DurationErrorKind, input: string, reason: string): DurationResult {
  return {
    ok: false,
    error: {
      kind,
      input,
      reason,
      message: `invalid duration ${JSON.stringify(input)}: ${reason}; expected e.g. ${EXAMPLES}`,
    },
  };
}

const TERM = /([0-9]+(?:\.[0-9]+)?)([A-Za-zµ]*)/y;

export function parseDuration(text: string): DurationResult {
  if (typeof text !== 'string') {
    return err('not-a-string', String(text), 'expected a string');
  }
  const s = text.trim();
  if (s === '') return err('empty', text, 'is empty');
  if (s.startsWith('-')) return err('negative', text, 'durations cannot be negative');
  if (s === '0') return { ok: true, ms: 0 };

  let total = 0;
  let pos = 0;
  let lastRank = -1;
  const seen = new Set<DurationUnit>();
  while (pos < s.length) {
    TERM.lastIndex = pos;
    const m = TERM.exec(s);
    if (!m) {
      return err(
        'syntax',
        text,
        `unexpected ${JSON.stringify(s.slice(pos, pos + 1))} at position ${pos + 1}`,
      );
    }
    const [whole, num = '', unit = ''] = m;
    pos += whole.length;
    if (unit === '') return err('missing-unit', text, `missing unit after ${num}`);
    if (!isUnit(unit)) return err('unknown-unit', text, `unknown unit ${JSON.stringify(unit)}`);
    if (seen.has(unit)) return err('duplicate-unit', text, `unit "${unit}" appears twice`);
    const rank = DURATION_UNITS.indexOf(unit);
    if (rank < lastRank) {
      return err('unit-order', text, `units must go from largest to smallest (d, h, m, s, ms)`);
    }
    seen.add(unit);
    lastRank = rank;
    if (num.replace('.', '').replace(/^0+/, '').length > 16) {
      return err('overflow', text, 'is too large');
    }
    total += Number(num) * UNIT_MS[unit];
    if (!Number.isFinite(total) || total > Number.MAX_SAFE_INTEGER) {
      return err('overflow', text, 'is too large');
    }
  }
  // Decimal fractions can leave binary noise (0.1h → 360000.00000000006): round to 1e-6 ms.
  const rounded = Math.round(total * 1e6) / 1e6;
  if (!Number.isInteger(rounded)) {
    return err('fraction', text, 'is not a whole number of milliseconds');
  }
  return { ok: true, ms: rounded };
}

export interface FormatDurationOptions {
  /**
   * Show at most this many adjacent units starting at the largest non-zero one, truncating
   * the rest toward zero (`maxUnits: 2` turns 4d16h12m into `4d16h` and 4d0h12m into
   * `4d`). Default: all, which round-trips through `parseDuration`.
   */
  maxUnits?: number;
}

/**
 * Compact form of a millisecond count: `4d16h`, `30m`, `1h30m`, `500ms`, `0s`; negative
 * values get a leading `-` (for "overdue by" displays). Fractions of a millisecond are
 * rounded. Non-finite input renders as `∞`/`-∞`/`NaN`.
 */
export function formatDuration(ms: number, options: FormatDurationOptions = {}): string {
  if (Number.isNaN(ms)) return 'NaN';
  if (!Number.isFinite(ms)) return ms > 0 ? '∞' : '-∞';
  let rest = Math.round(Math.abs(ms));
  const sign = ms < 0 && rest > 0 ? '-' : '';
  const maxUnits = Math.max(1, options.maxUnits ?? DURATION_UNITS.length);
  const parts: string[] = [];
  let first = -1;
  for (const [i, unit] of DURATION_UNITS.entries()) {
    if (first >= 0 && i >= first + maxUnits) break;
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      if (first < 0) first = i;
      parts.push(`${n}${unit}`);
      rest -= n * UNIT_MS[unit];
    }
  }
  if (parts.length === 0) return '0s';
  return sign + parts.join('');
}
