/**
 * The TypeScript rotation planner (src/features/rotation/plan.ts) against what the node
 * timer does, to the second:
 *   - the slot: nix/lib/rotation.nix evaluated by nix-instantiate over many generated
 *     inventories (fixed seed, bounded count, one evaluation);
 *   - the scheduled time: the plan nix/lib/node-tools.nix writes (offset, renewBefore),
 *     given to the real k8ops-rotate-due script with real certificates whose lifetimes are
 *     not whole days (so ⌊lifetime / 3⌋ and ⌊i × spread / N⌋ both truncate).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  DEFAULT_BUNDLE_LEAD_MS,
  planSchedule,
  slotOffsetMs,
} from '../../../src/features/rotation/plan.js';
import { parseCertFile } from '../../../src/pki/x509.js';
import { mulberry32 as rng } from '../../../src/store/prng.js';
import { type Issued, issue, makeRoot } from '../../helpers/pki-certs.js';
import { describeWith, nixEval, ROOT } from './helpers.js';

const SCRIPT = join(ROOT, 'nix/modules/scripts/k8ops-rotate-due.sh');
const S = 1000;

describeWith(['nix-instantiate'], 'rotation planner ↔ nix/lib/rotation.nix', () => {
  it('the slot of every node of 120 generated inventories agrees to the second', () => {
    const r = rng(2026);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const cases: { index: number; count: number; spreadSeconds: number }[] = [];
    for (let k = 0; k < 120; k++) {
      const count = k < 20 ? k + 1 : int(1, 500);
      // Round spreads, odd ones, zero, and up to a week.
      const spreadSeconds = r() < 0.3 ? int(0, 48) * 1800 : int(0, 7 * 86_400);
      const indices = count <= 40 ? [...Array(count).keys()] : [0, 1, count - 1, int(0, count - 1)];
      for (const index of indices) cases.push({ index, count, spreadSeconds });
    }
    const nix = nixEval<number[]>(
      'map (p: (import ./nix/lib/rotation.nix p).offsetSeconds) args.cases',
      { cases },
    );
    expect(nix).toHaveLength(cases.length);
    const ts = cases.map((c) => slotOffsetMs(c.index, c.count, c.spreadSeconds * S) / S);
    const mismatches = cases.filter((_, i) => ts[i] !== nix[i]);
    expect(mismatches).toEqual([]);
    expect(cases.length).toBeGreaterThan(500);
  });
});

describeWith(
  ['nix-instantiate', 'openssl', 'jq', 'flock'],
  'rotation planner ↔ node-tools plan + k8ops-rotate-due (real certificates)',
  () => {
    let dir = '';
    let root: Issued;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'k8ops-rotplan-'));
      root = await makeRoot();
    });
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('scheduled time of generated certificates and slots agrees to the second', async () => {
      const r = rng(515);
      const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
      const base = Date.UTC(2026, 11, 1, 0, 0, 0);
      for (let k = 0; k < 8; k++) {
        const count = int(1, 40);
        const index = int(0, count - 1);
        const spreadSeconds = int(0, 3 * 86_400);
        const renewBeforeSeconds = k % 2 === 0 ? null : int(3600, 5 * 86_400);
        const notBefore = base + int(0, 86_400) * S;
        const notAfter = notBefore + (14 * 86_400 + int(1, 7200)) * S;
        const leaf = await issue(root, { cn: `leaf-${k}`, notBefore, notAfter, keyKind: 'P-256' });
        const certPath = join(dir, `kubelet-${k}.pem`);
        writeFileSync(certPath, leaf.pem);

        // The plan the NixOS module writes for this node (slot from rotation.nix).
        const plan = nixEval<{
          offsetSeconds: number;
          renewBeforeSeconds: number | null;
        }>(
          `(import ./nix/lib/node-tools.nix {
             pkiPlan = { node = "w"; certs = [ { id = "kubelet"; certPath = "/x"; units = [ ]; } ]; };
             rotation = import ./nix/lib/rotation.nix args.slot;
             renewBeforeSeconds = args.rb;
           }).rotationPlan`,
          { slot: { index, count, spreadSeconds }, rb: renewBeforeSeconds },
        );
        const planFile = join(dir, `plan-${k}.json`);
        writeFileSync(
          planFile,
          JSON.stringify({ ...plan, node: 'w', certs: [{ id: 'kubelet', certPath, units: [] }] }),
        );
        const run = spawnSync('bash', [SCRIPT, '--plan', planFile, '--now', '1', '--dry-run'], {
          encoding: 'utf8',
          env: { ...process.env, K8OPS_ROTATE_LOCK: join(dir, 'lock') },
        });
        expect(run.status, run.stderr).toBe(0);
        const timer = JSON.parse(run.stdout) as { certs: { scheduled: number }[] };

        const parsed = parseCertFile('w', certPath, leaf.pem).certs[0]!;
        const s = planSchedule(
          {
            nodes: [
              {
                name: 'w',
                index,
                roles: ['worker'],
                leaves: [
                  {
                    id: 'kubelet',
                    path: certPath,
                    notBefore: parsed.notBefore,
                    notAfter: parsed.notAfter,
                    units: [],
                  },
                ],
              },
            ],
            nodeCount: count,
            intermediates: [],
          },
          {
            spreadMs: spreadSeconds * S,
            ...(renewBeforeSeconds !== null ? { renewBeforeMs: renewBeforeSeconds * S } : {}),
            cpGapMs: 1800 * S,
            minRemainingMs: 0,
            bundleLeadMs: DEFAULT_BUNDLE_LEAD_MS,
          },
          0,
        );
        expect(
          { k, ts: s.nodes[0]!.leaves[0]!.scheduledMs / S },
          JSON.stringify({ index, count, spreadSeconds, renewBeforeSeconds }),
        ).toEqual({ k, ts: timer.certs[0]!.scheduled });
      }
    });
  },
);
