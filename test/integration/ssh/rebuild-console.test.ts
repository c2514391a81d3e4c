/**
 * The console's rebuild action (what `B` and `:rebuild` start: session.jobs.prepare, the
 * typed confirmation's choices, session.jobs.start) on a live session against real OpenSSH —
 * the sshd lab's bastion and nodes — with the stand-in for nixos-rebuild that activates on
 * the target through `ssh $NIX_SSHOPTS` (test/helpers/fake-nixos-rebuild.ts: nixos-rebuild
 * cannot run here). Asserts that dry-activate runs first as a job of its own and its parsed
 * units reach the plan; that the choice made in the confirmation is what runs; that a
 * dry-activate that fails stops everything before a switch; and the roll-out's per-node lines.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadInventory } from '../../../src/config/load.js';
import { openLiveSession } from '../../../src/session/live.js';
import type { Session } from '../../../src/session/session.js';
import { installFakeNixosRebuild } from '../../helpers/fake-nixos-rebuild.js';
import { describeLab } from '../../helpers/sshd-suite.js';

describeLab('console rebuild action against real sshd (stand-in nixos-rebuild)', (lab) => {
  const saved = { PATH: process.env.PATH, HOME: process.env.HOME };
  let session: Session | undefined;
  let n = 0;
  beforeEach(() => {
    session = undefined;
  });
  afterEach(async () => {
    await session?.close();
    process.env.PATH = saved.PATH;
    process.env.HOME = saved.HOME;
  });

  async function setup() {
    const l = lab();
    const dir = join(l.dir, `rebuild-console-${++n}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const fake = installFakeNixosRebuild(dir);
    const file = join(dir, 'k8ops.yaml');
    writeFileSync(
      file,
      [
        'cluster: sshlab',
        'nodes:',
        '  - name: node1',
        '    roles: [control-plane]',
        '  - name: node2',
        '    roles: [worker]',
        '  - name: node3',
        '    roles: [worker]',
        'rebuild:',
        '  flake: /srv/cluster',
        '',
      ].join('\n'),
    );
    const loaded = await loadInventory(file);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    // nixos-rebuild is found on PATH (the stand-in), and ssh reads the lab's home.
    process.env.PATH = `${fake.binDir}:${saved.PATH ?? ''}`;
    process.env.HOME = l.home;
    session = await openLiveSession({
      inventory: loaded.inventory,
      readOnly: false,
      sshConfigFile: l.configFile,
      stateDir: join(dir, 'state'),
    });
    const lines = (f: string) =>
      existsSync(join(dir, f))
        ? readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)
        : [];
    return { dir, session, lines, l };
  }

  it('dry-activate first (its own job, the units in the plan), then the action chosen in the confirmation runs', async () => {
    const { session, lines, l } = await setup();
    const p = await session.jobs.prepare({ action: 'rebuild', targets: ['node2', 'node3'] });
    if (!p.ok) throw new Error(p.message);
    // The preview: dry-activate on both nodes, over the real ssh with the console's options.
    expect(lines('calls').map((c) => c.split('|').slice(0, 3))).toEqual([
      ['dry-activate', 'node2', 'root@node2'],
      ['dry-activate', 'node3', 'root@node3'],
    ]);
    expect(lines('calls')[0]!.split('|')[4]).toBe(
      `-F ${l.configFile} -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5`,
    );
    expect(p.job.planText).toEqual(
      expect.arrayContaining([
        '  node2: would restart kubelet.service',
        '         and stop kube-proxy.service',
        '  node3: would restart kubelet.service',
      ]),
    );
    const preview = session.jobs
      .list()
      .find((j) => (j.plan as { action?: string }).action === 'dry-activate');
    expect(preview).toMatchObject({ state: 'ok', targets: ['node2', 'node3'] });
    // No kube API: the drain is not offered; switch / test / boot are.
    expect(p.job.options).toEqual([
      { id: 'action', label: 'action', choices: ['switch', 'test', 'boot'], value: 'switch' },
    ]);
    expect(p.job.confirm).toBe('2 nodes');
    expect(Object.keys(p.job.variants)).toHaveLength(3);

    // The operator chose `test` in the confirmation: test is what runs.
    const s = session.jobs.start(p.job.token, { action: 'test' });
    if (!s.ok) throw new Error(s.message);
    const rec = await session.jobs.handle(s.id)!.done;
    expect(rec.state, rec.error).toBe('ok');
    expect(rec.title).toBe('rebuild test: node2, node3');
    expect(
      lines('calls')
        .slice(2)
        .map((c) => c.split('|').slice(0, 2)),
    ).toEqual([
      ['test', 'node2'],
      ['test', 'node3'],
    ]);
    expect(rec.progress).toEqual([
      { target: 'node2', text: expect.stringMatching(/^done in [\d.]+ s · gate passed$/) },
      { target: 'node3', text: expect.stringMatching(/^done in [\d.]+ s · gate passed$/) },
    ]);
    expect(rec.steps.map((x) => `${x.state} ${x.name}`)).toEqual([
      'ok node2: nixos-rebuild',
      'ok node2: health gate',
      'ok node3: nixos-rebuild',
      'ok node3: health gate',
    ]);
  }, 180_000);

  it('a dry-activate that fails stops it before anything switches, saying where; a failed switch names the rollback', async () => {
    const { dir, session, lines } = await setup();
    writeFileSync(join(dir, 'node3.build-fails'), '');
    const p = await session.jobs.prepare({ action: 'rebuild', targets: ['node3'] });
    expect(p.ok).toBe(false);
    if (p.ok) return;
    expect(p.message).toMatch(
      /^rebuild: dry-activate did not pass, nothing was switched: node3 failed while building: nixos-rebuild exited 1 \(job \d{8}T\d{6}Z-rebuild-[0-9a-f]{6}, 8: Jobs\)$/,
    );
    expect(lines('calls').map((c) => c.split('|')[0])).toEqual(['dry-activate']);
    expect(lines('activations')).toEqual([]);

    rmSync(join(dir, 'node3.build-fails'));
    writeFileSync(join(dir, 'node2.mode'), 'units-failed');
    const q = await session.jobs.prepare({ action: 'rebuild', targets: ['node2'] });
    if (!q.ok) throw new Error(q.message);
    const s = session.jobs.start(q.job.token);
    if (!s.ok) throw new Error(s.message);
    const rec = await session.jobs.handle(s.id)!.done;
    expect(rec.state).toBe('failed');
    expect(rec.error).toMatch(
      /node2 failed while activating: switched, but units failed: kubelet\.service; the roll-out stopped there/,
    );
    expect(rec.error).toMatch(
      /to go back on node2: :rollback node2 \(k8ops rebuild node2 --rollback\)/,
    );
    expect(rec.progress?.[0]?.text).toMatch(/^FAILED while activating: switched, but units failed/);

    // :rollback node2 — switch --rollback, no preview, no choice.
    const back = await session.jobs.prepare({
      action: 'rebuild',
      targets: ['node2'],
      options: { rollback: true },
    });
    if (!back.ok) throw new Error(back.message);
    expect(back.job.options).toEqual([]);
    expect(back.job.title).toBe('rebuild rollback: node2');
    const b = session.jobs.start(back.job.token);
    if (!b.ok) throw new Error(b.message);
    await session.jobs.handle(b.id)!.done;
    expect(lines('calls').at(-1)!.split('|').slice(0, 4)).toEqual([
      'switch',
      'node2',
      'root@node2',
      '1',
    ]);
  }, 180_000);
});
