/**
 * A Session whose store holds the demo lab's real PKI (P-521 certificates generated at
 * FIXTURE_NOW, read through the demo agents and the real collectors), for view tests of
 * the PKI pane. Nothing is polled: the snapshots are filled once.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoInventory } from '../../src/demo/inventory.js';
import { ensureDemoLab } from '../../src/demo/lab.js';
import { collectCerts, collectPkiStatus, pkiDirsOf } from '../../src/features/pki/sources.js';
import { DemoNodeAgent } from '../../src/nodes/demo-agent.js';
import { defaultLayout } from '../../src/pki/layout-data.js';
import { createSession, type Session } from '../../src/session/session.js';
import { FIXTURE_NOW } from './fixture-session.js';

export { FIXTURE_NOW };

type Values = Map<string, { certs: unknown; status: unknown }>;
let values: Promise<Values> | undefined;

/** Generate the lab (once per test file) and collect every node's certs and status. */
export function loadPkiFixture(): Promise<Values> {
  values ??= (async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'k8ops-pki-fixture-')), 'demo-lab');
    const inv = demoInventory();
    await ensureDemoLab({ dir, now: FIXTURE_NOW, inventory: inv });
    const out: Values = new Map();
    const signal = new AbortController().signal;
    for (const n of inv.nodes) {
      const agent = new DemoNodeAgent(n, dir);
      const dirs = pkiDirsOf(inv, defaultLayout(), n);
      out.set(n.name, {
        certs: await collectCerts(agent, dirs, signal),
        status: await collectPkiStatus(agent, dirs, signal),
      });
    }
    return out;
  })();
  return values;
}

/** A demo-inventory session (no agents) with the fixture's PKI in its store. */
export async function pkiFixtureSession(now: () => number = () => FIXTURE_NOW): Promise<Session> {
  const v = await loadPkiFixture();
  const inventory = demoInventory();
  const session = createSession({
    mode: 'demo',
    inventory,
    agents: new Map(),
    readOnly: true,
    now,
    stateDir: join(tmpdir(), `k8ops-pki-fixture-state-${process.pid}`),
  });
  const at = FIXTURE_NOW - 5_000;
  for (const n of inventory.nodes) {
    session.store.succeed(n.name, 'reach', { rttMs: 1, route: 'via bastion' }, at);
    session.store.succeed(n.name, 'certs', v.get(n.name)!.certs, at);
    session.store.succeed(n.name, 'pki-status', v.get(n.name)!.status, at);
  }
  session.store.flushSync();
  return session;
}
