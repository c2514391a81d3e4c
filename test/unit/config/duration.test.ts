import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/config/duration.js';

const H = 3_600_000;
const D = 24 * H;

function ms(text: string): number {
  const r = parseDuration(text);
  if (!r.ok) throw new Error(`expected ${text} to parse: ${r.error.message}`);
  return r.ms;
}

function errorKind(text: string): string {
  const r = parseDuration(text);
  if (r.ok) throw new Error(`expected ${text} to fail, got ${r.ms}`);
  return r.error.kind;
}

describe('parseDuration', () => {
  it.each([
    ['4d16h', 4 * D + 16 * H],
    ['30m', 30 * 60_000],
    ['90s', 90_000],
    ['1h30m', H + 30 * 60_000],
    ['500ms', 500],
    ['1d2h3m4s5ms', D + 2 * H + 3 * 60_000 + 4_000 + 5],
    ['0', 0],
    ['0s', 0],
    ['1.5h', 1.5 * H],
    ['0.1h', 360_000],
    [' 24h ', 24 * H],
  ])('%s → %d ms', (text, expected) => {
    expect(ms(text)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['-5m', 'negative'],
    ['-0s', 'negative'],
    ['5x', 'unknown-unit'],
    ['5mins', 'unknown-unit'],
    ['5H', 'unknown-unit'],
    ['1w', 'unknown-unit'],
    ['5', 'missing-unit'],
    ['1h30', 'missing-unit'],
    ['1h 30m', 'syntax'],
    ['+5m', 'syntax'],
    ['h', 'syntax'],
    ['1h1h', 'duplicate-unit'],
    ['30m1h', 'unit-order'],
    ['0.5ms', 'fraction'],
    ['99999999999999999999d', 'overflow'],
    ['200000000000d', 'overflow'],
  ])('%j is rejected as %s', (text, kind) => {
    expect(errorKind(text)).toBe(kind);
  });

  it('says what was wrong and what is expected', () => {
    const r = parseDuration('5x');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.reason).toBe('unknown unit "x"');
    expect(r.error.message).toMatch(
      /^invalid duration "5x": unknown unit "x"; expected e\.g\. 30m/,
    );
  });

  it('does not throw on non-string input', () => {
    const r = parseDuration(42 as unknown as string);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.kind).toBe('not-a-string');
  });
});

describe('formatDuration', () => {
  it.each([
    [4 * D + 16 * H, '4d16h'],
    [30 * 60_000, '30m'],
    [90_000, '1m30s'],
    [500, '500ms'],
    [0, '0s'],
    [D + 5, '1d5ms'],
    [-(2 * H), '-2h'],
    [1499.6, '1s500ms'],
  ])('%d ms → %s', (value, text) => {
    expect(formatDuration(value)).toBe(text);
  });

  it('limits the number of adjacent units when asked', () => {
    expect(formatDuration(4 * D + 16 * H + 12 * 60_000 + 1_000, { maxUnits: 2 })).toBe('4d16h');
    expect(formatDuration(4 * D + 12 * 60_000, { maxUnits: 2 })).toBe('4d');
    expect(formatDuration(59_999, { maxUnits: 1 })).toBe('59s');
  });

  it('renders non-finite values without throwing', () => {
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('∞');
    expect(formatDuration(Number.NaN)).toBe('NaN');
  });

  it('round-trips through parseDuration', () => {
    for (const value of [1, 999, 1_000, 61_000, 4 * D + 16 * H, 40 * 365 * D + 7, 123_456_789]) {
      expect(ms(formatDuration(value))).toBe(value);
    }
  });
});
