/**
 * The `rotation-settings` action through a real session's jobs (createSession with a
 * temporary state dir, an inventory loaded from a temporary k8ops.yaml): the confirmation
 * shows old → new and what the node timers need; the job writes the file (comments kept),
 * is audited, and the session takes the new settings over (the rotation model rebuilds
 * with them). Refused in the demo lab, in a read-only session, and for requests that are
 * not durations.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../../src/actions/jobs/audit.js';
import { loadInventory } from '../../../src/config/load.js';
import { buildRotationModel, rotationFeature } from '../../../src/features/rotation/model.js';
import { openDemoSession } from '../../../src/session/demo.js';
import { createSession } from '../../../src/session/session.js';
import { CLUSTER_SCOPE, INVENTORY_SOURCE } from '../../../src/store/types.js';

const H = 3_600_000;
const root = mkdtempSync(join(tmpdir(), 'k8ops-rotation-settings-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TEXT = `# lab inventory — comments must survive
cluster: lab
nodes:
  - name: cp-1
    roles: [control-plane, etcd]
  - name: w-1
    roles: [worker]
# no rotation section yet: the defaults apply
`;

let n = 0;
async function liveSession(readOnly = false, name = `s${n++}`) {
  const dir = join(root, name);
  const file = join(dir, 'k8ops.yaml');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, TEXT);
  const loaded = await loadInventory(file);
  if (!loaded.ok) throw new Error(loaded.errors[0]!.message);
  const session = createSession({
    mode: 'live',
    inventory: loaded.inventory,
    agents: new Map(),
    readOnly,
    stateDir: join(dir, 'state'),
  });
  return { session, file, stateDir: join(dir, 'state') };
}

describe('rotation-settings', () => {
  it('prepare: old → new, the node timers’ options; run: the file written, audited, taken over', async () => {
    const { session, file, stateDir } = await liveSession();
    try {
      const p = await session.jobs.prepare({
        action: 'rotation-settings',
        targets: [],
        options: { spreadMs: 26 * H, renewBeforeMs: 4 * 24 * H },
      });
      if (!p.ok) throw new Error(p.message);
      expect(p.job.confirm).toBe('save');
      expect(p.job.title).toBe('save rotation settings to k8ops.yaml (spread 26h, renewBefore 4d)');
      expect(p.job.planText).toEqual([
        `write ${file}:`,
        '  rotation.spread: (not set: 1d) → 26h (added)',
        '  rotation.renewBefore: (not set: auto) → 4d (added)',
        'nothing else in the file changes (comments, order, quoting stay)',
        'atomic: a temporary file beside it (mode 0644), renamed over it,',
        '  only if the file is still as k8ops loaded it',
        'the console follows at once; the node timers after a rebuild with',
        '  k8ops.nodeTools.rotation.spreadSeconds = 93600;',
        '  k8ops.nodeTools.rotation.renewBeforeSeconds = 345600;',
      ]);
      // Nothing written before the confirmation.
      expect(readFileSync(file, 'utf8')).toBe(TEXT);
      const before = session.store.get(CLUSTER_SCOPE, INVENTORY_SOURCE);
      const s = session.jobs.start(p.job.token);
      if (!s.ok) throw new Error(s.message);
      const done = await session.jobs.handle(s.id)!.done;
      expect(done.state).toBe('ok');
      expect(readFileSync(file, 'utf8')).toBe(
        `${TEXT}\n# Certificate rotation schedule (added by k8ops; see k8ops.example.yaml).\nrotation:\n  spread: 26h\n  renewBefore: 4d\n`,
      );
      // The session took the new settings over, and told the models.
      expect(session.inventory.rotation).toMatchObject({
        spreadMs: 26 * H,
        renewBeforeMs: 4 * 24 * H,
      });
      expect(session.store.get(CLUSTER_SCOPE, INVENTORY_SOURCE)).not.toBe(before);
      expect(rotationFeature.reads).toContainEqual({ scope: 'cluster', id: INVENTORY_SOURCE });
      const m = buildRotationModel(session.inventory, (sc, so) => session.store.get(sc, so), 0);
      expect(m.settings.spreadMs).toBe(26 * H);
      // A second save starts from the file as written (its digest was taken over).
      const again = await session.jobs.run({
        action: 'rotation-settings',
        targets: [],
        options: { spreadMs: 12 * H },
      });
      if (!again.ok) throw new Error(again.message);
      expect((await again.done).state).toBe('ok');
      expect(readFileSync(file, 'utf8')).toContain('  spread: 12h\n  renewBefore: 4d\n');
      const audit = readAudit(join(stateDir, 'audit.jsonl')).entries;
      expect(audit.map((e) => [e.action, e.event, e.result])).toEqual([
        ['rotation-settings', 'start', undefined],
        ['rotation-settings', 'end', 'ok'],
        ['rotation-settings', 'start', undefined],
        ['rotation-settings', 'end', 'ok'],
      ]);
      expect(audit[0]!.plan).toEqual({
        file,
        changes: [
          { key: 'rotation.spread', from: null, to: '26h' },
          { key: 'rotation.renewBefore', from: null, to: '4d' },
        ],
      });
    } finally {
      await session.close();
    }
  });

  it('the file changed after the confirmation: the job fails saying so, the file is theirs', async () => {
    const { session, file } = await liveSession();
    try {
      const p = await session.jobs.prepare({
        action: 'rotation-settings',
        targets: [],
        options: { spreadMs: 2 * H },
      });
      if (!p.ok) throw new Error(p.message);
      writeFileSync(file, `${TEXT}# theirs\n`);
      const s = session.jobs.start(p.job.token);
      if (!s.ok) throw new Error(s.message);
      const done = await session.jobs.handle(s.id)!.done;
      expect(done.state).toBe('failed');
      expect(done.error).toMatch(/changed on disk since the confirmation/);
      expect(readFileSync(file, 'utf8')).toBe(`${TEXT}# theirs\n`);
      expect(session.inventory.rotation.spreadMs).toBe(24 * H);
      // And a new prepare now refuses: the file is not what was loaded.
      const again = await session.jobs.prepare({
        action: 'rotation-settings',
        targets: [],
        options: { spreadMs: 2 * H },
      });
      expect(!again.ok && again.message).toMatch(/changed on disk since k8ops loaded it/);
    } finally {
      await session.close();
    }
  });

  it('a hostile file name reaches the confirmation and the job escaped', async () => {
    const { session, file } = await liveSession(false, 'evil\u001b[2J\u0007\u202Edir');
    try {
      const p = await session.jobs.prepare({
        action: 'rotation-settings',
        targets: [],
        options: { spreadMs: 2 * H },
      });
      if (!p.ok) throw new Error(p.message);
      const shown = [p.job.title, ...p.job.planText].join('\n');
      expect(shown).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
      expect(shown).toContain('spreadSeconds = 7200;');
      const r = await session.jobs.run({
        action: 'rotation-settings',
        targets: [],
        options: { spreadMs: 3 * H },
      });
      if (!r.ok) throw new Error(r.message);
      const done = await r.done;
      expect(done.state).toBe('ok');
      expect(JSON.stringify(done)).not.toMatch(/\\u001b|\\u0007|\u202e/);
      expect(readFileSync(file, 'utf8')).toContain('  spread: 3h\n');
    } finally {
      await session.close();
    }
  });

  it('refused: read-only session, the demo lab, nothing to save, not a duration', async () => {
    const ro = await liveSession(true);
    try {
      expect(
        await ro.session.jobs.prepare({
          action: 'rotation-settings',
          targets: [],
          options: { spreadMs: 2 * H },
        }),
      ).toEqual({
        ok: false,
        message: 'read-only session (--read-only): rotation-settings refused; nothing was started',
      });
    } finally {
      await ro.session.close();
    }
    const demo = openDemoSession({
      readOnly: false,
      dir: join(root, 'lab'),
      stateDir: join(root, 'demo-state'),
    });
    try {
      const r = await demo.jobs.prepare({
        action: 'rotation-settings',
        targets: [],
        options: { spreadMs: 2 * H },
      });
      expect(!r.ok && r.message).toBe(
        "rotation-settings: the demo lab's inventory is built in: there is no k8ops.yaml to save to (start k8ops with --inventory FILE)",
      );
    } finally {
      await demo.close();
    }
    const { session, file } = await liveSession();
    try {
      const same = await session.jobs.prepare({
        action: 'rotation-settings',
        targets: [],
        options: { spreadMs: 24 * H, renewBeforeMs: 'auto' },
      });
      expect(!same.ok && same.message).toBe(
        'rotation-settings: nothing to save: the file already has spread 1d, renewBefore auto',
      );
      for (const options of [{ spreadMs: -5 }, { spreadMs: '26h' }, { renewBeforeMs: 1.5 }, {}]) {
        const r = await session.jobs.prepare({ action: 'rotation-settings', targets: [], options });
        expect(r.ok, JSON.stringify(options)).toBe(false);
      }
      expect(readFileSync(file, 'utf8')).toBe(TEXT);
    } finally {
      await session.close();
    }
  });
});
