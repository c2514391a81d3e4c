/** The built CLI's scriptable surface: help, version, non-TTY, overview --json, inventory errors. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli.js';
import { BIN, ensureBuilt, ROOT } from '../helpers/build.js';

let home: string;
beforeAll(() => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'k8ops-cli-'));
}, 120_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

function k8ops(args: string[], env: Record<string, string> = {}) {
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
      ...env,
    },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('k8ops CLI (built)', () => {
  it('--help lists the subcommands and options; --version prints package.json version', () => {
    const h = k8ops(['--help']);
    expect(h.code).toBe(0);
    for (const s of ['--demo', '--inventory', '--context', '--read-only', 'overview', '--json'])
      expect(h.stdout).toContain(s);
    const v = k8ops(['--version']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(v.stdout.trim()).toBe(pkg.version);
  });

  it('--help: one exit-code line per subcommand, the same words as the README subcommands table', () => {
    const help = k8ops(['--help']).stdout;
    // The help's table: "  <sub>  text", continuation lines indented, until a line that is not.
    const lines = help.split('\n');
    const at = lines.indexOf('Exit codes:');
    expect(at).toBeGreaterThan(0);
    const fromHelp = new Map<string, string>();
    let sub = '';
    for (const line of lines.slice(at + 1)) {
      const row = /^ {2}([a-z]+) +(\S.*)$/.exec(line);
      if (row) {
        sub = row[1]!;
        fromHelp.set(sub, row[2]!);
      } else if (/^ {12}\S/.test(line) && sub)
        fromHelp.set(sub, `${fromHelp.get(sub)} ${line.trim()}`);
      else break;
    }
    // The README's: | `k8ops <sub> ...` | output | exit code |
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const fromReadme = new Map<string, string>();
    for (const line of readme.split('\n')) {
      if (!line.startsWith('| `k8ops ')) continue;
      const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
      fromReadme.set(cells[1]!.split(/\s+/)[1]!.replace(/`$/, ''), cells[3]!);
    }
    const norm = (m: Map<string, string>) =>
      Object.fromEntries([...m].map(([k, v]) => [k, v.replace(/\s+/g, ' ')]).sort());
    // Every subcommand the CLI dispatches (EXIT_CODES has one line each) is in the help.
    expect(Object.keys(norm(fromHelp))).toEqual(Object.keys(EXIT_CODES).sort());
    expect(norm(fromHelp)).toEqual(norm(fromReadme));
    // certs: its own codes (3 = nodes unreachable; 2 also a usage error), nowhere contradicted.
    expect(norm(fromHelp).certs).toMatch(
      /^0 ok; 1 warnings, or a --path scan that found no certificate; 2 critical .* or a usage error .*; 3 nodes unreachable/,
    );
    expect(help.match(/exit codes?/gi)).toEqual(['Exit codes']);
    expect(help).not.toMatch(/\bexit [0-9]/);
  });

  it('unknown flags and subcommands are usage errors (exit 2)', () => {
    const r = k8ops(['--nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--nope'/);
    expect(k8ops(['frobnicate']).stderr).toContain('unknown subcommand "frobnicate"');
  });

  it('without a terminal the console refuses clearly and points at --json', () => {
    const r = k8ops(['--demo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a terminal');
    expect(r.stderr).toContain('k8ops overview --json');
    expect(r.stdout).toBe(''); // no escape codes, no half-drawn screen
  });

  it('overview --json on the demo lab: six nodes, real countdowns, worker-2 inside its renew window', () => {
    const r = k8ops(['overview', '--json', '--demo']);
    expect(r.stderr).not.toMatch(/error/i);
    const doc = JSON.parse(r.stdout) as {
      cluster: string;
      mode: string;
      totals: {
        nodes: number;
        reachable: number;
        ready: number;
        certsDue: number;
        worst: { node: string };
      };
      nodes: Array<{
        name: string;
        reach: string;
        kube: string;
        worst: { urgency: string; remainingSeconds: number; path: string };
      }>;
    };
    expect(doc.mode).toBe('demo');
    expect(doc.cluster).toBe('demo-lab');
    expect(doc.nodes.map((n) => n.name)).toEqual([
      'cp-1',
      'cp-2',
      'cp-3',
      'worker-1',
      'worker-2',
      'worker-3',
    ]);
    expect(doc.totals).toMatchObject({ nodes: 6, reachable: 6, ready: 6, certsDue: 1 });
    expect(doc.totals.worst.node).toBe('worker-2');
    const w2 = doc.nodes.find((n) => n.name === 'worker-2')!;
    expect(w2.worst.urgency).toBe('renew');
    expect(w2.worst.remainingSeconds).toBeLessThan((14 * 86400) / 3);
    expect(w2.worst.remainingSeconds).toBeGreaterThan(0);
    for (const n of doc.nodes) {
      expect(n.reach).toBe('up');
      expect(n.kube).toBe('Ready');
      expect(n.worst.remainingSeconds).toBeGreaterThan(0);
    }
    expect(r.code).toBe(0);
  });

  it('nodes --json on the demo lab: the SSH view and the API server view side by side', () => {
    const r = k8ops(['nodes', '--json', '--demo']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      context: string;
      kubeError: string | null;
      nodes: Array<{
        node: string;
        reachable: boolean;
        route: string;
        kube: { ready: boolean; kubeletVersion: string; internalIP: string };
      }>;
    };
    expect(doc.context).toBe('demo-lab');
    expect(doc.kubeError).toBeNull();
    expect(doc.nodes).toHaveLength(6);
    for (const n of doc.nodes) {
      expect(n).toMatchObject({ reachable: true, route: 'via bastion' });
      expect(n.kube).toMatchObject({ ready: true, kubeletVersion: 'v1.33.4' });
    }
    expect(doc.nodes.find((n) => n.node === 'worker-2')?.kube.internalIP).toBe('10.77.0.22');
    const table = k8ops(['nodes', '--demo']);
    expect(table.stdout).toMatch(/^NODE\s+REACH\s+ROUTE/m);
    expect(table.stdout).toMatch(/^worker-3\s+Ready\s+v1\.33\.4\s+10\.77\.0\.23$/m);
  });

  it('overview (table) prints one line per node', () => {
    const r = k8ops(['overview', '--demo']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ROLES\s+SSH\s+KUBE\s+NEXT EXPIRY/);
    expect(lines).toHaveLength(7);
  });

  it('a bad inventory: every error with file, line and field; exit 2; nothing contacted', () => {
    const file = join(home, 'bad.yaml');
    writeFileSync(
      file,
      [
        'cluster: lab',
        'nodes:',
        '  - name: cp-1',
        '    roles: [control-plane]',
        '  - name: cp-1',
        '    roles: [master]',
        '    host: "a;reboot"',
      ].join('\n'),
    );
    const r = k8ops(['overview', '--json', '--inventory', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/bad\.yaml:5:\d+: nodes\[1\]\.name: .*duplicate/i);
    expect(r.stderr).toMatch(/bad\.yaml:6:\d+: nodes\[1\]\.roles\[0\]: .*master/);
    expect(r.stderr).toMatch(/bad\.yaml:7:\d+: nodes\[1\]\.host: /);
  });

  it('no inventory anywhere: says where it looked and suggests --demo', () => {
    const r = k8ops(['overview']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no inventory found');
    expect(r.stderr).toContain('--demo');
  });
});
