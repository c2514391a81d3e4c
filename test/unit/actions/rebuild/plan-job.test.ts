/** The roll-out: waves, commands and NIX_SSHOPTS, and the job's stop at the first failure. */
import { describe, expect, it } from 'vitest';
import { runGate } from '../../../../src/actions/rebuild/gates.js';
import {
  type RebuildExecutor,
  RebuildFailed,
  rebuildExitCode,
  rebuildJob,
} from '../../../../src/actions/rebuild/job.js';
import {
  localRebuildCommand,
  nodeRebuildArgv,
  planRollout,
} from '../../../../src/actions/rebuild/plan.js';
import type { Inventory, NodeSpec, Role } from '../../../../src/config/types.js';
import { recordingContext } from '../../../helpers/job-context.js';

const node = (name: string, index: number, roles: Role[]): NodeSpec => ({
  name,
  index,
  host: `${name}.lab`,
  addresses: [],
  roles,
});
const inv = (over: Partial<Inventory> = {}): Inventory => ({
  source: '<test>',
  cluster: 'lab',
  nodes: [
    node('w-1', 0, ['worker']),
    node('cp-1', 1, ['control-plane', 'etcd']),
    node('w-2', 2, ['worker']),
    node('e-1', 3, ['etcd']),
    node('cp-2', 4, ['control-plane']),
    node('w-3', 5, ['worker']),
  ],
  ssh: { jump: ['ops@bastion:2222'], connectTimeoutMs: 5000, knownHosts: '/home/op/.ssh/kh' },
  kube: { tunnel: false },
  pki: { dir: '/etc/kubernetes/pki', rootOffline: true },
  rotation: { spreadMs: 1, cpGapMs: 1, minRemainingMs: 1 },
  network: { targetMtu: 9216, bgpRouters: [] },
  ingress: { namespace: 'ingress-nginx', cacheZone: 'ingress_cache' },
  addons: {},
  rebuild: { flake: '/srv/cluster', runOn: 'local' },
  ...over,
});
const names = (waves: NodeSpec[][]) => waves.map((w) => w.map((n) => n.name));

describe('roll-out plan', () => {
  it('control-plane one at a time, etcd-only next, then workers --parallel at once', () => {
    const p = planRollout(inv(), { nodes: [], action: 'switch', parallel: 2 });
    if (!p.ok) throw new Error(p.error);
    expect(names(p.waves)).toEqual([['cp-1'], ['cp-2'], ['e-1'], ['w-1', 'w-2'], ['w-3']]);
    const r = planRollout(inv(), { nodes: [], role: 'worker', action: 'test', parallel: 1 });
    expect(r.ok && names(r.waves)).toEqual([['w-1'], ['w-2'], ['w-3']]);
    expect(planRollout(inv(), { nodes: ['nope'], action: 'switch', parallel: 1 })).toEqual({
      ok: false,
      error: 'not in the inventory: nope',
    });
    expect(planRollout(inv(), { nodes: [], action: 'switch', parallel: 0 }).ok).toBe(false);
  });

  it('the command: flake#node, target host, NIX_SSHOPTS with the jump chain and known_hosts', () => {
    const i = inv();
    const c = localRebuildCommand(i, i.nodes[1]!, 'switch', { sshConfig: '/home/op/.ssh/config' });
    expect(c.argv).toEqual([
      'nixos-rebuild',
      'switch',
      '--flake',
      '/srv/cluster#cp-1',
      '--target-host',
      'root@cp-1.lab',
    ]);
    expect(c.env.NIX_SSHOPTS).toBe(
      '-F /home/op/.ssh/config -o ProxyJump=ops@bastion:2222 -o UserKnownHostsFile=/home/op/.ssh/kh -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5',
    );
    const ops = inv({ ssh: { jump: [], connectTimeoutMs: 5000, user: 'ops' } });
    expect(localRebuildCommand(ops, ops.nodes[0]!, 'test').argv.slice(-3)).toEqual([
      '--target-host',
      'ops@w-1.lab',
      '--use-remote-sudo',
    ]);
    expect(localRebuildCommand(i, i.nodes[0]!, 'switch', { rollback: true }).argv).toEqual([
      'nixos-rebuild',
      'switch',
      '--rollback',
      '--target-host',
      'root@w-1.lab',
    ]);
    expect(nodeRebuildArgv(i, i.nodes[0]!, 'boot')).toEqual([
      'nixos-rebuild',
      'boot',
      '--flake',
      '/srv/cluster#w-1',
    ]);
  });

  it('a value NIX_SSHOPTS cannot carry (blanks, quotes, an option) is refused, never split', () => {
    for (const knownHosts of ['/home/o p/kh', "/x'y", '-oProxyCommand=sh']) {
      const i = inv({ ssh: { jump: [], connectTimeoutMs: 5000, knownHosts } });
      expect(() => localRebuildCommand(i, i.nodes[0]!, 'switch'), knownHosts).toThrow(
        /cannot be passed in NIX_SSHOPTS/,
      );
    }
    const noFlake = inv({ rebuild: { runOn: 'local' } });
    expect(() => localRebuildCommand(noFlake, noFlake.nodes[0]!, 'switch')).toThrow(/no flake/);
  });
});

describe('roll-out job', () => {
  const script =
    (
      outcomes: Record<string, { code: number; lines?: string[] }>,
      order: string[],
    ): RebuildExecutor =>
    async (n, onLine) => {
      order.push(`start ${n.name}`);
      const o = outcomes[n.name] ?? { code: 0 };
      for (const l of o.lines ?? [
        'building the system configuration...',
        'activating the configuration...',
      ])
        onLine(l);
      await new Promise((r) => setTimeout(r, 5));
      order.push(`end ${n.name}`);
      return { code: o.code };
    };
  const plan = () => {
    const p = planRollout(inv(), { nodes: [], action: 'switch', parallel: 2 });
    if (!p.ok) throw new Error(p.error);
    return p.waves;
  };

  it('waves run in order, a wave’s nodes together, the gate after each node', async () => {
    const order: string[] = [];
    const gated: string[] = [];
    const job = rebuildJob({ nodes: [], action: 'switch', parallel: 2 }, plan(), {
      execute: script({}, order),
      gate: async (n) => {
        gated.push(n.name);
        return { ok: true, checks: [{ name: 'ssh', ok: true, detail: 'answers' }] };
      },
    });
    const ctx = recordingContext();
    const s = await job.run(ctx);
    expect(order.slice(0, 6)).toEqual([
      'start cp-1',
      'end cp-1',
      'start cp-2',
      'end cp-2',
      'start e-1',
      'end e-1',
    ]);
    expect(order.slice(6, 8).sort()).toEqual(['start w-1', 'start w-2']);
    expect(gated).toEqual(['cp-1', 'cp-2', 'e-1', 'w-1', 'w-2', 'w-3']);
    expect(s.runs.every((r) => r.phase === 'done' && r.outcome?.kind === 'ok')).toBe(true);
    expect(rebuildExitCode(s)).toBe(0);
  });

  it('a failed gate stops the roll-out before the next wave, naming node, gate and detail', async () => {
    const order: string[] = [];
    const job = rebuildJob({ nodes: [], action: 'switch', parallel: 2 }, plan(), {
      execute: script({}, order),
      gate: (n, signal) =>
        runGate(
          n,
          [
            {
              applies: () => true,
              run: async (x) => ({
                name: 'node Ready',
                ok: x.name !== 'cp-2',
                detail: x.name === 'cp-2' ? 'NotReady' : 'Ready',
              }),
            },
          ],
          signal,
          { timeoutMs: 30, intervalMs: 5 },
        ),
    });
    const ctx = recordingContext();
    const e = await job.run(ctx).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RebuildFailed);
    expect((e as Error).message).toMatch(
      /^cp-2 failed while gating: gate node Ready: NotReady; the roll-out stopped there/,
    );
    expect(order).toEqual(['start cp-1', 'end cp-1', 'start cp-2', 'end cp-2']);
    expect(ctx.steps.filter((s) => s.state === 'skipped').map((s) => s.name)).toEqual([
      'e-1: nixos-rebuild',
      'w-1: nixos-rebuild',
      'w-2: nixos-rebuild',
      'w-3: nixos-rebuild',
    ]);
    expect(rebuildExitCode((e as RebuildFailed).summary)).toBe(1);
  });

  it('failed units stop it with exit 4 and the units named; a failed build with the last 20 lines', async () => {
    const failing = script(
      {
        'cp-1': {
          code: 4,
          lines: [
            'activating the configuration...',
            'warning: the following units failed: etcd.service',
          ],
        },
      },
      [],
    );
    const e = (await rebuildJob({ nodes: [], action: 'switch', parallel: 1 }, plan(), {
      execute: failing,
    })
      .run(recordingContext())
      .catch((x: unknown) => x)) as RebuildFailed;
    expect(e.message).toMatch(
      /^cp-1 failed while activating: switched, but units failed: etcd.service/,
    );
    expect(rebuildExitCode(e.summary)).toBe(4);

    const many = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    const e2 = (await rebuildJob({ nodes: [], action: 'switch', parallel: 1 }, plan(), {
      execute: script(
        { 'cp-1': { code: 1, lines: ['building the system configuration...', ...many] } },
        [],
      ),
    })
      .run(recordingContext())
      .catch((x: unknown) => x)) as RebuildFailed;
    expect(e2.summary.stopped).toMatchObject({ node: 'cp-1', phase: 'building' });
    expect(e2.summary.stopped!.tail).toEqual(many.slice(-20));
    expect(e2.message).toContain('last 20 lines of cp-1:\nline 10\n');
  });
});
