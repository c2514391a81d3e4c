/**
 * `k8ops rotate plan` in the built k8ops on the demo lab: text and --json, the horizon
 * (--days), exit codes (0 no conflict, 2 usage); and the Rotation pane in tmux: 3, +, [, =.
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
  home = mkdtempSync(join(tmpdir(), 'k8ops-e2e-rotate-'));
  env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_STATE_HOME: join(home, 'state'),
  };
}, 120_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

function k8ops(args: string[]) {
  const r = spawnSync('node', [BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: home,
    env,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface PlanDoc {
  exitCode: number;
  horizonDays: number;
  settings: { spreadSeconds: number; renewBeforeSeconds: number | null };
  nodes: Array<{
    name: string;
    index: number;
    offsetSeconds: number;
    certs: Array<{ id: string; scheduledEpoch: number; reason: string; units: string[] }>;
    rotations: Array<{ at: string; certs: string[]; restart: string[] }>;
  }>;
  intermediates: Array<{ cn: string; due: string }>;
  conflicts: unknown[];
}

describe('k8ops rotate plan (built) on the demo lab', () => {
  it('--json: every node with its slot, every certificate scheduled, exit 0 (no conflict)', () => {
    const r = k8ops(['rotate', 'plan', '--json', '--demo']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as PlanDoc;
    expect(doc.exitCode).toBe(0);
    expect(doc.horizonDays).toBe(30);
    expect(doc.settings).toMatchObject({ spreadSeconds: 86_400, renewBeforeSeconds: null });
    expect(doc.nodes.map((n) => [n.name, n.offsetSeconds])).toEqual([
      ['cp-1', 0],
      ['cp-2', 4 * 3600],
      ['cp-3', 8 * 3600],
      ['worker-1', 12 * 3600],
      ['worker-2', 16 * 3600],
      ['worker-3', 20 * 3600],
    ]);
    for (const n of doc.nodes) {
      expect(n.certs.length).toBeGreaterThan(0);
      for (const c of n.certs) expect(Number.isInteger(c.scheduledEpoch)).toBe(true);
    }
    const cp1 = doc.nodes[0]!;
    expect(cp1.certs.map((c) => c.id)).toContain('etcd-server');
    expect(cp1.rotations.find((e) => e.certs.includes('etcd-server'))!.restart).toEqual([
      'etcd.service',
    ]);
    expect(doc.intermediates.map((c) => c.cn).sort()).toEqual([
      'etcd-ca',
      'front-proxy-ca',
      'kubernetes-ca',
    ]);
    expect(doc.conflicts).toEqual([]);
  });

  it('text, with --days and global flags before the subcommand', () => {
    const r = k8ops(['--demo', 'rotate', 'plan', '--days', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('k8ops rotate plan — demo-lab (demo)');
    expect(r.stdout).toContain('Rotations in the next 2 days:');
    expect(r.stdout).toContain('No conflicts.');
    const all = k8ops(['rotate', 'plan', '--demo']);
    expect(all.stdout.split('\n').length).toBeGreaterThan(r.stdout.split('\n').length);
  });

  it('usage errors exit 2; --help and k8ops --help name it', () => {
    expect(k8ops(['rotate', 'plan', '--days', 'x', '--demo']).code).toBe(2);
    expect(k8ops(['rotate', 'plan', '--bogus']).code).toBe(2);
    expect(k8ops(['rotate', '--demo']).code).toBe(2);
    const now = k8ops(['rotate', 'now', '--demo']);
    expect(now.code).toBe(2);
    expect(now.stderr).toContain('no node "now" in the inventory');
    expect(k8ops(['rotate', 'cp-1', '--due', '--demo']).code).toBe(2);
    expect(k8ops(['rotate', 'cp-1', '--only', 'Bad_Id', '--demo']).code).toBe(2);
    expect(k8ops(['rotate', '--break-lock', 'cp-1', 'cp-2', '--demo']).code).toBe(2);
    expect(k8ops(['rotate', '--help']).stdout).toContain('Usage: k8ops rotate plan');
    expect(k8ops(['rotate', '--help']).stdout).toContain('k8ops rotate NODE… [--only ID]…');
    expect(k8ops(['--help']).stdout).toContain('k8ops rotate plan [--json] [--days N]');
  });

  it('rotate NODE --dry-run prints units, gates and every command per host; --read-only refuses the rest', () => {
    const d = k8ops(['rotate', 'worker-1', '--only', 'kubelet', '--dry-run', '--demo']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('kubelet.service: kubelet → restart');
    expect(d.stdout).toContain('gates: kubelet.service active; kubelet /healthz');
    const cmds = d.stdout.split('\n').filter((l) => /^ +\d+\. /.test(l));
    expect(cmds[0]).toMatch(/^ +1\. worker-1\$ k8ops-pki-lock acquire --owner \S+@k8ops /);
    expect(cmds[1]).toContain('worker-1$ k8ops-pki-node-csr --node worker-1 --roles worker');
    expect(cmds[3]).toMatch(
      /cp-1\$ k8ops-pki-sign .*--id kubelet --csr -\s+# stdin: the CSR of kubelet/,
    );
    expect(cmds[4]).toContain('worker-1$ k8ops-pki-install --node worker-1 --id kubelet --cert -');
    expect(cmds.at(-1)).toContain('worker-1$ k8ops-pki-lock release');
    // Read-only: --dry-run still works, rotating and breaking a lock are refused (6).
    expect(k8ops(['rotate', 'worker-1', '--dry-run', '--read-only', '--demo']).code).toBe(0);
    const ro = k8ops(['rotate', 'worker-1', '--yes', '--read-only', '--demo']);
    expect(ro.code).toBe(6);
    expect(ro.stderr).toContain('refused: --read-only');
    expect(k8ops(['rotate', '--break-lock', 'worker-1', '--read-only', '--demo']).code).toBe(6);
    // Without --yes and without a terminal to confirm on: refused, nothing run.
    const nc = k8ops(['rotate', 'worker-1', '--only', 'kubelet', '--demo']);
    expect(nc.code).toBe(6);
  });
});

describe.skipIf(!haveTmux())('the Rotation pane in tmux (built)', () => {
  it('3 shows the timeline; + widens the spread; [ brings conflicts; = resets; q', async () => {
    const term = new TmuxTerm('rotation', env);
    try {
      term.start(`node ${BIN} --demo; echo "k8ops-exit=$?"; sleep 30`, 120, 40);
      await term.waitFor(
        (x) => x.includes('DEMO') && /\d+d \d\d:\d\d/.test(x),
        'the overview',
        30_000,
      );
      term.send('3');
      let s = await term.waitFor(
        (x) =>
          x.includes('PREVIEW ONLY, not saved · no conflicts · spread 1d 00:00') &&
          x.includes('+/- spread'),
        'the timeline with its hints',
      );
      expect(s).toMatch(/>cp-1 +[ .|*]*\|/);
      expect(s).toContain('cp-1 · node 0 of 6 · slot +00:00');
      term.send('+', '+');
      s = await term.waitFor(
        (x) => x.includes('spread 1d 02:00 (inventory 1d 00:00)'),
        'spread +2 h',
      );
      term.send('=');
      for (let i = 0; i < 8; i++) term.send('[');
      s = await term.waitFor((x) => /X \d+ conflicts/.test(x), 'conflicts');
      expect(s).toContain('X min-remaining:');
      const lines = s.replace(/\n$/, '').split('\n');
      expect(lines.length).toBeLessThanOrEqual(40);
      term.send('=');
      await term.waitFor(
        (x) => x.includes('no conflicts · spread 1d 00:00 · renew before'),
        'reset',
      );
      term.send('q');
      await term.waitFor((x) => x.includes('k8ops-exit=0'), 'exit');
    } finally {
      term.kill();
    }
  }, 60_000);
});
