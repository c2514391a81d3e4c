/**
 * Saving the Rotation pane's preview with the built k8ops in a real terminal (tmux): a
 * console on a temporary k8ops.yaml (nodes on a loopback port nothing listens on, so every
 * node is unreachable and nothing else matters), `3 + + w`, the confirmation with old → new,
 * `save` typed: the file on disk has the new spread and every other byte it had; and the
 * refusals as a user sees them: `--read-only`, and the demo lab (at 80×24).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/actions/jobs/audit.js';
import { BIN, ensureBuilt } from '../helpers/build.js';
import { haveTmux, TmuxTerm } from '../helpers/tmux.js';

let home: string;
let env: Record<string, string>;
beforeAll(() => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'k8ops-e2e-rotation-save-'));
  env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_STATE_HOME: join(home, 'state'),
  };
}, 120_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

// Port 9 on loopback (discard): nothing listens here, so every node is refused at once.
const TEXT = `# e2e lab: every comment here must survive the save
cluster: e2e   # the cluster's name

nodes:
  - name: cp-1
    host: 127.0.0.1
    roles: [control-plane, etcd]
  - name: worker-1
    host: 127.0.0.1
    roles: [worker]

ssh:
  port: 9
  connectTimeout: 2s

rotation:
  renewBefore: auto   # a third of the lifetime
  spread: 24h         # node i of N: i × spread / N
`;

describe.skipIf(!haveTmux() && process.env.CI !== 'true')(
  'w in the Rotation pane (built, tmux)',
  () => {
    it('+ + w, type save: k8ops.yaml has spread 26h and every other byte', async () => {
      const file = join(home, 'k8ops.yaml');
      writeFileSync(file, TEXT);
      const term = new TmuxTerm('rotation-save', env);
      try {
        term.start(`node ${BIN} --inventory ${file}; echo "k8ops-exit=$?"; sleep 30`, 200, 50);
        await term.waitFor((x) => x.includes('1 Overview'), 'the console', 30_000);
        term.send('3');
        await term.waitFor((x) => x.includes('PREVIEW ONLY, not saved'), 'the Rotation pane');
        term.send('+', '+');
        let s = await term.waitFor(
          (x) => x.includes('spread 1d 02:00 (inventory 1d 00:00)') && x.includes('w save'),
          'the preview at +2 h, and w in the hint bar',
        );
        expect(s).toContain('PREVIEW ONLY, not saved (w saves)');
        term.send('w');
        s = await term.waitFor(
          (x) => x.includes('Confirm: save rotation settings to k8ops.yaml (spread 26h)'),
          'the confirmation',
        );
        expect(s).toContain('rotation.spread: 24h → 26h');
        expect(s).toContain('k8ops.nodeTools.rotation.spreadSeconds = 93600;');
        expect(readFileSync(file, 'utf8')).toBe(TEXT);
        term.type('save');
        term.send('Enter');
        await term.waitFor(
          (x) => x.includes('save rotation settings to k8ops.yaml (spread 26h): ok'),
          'the job’s end on the status line',
        );
        expect(readFileSync(file, 'utf8')).toBe(
          TEXT.replace('spread: 24h         #', 'spread: 26h         #'),
        );
        s = await term.waitFor(
          (x) => x.includes('spread 1d 02:00 · renew before') && !x.includes('(inventory'),
          'the pane showing the saved spread as the inventory’s',
        );
        // The job is in the Jobs pane and the audit log.
        term.send('8');
        await term.waitFor((x) => x.includes('save rotation settings'), 'the Jobs pane');
        const audit = readAudit(join(home, 'state', 'k8ops', 'audit.jsonl')).entries;
        expect(audit.map((e) => [e.action, e.event, e.result])).toEqual([
          ['rotation-settings', 'start', undefined],
          ['rotation-settings', 'end', 'ok'],
        ]);
        term.send('q');
        await term.waitFor((x) => x.includes('k8ops-exit=0'), 'exit');
      } finally {
        term.kill();
      }
    }, 90_000);

    it('--read-only: w is refused and says why; the file is untouched', async () => {
      const file = join(home, 'ro.yaml');
      writeFileSync(file, TEXT);
      const term = new TmuxTerm('rotation-save-ro', env);
      try {
        term.start(`node ${BIN} --inventory ${file} --read-only; sleep 30`, 200, 50);
        await term.waitFor((x) => x.includes('1 Overview'), 'the console', 30_000);
        term.send('3');
        await term.waitFor((x) => x.includes('PREVIEW ONLY'), 'the Rotation pane');
        term.send('-');
        await term.waitFor((x) => x.includes('(inventory 1d 00:00)'), 'the preview');
        term.send('w');
        await term.waitFor(
          (x) =>
            x.includes(
              'read-only session (--read-only): rotation-settings refused; nothing was started',
            ),
          'the refusal',
        );
        expect(readFileSync(file, 'utf8')).toBe(TEXT);
      } finally {
        term.kill();
      }
    }, 60_000);

    it('the demo lab at 80×24: w is refused (no file to save to); the pane fits', async () => {
      const term = new TmuxTerm('rotation-save-demo', env);
      try {
        term.start(`node ${BIN} --demo; sleep 30`, 80, 24);
        await term.waitFor((x) => x.includes('DEMO'), 'the demo', 30_000);
        term.send('3');
        await term.waitFor((x) => x.includes('PREVIEW ONLY'), 'the Rotation pane');
        term.send('+');
        await term.waitFor((x) => x.includes('(w saves)'), 'the preview');
        term.send('w');
        const s = await term.waitFor(
          (x) => x.includes("the demo lab's inventory is built in"),
          'the refusal',
        );
        const lines = s.replace(/\n$/, '').split('\n');
        expect(lines.length).toBeLessThanOrEqual(24);
        for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
      } finally {
        term.kill();
      }
    }, 60_000);
  },
);
