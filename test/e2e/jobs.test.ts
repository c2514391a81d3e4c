/**
 * The built `k8ops --demo` in a real terminal (tmux): `:demo-noop cp-1`, the typed
 * confirmation, the job in the Jobs pane to `ok`; a second job whose k8ops is killed
 * (SIGKILL) while it runs is shown `interrupted` by the next console, beside the first,
 * read back from the XDG state dir; `k8ops audit --demo` lists the four lines.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt } from '../helpers/build.js';
import { haveTmux, TmuxTerm } from '../helpers/tmux.js';

const ci = process.env.CI === 'true';
const tmux = haveTmux();
if (!tmux && ci)
  throw new Error('tmux is required for the e2e tests under CI=true (.ci/run installs it)');
if (!tmux) console.warn('SKIP e2e jobs tests: tmux is not installed');

let home: string;
beforeAll(() => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'k8ops-e2e-jobs-'));
}, 120_000);
afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!tmux)('actions and jobs in the console (tmux)', () => {
  it('runs demo-noop after the typed confirmation; a killed console leaves it interrupted', async () => {
    const env = {
      XDG_CACHE_HOME: join(home, 'cache'),
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_STATE_HOME: join(home, 'state'),
    };
    const ready = (x: string) => x.includes('DEMO') && /nodes 6\/6/.test(x);
    const confirmAndRun = async (term: TmuxTerm, node: string) => {
      term.type(`:demo-noop ${node}`);
      term.send('Enter');
      await term.waitFor((x) => x.includes(`Confirm: demo-noop ${node}`), 'the confirmation');
      term.type(node);
      term.send('Enter');
      await term.waitFor((x) => x.includes(`started demo-noop ${node}`), 'the job started');
    };

    const first = new TmuxTerm('jobs-1', env);
    try {
      // exec: the pane's process is k8ops itself (killed below by its pid).
      first.start(`exec node ${BIN} --demo`, 120, 36);
      await first.waitFor(ready, 'the console', 60_000);
      await confirmAndRun(first, 'cp-1');
      first.send('8');
      let s = await first.waitFor(
        (x) => / ok +\d\d-\d\d [\d:]{8} +demo-noop cp-1/.test(x) && x.includes('4/4 steps'),
        'the first job ok',
        60_000,
      );
      expect(s).toMatch(/\[ ok \] cp-1: unit states/);

      await confirmAndRun(first, 'cp-2');
      s = await first.waitFor(
        (x) => /running +\d\d-\d\d [\d:]{8} +demo-noop cp-2/.test(x),
        'the second job running',
      );
      // Killed mid-job: no chance to record its end.
      process.kill(first.panePid(), 'SIGKILL');
    } finally {
      first.kill();
    }

    const second = new TmuxTerm('jobs-2', env);
    try {
      second.start(`node ${BIN} --demo; echo "k8ops-exit=$?"; sleep 30`, 120, 36);
      await second.waitFor(ready, 'the restarted console', 60_000);
      second.send('8');
      const s = await second.waitFor(
        (x) =>
          /interrupted +\d\d-\d\d [\d:]{8} +demo-noop cp-2/.test(x) &&
          / ok +\d\d-\d\d [\d:]{8} +demo-noop cp-1/.test(x),
        'both jobs read back, the killed one interrupted',
      );
      expect(s).toMatch(/interrupted: k8ops \(pid \d+ on .+\) ended while the job ran/);
      second.send('q');
      await second.waitFor((x) => x.includes('k8ops-exit=0'), 'a clean quit');
    } finally {
      second.kill();
    }

    const audit = spawnSync('node', [BIN, 'audit', '--demo', '--json'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(audit.status).toBe(0);
    const entries = JSON.parse(audit.stdout) as Array<{
      event: string;
      targets: string[];
      result?: string;
    }>;
    expect(entries.map((e) => [e.event, e.targets[0], e.result])).toEqual([
      ['start', 'cp-1', undefined],
      ['end', 'cp-1', 'ok'],
      ['start', 'cp-2', undefined],
      ['end', 'cp-2', 'interrupted'],
    ]);
  }, 180_000);
});
