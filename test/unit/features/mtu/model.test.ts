/**
 * The MTU model over store snapshots: link verdicts against the target (fixtures captured
 * from the real `ip -j -d link show`), Cilium's route MTU against the routing mode (tunnel:
 * device − 50; native: the device MTU), the matrix cells, and the exit code of `k8ops mtu`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatMtuText } from '../../../../src/commands/mtu.js';
import { demoInventory } from '../../../../src/demo/inventory.js';
import { buildMtuModel, ciliumRow, mtuExitCode } from '../../../../src/features/mtu/model.js';
import { parseIpLinks } from '../../../../src/features/mtu/parse.js';
import type { PathResult } from '../../../../src/features/mtu/probe.js';
import type { CiliumValue, LinksValue } from '../../../../src/features/mtu/sources.js';
import type { Snapshot } from '../../../../src/store/types.js';

const FIX = join(import.meta.dirname, '../../../fixtures/mtu');
const links = (f: string): LinksValue => {
  const p = parseIpLinks(readFileSync(join(FIX, f), 'utf8'));
  if (!p.ok) throw new Error(p.error);
  return { ok: true, ...p.value };
};
const snap = <T>(value: T): Snapshot<T> => ({ value, stale: false, loading: false });
const inv = demoInventory();
const names = inv.nodes.map((n) => n.name);

function reader(data: Record<string, Record<string, Snapshot>>) {
  return <T>(scope: string, id: string) =>
    (data[scope]?.[id] ?? { stale: false, loading: false }) as Snapshot<T>;
}

const cilium = (deviceMtu: number, routeMtu: number, routingMode?: string): CiliumValue => ({
  ok: true,
  config: { deviceMtu, routeMtu, ...(routingMode ? { routingMode } : {}) },
});

const okPaths = (from: string): PathResult[] =>
  names.filter((n) => n !== from).map((to) => ({ to, status: 'ok', mtu: 9216, probes: 1, ms: 1 }));

describe('MTU model', () => {
  it('all at target: ok, exit 0', () => {
    const data = Object.fromEntries(
      names.map((n) => [
        n,
        {
          'mtu-links': snap(links('ip-link-constructed.json')),
          'mtu-cilium': snap(cilium(9216, 9166, 'tunnel')),
          'mtu-paths': snap({ target: 9216, results: okPaths(n) }),
        },
      ]),
    );
    // Without the 1500 VLAN and dummy of the fixture.
    for (const n of names) {
      const v = data[n]!['mtu-links']!.value as LinksValue & { ok: true };
      v.links = v.links.filter((l) => l.mtu === 9216);
    }
    const m = buildMtuModel(inv, reader(data));
    expect(m.nodes.map((r) => r.health)).toEqual(names.map(() => 'ok'));
    expect(m.totals).toMatchObject({ down: 0, linksOff: 0, pathsLow: 0, pathsProbed: 30 });
    expect(mtuExitCode(m)).toBe(0);
  });

  it('a 1500 VLAN is bad, an unused dummy a warning, a 1500 path critical: exit 2', () => {
    const data: Record<string, Record<string, Snapshot>> = {
      'cp-1': {
        'mtu-links': snap(links('ip-link-constructed.json')),
        'mtu-paths': snap({
          target: 9216,
          results: [
            { to: 'cp-2', status: 'low', mtu: 1500, reportedBy: '10.0.0.1', probes: 2, ms: 3 },
          ],
        }),
      },
    };
    const m = buildMtuModel(inv, reader(data));
    const cp1 = m.nodes[0]!;
    expect(cp1.offTarget.map((l) => [l.name, l.role, l.severity])).toEqual([
      ['bond0.100', 'vlan', 'bad'],
      ['dummy0', 'other', 'warn'],
    ]);
    expect(cp1.lowest).toEqual({ name: 'bond0.100', mtu: 1500 });
    expect(m.matrix.cells[0]![1]).toMatchObject({ status: 'low', mtu: 1500, severity: 'bad' });
    expect(m.matrix.cells[0]![0]!.status).toBe('self');
    expect(m.matrix.cells[1]![0]!.status).toBe('pending');
    expect(mtuExitCode(m)).toBe(2);
    expect(formatMtuText(m)).toMatch(/path cp-1 → cp-2: 1500 \(Frag needed from 10\.0\.0\.1\)/);
  });

  it('an unreachable node: exit 3, whatever else', () => {
    const m = buildMtuModel(
      inv,
      reader({
        'cp-1': {
          'mtu-links': {
            error: { kind: 'unreachable', message: 'connect timeout' },
            stale: true,
            loading: false,
          },
        },
      }),
    );
    expect(m.nodes[0]).toMatchObject({ reach: 'down', health: 'down', error: 'connect timeout' });
    expect(m.matrix.cells[0]![1]!.status).toBe('pending');
    const probeFailed = buildMtuModel(
      inv,
      reader({
        'cp-1': {
          'mtu-paths': {
            error: { kind: 'timeout', message: 'timed out after 90s' },
            stale: true,
            loading: false,
          },
        },
      }),
    );
    expect(probeFailed.matrix.cells[0]![1]).toMatchObject({
      status: 'error',
      message: 'not probed: timed out after 90s',
      severity: 'warn',
    });
    expect(mtuExitCode(m)).toBe(3);
  });

  it('ip output that does not parse is a warning shown on the node, not a crash', () => {
    const m = buildMtuModel(
      inv,
      reader({
        'cp-1': { 'mtu-links': snap({ ok: false, error: 'ip -j -d link show: not JSON' }) },
      }),
    );
    expect(m.nodes[0]).toMatchObject({ reach: 'up', health: 'warn', parseError: /not JSON/ });
  });
});

describe("Cilium's route MTU against the routing mode", () => {
  const tunnelLinks = links('ip-link-cilium-node.json');
  const rows = buildMtuModel(inv, reader({ 'cp-1': { 'mtu-links': snap(tunnelLinks) } })).nodes[0]!
    .links;
  it('tunnel (from the agent): route = device − 50', () => {
    const r = ciliumRow({ value: cilium(9216, 9166, 'tunnel') }, rows, 9216);
    expect(r).toMatchObject({
      mode: 'tunnel',
      expectedRouteMtu: 9166,
      severity: 'ok',
      findings: [],
    });
  });
  it('tunnel learnt from the cilium_vxlan device when the agent does not say', () => {
    const r = ciliumRow({ value: cilium(9216, 9216) }, rows, 9216);
    expect(r).toMatchObject({
      mode: 'tunnel',
      modeFrom: 'links',
      tunnelProtocol: 'vxlan',
      severity: 'bad',
    });
  });
  it('native routing: route = device', () => {
    expect(ciliumRow({ value: cilium(9216, 9216, 'native') }, rows, 9216)).toMatchObject({
      mode: 'native',
      expectedRouteMtu: 9216,
      severity: 'ok',
    });
    expect(ciliumRow({ value: cilium(9216, 9166, 'native') }, rows, 9216).severity).toBe('warn');
  });
  it('a device MTU below target is critical; no agent is a warning', () => {
    expect(ciliumRow({ value: cilium(1500, 1450, 'tunnel') }, rows, 9216).severity).toBe('bad');
    expect(
      ciliumRow({ value: { ok: false, absent: true, error: 'no socket' } }, rows, 9216),
    ).toMatchObject({ state: 'absent', severity: 'warn' });
  });
});
