/**
 * The Rotation pane on the demo lab's real PKI (generated at FIXTURE_NOW): the timeline at
 * 80 and 200 columns (a row per node and intermediate, the now line, day labels), `+`/`-`
 * moving the markers of every node but the first, `[`/`]` and the conflicts they cause,
 * `=` back to the inventory's settings, the selected node's plan, every frame within the
 * terminal, and no redraw per second.
 */
import { render } from 'ink-testing-library';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Session } from '../../src/session/session.js';
import { App } from '../../views/App.js';
import { monoTheme } from '../../views/theme.js';
import { FIXTURE_NOW, loadPkiFixture, pkiFixtureSession } from '../helpers/pki-fixture.js';

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

let sessions: Session[] = [];
beforeAll(async () => {
  await loadPkiFixture();
}, 60_000);
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(sessions.map((s) => s.close()));
  sessions = [];
});

async function mount(size: { columns: number; rows: number }) {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  });
  vi.setSystemTime(FIXTURE_NOW);
  const session = await pkiFixtureSession(() => Date.now());
  sessions.push(session);
  const r = render(<App session={session} theme={monoTheme} size={size} />);
  await settle();
  const type = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      await settle();
    }
  };
  const frame = () => r.lastFrame() ?? '';
  /** The timeline track of `label` (the line after the label), or undefined. */
  const track = (label: string): string | undefined => {
    const re = new RegExp(`[ >]${label.replace(/[-.]/g, '\\$&')} +[ .|*X<^+x]*[|*]`);
    for (const l of frame().split('\n')) {
      const m = re.exec(l);
      if (m) return l.slice(m.index + 1 + label.length);
    }
    return undefined;
  };
  const fits = () => {
    for (const fr of r.frames) {
      const lines = fr.split('\n');
      expect(lines.length).toBeLessThanOrEqual(size.rows);
      for (const l of lines) expect([...l].length).toBeLessThanOrEqual(size.columns);
    }
  };
  return { ...r, session, type, frame, track, fits };
}

const NODES = ['cp-1', 'cp-2', 'cp-3', 'worker-1', 'worker-2', 'worker-3'];
const CAS = ['etcd-ca', 'front-proxy-ca', 'kubernetes-ca'];

describe('Rotation pane', () => {
  it.each([
    [80, 24],
    [200, 50],
  ])(
    'the timeline at %i×%i: a row per node and intermediate, now line, day labels',
    async (columns, rows) => {
      const { frame, type, track, fits, unmount } = await mount({ columns, rows });
      await type('3');
      const f = frame();
      expect(f).toContain('PREVIEW ONLY, not saved · no conflicts');
      for (const n of [...NODES, ...CAS.slice(0, columns >= 200 ? 3 : 0)]) {
        const t = track(n);
        expect(t, n).toBeDefined();
        expect(t, n).toMatch(/[|*]/); // the now line (or a rotation on it)
      }
      // Wider terminal, wider track: the 30 days get more columns, so more day labels.
      const lines = f.split('\n');
      const axis = lines[lines.findIndex((l) => l.includes('PREVIEW ONLY')) + 1] ?? '';
      const labels = axis.match(/\d\d-\d\d/g) ?? [];
      if (columns === 80) expect(labels.length).toBeLessThan(8);
      else expect(labels.length).toBeGreaterThan(14);
      expect(labels.length).toBeGreaterThan(2);
      // The selected node's plan: certificates, restart order, gate.
      expect(f).toContain('cp-1 · node 0 of 6 · slot +00:00');
      expect(f).toMatch(/restart: (kubelet|etcd|kube-)/);
      fits();
      unmount();
    },
  );

  it('+ and - move every node’s markers but the first; = goes back', async () => {
    const { frame, type, track, fits, unmount } = await mount({ columns: 200, rows: 50 });
    await type('3');
    const firstMark = (n: string) => [...track(n)!].findIndex((c) => c === '*' || c === 'X');
    const before = Object.fromEntries(NODES.map((n) => [n, firstMark(n)]));
    // +24 h: node i of 6 moves 4 h × i, from node 2 on at least one column (≈ 4.4 h) at 200 columns.
    await type(...Array(24).fill('+'));
    expect(frame()).toContain('spread 2d 00:00 (inventory 1d 00:00)');
    expect(frame()).toContain('PREVIEW ONLY, not saved');
    const wider = Object.fromEntries(NODES.map((n) => [n, firstMark(n)]));
    expect(wider['cp-1']).toBe(before['cp-1']); // index 0: offset 0 whatever the spread
    expect(wider['cp-2']).toBeGreaterThanOrEqual(before['cp-2']!);
    for (const n of NODES.slice(2)) expect(wider[n], n).toBeGreaterThan(before[n]!);
    await type(...Array(36).fill('-'));
    expect(frame()).toContain('spread 12:00 (inventory 1d 00:00)');
    const narrower = Object.fromEntries(NODES.map((n) => [n, firstMark(n)]));
    for (const n of NODES.slice(3)) expect(narrower[n], n).toBeLessThan(before[n]!);
    await type('=');
    expect(frame()).toContain(
      'PREVIEW ONLY, not saved · no conflicts · spread 1d 00:00 · renew before ⅓ lifetime',
    );
    expect(NODES.map(firstMark)).toEqual(NODES.map((n) => before[n]));
    fits();
    unmount();
  }, 60_000);

  it('[ and ] move the renew window; a window under minRemaining is flagged', async () => {
    const { frame, type, fits, unmount } = await mount({ columns: 200, rows: 50 });
    await type('3');
    expect(frame()).toContain('no conflicts');
    await type(']');
    expect(frame()).toContain('renew before 5d 04:00 (inventory ⅓ lifetime)');
    await type(...Array(8).fill('['));
    expect(frame()).toContain('renew before 1d 04:00');
    expect(frame()).toMatch(/X \d+ conflicts/);
    expect(frame()).toContain('X min-remaining:');
    expect(frame()).toContain('(minimum 48 h)');
    fits();
    unmount();
  });

  it('the selected node follows the node list; frames fit 80×24 and 60×12', async () => {
    for (const size of [
      { columns: 80, rows: 24 },
      { columns: 60, rows: 12 },
    ]) {
      const { frame, type, fits, unmount } = await mount(size);
      await type('3', 'j', 'j', 'j');
      expect(frame()).toContain('worker-1 · node 3 of 6');
      await type('+', ']', 'G', '-', '[', '?', '\x1b');
      await vi.advanceTimersByTimeAsync(30);
      await settle();
      fits();
      unmount();
      vi.useRealTimers();
    }
  });

  it('R on the selected node asks to rotate it (refused here: the fixture session is read-only)', async () => {
    const { frame, type, unmount } = await mount({ columns: 200, rows: 40 });
    await type('3', 'j', 'R');
    await vi.advanceTimersByTimeAsync(10);
    await settle();
    expect(frame()).toContain('READ-ONLY');
    // The session refuses it before any plan is shown or anything is started.
    expect(frame()).toMatch(/read-only.*rotate cp-2.*refused/);
    expect(frame()).toContain('R rotate');
    unmount();
  });

  it('c selects an intermediate, then the service-account keys; R asks to rotate it; Esc goes back to the node', async () => {
    const { frame, type, unmount } = await mount({ columns: 200, rows: 50 });
    await type('3', 'c');
    expect(frame()).toMatch(/>etcd-ca +/);
    expect(frame()).toMatch(/etcd-ca · successor in every bundle by .* · signs from .* · expires /);
    expect(frame()).toContain(
      'the root signs offline (k8ops rotate --ca etcd-ca --successor FILE)',
    );
    await type('R');
    await vi.advanceTimersByTimeAsync(10);
    await settle();
    expect(frame()).toMatch(/read-only.*rotate etcd-ca.*refused/);
    await type('c', 'c', 'c');
    expect(frame()).toMatch(/>sa keys +/);
    expect(frame()).toContain('service-account keys · no expiry: rotated on demand');
    expect(frame()).toContain('a new signing key on each control-plane node (never copied)');
    await type('R');
    await vi.advanceTimersByTimeAsync(10);
    await settle();
    expect(frame()).toMatch(/read-only.*rotate service-account.*refused/);
    // Past the last row: back to the node; Esc as well.
    await type('c');
    expect(frame()).toMatch(/>cp-1 /);
    await type('c', '\u001b');
    await vi.advanceTimersByTimeAsync(50);
    await settle();
    expect(frame()).toMatch(/cp-1 · node 0 of 6/);
    unmount();
  });

  it('draws no frame while the seconds tick (the timeline moves per hour)', async () => {
    const { frames, type, unmount } = await mount({ columns: 120, rows: 40 });
    await type('3');
    const n = frames.length;
    await vi.advanceTimersByTimeAsync(10_000);
    await settle();
    // The header's next-expiry countdown is the shell's and ticks; the pane's text does not.
    const pane = (f: string) => f.split('\n').slice(2, -1).join('\n');
    const changed = frames.slice(n - 1).map(pane);
    expect(new Set(changed).size).toBe(1);
    unmount();
  });
});
