/**
 * The built `k8ops --demo` in a real terminal (tmux): pane 7 shows the MTU matrix with
 * worker-3's 1500 hop, Enter lists worker-3's interfaces with the 1500 VLAN flagged, Esc
 * goes back, `p` probes again, `q` quits cleanly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt } from '../helpers/build.js';
import { haveTmux, TmuxTerm } from '../helpers/tmux.js';

const tmux = haveTmux();
if (!tmux && process.env.CI === 'true')
  throw new Error('tmux is required for the e2e tests under CI=true (.ci/run installs it)');

let cache: string;
beforeAll(() => {
  ensureBuilt();
  cache = mkdtempSync(join(tmpdir(), 'k8ops-e2e-mtu-'));
}, 120_000);
afterAll(() => {
  if (cache) rmSync(cache, { recursive: true, force: true });
});

describe.skipIf(!tmux)('MTU pane in tmux (demo lab)', () => {
  it('matrix, interfaces of worker-3, probe again, quit', async () => {
    const term = new TmuxTerm('mtu-100x30', {
      XDG_CACHE_HOME: cache,
      XDG_CONFIG_HOME: join(cache, 'config'),
      XDG_STATE_HOME: join(cache, 'state'),
    });
    try {
      term.start(`node ${BIN} --demo; echo "k8ops-exit=$?"; sleep 30`, 100, 30);
      await term.waitFor((x) => x.includes('DEMO') && x.includes('help'), 'the console', 30_000);
      term.send('7');
      let s = await term.waitFor(
        (x) => /paths below target 10\/30/.test(x) && /worker-3 +1500 +1500/.test(x),
        'the MTU pane with the matrix probed',
        30_000,
      );
      expect(s).toMatch(/worker-3 +bad +1\/15 +bond0\.30 1500/);
      expect(s).toContain('p probe paths');
      term.send('j', 'j', 'j', 'j', 'j');
      await term.waitFor((x) => x.includes('worker-3: '), 'worker-3 selected');
      term.send('Enter');
      s = await term.waitFor((x) => x.includes('worker-3 — interfaces (15)'), 'interfaces');
      expect(s).toMatch(/bond0\.30 +vlan +1500 +9216 +low/);
      term.send('Escape');
      await term.waitFor((x) => x.includes('path MTU (row → column'), 'back to the matrix');
      term.send('p');
      await term.waitFor((x) => /probed <1m ago/.test(x), 'probed again');
      term.send('q');
      s = await term.waitFor((x) => x.includes('k8ops-exit='), 'exit', 10_000);
      expect(s).toContain('k8ops-exit=0');
    } finally {
      term.kill();
    }
  }, 90_000);
});
