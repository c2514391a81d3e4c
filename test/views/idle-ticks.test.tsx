/**
 * What ticks while the console is idle (issue 13: idle CPU): only what is on screen. The
 * shared clock's subscribers are counted on every pane: each second, the header's wall
 * clock and next expiry and at most the selected row's countdown; a pane that is not shown
 * holds no subscription at all (its countdowns and its minute clock are unmounted with it).
 * Structural facts only: the idle CPU itself is measured by test/bench/console.mjs.
 */
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../../src/session/session.js';
import type { Granularity } from '../../src/store/clock.js';
import { App } from '../../views/App.js';
import { PANES } from '../../views/panes/index.js';
import { monoTheme } from '../../views/theme.js';
import { fixtureSession } from '../helpers/fixture-session.js';

const tick = () => new Promise((r) => setTimeout(r, 30));
let sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  sessions = [];
});

/** A fixture session whose clock counts its live subscriptions per granularity. */
function countingSession() {
  const session = fixtureSession({ withKube: true });
  sessions.push(session);
  const live: Record<Granularity, number> = { 'half-second': 0, second: 0, minute: 0 };
  const subscribe = session.clock.subscribe.bind(session.clock);
  session.clock.subscribe = (g, listener) => {
    live[g]++;
    const off = subscribe(g, listener);
    let done = false;
    return () => {
      if (!done) live[g]--;
      done = true;
      off();
    };
  };
  return { session, live };
}

describe('idle ticks: only what is visible subscribes to the clock', () => {
  it('every pane: at most the header and one countdown per second; a hidden pane holds none', async () => {
    const { session, live } = countingSession();
    const r = render(<App session={session} theme={monoTheme} size={{ columns: 120, rows: 40 }} />);
    await tick();
    const perPane = new Map<string, Record<Granularity, number>>();
    for (const pane of PANES) {
      r.stdin.write(pane.key);
      await tick();
      perPane.set(pane.id, { ...live });
    }
    // No pane ticks on the half-seconds.
    for (const [id, n] of perPane) expect(n['half-second'], id).toBe(0);
    // The header: wall clock and next expiry, every second, on every pane; the Flows pane
    // and NGINX panes read their models on the seconds too (drawEvery), instead of on each of
    // their sources' writes.
    for (const [id, n] of perPane) {
      expect(n.second, id).toBeGreaterThanOrEqual(id === 'flows' || id === 'nginx' ? 3 : 2);
      expect(n.second, id).toBeLessThanOrEqual(3);
    }
    // A pane without countdowns (the placeholders) leaves only the shell's subscriptions:
    // the header's two per second, and the Overview's model (header and node list) per minute.
    const bare = perPane.get('jobs')!;
    expect(bare.second).toBe(2);
    // Back to the PKI pane and away again: its subscriptions come and go with it.
    r.stdin.write('2');
    await tick();
    const onPki = { ...live };
    expect(onPki.second + onPki.minute).toBeGreaterThan(bare.second + bare.minute);
    r.stdin.write('8');
    await tick();
    expect(live).toEqual(bare);
    r.unmount();
    await tick();
    expect(live).toEqual({ 'half-second': 0, second: 0, minute: 0 });
  });
});
