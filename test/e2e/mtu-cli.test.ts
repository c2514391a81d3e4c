/**
 * The built `k8ops mtu` on the demo lab (its synthetic `ip -j -d link show`, `ping -M do`
 * and Cilium `/v1/config` answers, with worker-3's VLAN at 1500): the text report, the
 * JSON with the matrix and the exit code 2 (critical), and the exit code
 * 3 for an unreachable node.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt } from '../helpers/build.js';

let home: string;
beforeAll(() => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'k8ops-mtu-'));
}, 120_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

function k8ops(args: string[]) {
  const r = spawnSync('node', [BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: home,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      XDG_CACHE_HOME: join(home, 'cache'),
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_STATE_HOME: join(home, 'state'),
    },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('k8ops mtu (built, demo lab)', () => {
  it('--json: the 1500 VLAN, the matrix with 1500 to and from worker-3, exit 2', () => {
    const r = k8ops(['mtu', '--demo', '--json']);
    expect(r.stderr).not.toMatch(/Error|at /);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as {
      exitCode: number;
      target: number;
      nodes: Array<{
        name: string;
        health: string;
        offTarget: Array<{ name: string; mtu: number }>;
      }>;
      matrix: { nodes: string[]; cells: Array<Array<{ status: string; mtu?: number }>> };
    };
    expect(doc.exitCode).toBe(2);
    expect(doc.target).toBe(9216);
    const w3 = doc.nodes.find((n) => n.name === 'worker-3')!;
    expect(w3.health).toBe('bad');
    expect(w3.offTarget).toEqual([expect.objectContaining({ name: 'bond0.30', mtu: 1500 })]);
    const i = doc.matrix.nodes.indexOf('worker-3');
    for (const [from, row] of doc.matrix.cells.entries()) {
      if (from === i) continue;
      expect(row[i]).toMatchObject({ status: 'low', mtu: 1500 });
      for (const [to, c] of row.entries())
        if (to !== i && to !== from) expect(c).toMatchObject({ status: 'ok', mtu: 9216 });
    }
    for (const [to, c] of doc.matrix.cells[i]!.entries())
      if (to !== i) expect(c).toMatchObject({ status: 'low', mtu: 1500 });
  });

  it('text: the table, the matrix and the findings', () => {
    const r = k8ops(['mtu', '--demo']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^target MTU 9216$/m);
    expect(r.stdout).toMatch(/worker-3 +bad +1\/15 +bond0\.30 1500/);
    expect(r.stdout).toMatch(/^worker-3 +1500 +1500 +1500 +1500 +1500 +·$/m);
    expect(r.stdout).toContain('worker-3 bond0.30 (vlan): MTU 1500, expected 9216 [bad]');
  });

  it('an inventory with an unreachable node: exit 3, said on the row', () => {
    const inv = join(home, 'k8ops.yaml');
    writeFileSync(
      inv,
      [
        'cluster: t',
        'nodes:',
        '  - name: gone',
        '    host: 127.0.0.1',
        '    addresses: [127.0.0.1]',
        '    roles: [worker]',
        'ssh:',
        '  port: 1',
        '  connectTimeout: 2s',
        '',
      ].join('\n'),
    );
    const r = k8ops(['mtu', '--inventory', inv, '--json']);
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout) as {
      nodes: Array<{ reach: string; error?: string; cilium: { error?: string } }>;
    };
    expect(doc.nodes[0]).toMatchObject({
      reach: 'down',
      error: expect.stringMatching(/^ssh gone/),
      cilium: { error: 'not read: node unreachable' },
    });
  });
});
