/**
 * Cordon and drain a worker around its switch, as `kubectl drain --ignore-daemonsets
 * --delete-emptydir-data` does, and uncordon it once the health gate passed:
 *
 * 1. cordon: PATCH spec.unschedulable=true (unless an operator had cordoned it already —
 *    then it is left cordoned afterwards too);
 * 2. evict every pod bound to the node through the Eviction API (policy/v1), so
 *    PodDisruptionBudgets are honoured: a 429 (the budget allows no disruption now) is
 *    retried every `retryMs` (5 s, kubectl's pace) until `timeoutMs`; DaemonSet pods (their
 *    controller ignores unschedulable) and mirror pods (static pods: the kubelet owns them)
 *    are skipped; a pod no controller owns is refused, as kubectl refuses it without
 *    --force (it would be gone for good);
 * 3. wait until every evicted pod is gone (404, or a new pod under the name);
 * 4. after the switch and the gate: uncordon (PATCH spec.unschedulable=false).
 *
 * Every failure throws a DrainError that says the node is left cordoned and how to undo it:
 * the roll-out stops there. Every wait is bounded in time and count.
 */
import type { DrainPod, KubeNodeOps } from '../../kube/node-ops.js';

export interface DrainOptions {
  /** Bound of the evictions and the wait for the pods to go (default 5 min). */
  timeoutMs?: number;
  /** Between retries of an eviction a disruption budget refused (default 5 s). */
  retryMs?: number;
  /** Between checks that an evicted pod is gone (default 1 s). */
  pollMs?: number;
  /** Bound of each API call (default 30 s). */
  callTimeoutMs?: number;
}

export interface DrainResult {
  /** We cordoned it (it was schedulable): uncordon after the gate. */
  cordonedByUs: boolean;
  evicted: string[];
  /** `ns/name (why)` */
  skipped: string[];
}

export class DrainError extends Error {
  override readonly name = 'DrainError';
  constructor(
    message: string,
    readonly node: string,
    /** The node is cordoned now (by us or before). */
    readonly cordoned: boolean,
  ) {
    super(message);
  }
}

export const leftCordoned = (node: string): string =>
  `${node} is left cordoned (spec.unschedulable=true); once it is healthy: kubectl uncordon ${node}`;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

const id = (p: Pick<DrainPod, 'namespace' | 'name'>) => `${p.namespace}/${p.name}`;

const secs = (ms: number): string =>
  ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`.replace('.0 s', ' s');

/** Which pods the drain evicts, which it skips (and why), which it refuses. */
export function classifyPods(pods: readonly DrainPod[]): {
  evict: DrainPod[];
  skip: Array<{ pod: DrainPod; why: string }>;
  refuse: DrainPod[];
  terminating: DrainPod[];
} {
  const out = {
    evict: [] as DrainPod[],
    skip: [] as Array<{ pod: DrainPod; why: string }>,
    refuse: [] as DrainPod[],
    terminating: [] as DrainPod[],
  };
  for (const p of pods) {
    if (p.mirror) out.skip.push({ pod: p, why: 'mirror pod (static, owned by the kubelet)' });
    else if (p.daemonSet) out.skip.push({ pod: p, why: `DaemonSet ${p.owner?.name ?? ''}`.trim() });
    else if (p.terminating) out.terminating.push(p);
    else if (!p.owner && p.phase !== 'Succeeded' && p.phase !== 'Failed') out.refuse.push(p);
    else out.evict.push(p);
  }
  return out;
}

/** Cordon `node` and evict its pods; rejects with a DrainError (the node stays cordoned). */
export async function cordonAndDrain(
  ops: KubeNodeOps,
  node: string,
  log: (line: string) => void,
  signal: AbortSignal,
  o: DrainOptions = {},
): Promise<DrainResult> {
  const timeoutMs = o.timeoutMs ?? 300_000;
  const retryMs = o.retryMs ?? 5000;
  const pollMs = o.pollMs ?? 1000;
  const call = { signal, timeoutMs: o.callTimeoutMs ?? 30_000 };
  const deadline = Date.now() + timeoutMs;
  let cordoned = false;
  const fail = (why: string): never => {
    throw new DrainError(
      cordoned ? `${why}; ${leftCordoned(node)}` : `${why}; ${node} was not cordoned`,
      node,
      cordoned,
    );
  };
  const kube = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (signal.aborted) throw e;
      return fail(`${what}: ${(e as Error).message}`);
    }
  };

  const already = await kube(`read node ${node}`, () => ops.isUnschedulable(node, call));
  cordoned = already;
  if (already) log(`${node}: already cordoned (left cordoned afterwards)`);
  else {
    await kube(`cordon ${node}`, () => ops.setUnschedulable(node, true, call));
    cordoned = true;
    log(`${node}: cordoned (spec.unschedulable=true)`);
  }

  const pods = await kube(`list the pods on ${node}`, () => ops.podsOnNode(node, call));
  const c = classifyPods(pods);
  for (const s of c.skip) log(`${node}: skip ${id(s.pod)}: ${s.why}`);
  if (c.refuse.length)
    fail(
      `cannot drain ${node}: ${c.refuse.map(id).join(', ')} ${c.refuse.length === 1 ? 'is' : 'are'} not managed by a controller and would be lost (kubectl drain refuses them without --force); move or delete ${c.refuse.length === 1 ? 'it' : 'them'} first`,
    );
  if (c.evict.length === 0 && c.terminating.length === 0) log(`${node}: no pod to evict`);

  // Evict every pod (in parallel, as kubectl does), retrying what a budget refuses.
  const evicted: DrainPod[] = [];
  await Promise.all(
    c.evict.map(async (p) => {
      let told = false;
      for (let attempt = 1; ; attempt++) {
        const r = await kube(`evict ${id(p)}`, () => ops.evict(p, call));
        if (r.ok) {
          log(`${node}: evicted ${id(p)}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
          evicted.push(p);
          return;
        }
        if (r.kind === 'gone') {
          log(`${node}: ${id(p)} already gone`);
          return;
        }
        if (!told) {
          log(
            `${node}: ${id(p)}: the disruption budget allows no eviction now (${r.message}); retrying every ${secs(retryMs)}`,
          );
          told = true;
        }
        if (Date.now() + retryMs > deadline)
          fail(`${id(p)} could not be evicted within ${secs(timeoutMs)}: ${r.message}`);
        await sleep(retryMs, signal);
      }
    }),
  );

  // Wait until each evicted (or already terminating) pod is gone.
  const waiting = [...evicted, ...c.terminating];
  for (const p of waiting) {
    for (;;) {
      const uid = await kube(`read ${id(p)}`, () => ops.podUid(p.namespace, p.name, call));
      if (uid === undefined || (p.uid !== undefined && uid !== p.uid)) break;
      if (Date.now() + pollMs > deadline)
        fail(`${id(p)} was evicted but is still terminating after ${secs(timeoutMs)}`);
      await sleep(pollMs, signal);
    }
  }
  if (waiting.length) log(`${node}: drained (${waiting.length} pod(s) gone)`);
  return {
    cordonedByUs: !already,
    evicted: evicted.map(id),
    skipped: c.skip.map((s) => `${id(s.pod)} (${s.why})`),
  };
}

/** Uncordon `node` (PATCH spec.unschedulable=false); a failure says it is left cordoned. */
export async function uncordon(
  ops: KubeNodeOps,
  node: string,
  log: (line: string) => void,
  signal: AbortSignal,
  o: Pick<DrainOptions, 'callTimeoutMs'> = {},
): Promise<void> {
  try {
    await ops.setUnschedulable(node, false, { signal, timeoutMs: o.callTimeoutMs ?? 30_000 });
  } catch (e) {
    if (signal.aborted) throw e;
    throw new DrainError(
      `uncordon ${node}: ${(e as Error).message}; ${leftCordoned(node)}`,
      node,
      true,
    );
  }
  log(`${node}: uncordoned (spec.unschedulable=false)`);
}
