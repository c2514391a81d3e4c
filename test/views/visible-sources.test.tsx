/**
 * Tick only what is visible (issue 13: idle CPU), on the demo lab through the product's
 * path (its hubble-relay stand-in speaking Hubble's gRPC Observer API, dialled through a demo
 * node): the Flows source polls its stream 2×/s while the Flows pane is on screen and once a
 * second otherwise — enough to keep the stream's lease, so a quick look elsewhere keeps the
 * stream and its ring aggregating; hidden for SUSPEND_AFTER_MS, the stream is suspended (no
 * stream at all) and follows again from where it stopped once the pane is back (the replay
 * itself: test/unit/features/flows/sources.test.ts). The idle CPU itself is measured by
 * test/bench/console.mjs, not asserted here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bgpRoutersSource, ciliumBgpSource } from '../../src/features/bgp/sources.js';
import {
  FLOWS_RELAY,
  type FlowsNodeValue,
  HIDDEN_POLL_MS,
  SHOWN_POLL_MS,
  SUSPEND_AFTER_MS,
} from '../../src/features/flows/sources.js';
import { NGINX_FILE } from '../../src/features/nginx/sources.js';
import { openDemoSession } from '../../src/session/demo.js';
import type { Session } from '../../src/session/session.js';
import { CLUSTER_SCOPE } from '../../src/store/types.js';
import { App } from '../../views/App.js';
import { monoTheme } from '../../views/theme.js';

const root = mkdtempSync(join(tmpdir(), 'k8ops-visible-sources-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  sessions = [];
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const shownTotal = (f: string): number =>
  Number(/([\d,]+) flows ·/.exec(f)?.[1]?.replace(/,/g, '') ?? -1);

describe('a source ticks fast only while a pane shows it (demo lab)', () => {
  it('Flows: 500 ms on its pane, 1 s elsewhere; flows that arrived while hidden are shown on return; suspended when hidden longer', async () => {
    const session = openDemoSession({
      readOnly: true,
      dir: join(root, 'lab'),
      stateDir: join(root, 'state'),
    });
    sessions.push(session);
    const r = render(<App session={session} theme={monoTheme} size={{ columns: 140, rows: 40 }} />);
    session.start();
    const interval = () => session.scheduler.intervalOf(CLUSTER_SCOPE, FLOWS_RELAY);
    const snap = () => session.store.get<FlowsNodeValue>(CLUSTER_SCOPE, FLOWS_RELAY);
    const frame = () => r.lastFrame() ?? '';
    const until = async (ok: () => boolean, what: string, ms = 60_000) => {
      const end = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${frame()}`);
        await sleep(25);
      }
    };

    // The Overview is up: the Flows source is hidden.
    await until(() => interval() === HIDDEN_POLL_MS, 'the hidden interval');
    r.stdin.write('4');
    await until(() => interval() === SHOWN_POLL_MS, 'the shown interval');
    await until(() => shownTotal(frame()) > 50, 'flows on the pane');
    const before = snap().value!;
    const onPane = shownTotal(frame());

    // Away: the source slows down (a bound that load cannot break: it only lowers it)…
    r.stdin.write('1');
    await until(() => interval() === HIDDEN_POLL_MS, 'the hidden interval again');
    let writes = 0;
    const off = session.store.subscribe(() => {
      writes++;
    });
    const seen = new Set<unknown>();
    const t0 = Date.now();
    while (Date.now() - t0 < 3000) {
      seen.add(snap().value);
      await sleep(25);
    }
    off();
    // At SHOWN_POLL_MS (500 ms), 3 s would be 6 new values; at 1 s, at most 4.
    expect(seen.size).toBeLessThanOrEqual(5);
    expect(writes).toBeGreaterThan(0);
    // …but the stream lives on (the same connection, not restarted) and keeps counting.
    const hidden = snap().value!;
    expect(hidden.state).toBe('streaming');
    expect(hidden.connects).toBe(before.connects);
    expect(hidden.received).toBeGreaterThan(before.received);

    // Back: the pane shows what arrived meanwhile, and the source is fast again.
    r.stdin.write('4');
    await until(() => interval() === SHOWN_POLL_MS, 'the shown interval again');
    await until(
      () => shownTotal(frame()) >= hidden.counts.total,
      'the flows that arrived while hidden on the pane',
    );
    expect(shownTotal(frame())).toBeGreaterThan(onPane);
    expect(snap().value!.connects).toBe(before.connects);

    // Away for longer: the stream is suspended, nothing is counted meanwhile…
    r.stdin.write('1');
    await until(
      () => snap().value?.state === 'suspended',
      'the suspended stream',
      SUSPEND_AFTER_MS + 20_000,
    );
    const suspended = snap().value!;
    await sleep(1500);
    expect(snap().value!.received).toBe(suspended.received);
    // …and back, it follows again: a new stream, the counts go on from where they were.
    r.stdin.write('4');
    await until(() => snap().value?.state === 'streaming', 'the stream again');
    await until(() => snap().value!.received > suspended.received, 'flows again');
    expect(snap().value!.connects).toBe(before.connects + 1);
    expect(snap().value!.counts.total).toBeGreaterThanOrEqual(suspended.counts.total);
    r.unmount();
  }, 120_000);

  it('BGP and NGINX node sources: their fast interval on their own pane, once a minute elsewhere', async () => {
    const session = openDemoSession({
      readOnly: true,
      dir: join(root, 'lab'),
      stateDir: join(root, 'state3'),
    });
    sessions.push(session);
    const r = render(<App session={session} theme={monoTheme} size={{ columns: 140, rows: 40 }} />);
    session.start();
    const node = session.inventory.nodes[0]!.name;
    const of = () => ({
      cilium: session.scheduler.intervalOf(node, ciliumBgpSource.id),
      routers: session.scheduler.intervalOf(CLUSTER_SCOPE, bgpRoutersSource.id),
      nginx: session.scheduler.intervalOf(node, NGINX_FILE),
    });
    const until = async (want: ReturnType<typeof of>, what: string) => {
      const end = Date.now() + 30_000;
      while (JSON.stringify(of()) !== JSON.stringify(want)) {
        if (Date.now() > end)
          throw new Error(`timed out waiting for ${what}: ${JSON.stringify(of())}`);
        await sleep(25);
      }
    };
    await until({ cilium: 60_000, routers: 60_000, nginx: 60_000 }, 'hidden on the Overview');
    r.stdin.write('5');
    await until({ cilium: 10_000, routers: 10_000, nginx: 60_000 }, 'BGP shown');
    r.stdin.write('6');
    await until({ cilium: 60_000, routers: 60_000, nginx: 5_000 }, 'NGINX shown');
    r.stdin.write('1');
    await until({ cilium: 60_000, routers: 60_000, nginx: 60_000 }, 'hidden again');
    r.unmount();
  }, 60_000);

  it('a session no console drives (subcommands) keeps every source at its fast interval', async () => {
    const session = openDemoSession({
      readOnly: true,
      dir: join(root, 'lab'),
      stateDir: join(root, 'state2'),
    });
    sessions.push(session);
    expect(session.scheduler.intervalOf(CLUSTER_SCOPE, FLOWS_RELAY)).toBe(SHOWN_POLL_MS);
    session.showSources(new Set(['kube']));
    expect(session.scheduler.intervalOf(CLUSTER_SCOPE, FLOWS_RELAY)).toBe(HIDDEN_POLL_MS);
    session.showSources(undefined);
    expect(session.scheduler.intervalOf(CLUSTER_SCOPE, FLOWS_RELAY)).toBe(SHOWN_POLL_MS);
  });
});
