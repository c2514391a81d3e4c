/**
 * session.jobs on the demo lab (real DemoNodeAgents over a generated lab, a temporary state
 * dir): `run` (the `--yes` path of commands) prepares and starts at once and its job walks
 * every step; what it refuses and why: a read-only session (before any plan, nothing
 * written), an unknown action, a node that is not in the inventory, an expired
 * confirmation token, a job this session does not run.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../../src/actions/jobs/audit.js';
import type { ActionRequest } from '../../../src/actions/types.js';
import { openDemoSession } from '../../../src/session/demo.js';

const root = mkdtempSync(join(tmpdir(), 'k8ops-session-jobs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const labDir = join(root, 'lab');

describe('session.jobs', () => {
  it('run: prepares and starts at once; the job walks every step and is audited', async () => {
    const stateDir = join(root, 'state');
    const session = openDemoSession({ readOnly: false, dir: labDir, stateDir });
    try {
      const r = await session.jobs.run({
        action: 'demo-noop',
        targets: ['cp-2'],
        options: { waitMs: 10 },
      });
      if (!r.ok) throw new Error(r.message);
      expect(r.job.confirm).toBe('cp-2');
      const done = await r.done;
      expect(done.state).toBe('ok');
      expect(done.steps.map((s) => s.name)).toEqual([
        'cp-2: probe',
        'cp-2: list certificates',
        'cp-2: wait',
        'cp-2: unit states',
      ]);
      expect(session.jobs.list()[0]!.id).toBe(r.id);
      const audit = readAudit(join(stateDir, 'audit.jsonl')).entries;
      expect(audit.map((e) => [e.event, e.job, e.result])).toEqual([
        ['start', r.id, undefined],
        ['end', r.id, 'ok'],
      ]);
      expect(audit[0]!.plan).toMatchObject({ node: 'cp-2', writes: 'nothing' });
    } finally {
      await session.close();
    }
  }, 120_000);

  it('refuses with a reason: read-only, unknown action, unknown node, expired token, foreign job', async () => {
    const stateDir = join(root, 'state-ro');
    const ro = openDemoSession({ readOnly: true, dir: labDir, stateDir });
    try {
      const req: ActionRequest = { action: 'demo-noop', targets: ['cp-1'] };
      for (const r of [await ro.jobs.prepare(req), await ro.jobs.run(req)])
        expect(r).toEqual({
          ok: false,
          message: 'read-only session (--read-only): demo-noop cp-1 refused; nothing was started',
        });
      expect(existsSync(stateDir)).toBe(false);
    } finally {
      await ro.close();
    }
    const rw = openDemoSession({ readOnly: false, dir: labDir, stateDir: join(root, 'state-rw') });
    try {
      const bad = await rw.jobs.prepare({
        action: 'reboot' as ActionRequest['action'],
        targets: ['cp-1'],
      });
      expect(bad).toEqual({ ok: false, message: 'no action named "reboot"' });
      const ghost = await rw.jobs.prepare({ action: 'demo-noop', targets: ['cp-9\x1b[2J'] });
      expect(ghost).toEqual({ ok: false, message: 'demo-noop: no node named "cp-9\\x1b[2J"' });
      expect(rw.jobs.start('0123456789abcdef')).toEqual({
        ok: false,
        message: 'that confirmation has expired; nothing was started',
      });
      // A token starts one job only.
      const p = await rw.jobs.prepare({
        action: 'demo-noop',
        targets: ['cp-1'],
        options: { waitMs: 0 },
      });
      if (!p.ok) throw new Error(p.message);
      rw.jobs.discard(p.job.token);
      expect(rw.jobs.start(p.job.token).ok).toBe(false);
      expect(rw.jobs.cancel('20261206T000000Z-rotate-abcdef')).toEqual({
        ok: false,
        message: 'no such job',
      });
    } finally {
      await rw.close();
    }
  }, 120_000);
});
