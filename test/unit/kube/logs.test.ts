import { describe, expect, it } from 'vitest';
import { LogRing, sanitizeLogText, splitTimestamp, timeKey } from '../../../src/kube/logs.js';
import { visibleDeep } from '../../../src/store/sanitise.js';

describe('LogRing', () => {
  it('makes a line visible where it enters, frozen, and the view shares it', () => {
    const r = new LogRing(10);
    const l = r.push('ctl-0', 'GET /\u202e\tx', '2026-12-06T00:00:00Z');
    expect(l.text).toBe('GET /\\u202e\\x09x');
    expect(Object.isFrozen(l)).toBe(true);
    expect(visibleDeep(r.view()).lines[0]).toBe(l);
  });

  it('keeps the newest lines up to its bound, counting what it dropped', () => {
    const r = new LogRing(3);
    for (let i = 1; i <= 10; i++) r.push('p', `line ${i}`);
    const v = r.view();
    expect(v.lines.map((l) => l.text)).toEqual(['line 8', 'line 9', 'line 10']);
    expect(v.lines.map((l) => l.seq)).toEqual([8, 9, 10]);
    expect(v.total).toBe(10);
    expect(v.dropped).toBe(7);
    expect(r.view()).toBe(v); // same object until the next push
    r.push('p', 'x');
    expect(r.view()).not.toBe(v);
    expect(v.lines).toHaveLength(3); // an earlier view is not mutated
  });

  it('is also bounded by bytes (always keeps the newest line)', () => {
    const r = new LogRing(1000, 400);
    for (let i = 0; i < 20; i++) r.push('pod', 'y'.repeat(100));
    expect(r.size).toBeLessThanOrEqual(3);
    r.push('pod', 'z'.repeat(5000));
    expect(r.view().lines.map((l) => l.text.length)).toEqual([5000]);
  });

  it('stays O(1) amortised and correct over many pushes', () => {
    const r = new LogRing(100);
    for (let i = 0; i < 50_000; i++) r.push('p', String(i));
    const v = r.view();
    expect(v.lines).toHaveLength(100);
    expect(v.lines[0]!.text).toBe('49900');
    expect(v.lines.at(-1)!.text).toBe('49999');
  });
});

describe('log timestamps', () => {
  it('orders RFC 3339 times with any fraction length and offset', () => {
    const a = timeKey('2026-11-25T12:00:00.1Z')!;
    const b = timeKey('2026-11-25T12:00:00.12Z')!;
    const c = timeKey('2026-11-25T12:00:00.123456789Z')!;
    expect(b > a).toBe(true);
    expect(c > b).toBe(true);
    expect(timeKey('2026-11-25T13:00:00+01:00')).toBe(timeKey('2026-11-25T12:00:00Z'));
    expect(timeKey('not a time')).toBeUndefined();
  });

  it('splits the kubelet timestamp prefix', () => {
    expect(splitTimestamp('2026-11-25T12:00:00.123456789Z 10.0.0.1 - - GET / 200')).toEqual({
      time: '2026-11-25T12:00:00.123456789Z',
      text: '10.0.0.1 - - GET / 200',
    });
    expect(splitTimestamp('no timestamp here')).toEqual({ text: 'no timestamp here' });
  });
});

describe('log text for the terminal', () => {
  it('keeps tabs and text, neutralises escape sequences and other control characters', () => {
    expect(sanitizeLogText('a\tb')).toBe('a\tb');
    expect(sanitizeLogText('GET /\u001b[2J\u001b]0;pwned\u0007 HTTP/1.1')).toBe(
      'GET /\ufffd[2J\ufffd]0;pwned\ufffd HTTP/1.1',
    );
  });
});
