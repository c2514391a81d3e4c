/**
 * The NGINX pane on a model built from the demo's synthetic traffic (the same lines the demo
 * lab's controllers log) and two ACME certificates: hosts busiest first with the host that
 * never caches flagged, `w` switching the window, `u` showing the unparsed lines, the ACME
 * rows with their findings, and every frame within 80×24 and 60×12.
 */
import { render } from 'ink-testing-library';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { Inventory } from '../../src/config/types.js';
import { NginxAggregator } from '../../src/features/nginx/aggregate.js';
import { nginxModel } from '../../src/features/nginx/model.js';
import { DemoIngressTraffic } from '../../src/kube/demo-ingress-log.js';
import { createClock } from '../../src/store/clock.js';
import type { Snapshot } from '../../src/store/types.js';
import {
  deriveNginx,
  initialNginxUi,
  type NginxUi,
  nginxBindings,
} from '../../views/panes/nginx/bindings.js';
import { NginxPane } from '../../views/panes/nginx/Pane.js';
import { monoTheme, ThemeContext } from '../../views/theme.js';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const DAY = 86_400_000;

function model() {
  const agg = new NginxAggregator({ now: () => NOW });
  const tr = new DemoIngressTraffic();
  for (let i = 0; i < 2000; i++) agg.add(tr.line(NOW - 14 * 60_000 + i * 420));
  agg.add('\u001b[2Jnot an access line');
  const values: Record<string, unknown> = {
    'cluster\u0000nginx.ring': agg.snapshot(),
    'cluster\u0000kube.ingress-log': { following: ['ingress-nginx/ctrl-a'] },
    'cluster\u0000kube.certificates': {
      certificates: [
        {
          namespace: 'shop',
          name: 'static-tls',
          secretName: 'static-tls',
          issuerName: 'letsencrypt-prod',
          issuerKind: 'ClusterIssuer',
          dnsNames: ['static.lab.k8ops.test'],
          ready: false,
          readyReason: 'Failed',
          notAfter: new Date(NOW + 3 * DAY).toISOString(),
          renewalTime: new Date(NOW - 2 * DAY).toISOString(),
        },
      ],
    },
    'cluster\u0000kube.ingresses': [],
    // The cache on disk: one replica near max_size, one whose du failed (hostile text).
    'w2\u0000nginx.cache': {
      masters: [
        {
          pid: 2699,
          conf: '/etc/nginx/nginx.conf',
          zones: [
            {
              zone: 'ingress_cache',
              path: '/tmp/nginx-cache',
              maxBytes: 2 * 1024 ** 3,
              bytes: Math.round(1.96 * 1024 ** 3),
            },
          ],
        },
      ],
    },
    'w3\u0000nginx.cache': {
      masters: [
        {
          pid: 2796,
          conf: '/etc/nginx/nginx.conf',
          zones: [
            {
              zone: 'ingress_cache',
              path: '/tmp/nginx-cache',
              maxBytes: 2 * 1024 ** 3,
              // As the session stores it: made visible on the way in (visibleDeep).
              error: "du: cannot access '/tmp/nginx-cache': Permission denied\\x1b[2J",
            },
          ],
        },
      ],
    },
  };
  const read = <T,>(scope: string, id: string): Snapshot<T> =>
    ({ value: values[`${scope}\u0000${id}`] as T, stale: false }) as Snapshot<T>;
  const inv = {
    nodes: [
      { name: 'w2', index: 0, host: 'w2', addresses: [], roles: ['worker'] },
      { name: 'w3', index: 1, host: 'w3', addresses: [], roles: ['worker'] },
    ],
    ingress: { namespace: 'ingress-nginx', cacheZone: 'ingress_cache' },
  } as unknown as Inventory;
  return nginxModel({ inventory: inv, read, now: NOW, hasKube: true });
}

function Harness({
  size,
  keys,
}: {
  size: { columns: number; rows: number };
  keys: { press?: (k: string) => void };
}) {
  const [ui, setUi] = useState<NginxUi>(initialNginxUi);
  const m = model();
  const derived = deriveNginx(m, ui);
  keys.press = (k: string) => {
    const b = nginxBindings.find((x) => x.keys.includes(k));
    if (b)
      setUi((s) => b.reduce(s, { derived, env: {} as never }, { input: k, key: {} as never })[0]);
  };
  const clock = createClock({ now: () => NOW });
  return (
    <ThemeContext.Provider value={monoTheme}>
      <NginxPane
        model={m}
        ui={ui}
        derived={derived}
        clock={clock}
        width={size.columns}
        height={size.rows}
      />
    </ThemeContext.Provider>
  );
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('NGINX pane', () => {
  for (const size of [
    { columns: 200, rows: 40 },
    { columns: 80, rows: 24 },
    { columns: 60, rows: 12 },
  ]) {
    it(`fits ${size.columns}×${size.rows}; w switches the window, u shows unparsed lines`, async () => {
      const keys: { press?: (k: string) => void } = {};
      const r = render(<Harness size={size} keys={keys} />);
      await settle();
      const frame = () => r.lastFrame() ?? '';
      if (size.columns === 200) {
        expect(frame()).toContain('last 5 min');
        const hostLines = frame()
          .split('\n')
          .filter((l) => /lab\.k8ops\.test/.test(l));
        expect(hostLines[0]).toMatch(/shop\.lab\.k8ops\.test/);
        expect(frame()).toMatch(/api\.lab\.k8ops\.test +\S+ +never/);
        expect(frame()).toMatch(/static-tls.*False/);
        expect(frame()).toMatch(/static-tls.*expires 2026-12-09/);
        expect(frame()).toContain(
          'cache on disk ingress_cache 2.0 GiB of 2.0 GiB (98.0%) on w2 · ingress_cache ? (du: cannot access',
        );
        // Wait for the frame the key leads to (a fixed sleep is too short on a loaded machine).
        keys.press!('w');
        await vi.waitFor(() => expect(frame()).toContain('last 15 min'), { timeout: 5000 });
        keys.press!('u');
        await vi.waitFor(() => expect(frame()).toContain('lines that did not parse (6;'), {
          timeout: 5000,
        });
        expect(frame()).toContain('\\x1b[2Jnot an access line');
      } else {
        keys.press!('u');
        await settle();
      }
      for (const fr of r.frames) {
        const lines = fr.split('\n');
        expect(lines.length).toBeLessThanOrEqual(size.rows);
        for (const l of lines) expect([...l].length).toBeLessThanOrEqual(size.columns);
        expect(fr).not.toMatch(/\u001b\[2J/);
      }
      r.unmount();
    });
  }
});
