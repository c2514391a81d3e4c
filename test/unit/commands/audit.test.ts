/**
 * `k8ops audit` through the CLI's dispatch (src/cli.ts main): the entries real jobs wrote
 * (runJob on a JobStore in a temporary XDG_STATE_HOME), as a table and as JSON, filtered by
 * --since and --action; a malformed line → exit 1 and its number on stderr; usage errors → 2;
 * the demo lab's log apart from the real one.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../src/actions/jobs/audit.js';
import { runJob } from '../../../src/actions/jobs/runner.js';
import { JobStore } from '../../../src/actions/jobs/store.js';
import { main } from '../../../src/cli.js';

const home = mkdtempSync(join(tmpdir(), 'k8ops-audit-cli-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const env = { XDG_STATE_HOME: join(home, 'state'), HOME: home };
const NOW = Date.now();
const HOUR = 3_600_000;

async function k8ops(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const sink = (f: (s: string) => void) =>
    ({
      write: (s: string) => {
        f(s);
        return true;
      },
      isTTY: false,
    }) as unknown as NodeJS.WriteStream;
  const code = await main(argv, {
    runConsole: async () => 0,
    stdout: sink((s) => {
      stdout += s;
    }),
    stderr: sink((s) => {
      stderr += s;
    }),
    env,
  });
  return { code, stdout, stderr };
}

let okId = '';
let failId = '';
beforeAll(async () => {
  const store = new JobStore({ stateDir: join(env.XDG_STATE_HOME, 'k8ops') });
  // One job 30 hours ago (ok), one an hour ago (failed, with hostile text in its error).
  okId = (
    await runJob(
      {
        action: 'rotate',
        title: 'rotate cp-1',
        targets: ['cp-1'],
        plan: { certs: ['etcd-server'] },
        run: async () => {},
      },
      { store, now: () => NOW - 30 * HOUR, user: 'alice' },
    ).done
  ).id;
  failId = (
    await runJob(
      {
        action: 'demo-noop',
        title: 'demo-noop worker-1',
        targets: ['worker-1'],
        plan: {},
        run: async () => {
          throw new Error('gate\x1b[31m failed');
        },
      },
      { store, now: () => NOW - HOUR, user: 'bob' },
    ).done
  ).id;
});

describe('k8ops audit', () => {
  it('lists every start and end line, oldest first', async () => {
    const r = await k8ops(['audit']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^WHEN +WHO +EVENT +ACTION +TARGETS +RESULT +JOB$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(2, 5))).toEqual([
      ['alice', 'start', 'rotate'],
      ['alice', 'end', 'rotate'],
      ['bob', 'start', 'demo-noop'],
      ['bob', 'end', 'demo-noop'],
    ]);
    expect(lines[4]).toContain('failed: gate\\x1b[31m failed');
    expect(r.stdout).not.toContain('\x1b');
  });

  it('--json: the entries as an array; --since and --action filter', async () => {
    const all = await k8ops(['audit', '--json']);
    const doc = JSON.parse(all.stdout) as AuditEntry[];
    expect(doc.map((e) => [e.event, e.job])).toEqual([
      ['start', okId],
      ['end', okId],
      ['start', failId],
      ['end', failId],
    ]);
    expect(doc[0]!.plan).toEqual({ certs: ['etcd-server'] });
    // --since is relative to the real clock: the failed job ran an hour ago, the other 30 h ago.
    const recent = JSON.parse((await k8ops(['audit', '--json', '--since', '2h'])).stdout);
    expect(recent.map((e: AuditEntry) => e.job)).toEqual([failId, failId]);
    const rotate = JSON.parse((await k8ops(['audit', '--json', '--action', 'rotate'])).stdout);
    expect(rotate.map((e: AuditEntry) => e.job)).toEqual([okId, okId]);
  });

  it('usage errors exit 2 with a reason', async () => {
    const bad = await k8ops(['audit', '--since', '5x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since: invalid duration "5x"/);
    const act = await k8ops(['audit', '--action', 'reboot']);
    expect(act.code).toBe(2);
    expect(act.stderr).toMatch(/no action named "reboot"/);
    expect((await k8ops(['audit', '--frobnicate'])).code).toBe(2);
  });

  it('the demo lab has its own log; a missing log lists nothing and exits 0', async () => {
    const r = await k8ops(['audit', '--demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^no audit log yet \(.*\/k8ops\/demo\/audit\.jsonl\)/);
  });

  it('a malformed line is skipped and named; exit 1', async () => {
    const dir = join(env.XDG_STATE_HOME, 'k8ops', 'demo');
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, 'audit.jsonl'), 'garbage\n');
    const r = await k8ops(['audit', '--demo', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(r.stderr).toMatch(/line 1 not an audit entry \(skipped\)/);
  });
});
