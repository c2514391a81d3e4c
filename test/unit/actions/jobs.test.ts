/**
 * The job runner and the job store on a real temporary state directory: steps with their
 * timing and result, a failing step, cancel through the signal, hostile output sanitised
 * (record, tail, log file, audit line), the bounded tail, records written atomically 0600,
 * a job read back by a new JobStore (a console restart), and a job left `running` by a
 * process that is gone shown as `interrupted` (with its audit `end` line).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../../src/actions/jobs/audit.js';
import { type JobRecord, newJobId } from '../../../src/actions/jobs/record.js';
import { runJob } from '../../../src/actions/jobs/runner.js';
import { JobStore, pidAlive } from '../../../src/actions/jobs/store.js';
import type { JobSpec } from '../../../src/actions/types.js';

const root = mkdtempSync(join(tmpdir(), 'k8ops-jobs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `state-${n++}`);

const spec = (run: JobSpec['run'], over: Partial<JobSpec> = {}): JobSpec => ({
  action: 'demo-noop',
  title: 'demo-noop cp-1',
  targets: ['cp-1'],
  plan: { node: 'cp-1' },
  run,
  ...over,
});

/** A clock the test moves: every call is 100 ms after the last. */
const ticking = (start = Date.UTC(2026, 11, 6, 3, 0, 0)) => {
  let t = start;
  return () => {
    t += 100;
    return t;
  };
};

describe('runJob', () => {
  it('records each step with start, end and result, and the job ok with its return value', async () => {
    const stateDir = freshDir();
    const store = new JobStore({ stateDir });
    const h = runJob(
      spec(async (ctx) => {
        await ctx.step('cp-1: node-csr', async () => ctx.log('csr made'));
        ctx.skip('cp-1: sign', 'already signed');
        const v = await ctx.step('cp-1: install', async () => 42);
        return { installed: v };
      }),
      { store, now: ticking(), user: 'alice' },
    );
    // The record is on disk and shown as running before the job's first await settles.
    expect(store.get(h.id)?.state).toBe('running');
    const r = await h.done;
    expect(r.state).toBe('ok');
    expect(r.result).toEqual({ installed: 42 });
    expect(r.steps.map((s) => [s.name, s.state])).toEqual([
      ['cp-1: node-csr', 'ok'],
      ['cp-1: sign', 'skipped'],
      ['cp-1: install', 'ok'],
    ]);
    const s0 = r.steps[0]!;
    expect(s0.endedAt! - s0.startedAt!).toBeGreaterThan(0);
    expect(r.steps[1]!.note).toBe('already signed');
    expect(r.endedAt! - r.startedAt).toBeGreaterThan(0);
    expect(r.user).toBe('alice');
    expect(r.pid).toBe(process.pid);
    expect(r.host).toBe(hostname());
    expect(r.tail.some((l) => l.endsWith(' csr made'))).toBe(true);

    const onDisk = JSON.parse(readFileSync(store.recordPath(h.id), 'utf8')) as JobRecord;
    expect(onDisk.state).toBe('ok');
    expect(statSync(store.recordPath(h.id)).mode & 0o777).toBe(0o600);
    expect(statSync(store.logPath(h.id)).mode & 0o777).toBe(0o600);
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
    // No temporary file is left beside the records.
    expect(readdirSync(store.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const audit = readAudit(store.auditFile);
    expect(audit.entries.map((e) => [e.event, e.job, e.who, e.result])).toEqual([
      ['start', h.id, 'alice', undefined],
      ['end', h.id, 'alice', 'ok'],
    ]);
    expect(audit.entries[0]!.plan).toEqual({ node: 'cp-1' });
    expect(statSync(store.auditFile).mode & 0o777).toBe(0o600);
  });

  it('onEvent sees every step change and output line of the action as it happens, sanitised', async () => {
    const store = new JobStore({ stateDir: freshDir() });
    const seen: string[] = [];
    await runJob(
      spec(async (ctx) => {
        await ctx.step('a', async () => ctx.log('out\x1b[2J'));
        ctx.skip('b', 'done before');
      }),
      {
        store,
        onEvent: (e) => {
          seen.push(e.kind === 'step' ? `${e.step.name} ${e.step.state}` : `| ${e.line}`);
          throw new Error('an observer that throws is ignored');
        },
      },
    ).done;
    expect(seen).toEqual(['a running', '| out\\x1b[2J', 'a ok', 'b skipped']);
  });

  it('a step that throws fails the step and the job, with the error; later steps never run', async () => {
    const store = new JobStore({ stateDir: freshDir() });
    let after = false;
    const r = await runJob(
      spec(async (ctx) => {
        await ctx.step('cp-1: install', async () => {
          throw new Error('install.sh: key does not match certificate');
        });
        after = true;
      }),
      { store },
    ).done;
    expect(r.state).toBe('failed');
    expect(after).toBe(false);
    expect(r.error).toBe('install.sh: key does not match certificate');
    expect(r.steps[0]).toMatchObject({ state: 'failed', note: r.error });
    expect(store.readLog(r.id).lines.some((l) => l.includes('FAILED'))).toBe(true);
    expect(readAudit(store.auditFile).entries.at(-1)).toMatchObject({
      event: 'end',
      result: 'failed',
      error: r.error,
    });
  });

  it('cancel aborts the signal: the running step fails and the job is cancelled', async () => {
    const store = new JobStore({ stateDir: freshDir() });
    let started!: () => void;
    const inStep = new Promise<void>((r) => {
      started = r;
    });
    const h = runJob(
      spec(async (ctx) => {
        await ctx.step('cp-1: wait', () => {
          started();
          return new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
          );
        });
        await ctx.step('cp-1: never', async () => {});
      }),
      { store },
    );
    await inStep;
    h.cancel('operator pressed x');
    const r = await h.done;
    expect(r.state).toBe('cancelled');
    expect(r.error).toBe('cancelled: operator pressed x');
    expect(r.steps.map((s) => s.state)).toEqual(['failed']);
  });

  it('an outer signal already aborted: nothing runs', async () => {
    const store = new JobStore({ stateDir: freshDir() });
    let ran = false;
    const r = await runJob(
      spec(async () => {
        ran = true;
      }),
      { store, signal: AbortSignal.abort('k8ops shut down') },
    ).done;
    expect(ran).toBe(false);
    expect(r.state).toBe('cancelled');
  });

  it('hostile text (escapes, bidi, newlines) is made visible in the record, tail, log and audit', async () => {
    const store = new JobStore({ stateDir: freshDir() });
    const evil = 'ok\x1b]52;c;cm0gLXJmIC8=\x07\u202edone';
    const r = await runJob(
      spec(
        async (ctx) => {
          ctx.log(`line one\nline two ${evil}`);
          await ctx.step(`step ${evil}`, async () => {
            throw new Error(`boom ${evil}`);
          });
        },
        { title: `title ${evil}`, targets: [`cp-1${evil}`], plan: { note: evil } },
      ),
      { store },
    ).done;
    const raw = [
      readFileSync(store.recordPath(r.id), 'utf8'),
      readFileSync(store.logPath(r.id), 'utf8'),
      readFileSync(store.auditFile, 'utf8'),
    ].join('');
    expect(raw).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
    expect(r.title).toContain('\\x1b]52');
    expect(r.steps[0]!.name).toContain('\\u202e');
    expect(r.error).toContain('\\x07');
    // A newline in output makes two lines, never a forged line inside one.
    expect(r.tail.filter((l) => / line (one|two)/.test(l))).toHaveLength(2);
    const audit = readAudit(store.auditFile).entries;
    expect(audit[0]!.targets[0]).toContain('\\x1b');
    expect(JSON.stringify(audit[0]!.plan)).toContain('\\\\u202e');
  });

  it('keeps a bounded tail in memory and every line in the log file', async () => {
    const store = new JobStore({ stateDir: freshDir() });
    const r = await runJob(
      spec(async (ctx) => {
        for (let i = 0; i < 500; i++) ctx.log(`line ${i}`);
      }),
      { store, tailLines: 50 },
    ).done;
    expect(r.tail).toHaveLength(50);
    expect(r.tail.at(-1)).toMatch(/ line 499$/);
    expect(r.lines).toBe(500);
    const log = store.readLog(r.id);
    expect(log.lines).toHaveLength(500);
    expect(log.lines[0]).toMatch(/ line 0$/);
  });

  it('an unwritable state directory: the job does not run and says why', async () => {
    const stateDir = freshDir();
    writeFileSync(stateDir, 'not a directory');
    const store = new JobStore({ stateDir });
    let ran = false;
    const r = await runJob(
      spec(async () => {
        ran = true;
      }),
      { store },
    ).done;
    expect(ran).toBe(false);
    expect(r.state).toBe('failed');
    expect(r.error).toMatch(/^not started: job store: /);
  });
});

describe('JobStore across processes', () => {
  it('a new JobStore (a console restart) reads every job back, newest first, with its log', async () => {
    const stateDir = freshDir();
    const a = new JobStore({ stateDir });
    const first = await runJob(
      spec(async (ctx) => ctx.log('one')),
      { store: a },
    ).done;
    const second = await runJob(
      spec(async () => {
        throw new Error('gate failed');
      }),
      { store: a, now: () => first.startedAt + 60_000 },
    ).done;
    const b = new JobStore({ stateDir });
    expect(b.list().map((j) => [j.id, j.state])).toEqual([
      [second.id, 'failed'],
      [first.id, 'ok'],
    ]);
    expect(b.readLog(first.id).lines.some((l) => l.endsWith(' one'))).toBe(true);
  });

  it('a job left running by a process that is gone is interrupted, rewritten and audited once', async () => {
    const stateDir = freshDir();
    // A real process that has exited: its pid is not alive any more.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(gone.stdout.toString());
    const store = new JobStore({ stateDir });
    const now = Date.now();
    const mk = (pid: number, host: string): JobRecord => ({
      v: 1,
      id: newJobId('rotate', now),
      action: 'rotate',
      title: `rotate cp-1 (pid ${pid})`,
      targets: ['cp-1'],
      plan: {},
      state: 'running',
      user: 'alice',
      host,
      pid,
      startedAt: now,
      steps: [{ name: 'cp-1: install', state: 'running', startedAt: now }],
      tail: [],
      lines: 0,
    });
    const dead = mk(deadPid, hostname());
    const alive = mk(process.ppid, hostname()); // our parent is alive
    const elsewhere = mk(deadPid, 'another-host'); // cannot be checked from here
    const ours = mk(process.pid, hostname()); // our pid, but not one of this store's jobs
    for (const r of [dead, alive, elsewhere, ours]) store.create(r);

    const b = new JobStore({ stateDir });
    const state = (id: string) => b.get(id)?.state;
    expect(state(dead.id)).toBe('interrupted');
    expect(state(ours.id)).toBe('interrupted');
    expect(state(alive.id)).toBe('running');
    expect(state(elsewhere.id)).toBe('running');
    const d = b.get(dead.id)!;
    expect(d.error).toContain(`pid ${deadPid}`);
    expect(d.steps[0]).toMatchObject({ state: 'failed', note: 'interrupted' });
    // Rewritten: a third start does not audit it again.
    new JobStore({ stateDir }).list();
    const ends = readAudit(join(stateDir, 'audit.jsonl')).entries.filter((e) => e.event === 'end');
    expect(ends.map((e) => [e.job, e.result]).sort()).toEqual(
      [
        [dead.id, 'interrupted'],
        [ours.id, 'interrupted'],
      ].sort(),
    );
  });

  it('a zombie (killed, not yet reaped) is not alive; a live process is', async () => {
    // `sleep 0.1` exits under a parent that never reaps it (exec sleep 5): a real zombie.
    const { spawn } = await import('node:child_process');
    const p = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const pid = Number(
        await new Promise<string>((r) => p.stdout.once('data', (d) => r(String(d)))),
      );
      const end = Date.now() + 10_000;
      while (Date.now() < end && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(() => process.kill(pid, 0)).not.toThrow(); // kill(0) alone would say alive
      expect(pidAlive(pid)).toBe(false);
      expect(pidAlive(p.pid!)).toBe(true);
    } finally {
      p.kill('SIGKILL');
    }
  });

  it('a truncated or hand-edited record is skipped, not a crash', () => {
    const stateDir = freshDir();
    const store = new JobStore({ stateDir });
    const r: JobRecord = {
      v: 1,
      id: newJobId('rotate', Date.now()),
      action: 'rotate',
      title: 'x',
      targets: [],
      plan: {},
      state: 'ok',
      user: 'u',
      host: 'h',
      pid: 1,
      startedAt: Date.now(),
      endedAt: Date.now(),
      steps: [],
      tail: [],
      lines: 0,
    };
    store.create(r);
    writeFileSync(join(store.dir, `${newJobId('rotate', 0)}.json`), '{"v":1,"id":');
    // A well-formed record with a state the pane does not know: refused too.
    const odd = { ...r, id: newJobId('rotate', 1000), state: 'exploded' };
    writeFileSync(join(store.dir, `${odd.id}.json`), JSON.stringify(odd));
    const oddStep = { ...r, id: newJobId('rotate', 2000), steps: [{ name: 's', state: '?' }] };
    writeFileSync(join(store.dir, `${oddStep.id}.json`), JSON.stringify(oddStep));
    const b = new JobStore({ stateDir });
    expect(b.list().map((j) => j.id)).toEqual([r.id]);
  });
});
