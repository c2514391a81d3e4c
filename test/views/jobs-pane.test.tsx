/**
 * Actions from the console on the demo lab (real DemoNodeAgents over a generated lab, a
 * temporary XDG state dir): `:demo-noop cp-1` opens the typed confirmation with the
 * action's plan; a wrong name starts nothing; the right one starts the job, and the Jobs
 * pane shows it running (steps, elapsed), then ok, beside a failed job left by an earlier
 * run (read back from disk, as after a console restart) with its failed step and error;
 * Enter opens the full log, Esc closes it. A read-only session refuses the action with a
 * clear message and writes nothing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runJob } from '../../src/actions/jobs/runner.js';
import { JobStore } from '../../src/actions/jobs/store.js';
import { openDemoSession } from '../../src/session/demo.js';
import type { Session } from '../../src/session/session.js';
import { App } from '../../views/App.js';
import { monoTheme } from '../../views/theme.js';

const root = mkdtempSync(join(tmpdir(), 'k8ops-jobs-pane-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const labDir = join(root, 'lab');
const ENTER = '\r';
const ESC = '\x1b';
const SIZE = { columns: 120, rows: 34 };

let sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  sessions = [];
});

const tick = () => new Promise((r) => setTimeout(r, 20));

async function mount(readOnly: boolean, stateDir: string, size = SIZE) {
  const session = openDemoSession({ readOnly, dir: labDir, stateDir });
  sessions.push(session);
  const r = render(<App session={session} theme={monoTheme} size={size} />);
  await tick();
  const type = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      await tick();
    }
  };
  const frame = () => r.lastFrame() ?? '';
  /** Wait (bounded) until the frame satisfies `ok`. */
  const until = async (ok: (f: string) => boolean, what: string, ms = 60_000) => {
    const end = Date.now() + ms;
    while (!ok(frame())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${frame()}`);
      await tick();
    }
  };
  /** Every frame drawn so far fits the terminal. */
  const fits = () => {
    for (const fr of r.frames) {
      const lines = fr.split('\n');
      expect(lines.length).toBeLessThanOrEqual(size.rows);
      for (const l of lines) expect([...l].length).toBeLessThanOrEqual(size.columns);
    }
  };
  return { session, r, type, frame, until, fits };
}

describe('actions from the console and the Jobs pane', () => {
  it('typed confirmation, a running then ok job, a failed job from disk, the full log', async () => {
    const stateDir = join(root, 'state');
    // A job an earlier console ran, which failed at its gate.
    const earlier = new JobStore({ stateDir });
    const failed = await runJob(
      {
        action: 'demo-noop',
        title: 'demo-noop worker-2 (reads only)',
        targets: ['worker-2'],
        plan: {},
        run: async (ctx) => {
          await ctx.step('worker-2: probe', async () => ctx.log('worker-2 reachable'));
          await ctx.step('worker-2: health gate', async () => {
            ctx.log('kubelet: certificate rejected');
            throw new Error('gate kubelet failed: node NotReady');
          });
        },
      },
      { store: earlier, now: () => Date.now() - 3_600_000 },
    ).done;
    expect(failed.state).toBe('failed');

    const { session, type, frame, until, fits } = await mount(false, stateDir);
    await type(':', 'demo-noop cp-1', ENTER);
    await until((f) => f.includes('Confirm: demo-noop cp-1'), 'the confirmation');
    expect(frame()).toContain('reads only, writes nothing');
    expect(frame()).toContain('1. probe cp-1');
    expect(frame()).toMatch(/Type cp-1 to start it/);

    // A wrong name: refused, nothing started, the overlay stays.
    await type('cp-2', ENTER);
    expect(frame()).toContain('"cp-2" is not "cp-1": nothing started');
    expect(session.jobs.list().map((j) => j.id)).toEqual([failed.id]);

    await type('cp-1', ENTER);
    await until((f) => f.includes('started demo-noop cp-1'), 'the started message');
    expect(frame()).not.toContain('Confirm:');
    expect(session.jobs.list()).toHaveLength(2);

    await type('8');
    // Running: its row, its steps so far (the lab is still being generated: probe waits).
    await until((f) => /running +\d\d-\d\d [\d:]{8} +demo-noop cp-1/.test(f), 'the running job');
    expect(frame()).toMatch(/\[ \.\. \] cp-1: probe/);
    expect(frame()).toMatch(/failed +\d\d-\d\d [\d:]{8} +demo-noop worker-2/);

    // It walks every step and ends ok (the lab's generation is bounded by the wait).
    await until((f) => / ok +\d\d-\d\d [\d:]{8} +demo-noop cp-1/.test(f), 'the job ok', 120_000);
    for (const step of ['probe', 'list certificates', 'wait', 'unit states'])
      expect(frame()).toMatch(new RegExp(`\\[ ok \\] cp-1: ${step} +\\d`));
    expect(frame()).toContain('4/4 steps');
    expect(frame()).toMatch(/kubelet\.service: active/);

    // The failed job: its failed step with the reason, and the job's error.
    await type('j');
    expect(frame()).toContain('[FAIL] worker-2: health gate');
    expect(frame()).toContain('failed: gate kubelet failed: node NotReady');
    expect(frame()).toContain('kubelet: certificate rejected');

    // Enter: its full log from disk; Esc: back.
    await type(ENTER);
    await until((f) => f.includes('log of demo-noop worker-2'), 'the full log');
    expect(frame()).toMatch(/== worker-2: health gate: FAILED: gate kubelet failed/);
    await type(ESC);
    expect(frame()).not.toContain('log of');
    expect(frame()).toContain('[FAIL] worker-2: health gate');
    fits();

    // The same jobs (read back by a new session) in the smallest terminal, list and log.
    const small = await mount(false, stateDir, { columns: 60, rows: 12 });
    await small.type('8');
    await small.until((f) => f.includes('demo-noop cp-1'), 'the jobs at 60x12');
    await small.type('j', ENTER, 'k', 'g', ESC, 'x');
    await small.type(':', 'demo-noop cp-1', ENTER);
    await small.until((f) => f.includes('Confirm: demo-noop'), 'the confirmation at 60x12');
    await small.type('cp', ENTER, ESC);
    small.fits();
  }, 180_000);

  it('a read-only session refuses the action: a clear message, no confirmation, nothing written', async () => {
    const stateDir = join(root, 'state-ro');
    const { session, type, frame, until } = await mount(true, stateDir);
    await type(':', 'demo-noop cp-1', ENTER);
    await until((f) => f.includes('read-only'), 'the refusal');
    expect(frame()).toContain(
      'read-only session (--read-only): demo-noop cp-1 refused; nothing was started',
    );
    expect(frame()).not.toContain('Confirm:');
    expect(session.jobs.list()).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
  });

  it('closing the session (quitting the console) cancels its running job, recorded and audited', async () => {
    const stateDir = join(root, 'state-quit');
    const session = openDemoSession({ readOnly: false, dir: labDir, stateDir });
    const p = await session.jobs.prepare({
      action: 'demo-noop',
      targets: ['cp-3'],
      options: { waitMs: 60_000 },
    });
    if (!p.ok) throw new Error(p.message);
    const started = session.jobs.start(p.job.token);
    if (!started.ok) throw new Error(started.message);
    const end = Date.now() + 60_000;
    while (!session.jobs.list()[0]?.steps.some((s) => s.name === 'cp-3: wait')) {
      if (Date.now() > end) throw new Error('the job never reached its wait');
      await tick();
    }
    await session.close();
    const after = new JobStore({ stateDir }).get(started.id)!;
    expect(after.state).toBe('cancelled');
    expect(after.error).toBe('cancelled: k8ops shut down');
    expect(after.steps.at(-1)).toMatchObject({ name: 'cp-3: wait', state: 'failed' });
  }, 120_000);

  it('x cancels the selected running job: the action sees the abort, the job ends cancelled', async () => {
    const { session, type, frame, until } = await mount(false, join(root, 'state-x'));
    const p = await session.jobs.prepare({
      action: 'demo-noop',
      targets: ['worker-1'],
      options: { waitMs: 60_000 },
    });
    if (!p.ok) throw new Error(p.message);
    const started = session.jobs.start(p.job.token);
    if (!started.ok) throw new Error(started.message);
    await type('8');
    await until((f) => /\[ \.\. \] worker-1: wait/.test(f), 'the job in its wait');
    await type('x');
    await until((f) => /cancelled +\d\d-\d\d [\d:]{8} +demo-noop worker-1/.test(f), 'cancelled');
    expect(frame()).toContain('cancelled: cancelled by the operator');
    expect(frame()).toMatch(/\[FAIL\] worker-1: wait/);
  }, 120_000);
});
