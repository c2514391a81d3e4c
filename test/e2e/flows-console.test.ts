/**
 * The Flows pane of the built `k8ops --demo` in a real terminal (tmux): flows streaming from
 * the demo lab's hubble-relay (its Service resolved through the demo kube API, dialled
 * through a demo node's forwardTcp, one stream carrying all six nodes' flows) through the
 * product's path, drops by reason (three), the
 * `/` filter sent server-side, Space pausing, Enter showing a flow in full.
 */
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

let cache: string;
beforeAll(() => {
  ensureBuilt();
  cache = mkdtempSync(join(tmpdir(), 'k8ops-e2e-flows-'));
}, 120_000);
afterAll(() => {
  if (cache) rmSync(cache, { recursive: true, force: true });
});

const total = (s: string): number =>
  Number(/([\d,]+) flows ·/.exec(s)?.[1]?.replace(/,/g, '') ?? -1);

describe.skipIf(!tmux)('Flows pane in tmux (demo lab)', () => {
  it('streams, groups drops by reason, filters server-side, pauses, shows a flow', async () => {
    const term = new TmuxTerm('140x40', {
      XDG_CACHE_HOME: cache,
      XDG_CONFIG_HOME: join(cache, 'config'),
      XDG_STATE_HOME: join(cache, 'state'),
    });
    try {
      term.start(`node ${BIN} --demo; echo "k8ops-exit=$?"; sleep 30`, 140, 40);
      await term.waitFor((x) => x.includes('DEMO') && /nodes 6\/6/.test(x), 'the console', 60_000);
      term.send('4');
      let s = await term.waitFor(
        (x) =>
          /relay streaming · relay reaches 6 nodes/.test(x) &&
          total(x) > 100 &&
          ['POLICY_DENY', 'SERVICE_BACKEND_NOT_FOUND', 'CT_MISSING_TCP_ACK_FLAG'].every((r) =>
            x.includes(r),
          ),
        'the relay stream (six nodes), flows and the three drop reasons',
        90_000,
      );
      expect(s).toMatch(/TIME\s+NODE\s+VERDICT\s+SOURCE -> DESTINATION/);
      expect(s).toContain('Drops by reason');
      expect(s).toContain('Top talkers');
      expect(s.replace(/\n$/, '').split('\n').length).toBeLessThanOrEqual(40);

      // The filter: typed, kept with Enter; the streams restart with it server-side.
      term.send('/');
      term.type('verdict:DROPPED');
      term.send('Enter');
      // Each node's stream restarts with the filter; the table is made of the new streams
      // once every node's snapshot has been refreshed.
      const tableRows = (x: string) =>
        x.split('\n').filter((l) => /\d\d:\d\d:\d\d\.\d{3} \S+\s+[A-Z]{5,}/.test(l));
      s = await term.waitFor(
        (x) =>
          x.includes('filter: verdict:DROPPED') &&
          tableRows(x).length > 3 &&
          tableRows(x).every((l) => /DROPPED/.test(l)),
        'only dropped flows in the table',
        60_000,
      );
      expect(tableRows(s).length).toBeGreaterThan(3);

      // Space freezes the table; again resumes.
      term.send('Space');
      s = await term.waitFor((x) => x.includes('PAUSED'), 'paused', 60_000);
      const frozen = s.split('\n').filter((l) => /DROPPED/.test(l) && /\d{3} /.test(l));
      await new Promise((r) => setTimeout(r, 2000));
      const later = term
        .screen()
        .split('\n')
        .filter((l) => /DROPPED/.test(l) && /\d{3} /.test(l));
      expect(later.slice(0, 5)).toEqual(frozen.slice(0, 5));
      term.send('Space');
      await term.waitFor((x) => !x.includes('PAUSED'), 'resumed', 60_000);

      // Enter: one flow in full; Esc back.
      term.send('Enter');
      s = await term.waitFor(
        (x) => x.includes('(hubble observe -o jsonpb)') && x.includes('"verdict": "DROPPED"'),
        'the flow in full',
        60_000,
      );
      term.send('G');
      s = await term.waitFor(
        (x) => x.includes('"drop_reason_desc"'),
        'its drop reason, at the end',
        60_000,
      );
      expect(s).toMatch(/"node_name": "demo-lab\/(cp|worker)-\d"/);
      term.send('Escape');
      await term.waitFor((x) => x.includes('Drops by reason'), 'back to the table', 60_000);
      term.send('q');
      await term.waitFor((x) => x.includes('k8ops-exit=0'), 'a clean exit', 60_000);
    } finally {
      term.kill();
    }
  }, 240_000);
});
