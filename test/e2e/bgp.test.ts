/**
 * The built `k8ops --demo` in tmux: the BGP pane (key 5) with the demo lab's sessions
 * (Cilium's side from the demo agent API on each node's socket, the router's from the demo
 * ToR's `gobgp -j` answers, through the same collectors as a real cluster), the down
 * session marked, Enter for its details; and `k8ops bgp --demo --json` with its exit code.
 */
import { spawnSync } from 'node:child_process';
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
  cache = mkdtempSync(join(tmpdir(), 'k8ops-e2e-bgp-'));
}, 120_000);
afterAll(() => {
  if (cache) rmSync(cache, { recursive: true, force: true });
});
const env = () => ({
  XDG_CACHE_HOME: cache,
  XDG_CONFIG_HOME: join(cache, 'config'),
  XDG_STATE_HOME: join(cache, 'state'),
});

describe('k8ops bgp --demo', () => {
  it('--json: every session with both sides, the fault, exit code 2 (critical)', () => {
    const r = spawnSync(process.execPath, [BIN, 'bgp', '--demo', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, ...env() },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(2);
    const doc = JSON.parse(r.stdout) as {
      totals: { sessions: number; established: number; critical: number; warnings: number };
      kube: Record<string, unknown>;
      sessions: Array<{
        node: string;
        router: string;
        state: string;
        severity: string;
        problems: string[];
        vips: string[];
        config: {
          peerConfig: string;
          state: string;
          timers: Record<string, unknown>;
          authSecretRef: string;
          families: Array<{
            advertisements: Array<{ advertisement: string; services?: string[] }>;
          }>;
          loadBalancerVips?: { missing: string[]; unexpected: string[] };
        } | null;
      }>;
    };
    expect(doc.totals).toMatchObject({ sessions: 6, established: 5, critical: 1, warnings: 1 });
    expect(doc.kube).toMatchObject({
      apiVersion: 'cilium.io/v2',
      peerConfigs: { apiVersion: 'cilium.io/v2', count: 1 },
      advertisements: { apiVersion: 'cilium.io/v2', count: 2 },
      clusterConfigs: { apiVersion: 'cilium.io/v2', count: 1 },
      services: { count: 5 },
    });
    // Every session carries its PeerConfig and the advertisements that apply to it.
    for (const s of doc.sessions)
      expect(s.config).toMatchObject({
        peerConfig: 'tor-1-peer',
        state: 'found',
        timers: { holdTimeSeconds: 90, keepAliveTimeSeconds: 30, connectRetryTimeSeconds: 120 },
        authSecretRef: 'tor-1-bgp-password',
      });
    expect(
      doc.sessions[0]!.config!.families[0]!.advertisements.map((a) => [
        a.advertisement,
        a.services,
      ]),
    ).toEqual([
      ['pod-cidr[0]', undefined],
      ['lb-vips[0]', ['ingress-nginx/ingress-nginx-controller', 'shop/web']],
    ]);
    // The demo's second fault: worker-1's agent still advertises shop/web's old VIP.
    const stale = doc.sessions.find((s) => s.node === 'worker-1')!;
    expect(stale.severity).toBe('warning');
    expect(stale.config?.loadBalancerVips).toMatchObject({
      missing: ['10.77.100.11/32'],
      unexpected: ['10.77.100.12/32'],
    });
    expect(stale.problems).toEqual([
      "LoadBalancer VIPs disagree with the selected Services' status.loadBalancer.ingress: not advertised: 10.77.100.11/32 (shop/web); advertised but held by no selected Service: 10.77.100.12/32",
    ]);
    expect(JSON.stringify(doc)).not.toMatch(/"password"/);
    const down = doc.sessions.find((s) => s.node === 'worker-3');
    expect(down).toMatchObject({ router: 'tor-1', state: 'active' });
    expect(down?.problems[0]).toMatch(/session down/);
    expect(doc.sessions.find((s) => s.node === 'cp-1')?.vips).toEqual([
      '10.77.100.10/32',
      '10.77.100.11/32',
    ]);
  }, 70_000);
});

describe.skipIf(!tmux)('BGP pane in tmux', () => {
  it('120×40: sessions, the down one marked, Enter shows both sides and received routes', async () => {
    const term = new TmuxTerm('120x40', env());
    try {
      term.start(`node ${BIN} --demo; echo "k8ops-exit=$?"; sleep 30`, 120, 40);
      await term.waitFor((x) => x.includes('DEMO'), 'the console', 30_000);
      term.send('5');
      let s = await term.waitFor(
        (x) => x.includes('5/6 established') && /✗ worker-3 +10\.77\.0\.1/.test(x),
        'the BGP pane with six sessions, worker-3 down',
        30_000,
      );
      expect(s).toMatch(/cp-1 +10\.77\.0\.1 +tor-1 +65001→65000 +established/);
      term.send('G', 'Enter');
      s = await term.waitFor(
        (x) =>
          x.includes('worker-3 (10.77.0.23) ↔ tor-1 (10.77.0.1)') &&
          x.includes('Routes the router received') &&
          x.includes('session down (Cilium active, router tor-1 Active)'),
        'the details of the down session, with its problem',
      );
      expect(s).toContain("Cilium's side");
      term.send('Escape');
      await term.waitFor((x) => x.includes('RCV/ACC/ADV'), 'back to the table');
      term.send('q');
      await term.waitFor((x) => x.includes('k8ops-exit=0'), 'quit');
    } finally {
      term.kill();
    }
  }, 90_000);
});
