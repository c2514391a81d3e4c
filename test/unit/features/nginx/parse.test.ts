/**
 * The access log parser on lines a real nginx wrote in the module's format
 * (test/fixtures/nginx/access.log, command in access.log.cmd), on the plain default format
 * (no $upstream_cache_status / $host), on multi-upstream fields, on hostile text, and —
 * with fast-check — on anything at all: it never throws.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileFormat,
  ingressLogFormat,
  LOG_FORMAT_DEF,
} from '../../../../src/features/nginx/format.js';
import {
  makeParser,
  parseAccessLine,
  parseTimeLocal,
  sumSeconds,
} from '../../../../src/features/nginx/parse.js';

const FIXTURE = readFileSync(
  join(import.meta.dirname, '../../../fixtures/nginx/access.log'),
  'utf8',
)
  .split('\n')
  .filter((l) => l !== '');

describe('the log format definition', () => {
  it('is the controller default followed by $upstream_cache_status and $host', () => {
    expect(ingressLogFormat()).toBe(`${LOG_FORMAT_DEF.defaultFormat} $upstream_cache_status $host`);
    const f = compileFormat();
    expect(f.vars.slice(-3)).toEqual(['req_id', 'upstream_cache_status', 'host']);
    expect(f.vars).toContain('proxy_upstream_name');
  });
});

describe('parseAccessLine', () => {
  it('reads every line a real nginx wrote (fixture) with the statuses it logged', () => {
    const recs = FIXTURE.map((l) => {
      const r = parseAccessLine(l);
      if (!r.ok) throw new Error(`${r.error}: ${l}`);
      return r.record;
    });
    expect(recs.map((r) => r.cache)).toEqual([
      'MISS',
      'HIT',
      'HIT',
      'BYPASS',
      'HIT',
      'MISS',
      'MISS',
      'MISS',
      '-',
      '-',
      'EXPIRED',
      'REVALIDATED',
      'STALE',
      '-',
    ]);
    expect(new Set(recs.map((r) => r.host))).toEqual(new Set(['cache.test']));
    const first = recs[0]!;
    expect(first).toMatchObject({ status: 200, bytes: 1000, upstream: 'default-web-80' });
    expect(first.upstreamTime).toBeGreaterThanOrEqual(0);
    expect(first.time).toBe(parseTimeLocal(/\[([^\]]+)\]/.exec(FIXTURE[0]!)![1]!));
    // A STALE served while the upstream is down: client 200, upstream 502.
    expect(recs[12]).toMatchObject({ status: 200, upstreamStatus: '502' });
    // Rejected before routing: `[]` upstream, 400.
    expect(recs[13]).toMatchObject({ status: 400, upstream: '', cache: '-' });
  });

  it('reads the plain default format (no cache status, no host): host from the upstream name', () => {
    const line =
      '10.0.0.1 - - [06/Dec/2026:03:42:51 +0100] "GET / HTTP/1.1" 200 12 "-" "curl/8.5.0" 77 0.004 [shop-web-80] [] 10.244.1.5:80 12 0.004 200 0123456789abcdef0123456789abcdef';
    const r = parseAccessLine(line);
    expect(r.ok && r.record).toMatchObject({
      host: 'shop-web-80',
      cache: '-',
      time: Date.UTC(2026, 11, 6, 2, 42, 51),
    });
  });

  it('keeps lists of upstreams (`, ` and ` : `) as one field each', () => {
    const line =
      '10.0.0.1 - - [06/Dec/2026:03:42:51 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 70 0.010 [shop-web-80] [] 10.244.1.5:80, 10.244.2.6:80 : 10.244.3.7:80 0, 0 : 5 0.002, 0.003 : 0.004 502, 502 : 200 0123456789abcdef0123456789abcdef MISS shop.example';
    const r = parseAccessLine(line);
    if (!r.ok) throw new Error(r.error);
    expect(r.record.host).toBe('shop.example');
    expect(r.record.upstreamStatus).toBe('502, 502 : 200');
    expect(r.record.upstreamTime).toBeCloseTo(0.009, 9);
    expect(r.record.cache).toBe('MISS');
  });

  it('turns hostile fields into visible text and rejects what is not an access line', () => {
    const line =
      '10.0.0.1 - - [06/Dec/2026:03:42:51 +0000] "GET / HTTP/1.1" 200 5 "-" "ua" 70 0.010 [ev\u001b[31mil] [] - - - - 0123 HIT Sh\u009bop.Example';
    const r = parseAccessLine(line);
    if (!r.ok) throw new Error(r.error);
    expect(r.record.host).toBe('sh\\x9bop.example');
    expect(r.record.upstream).toBe('ev\\x1b[31mil');
    for (const bad of [
      '',
      'I1206 12:00:00.000000       7 controller.go:214] "Backend successfully reloaded"',
      '2026/12/06 03:42:51 [error] 31#31: *1 connect() failed (111: Connection refused)',
      FIXTURE[0]!.replace(' 200 ', ' 2x0 '),
      FIXTURE[0]!.replace(' MISS ', ' MAYBE '),
      FIXTURE[0]!.replace(' MISS ', ' __proto__ '),
    ]) {
      const x = parseAccessLine(bad);
      expect(x.ok, bad).toBe(false);
    }
  });

  it('never throws, whatever the line (fast-check)', () => {
    const parse = makeParser();
    const pieces = fc.constantFrom(
      ' ',
      '"',
      '[',
      ']',
      ' - ',
      ', ',
      ' : ',
      '200',
      'HIT',
      '-',
      '\u001b',
      '\r',
      '06/Dec/2026:03:42:51 +0000',
      '0.001',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc
            .array(fc.oneof(pieces, fc.string({ maxLength: 4 })), { maxLength: 40 })
            .map((a) => a.join('')),
          fc
            .tuple(fc.constantFrom(...FIXTURE), fc.nat(400), fc.string({ maxLength: 8 }))
            .map(([l, i, s]) => l.slice(0, i % (l.length + 1)) + s + l.slice(i % (l.length + 1))),
        ),
        (line) => {
          const r = parse(line);
          expect(typeof r.ok).toBe('boolean');
          if (r.ok) {
            expect(r.record.status).toBeGreaterThanOrEqual(100);
            expect(r.record.host).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('parses times and seconds lists', () => {
    expect(parseTimeLocal('06/Dec/2026:03:42:51 -0130')).toBe(Date.UTC(2026, 11, 6, 5, 12, 51));
    expect(parseTimeLocal('06/Foo/2026:03:42:51 +0000')).toBeUndefined();
    expect(sumSeconds('-')).toBeUndefined();
    expect(sumSeconds('0.5')).toBe(0.5);
    expect(sumSeconds('0.5, - : 0.25')).toBe(0.75);
  });
});
