/**
 * The built `k8ops --demo` in a real terminal (tmux), driven by keys, screen read back.
 */
import { execFileSync } from 'node:child_process';
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
if (!tmux) console.warn('SKIP e2e console tests: tmux is not installed');

let cache: string;
beforeAll(() => {
  ensureBuilt();
  cache = mkdtempSync(join(tmpdir(), 'k8ops-e2e-'));
}, 120_000);
afterAll(() => {
  if (cache) rmSync(cache, { recursive: true, force: true });
});

const COUNTDOWN = /\d+d \d\d:\d\d/;

describe.skipIf(!tmux)('k8ops --demo in tmux', () => {
  for (const [columns, rows] of [
    [120, 40],
    [80, 24],
  ] as const) {
    it(`${columns}×${rows}: navigate, help, palette, filter, quit restores the terminal`, async () => {
      const term = new TmuxTerm(`${columns}x${rows}`, {
        XDG_CACHE_HOME: cache,
        XDG_CONFIG_HOME: join(cache, 'config'),
        XDG_STATE_HOME: join(cache, 'state'),
      });
      try {
        term.start(`node ${BIN} --demo; echo "k8ops-exit=$?"; sleep 30`, columns, rows);
        let s = await term.waitFor(
          // Everything asserted below is in the predicate: a capture can land between two
          // writes of one frame.
          (x) =>
            x.includes('DEMO') &&
            (x.match(new RegExp(COUNTDOWN.source, 'g'))?.length ?? 0) >= 6 &&
            (x.match(/Ready/g)?.length ?? 0) >= 6 &&
            /help/.test(x.replace(/\n+$/, '').split('\n').at(-1) ?? ''),
          'the overview with six countdowns, six Ready and the hint bar',
          30_000,
        );
        expect(term.alternateOn()).toBe(true);
        expect(s).toContain('demo-lab');
        expect(s).toMatch(/nodes 6\/6/);
        for (const n of ['cp-1', 'cp-2', 'cp-3', 'worker-1', 'worker-2', 'worker-3'])
          expect(s).toContain(n);
        expect(s).toContain('Ready');
        const lines = s.replace(/\n$/, '').split('\n');
        expect(lines.length).toBeLessThanOrEqual(rows);
        expect(lines[lines.length - 1]).toContain('help'); // hint bar on the last line

        term.send('2');
        s = await term.waitFor(
          (x) => /CERTIFICATE\s+EXPIRES/.test(x) && x.includes('k8s-root'),
          'the PKI pane',
        );
        expect(s).toContain('k8s-root');

        term.send('?');
        s = await term.waitFor(
          (x) => x.includes('Keys') && x.includes('Ctrl-R'),
          'the help overlay',
        );

        term.send('Escape');
        s = await term.waitFor((x) => !x.includes('Ctrl-R  '), 'help closed');

        term.send('1');
        await term.waitFor((x) => COUNTDOWN.test(x) && x.includes('SSH'), 'back on the overview');
        term.type(':pki');
        s = await term.waitFor((x) => /:pki/.test(x), 'palette input');
        term.send('Enter');
        s = await term.waitFor((x) => /CERTIFICATE\s+EXPIRES/.test(x), 'PKI via the palette');

        term.send('1');
        await term.waitFor((x) => x.includes('SSH'), 'overview again');
        term.type('/cp');
        s = await term.waitFor(
          (x) => x.includes('NODES /cp') && !x.includes('worker-1'),
          'the filtered list',
        );
        expect(s).toContain('cp-3');
        term.send('Enter');

        term.send('q');
        s = await term.waitFor((x) => x.includes('k8ops-exit='), 'the process to exit', 10_000);
        expect(s).toContain('k8ops-exit=0');
        expect(term.alternateOn()).toBe(false);
      } finally {
        term.kill();
      }
    }, 90_000);
  }

  it('Ctrl-C quits with the terminal restored', async () => {
    const term = new TmuxTerm('ctrlc', { XDG_CACHE_HOME: cache });
    try {
      term.start(`node ${BIN} --demo; echo "k8ops-exit=$?"; sleep 30`, 100, 30);
      await term.waitFor((x) => x.includes('DEMO'), 'the console', 30_000);
      term.send('C-c');
      const s = await term.waitFor((x) => x.includes('k8ops-exit='), 'exit', 10_000);
      expect(s).toContain('k8ops-exit=0');
      expect(term.alternateOn()).toBe(false);
    } finally {
      term.kill();
    }
  }, 60_000);

  it('SIGTERM: the terminal is restored and the exit code says so', async () => {
    const term = new TmuxTerm('sigterm', { XDG_CACHE_HOME: cache });
    try {
      term.start(`node ${BIN} --demo; echo "k8ops-exit=$?"; sleep 30`, 100, 30);
      await term.waitFor((x) => x.includes('DEMO'), 'the console', 30_000);
      const shell = term.panePid();
      // -f: the command line, not the thread name (Node 24 names its main thread MainThread)
      const child = execFileSync('pgrep', ['-P', String(shell), '-f', 'node'], {
        encoding: 'utf8',
      }).trim();
      process.kill(Number(child), 'SIGTERM');
      const s = await term.waitFor((x) => x.includes('k8ops-exit='), 'exit after SIGTERM', 10_000);
      expect(s).toContain('k8ops-exit=143');
      expect(term.alternateOn()).toBe(false);
    } finally {
      term.kill();
    }
  }, 60_000);

  it('a resize re-lays out to the new size', async () => {
    const term = new TmuxTerm('resize', { XDG_CACHE_HOME: cache });
    try {
      term.start(`node ${BIN} --demo; sleep 30`, 120, 40);
      await term.waitFor((x) => x.includes('DEMO') && COUNTDOWN.test(x), 'the console', 30_000);
      term.resize(80, 24);
      const s = await term.waitFor(
        (x) =>
          x.includes(' 3 Rot ') &&
          !x.includes('Rotation') &&
          COUNTDOWN.test(x) &&
          x.replace(/\n+$/, '').split('\n').length <= 24 &&
          /help/.test(x.replace(/\n+$/, '').split('\n').at(-1) ?? ''),
        'the compact 80-column tab bar and the hint bar',
      );
      const lines = s.replace(/\n$/, '').split('\n');
      expect(lines.length).toBeLessThanOrEqual(24);
      expect(lines.at(-1)).toContain('help');
    } finally {
      term.kill();
    }
  }, 60_000);
});
