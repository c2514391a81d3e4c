/**
 * The MTU pane on the demo lab's MTU data, read through the real sources (the demo's
 * `ip -j -d link show`, `ping -M do` and Cilium `/v1/config` answers): the node table, the
 * matrix with worker-3's 1500 hop, Enter → worker-3's interfaces with the 1500 VLAN flagged,
 * Esc back, `p` probing the paths again (only the mtu-paths source), every frame within the
 * terminal.
 */
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { demoInventory } from '../../src/demo/inventory.js';
import { demoExec } from '../../src/demo/node-commands.js';
import { demoForwardSocket } from '../../src/demo/node-sockets.js';
import { mtuFeature } from '../../src/features/mtu/model.js';
import type { NodeAgent } from '../../src/nodes/agent.js';
import { createSession, type Session } from '../../src/session/session.js';
import { App } from '../../views/App.js';
import { monoTheme } from '../../views/theme.js';

const settle = async (n = 8) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 5));
};

let sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  sessions = [];
});

async function mount(size: { columns: number; rows: number }) {
  const inventory = demoInventory();
  const agents = new Map<string, NodeAgent>();
  for (const node of inventory.nodes) {
    const ctx = { inventory, node, labDir: '/nonexistent' };
    const refuse = () => Promise.reject(new Error('not in this test'));
    agents.set(node.name, {
      node,
      exec: demoExec(ctx),
      forwardSocket: demoForwardSocket(ctx),
      forwardTcp: refuse,
      probe: refuse,
      readFiles: refuse,
      stat: refuse,
      listDir: refuse,
      readCertFiles: refuse,
      unitStates: refuse,
      pkiStatus: refuse,
      close: async () => {},
    } as NodeAgent);
  }
  const session = createSession({
    mode: 'demo',
    inventory,
    agents,
    readOnly: true,
    features: [mtuFeature],
  });
  sessions.push(session);
  await session.settle();
  const r = render(<App session={session} theme={monoTheme} size={size} />);
  await settle();
  const type = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      await settle();
    }
  };
  const frame = () => r.lastFrame() ?? '';
  const fits = () => {
    for (const fr of r.frames) {
      const lines = fr.split('\n');
      expect(lines.length).toBeLessThanOrEqual(size.rows);
      for (const l of lines) expect([...l].length).toBeLessThanOrEqual(size.columns);
    }
  };
  return { ...r, session, type, frame, fits };
}

describe('MTU pane', () => {
  it.each([
    [80, 24],
    [160, 40],
  ])(
    'at %i×%i: nodes, matrix with the 1500 hop, interfaces, probe again',
    async (columns, rows) => {
      const { type, frame, fits, session, unmount } = await mount({ columns, rows });
      await type('7');
      let f = frame();
      expect(f).toContain('target 9216');
      expect(f).toContain('paths below target 10/30');
      expect(f).toMatch(/worker-3 +bad/);
      expect(f).toMatch(/bond0\.30 1500/);
      // The matrix: row worker-3 is 1500 everywhere; cp-1's row ends in 1500 (→ worker-3).
      const row = (name: string) =>
        f.split('\n').find((l) => new RegExp(`\\s${name} +(·|9216|1500)`).test(l));
      expect(row('worker-3')).toMatch(/1500 +1500/);
      expect(row('cp-1')).toMatch(/·\s+9216\s+9216/);

      // Select worker-3 in the node list, open its interfaces.
      await type('j', 'j', 'j', 'j', 'j', '\r');
      f = frame();
      expect(f).toContain('worker-3 — interfaces (15), target 9216');
      expect(f).toMatch(/bond0\.30 +vlan +1500 +9216 +low/);
      expect(f).toMatch(/eno1 +nic +9216 +9216 +ok/);
      expect(f).toMatch(/cilium: device 9216 \(expected 9216\), route 9166/);
      await type('\u001b');
      await settle(20);
      expect(frame()).toContain('path MTU (row → column');

      // p: only the mtu-paths source runs again.
      const before = session.store.get('cp-1', 'mtu-paths').attemptedAt ?? 0;
      const linksBefore = session.store.get('cp-1', 'mtu-links').attemptedAt ?? 0;
      await new Promise((r) => setTimeout(r, 5));
      await type('p');
      await session.scheduler.whenIdle();
      expect(session.store.get('cp-1', 'mtu-paths').attemptedAt ?? 0).toBeGreaterThan(before);
      expect(session.store.get('cp-1', 'mtu-links').attemptedAt).toBe(linksBefore);
      fits();
      unmount();
    },
  );
});
