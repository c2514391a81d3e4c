/**
 * `B` in the console on the demo lab (real DemoNodeAgents over a generated lab, the demo's
 * kube stand-in, a temporary XDG state dir): Space marks two workers in the shared node
 * list, B runs dry-activate on both first — a job of its own in the Jobs pane — and opens
 * the typed confirmation with each node's parsed units; Tab/↓ turn on the drain; the typed
 * text starts the roll-out, which the Jobs pane shows with one line per node and its phase,
 * the steps (cordon + drain, nixos-rebuild, health gate, uncordon) and the log; the nodes
 * end uncordoned. A read-only session refuses B before anything runs.
 * The demo's nixos-rebuild, etcdctl and eviction answers are src/demo/rebuild.ts and
 * src/kube/demo-drain.ts (demo stand-ins; the real paths are tested in test/integration).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { KubeNodeStatus } from '../../src/kube/types.js';
import { openDemoSession } from '../../src/session/demo.js';
import type { Session } from '../../src/session/session.js';
import { CLUSTER_SCOPE } from '../../src/store/types.js';
import { App } from '../../views/App.js';
import { monoTheme } from '../../views/theme.js';

const root = mkdtempSync(join(tmpdir(), 'k8ops-rebuild-console-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const labDir = join(root, 'lab');
const ENTER = '\r';
const TAB = '\t';
const DOWN = '\x1b[B';
const SIZE = { columns: 130, rows: 40 };

let sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  sessions = [];
});

const tick = () => new Promise((r) => setTimeout(r, 25));

async function mount(readOnly: boolean, stateDir: string) {
  const session = openDemoSession({ readOnly, dir: labDir, stateDir });
  sessions.push(session);
  session.start();
  const r = render(<App session={session} theme={monoTheme} size={SIZE} />);
  await tick();
  const type = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      await tick();
    }
  };
  const frame = () => r.lastFrame() ?? '';
  const until = async (ok: (f: string) => boolean, what: string, ms = 90_000) => {
    const end = Date.now() + ms;
    while (!ok(frame())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${frame()}`);
      await tick();
    }
  };
  return { session, r, type, frame, until };
}

describe('B: rebuild from the console (demo lab)', () => {
  it('marks, dry-activate first (its own job), the confirmation with the units and the drain choice, then one line per node', async () => {
    const stateDir = join(root, 'state');
    const { session, type, frame, until, r } = await mount(false, stateDir);
    // Space marks worker-1 and worker-2 (the selection starts on cp-1).
    await type('j', 'j', 'j', ' ', 'j', ' ');
    expect(frame()).toMatch(/NODES \*2/);
    expect(frame()).toMatch(/\*worker-1/);
    expect(frame()).toMatch(/\*worker-2/);
    await type('B');
    expect(frame()).toContain('rebuild worker-1, worker-2: preparing');
    await until(
      (f) => f.includes('Confirm: rebuild switch: worker-1, worker-2'),
      'the confirmation',
    );
    const c = frame();
    // The dry-activate preview, parsed per node.
    expect(c).toMatch(/dry-activate \(job \d{8}T\d{6}Z-rebuild-[0-9a-f]{6}\):/);
    expect(c).toMatch(/worker-1: would restart kubelet\.service; reload dbus\.service/);
    expect(c).toMatch(/and stop kube-proxy\.service; start k8ops-rotate\.timer/);
    expect(c).toMatch(/worker-2: would restart kubelet\.service/);
    expect(c).toContain('> action: [switch] | test | boot');
    expect(c).toContain('cordon + drain the 2 workers around the switch: [no] | yes');
    expect(c).toContain('Type 2 nodes to start it');
    expect(c).not.toContain('drain: worker-1, worker-2');
    // The preview ran as a job: recorded, done, changing nothing.
    const previews = session.jobs.list();
    expect(previews).toHaveLength(1);
    expect(previews[0]).toMatchObject({ action: 'rebuild', state: 'ok' });
    expect((previews[0]!.plan as { action: string }).action).toBe('dry-activate');

    // ↓ to the drain, Tab turns it on: the plan says so.
    await type(DOWN, TAB);
    expect(frame()).toContain('cordon + drain the 2 workers around the switch: no | [yes]');
    expect(frame()).toContain(
      'drain: worker-1, worker-2: cordoned, pods evicted before the switch,',
    );
    await type('2 nodes', ENTER);
    await until((f) => f.includes('started rebuild switch: worker-1, worker-2'), 'started');

    await type('8');
    await until(
      (f) => /> (running|ok) +\d\d-\d\d [\d:]{8} +rebuild switch: worker-1, worker-2/.test(f),
      'the job',
    );
    // One line per node, then per node its phase as it moves.
    await until(
      (f) =>
        /worker-1 +done in [\d.]+ s · gate passed · drained \(\d+ evicted\), uncordoned/.test(f),
      'worker-1 done',
      60_000,
    );
    await until((f) => /> ok +\d\d-\d\d [\d:]{8} +rebuild switch/.test(f), 'the job ok', 90_000);
    const done = frame();
    expect(done).toMatch(
      /worker-2 +done in [\d.]+ s · gate passed · drained \(\d+ evicted\), uncordoned/,
    );
    expect(done).toContain('8/8 steps');
    const job = session.jobs.list()[0]!;
    expect(job.steps.map((s) => `${s.state} ${s.name}`)).toEqual([
      'ok worker-1: cordon + drain',
      'ok worker-1: nixos-rebuild',
      'ok worker-1: health gate',
      'ok worker-1: uncordon',
      'ok worker-2: cordon + drain',
      'ok worker-2: nixos-rebuild',
      'ok worker-2: health gate',
      'ok worker-2: uncordon',
    ]);
    expect(job.plan).toMatchObject({ action: 'switch', drain: ['worker-1', 'worker-2'] });
    // The full log: the phases parsed from nixos-rebuild's lines, the evictions, the gate.
    const log = readFileSync(join(stateDir, 'jobs', `${job.id}.log`), 'utf8');
    expect(log).toMatch(/worker-1: building[\s\S]*worker-1: activating[\s\S]*worker-1: done/);
    expect(log).toMatch(/worker-1: skip kube-system\/cilium-worker-1: DaemonSet cilium/);
    expect(log).toMatch(/worker-1: evicted shop\/web-/);
    expect(log).toMatch(
      /worker-2: gate node Ready: ok \(Ready \(cordoned for the drain; uncordoned next\)\)/,
    );
    // Both nodes schedulable again in the (demo) API.
    const nodes = session.store.get<KubeNodeStatus[]>(CLUSTER_SCOPE, 'kube').value ?? [];
    expect(nodes.filter((n) => n.unschedulable).map((n) => n.name)).toEqual([]);
    // Both jobs are in the audit log.
    const audit = readFileSync(join(stateDir, 'audit.jsonl'), 'utf8').trim().split('\n');
    expect(audit.map((l) => JSON.parse(l).event)).toEqual(['start', 'end', 'start', 'end']);
    for (const fr of r.frames) expect(fr.split('\n').length).toBeLessThanOrEqual(SIZE.rows);
  }, 240_000);

  it('a read-only session refuses B: a clear message, no preview job, no confirmation', async () => {
    const stateDir = join(root, 'state-ro');
    const { session, type, frame, until } = await mount(true, stateDir);
    await type('B');
    await until(
      (f) => f.includes('read-only session (--read-only): rebuild cp-1 refused'),
      'the refusal',
    );
    expect(frame()).not.toContain('Confirm:');
    expect(session.jobs.list()).toEqual([]);
  }, 60_000);
});
