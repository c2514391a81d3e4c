/**
 * Cordon, drain and uncordon around a worker's switch, against the Kubernetes-API-shaped
 * test server (test/helpers/kube-api-server.ts: no kube-apiserver runs here; it speaks the
 * API over TLS with a P-521 client certificate and answers with payloads shaped like the
 * real ones — PATCH of the node as a strategic merge patch, the policy/v1 Eviction POST,
 * 201 Success, 429 TooManyRequests with the DisruptionBudget cause as eviction.go writes it).
 * The writes go through KubeClusterSource.nodeOps(): the route and credentials of the watches.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cordonAndDrain, DrainError, uncordon } from '../../../src/actions/rebuild/drain.js';
import { RebuildFailed, rebuildJob } from '../../../src/actions/rebuild/job.js';
import type { NodeSpec } from '../../../src/config/types.js';
import { KubeClusterSource } from '../../../src/kube/cluster-source.js';
import { kubeContextFromString } from '../../../src/kube/kubeconfig.js';
import { recordingContext } from '../../helpers/job-context.js';
import {
  fixture,
  generateKubePki,
  type KubeApiServer,
  type KubeApiServerOptions,
  type KubePki,
  kubeconfigYaml,
  startKubeApiServer,
  waitUntil,
} from '../../helpers/kube-api-server.js';
import { FAST } from './common.js';

let pki: KubePki;
const servers: KubeApiServer[] = [];
const sources: KubeClusterSource[] = [];

beforeAll(async () => {
  pki = await generateKubePki();
}, 120_000);
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => pki?.cleanup());

type KObj = Parameters<KubeApiServer['put']>[1];

/** A pod of the `web` Deployment on `node` (the fixture, renamed). */
function webPod(name: string, node: string, uid: string): KObj {
  const p = fixture<KObj>('pod-deployment.json');
  p.metadata.name = name;
  (p.metadata as { uid?: string }).uid = uid;
  (p.spec as { nodeName: string }).nodeName = node;
  return p;
}

async function lab(opts: Partial<KubeApiServerOptions> = {}, minAvailable = 1) {
  let replaced = 0;
  const srv = await startKubeApiServer({
    pki,
    evictionGraceMs: 100,
    // The ReplicaSet's stand-in: an evicted web pod comes back, Ready, on worker-2.
    onEvicted: (pod) => {
      if (pod.metadata.labels?.app !== 'web') return;
      setTimeout(() => {
        replaced++;
        srv.put('pods', webPod(`web-7f9c6d5b8-new${replaced}`, 'worker-2', `new-${replaced}`));
      }, 300).unref();
    },
    ...opts,
  });
  servers.push(srv);
  srv.put('pods', webPod('web-7f9c6d5b8-aaaaa', 'worker-1', 'uid-a'));
  srv.put('pods', webPod('web-7f9c6d5b8-bbbbb', 'worker-1', 'uid-b'));
  const pdb = fixture<KObj>('pdb-web.json');
  (pdb.spec as { minAvailable: number }).minAvailable = minAvailable;
  srv.put('poddisruptionbudgets', pdb);
  const mirror = fixture<KObj>('pod-mirror-static.json');
  mirror.metadata.name = 'kube-proxy-worker-1';
  (mirror.spec as { nodeName: string }).nodeName = 'worker-1';
  srv.put('pods', mirror);
  const r = await kubeContextFromString(
    kubeconfigYaml({
      server: srv.url,
      caPem: pki.ca.certPem,
      certPem: pki.admin.certPem,
      keyPem: pki.adminKeySec1Pem,
      tlsServerName: 'kube-api.test',
    }),
  );
  if (!r.ok) throw r.error;
  const src = new KubeClusterSource({ config: r.config, timing: FAST });
  sources.push(src);
  await waitUntil('the API reachable', () => src.snapshot().api.reachable === true || undefined);
  const unschedulable = () =>
    (srv.get('nodes', 'worker-1')?.spec as { unschedulable?: boolean } | undefined)
      ?.unschedulable === true;
  const podsOn = (node: string) =>
    [
      'web-7f9c6d5b8-aaaaa',
      'web-7f9c6d5b8-bbbbb',
      'kube-proxy-worker-1',
      'cilium-worker-1',
      'hubble-relay-6d8f9c7b5-q2w3e',
    ]
      .map((n) => srv.get('pods', n, n.startsWith('web') ? 'shop' : 'kube-system'))
      .filter((p) => p && (p.spec as { nodeName?: string }).nodeName === node)
      .map((p) => p!.metadata.name);
  return { srv, ops: src.nodeOps(), unschedulable, podsOn };
}

const log = (lines: string[]) => (l: string) => lines.push(l);
const signal = () => new AbortController().signal;

describe('drain through the Eviction API (Kubernetes-API-shaped test server)', () => {
  it('cordons, evicts the Deployment pods (a 429 from the budget retried), skips DaemonSet and mirror pods; uncordons', async () => {
    const { srv, ops, unschedulable, podsOn } = await lab();
    expect(podsOn('worker-1').sort()).toEqual([
      'cilium-worker-1',
      'hubble-relay-6d8f9c7b5-q2w3e',
      'kube-proxy-worker-1',
      'web-7f9c6d5b8-aaaaa',
      'web-7f9c6d5b8-bbbbb',
    ]);
    const lines: string[] = [];
    const r = await cordonAndDrain(ops, 'worker-1', log(lines), signal(), {
      retryMs: 200,
      pollMs: 50,
      timeoutMs: 20_000,
    });
    expect(unschedulable()).toBe(true);
    expect(r.cordonedByUs).toBe(true);
    expect(r.evicted.sort()).toEqual([
      'kube-system/hubble-relay-6d8f9c7b5-q2w3e',
      'shop/web-7f9c6d5b8-aaaaa',
      'shop/web-7f9c6d5b8-bbbbb',
    ]);
    expect(r.skipped.sort()).toEqual([
      'kube-system/cilium-worker-1 (DaemonSet cilium)',
      'kube-system/kube-proxy-worker-1 (mirror pod (static, owned by the kubelet))',
    ]);
    // Only the DaemonSet's and the static pod remain on the node.
    expect(podsOn('worker-1').sort()).toEqual(['cilium-worker-1', 'kube-proxy-worker-1']);

    // The writes, as kubectl makes them.
    const patch = srv.writes.find((w) => w.method === 'PATCH')!;
    expect(patch).toMatchObject({
      path: '/api/v1/nodes/worker-1',
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { unschedulable: true } },
      status: 200,
    });
    const evictions = srv.writes.filter((w) => w.path.endsWith('/eviction'));
    for (const e of evictions) {
      const [, , , , namespace, , name] = e.path.split('/');
      expect(e.body).toEqual({
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name, namespace },
      });
    }
    // Both at once: the budget (minAvailable 1 of 2) let one through and refused the other
    // until its replacement was Ready elsewhere; never an eviction of the DaemonSet or mirror pod.
    expect(evictions.map((e) => e.status)).toContain(429);
    expect(evictions.filter((e) => e.status === 201)).toHaveLength(3);
    expect(evictions.some((e) => /cilium|kube-proxy/.test(e.path))).toBe(false);
    const refused = evictions.find((e) => e.status === 429)!;
    expect(refused.cause).toBe(
      'The disruption budget web needs 1 healthy pods and has 1 currently',
    );
    expect(lines.join('\n')).toMatch(
      /the disruption budget allows no eviction now \(The disruption budget web needs 1 healthy pods and has 1 currently\); retrying every 200 ms/,
    );
    expect(lines.join('\n')).toMatch(/evicted shop\/web-7f9c6d5b8-\w+ \(attempt [2-9]\)/);

    await uncordon(ops, 'worker-1', log(lines), signal());
    expect(unschedulable()).toBe(false);
    expect(srv.writes.filter((w) => w.method === 'PATCH').map((w) => w.body)).toEqual([
      { spec: { unschedulable: true } },
      { spec: { unschedulable: false } },
    ]);
  }, 60_000);

  it('a budget that never allows it: stops within its bound, says why, leaves the node cordoned', async () => {
    const { ops, unschedulable } = await lab({ onEvicted: () => {} }, 2);
    const t0 = Date.now();
    const err = await cordonAndDrain(ops, 'worker-1', () => {}, signal(), {
      retryMs: 200,
      pollMs: 50,
      timeoutMs: 1500,
    }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(err).toBeInstanceOf(DrainError);
    const e = err as DrainError;
    expect(e.cordoned).toBe(true);
    expect(e.message).toMatch(
      /shop\/web-7f9c6d5b8-\w+ could not be evicted within 1.5 s: The disruption budget web needs 2 healthy pods and has 2 currently; worker-1 is left cordoned \(spec\.unschedulable=true\); once it is healthy: kubectl uncordon worker-1/,
    );
    expect(unschedulable()).toBe(true);
  }, 60_000);

  it('a pod no controller owns is refused (as kubectl without --force): nothing evicted, left cordoned', async () => {
    const { srv, ops, unschedulable } = await lab();
    const bare = webPod('debug-shell', 'worker-1', 'uid-bare');
    delete (bare.metadata as { ownerReferences?: unknown }).ownerReferences;
    bare.metadata.labels = { run: 'debug-shell' };
    srv.put('pods', bare);
    const err = (await cordonAndDrain(ops, 'worker-1', () => {}, signal()).catch(
      (e: unknown) => e,
    )) as DrainError;
    expect(err).toBeInstanceOf(DrainError);
    expect(err.message).toMatch(
      /cannot drain worker-1: shop\/debug-shell is not managed by a controller and would be lost .*; worker-1 is left cordoned/,
    );
    expect(srv.writes.filter((w) => w.path.endsWith('/eviction'))).toEqual([]);
    expect(unschedulable()).toBe(true);
  }, 60_000);

  it('a node an operator had cordoned stays cordoned (not uncordoned by the roll-out)', async () => {
    const { srv, ops, unschedulable } = await lab();
    const n = structuredClone(srv.get('nodes', 'worker-1')!);
    (n.spec as { unschedulable?: boolean }).unschedulable = true;
    srv.put('nodes', n);
    const ctx = recordingContext();
    const node: NodeSpec = {
      name: 'worker-1',
      index: 1,
      host: 'worker-1',
      addresses: [],
      roles: ['worker'],
    };
    const job = rebuildJob({ nodes: [], action: 'switch', parallel: 1 }, [[node]], {
      execute: async (_n, onLine) => {
        onLine('activating the configuration...');
        return { code: 0 };
      },
      gate: async () => ({ ok: true, checks: [{ name: 'ssh', ok: true, detail: 'answers' }] }),
      drain: { ops, options: { retryMs: 200, pollMs: 50, timeoutMs: 20_000 } },
    });
    await job.run(ctx);
    expect(ctx.steps.map((s) => `${s.state} ${s.name}`)).toEqual([
      'ok worker-1: cordon + drain',
      'ok worker-1: nixos-rebuild',
      'ok worker-1: health gate',
    ]);
    expect(ctx.lines).toContain('worker-1: already cordoned (left cordoned afterwards)');
    expect(ctx.lines).toContain('worker-1: left cordoned, as it was before the roll-out');
    expect(unschedulable()).toBe(true);
    expect(srv.writes.filter((w) => w.method === 'PATCH')).toEqual([]);
  }, 60_000);

  it('in the roll-out: drain → switch → gate (told the node is cordoned) → uncordon; a failed gate leaves it cordoned and stops', async () => {
    const { ops, unschedulable } = await lab();
    const w = (name: string, index: number): NodeSpec => ({
      name,
      index,
      host: name,
      addresses: [],
      roles: ['worker'],
    });
    const gateSaw: Array<{ node: string; cordoned?: boolean; unschedulable: boolean }> = [];
    let fail = false;
    const job = () =>
      rebuildJob(
        { nodes: [], action: 'switch', parallel: 1 },
        [[w('worker-1', 1)], [w('worker-2', 2)]],
        {
          execute: async (_n, onLine) => {
            onLine('activating the configuration...');
            return { code: 0 };
          },
          gate: async (n, _s, g) => {
            gateSaw.push({
              node: n.name,
              ...(g?.cordoned !== undefined ? { cordoned: g.cordoned } : {}),
              unschedulable: n.name === 'worker-1' ? unschedulable() : false,
            });
            return fail
              ? { ok: false, checks: [{ name: 'node Ready', ok: false, detail: 'NotReady' }] }
              : { ok: true, checks: [{ name: 'node Ready', ok: true, detail: 'Ready' }] };
          },
          drain: { ops, options: { retryMs: 200, pollMs: 50, timeoutMs: 20_000 } },
        },
      );
    const ctx = recordingContext();
    const done = await job().run(ctx);
    expect(ctx.steps.map((s) => `${s.state} ${s.name}`)).toEqual([
      'ok worker-1: cordon + drain',
      'ok worker-1: nixos-rebuild',
      'ok worker-1: health gate',
      'ok worker-1: uncordon',
      'ok worker-2: cordon + drain',
      'ok worker-2: nixos-rebuild',
      'ok worker-2: health gate',
      'ok worker-2: uncordon',
    ]);
    expect(gateSaw[0]).toEqual({ node: 'worker-1', cordoned: true, unschedulable: true });
    expect(unschedulable()).toBe(false);
    expect(done.runs[0]!.drained).toMatchObject({ uncordoned: true });

    fail = true;
    const ctx2 = recordingContext();
    const err = (await job()
      .run(ctx2)
      .catch((e: unknown) => e)) as RebuildFailed;
    expect(err).toBeInstanceOf(RebuildFailed);
    expect(err.summary.stopped).toMatchObject({
      node: 'worker-1',
      phase: 'gating',
      cordoned: true,
    });
    expect(err.message).toMatch(
      /worker-1 failed while gating: gate node Ready: NotReady; worker-1 is left cordoned \(spec\.unschedulable=true\); once it is healthy: kubectl uncordon worker-1; the roll-out stopped there/,
    );
    expect(ctx2.steps.map((s) => `${s.state} ${s.name}`)).toEqual([
      'ok worker-1: cordon + drain',
      'ok worker-1: nixos-rebuild',
      'failed worker-1: health gate',
      'skipped worker-2: nixos-rebuild',
    ]);
    expect(unschedulable()).toBe(true);
  }, 60_000);
});
