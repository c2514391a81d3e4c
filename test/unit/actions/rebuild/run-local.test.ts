/**
 * The local nixos-rebuild run's overall bound (run-local.ts): past `timeoutMs` its whole
 * process group is killed — SIGTERM, then SIGKILL for what ignores it (a child that traps
 * TERM, as a stuck `nix` builder or `ssh` may) — and the roll-out fails with a clear reason.
 * Real processes (/bin/sh), no stand-ins.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RebuildFailed, rebuildJob } from '../../../../src/actions/rebuild/job.js';
import { runLocal } from '../../../../src/actions/rebuild/run-local.js';
import type { NodeSpec } from '../../../../src/config/types.js';
import { recordingContext } from '../../../helpers/job-context.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ops-runlocal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

/** A "nixos-rebuild" that prints, starts a child ignoring SIGTERM, and never ends by itself. */
const stuck = (pidFile: string) => [
  'sh',
  '-c',
  `echo "building the system configuration..."; sh -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 1; done' & wait`,
];

describe('runLocal: the overall bound', () => {
  it('kills the whole process group past timeoutMs, the TERM-ignoring child too', async () => {
    const pidFile = join(dir, 'child.pid');
    const lines: string[] = [];
    const t0 = Date.now();
    const r = await runLocal(stuck(pidFile), {
      timeoutMs: 600,
      killGraceMs: 300,
      onLine: (l) => lines.push(l),
    });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.timedOut).toBe(true);
    expect(r.code).toBeNull();
    expect(r.signal).toBe('SIGTERM');
    expect(lines).toEqual(['building the system configuration...']);
    expect(existsSync(pidFile)).toBe(true);
    const child = Number(readFileSync(pidFile, 'utf8'));
    // It ignored SIGTERM; the SIGKILL after the grace period ends it.
    expect(await gone(child, 5000)).toBe(true);
  });

  it('a run within its bound is not touched; no bound: no timer', async () => {
    const r = await runLocal(['sh', '-c', 'echo ok; exit 3'], {
      timeoutMs: 10_000,
      onLine: () => {},
    });
    expect(r).toEqual({ code: 3 });
    const u = await runLocal(['sh', '-c', 'exit 0'], { onLine: () => {} });
    expect(u).toEqual({ code: 0 });
  });

  it('in the roll-out: "did not finish within …: killed", the roll-out stops there', async () => {
    const node: NodeSpec = { name: 'w1', index: 0, host: 'w1', addresses: [], roles: ['worker'] };
    const other: NodeSpec = { ...node, name: 'w2', host: 'w2', index: 1 };
    const ran: string[] = [];
    const job = rebuildJob({ nodes: [], action: 'switch', parallel: 1 }, [[node], [other]], {
      execute: async (n, onLine, signal) => {
        ran.push(n.name);
        const r = await runLocal(stuck(join(dir, `${n.name}.pid`)), {
          signal,
          timeoutMs: 400,
          killGraceMs: 200,
          onLine,
        });
        return r.timedOut ? { ...r, timeoutMs: 400 } : r;
      },
    });
    const ctx = recordingContext();
    const err = (await job.run(ctx).catch((e: unknown) => e)) as RebuildFailed;
    expect(err).toBeInstanceOf(RebuildFailed);
    expect(err.message).toMatch(
      /^w1 failed while building: nixos-rebuild did not finish within 0\.4 s: killed \(SIGTERM, with its process group\) \(rebuild\.timeout\); the roll-out stopped there/,
    );
    expect(ran).toEqual(['w1']);
    expect(ctx.steps.map((s) => `${s.state} ${s.name}`)).toEqual([
      'failed w1: nixos-rebuild',
      'skipped w2: nixos-rebuild',
    ]);
  });
});
