/**
 * `k8ops rebuild` (the built CLI) against real OpenSSH: a bastion and three nodes (node3
 * behind a second hop), and a stand-in for nixos-rebuild (test/helpers/fake-nixos-rebuild.ts:
 * it cannot run here) that activates on the target through `ssh $NIX_SSHOPTS` — the options
 * k8ops builds. Asserts the roll-out order, the parallel wave, the stop at the first failure,
 * exit 4 for failed units, the parsed phases, dry-activate and the rollback command.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { BIN, ensureBuilt } from '../../helpers/build.js';
import { installFakeNixosRebuild } from '../../helpers/fake-nixos-rebuild.js';
import { describeLab } from '../../helpers/sshd-suite.js';

beforeAll(() => ensureBuilt(), 120_000);

describeLab('k8ops rebuild against real sshd (stand-in nixos-rebuild)', (lab) => {
  let n = 0;
  function setup() {
    const l = lab();
    const dir = join(l.dir, `rebuild-${++n}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const fake = installFakeNixosRebuild(dir);
    const inventory = join(dir, 'k8ops.yaml');
    writeFileSync(
      inventory,
      [
        'cluster: sshlab',
        'nodes:',
        '  - name: node1',
        '    roles: [control-plane]',
        '  - name: node2',
        '    roles: [worker]',
        '  - name: node3',
        '    roles: [worker]',
        'rebuild:',
        '  flake: /srv/cluster',
        '',
      ].join('\n'),
    );
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(
          'node',
          [BIN, 'rebuild', ...args, '--inventory', inventory, '--ssh-config', l.configFile],
          {
            env: {
              PATH: `${fake.binDir}:${process.env.PATH ?? ''}`,
              HOME: l.home,
              XDG_CACHE_HOME: join(dir, 'cache'),
              XDG_STATE_HOME: join(dir, 'state'),
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.stderr.on('data', (d) => (stderr += d));
        const t = setTimeout(() => p.kill('SIGKILL'), 90_000);
        p.on('close', (code) => {
          clearTimeout(t);
          resolve({ code, stdout, stderr });
        });
      });
    const lines = (f: string) =>
      existsSync(join(dir, f))
        ? readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)
        : [];
    return { dir, run, lines, l };
  }

  it('switch: control-plane first, the workers of one wave together, each gated; NIX_SSHOPTS carries the ssh config', async () => {
    const { dir, run, lines, l } = setup();
    writeFileSync(join(dir, 'node2.barrier'), 'node3');
    writeFileSync(join(dir, 'node3.barrier'), 'node2');
    const r = await run(['--yes', '--parallel', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const acts = lines('activations');
    expect(acts.slice(0, 2)).toEqual(['node1 start', 'node1 end']);
    // node2 and node3 both started before either ended (the barrier would time out otherwise).
    expect(acts.slice(2, 4).sort()).toEqual(['node2 start', 'node3 start']);
    const calls = lines('calls').map((c) => c.split('|'));
    expect(calls.map((c) => c.slice(0, 4))).toContainEqual(['switch', 'node1', 'root@node1', '0']);
    expect(calls[0]![4]).toBe(
      `-F ${l.configFile} -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5`,
    );
    const doc = JSON.parse(r.stdout) as {
      runs: Array<{
        node: string;
        phase: string;
        outcome: { kind: string };
        gate: { ok: boolean };
      }>;
    };
    expect(doc.runs.map((x) => [x.node, x.phase, x.outcome.kind, x.gate.ok])).toEqual([
      ['node1', 'done', 'ok', true],
      ['node2', 'done', 'ok', true],
      ['node3', 'done', 'ok', true],
    ]);
    // The phases as the operator saw them, from the real output lines.
    expect(r.stderr).toMatch(
      /node1: building[\s\S]*node1: copying[\s\S]*node1: activating[\s\S]*node1: done/,
    );
    expect(r.stderr).toMatch(/node1: gate ssh: ok/);
  }, 120_000);

  it('failed units on a worker: exit 4, the units named, the roll-out stops, rollback offered', async () => {
    const { dir, run, lines } = setup();
    writeFileSync(join(dir, 'node2.mode'), 'units-failed');
    const r = await run(['--yes']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      /node2 failed while activating: switched, but units failed: kubelet\.service/,
    );
    expect(r.stderr).toMatch(/k8ops rebuild node2 --rollback/);
    expect(lines('calls').map((c) => c.split('|')[1])).toEqual(['node1', 'node2']); // node3 never ran
    expect(r.stdout).toMatch(/^node3 +- +not run \(stopped after node2\)$/m);
  }, 120_000);

  it('a failed build stops before any activation, with the last lines', async () => {
    const { dir, run, lines } = setup();
    writeFileSync(join(dir, 'node1.build-fails'), '');
    const r = await run(['--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/node1 failed while building: nixos-rebuild exited 1/);
    expect(r.stderr).toMatch(/builder for '\/nix\/store\/.*nixos-system-node1-25\.05\.drv' failed/);
    expect(lines('activations')).toEqual([]);
  }, 120_000);

  it('dry-activate needs no confirmation and lists the units; --rollback runs switch --rollback', async () => {
    const { run, lines } = setup();
    const dry = await run(['--action', 'dry-activate', 'node2']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/node2: would restart: kubelet\.service/);
    expect(dry.stderr).toMatch(/node2: would stop: kube-proxy\.service/);
    const back = await run(['node3', '--rollback', '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(lines('calls').map((c) => c.split('|').slice(0, 4))).toEqual([
      ['dry-activate', 'node2', 'root@node2', '0'],
      ['switch', 'node3', 'root@node3', '1'],
    ]);
  }, 120_000);

  it('without --yes and no terminal nothing runs; --read-only refuses; --dry-run prints the commands', async () => {
    const { run, lines, l } = setup();
    const no = await run([]);
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/pass --yes/);
    expect((await run(['--yes', '--read-only'])).code).toBe(2);
    const plan = await run(['--dry-run', '--parallel', '2']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toBe(
      [
        'wave 1: node1',
        `  NIX_SSHOPTS='-F ${l.configFile} -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5' nixos-rebuild switch --flake /srv/cluster#node1 --target-host root@node1`,
        'wave 2: node2, node3',
        `  NIX_SSHOPTS='-F ${l.configFile} -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5' nixos-rebuild switch --flake /srv/cluster#node2 --target-host root@node2`,
        `  NIX_SSHOPTS='-F ${l.configFile} -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5' nixos-rebuild switch --flake /srv/cluster#node3 --target-host root@node3`,
        '',
      ].join('\n'),
    );
    expect(lines('calls')).toEqual([]);
  }, 120_000);
});
