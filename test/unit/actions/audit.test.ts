/**
 * The audit log: append-only JSON lines, 0600; two real processes appending at once (lines
 * larger than PIPE_BUF, so no pipe-write atomicity helps) never interleave inside a line;
 * hostile text lands escaped; the reader never throws on garbage and names the bad lines.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type AuditEntry,
  appendAudit,
  parseAudit,
  readAudit,
} from '../../../src/actions/jobs/audit.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ops-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  v: 1,
  at: new Date(Date.UTC(2026, 11, 6)).toISOString(),
  event: 'start',
  who: 'alice',
  host: 'admin-1',
  pid: 1234,
  action: 'rotate',
  targets: ['cp-1'],
  job: '20261206T000000Z-rotate-abcdef',
  plan: { certs: ['etcd-server'] },
  ...over,
});

describe('audit log', () => {
  it('appends one line per entry, keeps earlier lines byte for byte, file 0600', () => {
    const path = join(dir, 'a', 'audit.jsonl');
    appendAudit(path, entry());
    const before = readFileSync(path);
    appendAudit(path, entry({ event: 'end', result: 'ok', elapsedMs: 1200 }));
    const after = readFileSync(path);
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const r = readAudit(path);
    expect(r.malformed).toEqual([]);
    expect(r.entries.map((e) => e.event)).toEqual(['start', 'end']);
    expect(r.entries[1]!.result).toBe('ok');
  });

  it('hostile text is written escaped: one physical line, no control or bidi byte', () => {
    const path = join(dir, 'hostile.jsonl');
    const evil = 'x\n{"forged":true}\x1b[2J\u009b\u202e\u2028';
    appendAudit(path, entry({ who: evil, targets: [evil], plan: { note: evil } }));
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')).toHaveLength(2); // one line and the final newline
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e\u2028]/);
    const [e] = readAudit(path).entries;
    expect(e!.who).toBe('x\\x0a{"forged":true}\\x1b[2J\\x9b\\u202e\\u2028');
  });

  it('a missing log reads as empty; garbage lines are named, never thrown', () => {
    expect(readAudit(join(dir, 'none.jsonl'))).toEqual({
      entries: [],
      malformed: [],
      missing: true,
    });
    const path = join(dir, 'garbage.jsonl');
    writeFileSync(path, `${JSON.stringify(entry())}\nnot json\n{"v":1}\n[]\n`);
    const r = readAudit(path);
    expect(r.entries).toHaveLength(1);
    expect(r.malformed).toEqual([2, 3, 4]);
    // Random text (seeded: the same every run) never makes the parser throw.
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = [
      '{',
      '}',
      '"',
      ':',
      ',',
      '[',
      ']',
      '\n',
      'v',
      '1',
      'at',
      'event',
      'start',
      '\x00',
      'é',
    ];
    for (let i = 0; i < 500; i++) {
      const s = Array.from(
        { length: Math.floor(rnd() * 60) },
        () => alphabet[Math.floor(rnd() * alphabet.length)]!,
      ).join('');
      const p = parseAudit(s);
      expect(p.entries.length + p.malformed.length).toBeLessThanOrEqual(s.split('\n').length);
    }
  });

  it('two processes appending at once never interleave within a line', async () => {
    // The real appendAudit, bundled for plain node (the children cannot load TypeScript).
    const bundle = join(dir, 'audit-bundle.mjs');
    buildSync({
      entryPoints: [join(import.meta.dirname, '../../../src/actions/jobs/audit.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: bundle,
      logLevel: 'silent',
    });
    const path = join(dir, 'concurrent', 'audit.jsonl');
    const N = 1000;
    // Both start writing at the same instant (after their start-up), so the writes overlap.
    const at = Date.now() + 2000;
    // Each line ~9 KB: well above PIPE_BUF (4 KiB) and a page.
    const script = `
      import { appendAudit } from ${JSON.stringify(bundle)};
      const who = process.argv[1];
      const pad = who.repeat(9000 / who.length);
      while (Date.now() < ${at}) await new Promise((r) => setTimeout(r, 5));
      for (let i = 0; i < ${N}; i++)
        appendAudit(${JSON.stringify(path)}, { v: 1, at: new Date().toISOString(), event: 'start',
          who, host: 'h', pid: process.pid, action: 'rotate', targets: [String(i)],
          job: who + '-' + i, plan: { pad } });
    `;
    const run = (who: string) =>
      new Promise<number>((resolve, reject) => {
        const p = spawn(process.execPath, ['--input-type=module', '-e', script, who], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        p.stderr.on('data', (d) => {
          err += d;
        });
        p.on('error', reject);
        p.on('exit', (code) => (code === 0 ? resolve(code) : reject(new Error(err))));
      });
    await Promise.all([run('A'), run('B')]);
    const r = readAudit(path);
    expect(r.malformed).toEqual([]);
    expect(r.entries).toHaveLength(2 * N);
    for (const e of r.entries) {
      const pad = (e.plan as { pad: string }).pad;
      expect(pad).toBe(e.who.repeat(pad.length));
      expect(e.job.startsWith(`${e.who}-`)).toBe(true);
    }
    // The two writers really ran at once: their lines alternate more than once.
    let switches = 0;
    for (let i = 1; i < r.entries.length; i++)
      if (r.entries[i]!.who !== r.entries[i - 1]!.who) switches++;
    expect(switches).toBeGreaterThan(1);
    // Each writer's lines are in its own order.
    for (const who of ['A', 'B']) {
      const mine = r.entries.filter((e) => e.who === who).map((e) => Number(e.targets[0]));
      expect(mine).toEqual([...Array(N).keys()]);
    }
  }, 60_000);
});
