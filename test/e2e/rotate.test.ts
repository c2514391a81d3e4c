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

  it('rotate --ca ID --dry-run: the ceremony, the bundle lead per node with its units and gates, the switch, the retire, in order', () => {
    const d = k8ops(['rotate', '--ca', 'etcd-ca', '--dry-run', '--demo']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('signer cp-1, bundles etcd-ca-bundle');
    expect(d.stdout).toContain('cp-1: etcd.service → restart');
    expect(d.stdout).toContain('etcd 3.4 reads --trusted-ca-file');
    const cmds = d.stdout.split('\n').filter((l) => /^ *\d+\. /.test(l));
    const at = (re: RegExp) => cmds.findIndex((l) => re.test(l));
    expect(cmds[0]).toMatch(
      /^ +1\. cp-1\$ k8ops-pki-lock acquire .*--pki-dir \/var\/lib\/k8ops\/ca$/,
    );
    expect(cmds[1]).toContain('cp-1$ k8ops-pki-ca-rotate status --ca etcd-ca');
    // The root signs offline, never on a node: the one command on the offline machine.
    expect(cmds.filter((l) => l.includes('issue-intermediate.sh'))).toHaveLength(1);
    expect(at(/offline \(root key\)\$ issue-intermediate\.sh .*--csr etcd-ca\.csr/)).toBe(3);
    expect(at(/k8ops-pki-ca-rotate accept .*--cert -/)).toBe(4);
    // Bundle lead: each node (one at a time, etcd before the API server) before mark-bundled.
    const push2 = at(/cp-2\$ k8ops-pki-bundle-install --bundle etcd-ca-bundle --certs -/);
    const etcd2 = at(/cp-2\$ systemctl restart etcd\.service/);
    const api2 = at(/cp-2\$ systemctl restart kube-apiserver\.service/);
    const mark = at(/k8ops-pki-ca-rotate mark-bundled/);
    const sw = at(/k8ops-pki-ca-rotate switch .*--min-lead 86400/);
    const check = at(/bundle-install --bundle etcd-ca-bundle --certs - --check/);
    const retire = at(/k8ops-pki-ca-rotate retire --ca etcd-ca/);
    const finish = at(/k8ops-pki-ca-rotate finish --ca etcd-ca/);
    expect(push2).toBeGreaterThan(4);
    expect(push2 < etcd2 && etcd2 < api2 && api2 < mark && mark < sw).toBe(true);
    expect(sw < check && check < retire && retire < finish).toBe(true);
    expect(cmds.at(-1)).toMatch(/cp-1\$ k8ops-pki-lock release .*--pki-dir \/var\/lib\/k8ops\/ca$/);
    // --retire-now changes only the retire.
    const early = k8ops(['rotate', '--ca', 'etcd-ca', '--retire-now', '--dry-run', '--demo']);
    expect(early.stdout).toMatch(/k8ops-pki-ca-rotate retire --ca etcd-ca --ca-dir \S+ --early/);
    // The root and unknown CAs are refused; --successor needs a readable file; read-only refuses.
    const root = k8ops(['rotate', '--ca', 'k8s-root', '--dry-run', '--demo']);
    expect(root.code).toBe(2);
    expect(root.stderr).toContain('its key stays offline');
    expect(k8ops(['rotate', '--ca', 'nope', '--dry-run', '--demo']).code).toBe(2);
    expect(k8ops(['rotate', '--ca', 'etcd-ca', '--successor', '/nonexistent', '--demo']).code).toBe(
      2,
    );
    expect(k8ops(['rotate', '--successor', 'x', '--demo']).code).toBe(2);
    expect(k8ops(['rotate', '--ca', 'etcd-ca', 'cp-1', '--demo']).code).toBe(2);
    expect(k8ops(['rotate', '--ca', 'etcd-ca', '--sa-key', '--demo']).code).toBe(2);
    const ro = k8ops(['rotate', '--ca', 'etcd-ca', '--yes', '--read-only', '--demo']);
    expect(ro.code).toBe(6);
    expect(ro.stderr).toContain('refused: --read-only');
    expect(k8ops(['rotate', '--ca', 'etcd-ca', '--yes', '--demo']).code).toBe(6);
    expect(k8ops(['rotate', '--help']).stdout).toContain('k8ops rotate --ca ID [--successor FILE]');
  });

  it('rotate --sa-key --dry-run: every node trusts the new keys before any switches; the drop after the overlap', () => {
    const d = k8ops(['rotate', '--sa-key', '--dry-run', '--demo']);
    expect(d.code, d.stderr).toBe(0);
    const cmds = d.stdout.split('\n').filter((l) => /^ *\d+\. /.test(l));
    const at = (re: RegExp) => cmds.findIndex((l) => re.test(l));
    const lastTrust = Math.max(
      ...['cp-1', 'cp-2', 'cp-3'].map((n) =>
        at(new RegExp(`${n}\\$ k8ops-pki-sa-rotate trust --pubs - .*every node's current and new`)),
      ),
    );
    const firstSwitch = at(/k8ops-pki-sa-rotate switch/);
    expect(lastTrust).toBeGreaterThan(0);
    expect(firstSwitch).toBeGreaterThan(lastTrust);
    // A switch restarts the API server and the controller-manager; a trust change only the API server.
    const sw1 = cmds.slice(firstSwitch, at(/cp-2\$ k8ops-pki-sa-rotate switch/)).join('\n');
    expect(sw1).toContain('cp-1$ systemctl restart kube-apiserver.service');
    expect(sw1).toContain('cp-1$ systemctl restart kube-controller-manager.service');
    expect(sw1).toContain('k8ops-pki-sa-rotate rollback');
    const trust1 = cmds
      .slice(at(/cp-1\$ k8ops-pki-sa-rotate trust/), at(/cp-2\$ k8ops-pki-sa-rotate trust/))
      .join('\n');
    expect(trust1).toContain('systemctl restart kube-apiserver.service');
    expect(trust1).not.toContain('kube-controller-manager');
    expect(at(/k8ops-pki-sa-rotate finish/)).toBeGreaterThan(
      at(/trust --pubs - .*only if every node switched 48 h ago/),
    );
    expect(k8ops(['rotate', '--sa-key', '--yes', '--read-only', '--demo']).code).toBe(6);
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
      // wait for the min-remaining conflicts, not the first conflict: the first presses can
      // bring outlives-intermediate ones alone (the demo's dates follow the wall clock)
      s = await term.waitFor(
        (x) => /X \d+ conflicts/.test(x) && x.includes('X min-remaining:'),
        'min-remaining conflicts',
      );
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
