/** Inventory: a BGP router's `socket` (birdc -s) and `api` (gobgp -u/-p) are validated and kept. */
import { describe, expect, it } from 'vitest';
import { formatIssue, parseInventory } from '../../../../src/config/load.js';

const BASE = 'cluster: lab\nnodes:\n  - name: n1\n    roles: [worker]\n';
const parse = (extra: string) =>
  parseInventory(`${BASE}${extra}`, '/srv/k8ops.yaml', { home: '/home/op' });

describe('network.bgpRouters socket/api', () => {
  it('kept when valid; absent when not given', () => {
    const r = parse(
      'network:\n  bgpRouters:\n    - {name: tor-a, kind: bird, host: 10.0.0.1, socket: /run/bird/bird.ctl}\n    - {name: tor-b, kind: gobgp, api: "127.0.0.1:50051"}\n    - {name: tor-c, kind: gobgp}\n',
    );
    if (!r.ok) throw new Error(r.errors.map((e) => formatIssue(e)).join('\n'));
    expect(r.inventory.network.bgpRouters).toEqual([
      { name: 'tor-a', kind: 'bird', host: '10.0.0.1', socket: '/run/bird/bird.ctl' },
      { name: 'tor-b', kind: 'gobgp', host: 'tor-b', api: '127.0.0.1:50051' },
      { name: 'tor-c', kind: 'gobgp', host: 'tor-c' },
    ]);
  });
  it('a bad api address or an unsafe socket path is refused with a clear message', () => {
    const r = parse(
      'network:\n  bgpRouters:\n    - {name: tor-a, kind: gobgp, api: "localhost"}\n    - {name: tor-b, kind: bird, socket: "/run/$(reboot)"}\n',
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const msgs = r.errors.map((e) => `${e.path} ${e.message}`).join('\n');
    expect(msgs).toMatch(/network\.bgpRouters\[0\]\.api invalid api address "localhost"/);
    expect(msgs).toMatch(/network\.bgpRouters\[1\]\.socket/);
  });
});
