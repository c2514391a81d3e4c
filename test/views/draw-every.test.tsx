/**
 * A feature with `drawEvery` (the flows: issue 13, idle CPU) is read on the shared clock's
 * ticks, not on every store write: a write shows at the next tick of that granularity and
 * not before; without `drawEvery` it shows at once. A re-render for another reason (a key)
 * reads the newest value at once.
 */
import { Text } from 'ink';
import { render } from 'ink-testing-library';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import type { FeatureDef, FeatureId, SourceDef } from '../../src/features/types.js';
import type { Session } from '../../src/session/session.js';
import type { Clock, Granularity } from '../../src/store/clock.js';
import { CLUSTER_SCOPE } from '../../src/store/types.js';
import { useFeatureModel } from '../../views/hooks/useFeatureModel.js';
import { fixtureSession } from '../helpers/fixture-session.js';

const tick = () => new Promise((r) => setTimeout(r, 20));
let sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  sessions = [];
});

/** A clock whose ticks the test fires. */
function manualClock(): Clock & { fire(g: Granularity): void } {
  const listeners = new Map<Granularity, Set<() => void>>();
  let t = Date.UTC(2026, 11, 7, 2, 0, 0);
  return {
    now: (g) => t - (t % (g === 'minute' ? 60_000 : g === 'second' ? 1000 : 500)),
    subscribe(g, l) {
      const set = listeners.get(g) ?? new Set();
      set.add(l);
      listeners.set(g, set);
      return () => set.delete(l);
    },
    dispose() {},
    fire(g) {
      t += 500;
      for (const l of listeners.get(g) ?? []) l();
    },
  };
}

const SOURCE = { id: 'x', scope: 'cluster' } as unknown as SourceDef;
const feature = (drawEvery?: FeatureDef<string>['drawEvery']): FeatureDef<string> => ({
  id: 'flows' as FeatureId,
  sources: [SOURCE],
  model: ({ read }) => String(read<string>(CLUSTER_SCOPE, 'x' as never).value ?? 'none'),
  ...(drawEvery ? { drawEvery } : {}),
});

let bump: () => void = () => {};
function Probe({ session, f }: { session: Session; f: FeatureDef<string> }) {
  const [, setN] = useState(0);
  bump = () => setN((n) => n + 1);
  return <Text>value={useFeatureModel(session, f)}</Text>;
}

function setup(f: FeatureDef<string>) {
  const session = fixtureSession();
  sessions.push(session);
  const clock = manualClock();
  Object.assign(session, { clock });
  const r = render(<Probe session={session} f={f} />);
  const write = (v: string) => session.store.succeed(CLUSTER_SCOPE, 'x' as never, v, Date.now());
  return { r, clock, write };
}

describe('drawEvery', () => {
  for (const [g, other] of [
    ['second', 'minute'],
    ['half-second', 'second'],
  ] as const) {
    it(`${g}: a write shows at the next ${g} tick, not before`, async () => {
      const { r, clock, write } = setup(feature(g));
      await tick();
      expect(r.lastFrame()).toBe('value=none');
      write('a');
      await tick();
      expect(r.lastFrame()).toBe('value=none');
      clock.fire(other); // another granularity's tick: not this feature's
      await tick();
      expect(r.lastFrame()).toBe('value=none');
      clock.fire(g);
      await tick();
      expect(r.lastFrame()).toBe('value=a');
      // A re-render for another reason reads the newest value at once.
      write('b');
      await tick();
      expect(r.lastFrame()).toBe('value=a');
      bump();
      await tick();
      expect(r.lastFrame()).toBe('value=b');
      r.unmount();
    });
  }

  it('without it: a write shows at once', async () => {
    const { r, write } = setup(feature());
    await tick();
    write('a');
    await tick();
    expect(r.lastFrame()).toBe('value=a');
    r.unmount();
  });
});
