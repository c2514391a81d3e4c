/**
 * Saving the Rotation pane's preview from the keyboard (App + the real session jobs, an
 * inventory loaded from a temporary k8ops.yaml): `w` appears in the hint bar and the help
 * once the preview differs; `+ + ] w` opens the confirmation with old → new; typing `save`
 * writes the file (its comments intact) and the pane then shows the saved settings as the
 * inventory's; Esc writes nothing; a read-only session refuses and says why.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/config/load.js';
import type { CertFile } from '../../src/pki/types.js';
import { createSession, type Session } from '../../src/session/session.js';
import { App } from '../../views/App.js';
import { monoTheme } from '../../views/theme.js';
import { cert } from '../helpers/fixture-session.js';

const DAY = 86_400_000;
const NOW = Date.now();
const TEXT = `# The lab — this comment, the blank lines and the quoting must survive a save.
cluster: lab

nodes:
  - { name: cp-1, roles: [control-plane, etcd] }   # flow style, on purpose
  - name: cp-2
    roles: [control-plane, etcd]
  - name: worker-1
    roles: [worker]

rotation:
  spread: "24h"      # quoted on purpose
  cpGap: 30m
`;

const root = mkdtempSync(join(tmpdir(), 'k8ops-rotation-save-view-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  sessions = [];
});

let n = 0;
async function mount(readOnly = false) {
  const dir = join(root, `c${n++}`);
  mkdirSync(dir);
  const file = join(dir, 'k8ops.yaml');
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
  sessions.push(session);
  for (const [i, node] of loaded.inventory.nodes.entries()) {
    const files: CertFile[] = [
      {
        node: node.name,
        path: '/etc/kubernetes/pki/kubelet.pem',
        certs: [cert(`system:node:${node.name}`, NOW - i * DAY - 3_600_000, 14 * DAY)],
        errors: [],
      },
    ];
    session.store.succeed(node.name, 'certs', files, NOW - 5000);
  }
  session.store.flushSync();
  const r = render(<App session={session} theme={monoTheme} size={{ columns: 100, rows: 40 }} />);
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((res) => setImmediate(res));
  };
  await settle();
  const frame = () => r.lastFrame() ?? '';
  const type = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      await settle();
    }
  };
  /** Wait (bounded) until the frame shows `text`. */
  const until = async (text: string | RegExp) => {
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      const f = frame();
      if (typeof text === 'string' ? f.includes(text) : text.test(f)) return f;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error(`not on screen within 10 s: ${String(text)}\n${frame()}`);
  };
  return { ...r, session, file, frame, type, until };
}

describe('Rotation pane: w saves the preview into k8ops.yaml', () => {
  it('+ + ] w: old → new, typed confirmation, the file written with its comments, the pane follows', async () => {
    const { file, frame, type, until, unmount, session } = await mount();
    await type('3');
    expect(frame()).not.toMatch(/\bw save\b/);
    await type('+', '+', ']');
    await until('PREVIEW ONLY, not saved (w saves)');
    expect(frame()).toContain('w save');
    expect(frame()).toContain('spread 1d 02:00 (inventory');
    await type('?');
    expect(frame()).toMatch(/w +save the preview into the inventory file/);
    await type('?', 'w');
    const confirm = await until('Confirm: save rotation settings to k8ops.yaml');
    expect(confirm).toContain('rotation.spread: "24h" → "26h"');
    expect(confirm).toContain('rotation.renewBefore: (not set: auto) → 5d4h (added)');
    expect(confirm).toContain('k8ops.nodeTools.rotation.spreadSeconds = 93600;');
    expect(confirm).toContain('k8ops.nodeTools.rotation.renewBeforeSeconds = 446400;');
    expect(confirm).toContain('Type save to start it');
    expect(readFileSync(file, 'utf8')).toBe(TEXT);
    await type('s', 'a', 'v', 'e', '\r');
    await until(/save rotation settings to k8ops\.yaml .*: ok/);
    expect(readFileSync(file, 'utf8')).toBe(
      TEXT.replace('spread: "24h"', 'spread: "26h"').replace(
        '  cpGap: 30m\n',
        '  cpGap: 30m\n  renewBefore: 5d4h\n',
      ),
    );
    // The pane now shows them as the inventory's: no "(inventory …)", no "w saves".
    await until('spread 1d 02:00 · renew before 5d 04:00');
    expect(frame()).toContain('PREVIEW ONLY, not saved ·');
    expect(frame()).not.toContain('(inventory');
    expect(frame()).not.toContain('w saves');
    expect(session.inventory.rotation.spreadMs).toBe(26 * 3_600_000);
    // Saving again: nothing to do.
    await type('w');
    await until(
      'rotation-settings: nothing to save: the file already has spread 1d2h, renewBefore 5d4h',
    );
    unmount();
  }, 60_000);

  it('Esc at the confirmation writes nothing', async () => {
    const { file, type, until, unmount } = await mount();
    await type('3', '-', 'w');
    await until('rotation.spread: "24h" → "23h"');
    await type('x', '\r');
    await until('"x" is not "save": nothing started');
    await type('\x1b');
    await until('cancelled: save rotation settings to k8ops.yaml (spread 23h) not started');
    expect(readFileSync(file, 'utf8')).toBe(TEXT);
    unmount();
  }, 30_000);

  it('a read-only session refuses and says why', async () => {
    const { file, type, until, unmount } = await mount(true);
    await type('3', '+', 'w');
    await until('read-only session (--read-only): rotation-settings refused; nothing was started');
    expect(readFileSync(file, 'utf8')).toBe(TEXT);
    unmount();
  }, 30_000);
});
