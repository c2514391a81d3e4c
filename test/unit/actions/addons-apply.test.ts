/**
 * The apply phase of the addon sync (actions/addons/apply.ts, sync.ts): which nodes run the
 * addon manager, convergence judged as the Addons view judges drift, and the job's order
 * and failures — with a recording JobContext, a stand-in rebuild spec and a scripted list of
 * workloads (the sshd/kube end-to-end run is test/integration/ssh/addons-apply.test.ts).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ApplyPlan,
  addonManagerNodes,
  buildAddonApply,
  convergence,
  watchConvergence,
} from '../../../src/actions/addons/apply.js';
import type { AddonDecl } from '../../../src/actions/addons/manifest.js';
import { addonSyncJob, loadSyncPlan, type SyncOutcome } from '../../../src/actions/addons/sync.js';
import { RebuildFailed, type RebuildSummary } from '../../../src/actions/rebuild/job.js';
import type { Inventory, NodeSpec } from '../../../src/config/types.js';
import type { AddonVersion } from '../../../src/kube/types.js';
import { recordingContext } from '../../helpers/job-context.js';

const node = (name: string, roles: NodeSpec['roles']): NodeSpec => ({
  name,
  index: 0,
  host: name,
  addresses: [],
  roles,
});
const inv = (over: Partial<Inventory['addons']> = {}, flake = '/srv/c'): Inventory =>
  ({
    nodes: [
      node('cp-1', ['control-plane', 'etcd']),
      node('cp-2', ['control-plane']),
      node('w-1', ['worker']),
    ],
    addons: { manifest: '/x/addons.json', ...over },
    rebuild: { runOn: 'local', ...(flake ? { flake } : {}) },
    pki: { dir: '/etc/kubernetes/pki', rootOffline: true },
  }) as unknown as Inventory;
const decl = (name: string, version: string, format = 'yaml'): AddonDecl =>
  ({
    name,
    version,
    format,
    url: `https://x/${version}.yaml`,
    sha256: '',
    problems: [],
  }) as unknown as AddonDecl;
const wl = (addon: string, version: string): AddonVersion =>
  ({
    addon,
    kind: 'Deployment',
    name: addon,
    namespace: addon,
    version,
    versionSource: 'label',
  }) as unknown as AddonVersion;

describe('addon apply', () => {
  it('the addon-manager nodes: addons.applyOn, else the control-plane nodes', () => {
    const a = addonManagerNodes(inv());
    expect(a.ok && a.nodes.map((n) => n.name)).toEqual(['cp-1', 'cp-2']);
    const b = addonManagerNodes(inv({ applyOn: ['w-1'] }));
    expect(b.ok && b.nodes.map((n) => n.name)).toEqual(['w-1']);
    expect(addonManagerNodes(inv({ applyOn: ['nope'] }))).toEqual({
      ok: false,
      error: 'addons.applyOn: no node "nope"',
    });
    const noCp = { ...inv(), nodes: [node('w-1', ['worker'])] } as Inventory;
    expect(addonManagerNodes(noCp).ok).toBe(false);
    expect(buildAddonApply({ inventory: inv({}, ''), agents: new Map(), hasKube: true })).toEqual({
      ok: false,
      error: 'applying needs rebuild.flake in the inventory',
    });
    // Control-plane nodes one at a time (the rebuild's waves), the bound from the inventory.
    const built = buildAddonApply({
      inventory: inv({ convergeTimeoutMs: 90_000 }),
      agents: new Map(),
      hasKube: false,
    });
    expect(built.ok && built.plan.rebuild.plan).toEqual({
      action: 'switch',
      waves: [['cp-1'], ['cp-2']],
    });
    expect(built.ok && built.plan.timeoutMs).toBe(90_000);
    expect(built.ok && built.plan.workloads).toBeUndefined(); // no kube: not watchable
  });

  it('convergence: converged, old version, not found, unknown (kube-prometheus), cli', () => {
    const rows = convergence(
      [
        decl('cert-manager', 'v1.19.1'),
        decl('ingress-nginx', '1.14.0'),
        decl('kubernetes-dashboard', '7.13.0'),
        decl('kube-prometheus', '0.16.0'),
        decl('cilium-cli', '0.18.7', 'cli'),
      ],
      [
        wl('cert-manager', '1.19.1'),
        wl('cert-manager-webhook', 'v1.19.1'),
        wl('ingress-nginx', '1.13.3'),
        wl('kube-prometheus-operator', '0.85.0'),
      ],
    );
    expect(rows.map((r) => [r.name, r.state, r.detail])).toEqual([
      ['cert-manager', 'converged', 'converged: runs v1.19.1'],
      ['ingress-nginx', 'old-version', 'still old version 1.13.3 (declared 1.14.0)'],
      [
        'kubernetes-dashboard',
        'not-found',
        'not found: no workload of it runs (or its namespace is not visible)',
      ],
      [
        'kube-prometheus',
        'version-unknown',
        'runs; its workloads do not name the release version (not waited for)',
      ],
      [
        'cilium-cli',
        'not-deployed',
        'node binary (format cli): nothing to converge in the cluster',
      ],
    ]);
  });

  it('the watch polls until the new version runs, and gives up at its bound naming what is left', async () => {
    let calls = 0;
    const ctx = recordingContext();
    const ok = await watchConvergence(ctx, [decl('ingress-nginx', '1.14.0')], {
      workloads: () => ({ value: [wl('ingress-nginx', ++calls < 3 ? '1.13.3' : '1.14.0')] }),
      timeoutMs: 5_000,
      intervalMs: 10,
    });
    expect(ok.converged).toBe(true);
    expect(calls).toBe(3);
    expect(ctx.lines).toEqual([
      'ingress-nginx: still old version 1.13.3 (declared 1.14.0)',
      'ingress-nginx: converged: runs 1.14.0',
    ]);
    const stuck = await watchConvergence(recordingContext(), [decl('ingress-nginx', '1.14.0')], {
      workloads: () => ({ value: [wl('ingress-nginx', '1.13.3')] }),
      timeoutMs: 100,
      intervalMs: 20,
    });
    expect(stuck.converged).toBe(false);
    expect(stuck.rows[0]!.state).toBe('old-version');
    // The kube API never listed the workloads: an error, never "converged".
    const blind = await watchConvergence(recordingContext(), [decl('ingress-nginx', '1.14.0')], {
      workloads: () => ({ error: 'connection refused' }),
      timeoutMs: 50,
      intervalMs: 10,
    });
    expect(blind).toMatchObject({ converged: false, error: 'connection refused' });
    const none = await watchConvergence(recordingContext(), [decl('a', '1')], { timeoutMs: 50 });
    expect(none).toMatchObject({ converged: false, error: expect.stringMatching(/no kube API/) });
  });

  async function syncWithApply(rebuild: ApplyPlan['rebuild'], version: () => string) {
    const dir = mkdtempSync(join(tmpdir(), 'k8ops-apply-'));
    const path = join(dir, 'addons.json');
    const text = `{\n  "version": 1,\n  "addons": [\n    { "name": "ingress-nginx", "version": "1.14.0", "format": "yaml", "url": "https://x/v1.14.0/deploy.yaml", "sha256": "" }\n  ]\n}\n`;
    writeFileSync(path, text);
    const req = { manifestPath: path };
    const plan = await loadSyncPlan(req);
    if (!plan.ok) throw new Error(plan.error);
    const order: string[] = [];
    const spec = addonSyncJob(req, plan, {
      fetch: async () => ({ bytes: 3, digest: Buffer.alloc(32, 7) }) as never,
      apply: {
        nodes: [node('cp-1', ['control-plane'])],
        rebuild: {
          ...rebuild,
          run: async (ctx) => {
            order.push(
              `rebuild (manifest pinned: ${!readFileSync(path, 'utf8').includes('"sha256": ""')})`,
            );
            return rebuild.run(ctx);
          },
        },
        workloads: () => {
          order.push('watch');
          return { value: [wl('ingress-nginx', version())] };
        },
        timeoutMs: 200,
        intervalMs: 20,
      },
    });
    const ctx = recordingContext();
    const r = await spec.run(ctx).then(
      (v) => ({ ok: true as const, v }),
      (e: unknown) => ({ ok: false as const, e: e as Error & { outcome: SyncOutcome } }),
    );
    return { r, ctx, order, path, text, spec };
  }

  const summary: RebuildSummary = { action: 'switch', runs: [] };
  const rebuildOk = {
    action: 'rebuild',
    title: 't',
    targets: ['cp-1'],
    plan: {},
    run: async () => summary,
  } as ApplyPlan['rebuild'];

  it('the job: write, then the rebuild (pins already written), then the watch; converged', async () => {
    const { r, order, spec } = await syncWithApply(rebuildOk, () => '1.14.0');
    expect(r.ok).toBe(true);
    expect(order[0]).toBe('rebuild (manifest pinned: true)');
    expect(order[1]).toBe('watch');
    if (r.ok) expect(r.v.apply?.converge?.converged).toBe(true);
    expect(spec.plan).toMatchObject({ apply: { rebuild: ['cp-1'], convergeTimeoutMs: 200 } });
    expect(spec.refresh).toEqual(['addons.manifest', 'reach']);
  });

  it('not converged in time: the job fails naming the addon and its old version', async () => {
    const { r, ctx } = await syncWithApply(rebuildOk, () => '1.13.3');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.e.message).toMatch(
        /^not converged after \d+ s: ingress-nginx still old version 1\.13\.3 \(declared 1\.14\.0\)/,
      );
      expect(r.e.outcome.written).toBe(true);
    }
    expect(ctx.steps.map((s) => `${s.state} ${s.name}`)).toContain(
      'failed watch the deployed versions converge',
    );
  });

  it('a failed rebuild: the job stops before the watch, the pins stay written, and says so', async () => {
    const failing = {
      ...rebuildOk,
      run: async () => {
        throw new RebuildFailed('cp-1 failed while activating: nixos-rebuild exited 1', {
          action: 'switch',
          runs: [],
          stopped: { node: 'cp-1', phase: 'activating', reason: 'x', tail: [] },
        });
      },
    } as ApplyPlan['rebuild'];
    const { r, order, path, text } = await syncWithApply(failing, () => '1.14.0');
    expect(r.ok).toBe(false);
    expect(order).toEqual(['rebuild (manifest pinned: true)']);
    if (!r.ok) {
      expect(r.e.message).toMatch(
        /^the pins are written to .*addons\.json \(the file is the declared state\) but applying them failed: cp-1 failed while activating/,
      );
      expect(r.e.message).toMatch(/apply them with k8ops rebuild cp-1/);
      expect(r.e.outcome.apply?.rebuild?.stopped?.node).toBe('cp-1');
    }
    expect(readFileSync(path, 'utf8')).not.toBe(text);
  });
});

describe('S in the console: the sync action offers the apply', () => {
  it('live: the scope and the apply (yes by default) in the confirmation; no flake: write only, saying why', async () => {
    const { addonSyncAction } = await import('../../../src/actions/addons/action.js');
    const dir = mkdtempSync(join(tmpdir(), 'k8ops-apply-action-'));
    const manifest = join(dir, 'addons.json');
    writeFileSync(
      manifest,
      '{"version":1,"addons":[{"name":"ingress-nginx","version":"1.14.0","format":"yaml","url":"https://x/v1.14.0/deploy.yaml","sha256":""},{"name":"cert-manager","version":"v1.19.1","format":"yaml","url":"https://x/v1.19.1/cert-manager.yaml","sha256":""}]}\n',
    );
    const deps = (i: Inventory) => ({
      inventory: i,
      agents: new Map(),
      mode: 'live' as const,
      hasKube: true,
    });
    const r = await addonSyncAction.prepare(
      { action: 'addon-sync', targets: ['ingress-nginx'] },
      deps(inv({ manifest })),
    );
    if (!r.ok) throw new Error(r.message);
    const p = r.prepared;
    expect(p.options?.map((o) => [o.id, o.choices, o.value])).toEqual([
      ['scope', ['ingress-nginx', 'all addons'], 'ingress-nginx'],
      ['apply', ['yes', 'no'], 'yes'],
    ]);
    expect(p.confirm).toBe('ingress-nginx');
    expect(p.planText.join('\n')).toMatch(
      /then apply: nixos-rebuild switch of cp-1, cp-2 \(running the addon manager\)[\s\S]*at most 10 min[\s\S]*the pins stay written/,
    );
    expect(p.spec.plan).toMatchObject({ apply: { rebuild: ['cp-1', 'cp-2'] } });
    const all = p.withOptions!({ scope: 'all addons', apply: 'no' });
    expect(all.confirm).toBe('all');
    expect(all.spec.targets).toEqual(['ingress-nginx', 'cert-manager']);
    expect((all.spec.plan as { apply?: unknown }).apply).toBeUndefined();
    expect(all.planText.join('\n')).toMatch(
      /not applied: rebuild the node\(s\) running the addon manager \(B\)/,
    );

    const noFlake = await addonSyncAction.prepare(
      { action: 'addon-sync', targets: [] },
      deps(inv({ manifest }, '')),
    );
    if (!noFlake.ok) throw new Error(noFlake.message);
    expect(noFlake.prepared.options).toBeUndefined();
    expect(noFlake.prepared.planText.join('\n')).toMatch(
      /not applied \(applying needs rebuild\.flake in the inventory\)/,
    );
  });
});
