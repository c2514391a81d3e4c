/**
 * The NGINX pane in the built k8ops on the demo lab: `k8ops nginx --json` (its document and
 * exit code) and the pane in a real terminal (tmux): hosts with the one that never caches,
 * `w` switching the window, the ACME certificates with the one close to renewal, quit.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt } from '../helpers/build.js';
import { haveTmux, TmuxTerm } from '../helpers/tmux.js';

let home: string;
let env: Record<string, string>;
beforeAll(() => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'k8ops-e2e-nginx-'));
  env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_STATE_HOME: join(home, 'state'),
  };
}, 120_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

interface NginxDoc {
  exitCode: number;
  source: { kind: string };
  lines: { total: number; unparseable: number };
  hosts: Array<{
    host: string;
    neverCaches: boolean;
    windows: Array<{ minutes: number; hitRatio: number | null }>;
  }>;
  acme: {
    certificates: Array<{ name: string; ready: boolean; renewalTime: string; findings: unknown[] }>;
  };
  cache: {
    errors: string[];
    zones: Array<{
      node: string;
      zone: string;
      path: string;
      configured: boolean;
      bytes: number | null;
      maxBytes: number | null;
      fill: number | null;
    }>;
  };
}

describe('k8ops nginx (built, demo lab)', () => {
  it('--json: hosts over 1/5/15 min, the host that never caches, the ACME certificates', () => {
    const r = spawnSync('node', [BIN, 'nginx', '--demo', '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
      cwd: home,
      env,
    });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as NginxDoc;
    expect(doc.exitCode).toBe(0);
    expect(doc.source.kind).toBe('ring');
    expect(doc.lines.total).toBeGreaterThanOrEqual(1800);
    expect(doc.lines.unparseable).toBeGreaterThan(0);
    expect(doc.hosts.map((h) => h.host).sort()).toEqual([
      'api.lab.k8ops.test',
      'shop.lab.k8ops.test',
      'static.lab.k8ops.test',
    ]);
    expect(doc.hosts.filter((h) => h.neverCaches).map((h) => h.host)).toEqual([
      'api.lab.k8ops.test',
    ]);
    const shop = doc.hosts.find((h) => h.host === 'shop.lab.k8ops.test')!;
    expect(shop.windows.map((w) => w.minutes)).toEqual([1, 5, 15]);
    expect(shop.windows[2]!.hitRatio!).toBeGreaterThan(0.6);
    const certs = doc.acme.certificates;
    expect(certs.map((c) => c.name)).toEqual(['static-tls', 'shop-tls', 'api-tls']);
    const soon = Date.parse(certs[0]!.renewalTime) - Date.now();
    expect(soon).toBeGreaterThan(0);
    expect(soon).toBeLessThan(24 * 3_600_000);
    // The cache on disk: the two controller replicas (worker-2, worker-3), their nginx found
    // by pgrep, the module's proxy_cache_path (max_size 2g) read from their nginx.conf.
    expect(doc.cache.errors).toEqual([]);
    expect(doc.cache.zones.map((z) => [z.node, z.zone, z.path, z.maxBytes, z.configured])).toEqual([
      ['worker-2', 'ingress_cache', '/tmp/nginx-cache', 2 * 1024 ** 3, true],
      ['worker-3', 'ingress_cache', '/tmp/nginx-cache', 2 * 1024 ** 3, true],
    ]);
    for (const z of doc.cache.zones) {
      expect(z.bytes).toBeGreaterThan(0);
      expect(z.fill).toBeCloseTo(z.bytes! / z.maxBytes!, 10);
    }
  }, 90_000);
});

const tmux = haveTmux();
describe.skipIf(!tmux)('the NGINX pane in tmux (built)', () => {
  it('6 shows hosts and ACME certificates; w switches the window; q', async () => {
    const term = new TmuxTerm('nginx', env);
    try {
      term.start(`node ${BIN} --demo; echo "k8ops-exit=$?"; sleep 30`, 160, 40);
      await term.waitFor((x) => x.includes('DEMO'), 'the console', 30_000);
      term.send('6');
      let s = await term.waitFor(
        (x) =>
          /api\.lab\.k8ops\.test\s+\S+\s+never/.test(x) &&
          /shop\/static-tls/.test(x) &&
          x.includes('w window 15m'),
        'the NGINX pane with hosts and certificates',
      );
      expect(s).toContain('all hosts · last 5 min');
      expect(s).toMatch(/static-tls.*in [0-9]+h/);
      s = await term.waitFor(
        (x) =>
          /cache on disk ingress_cache \S+ GiB of 2\.0 GiB \(\d+(\.\d)?%\) on worker-2/.test(x),
        'the cache on disk (read every 30 s, first after 2 s)',
      );
      term.send('w');
      s = await term.waitFor((x) => x.includes('all hosts · last 15 min'), 'the 15-minute window');
      for (const l of s.replace(/\n$/, '').split('\n'))
        expect([...l].length).toBeLessThanOrEqual(160);
      term.send('q');
      await term.waitFor((x) => x.includes('k8ops-exit=0'), 'exit');
    } finally {
      term.kill();
    }
  }, 90_000);
});
