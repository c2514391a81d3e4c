/**
 * The writes a drain needs, as `kubectl cordon/drain/uncordon` makes them:
 *
 *   GET   /api/v1/nodes/NAME                                   (spec.unschedulable)
 *   PATCH /api/v1/nodes/NAME  {"spec":{"unschedulable":true}}  (strategic merge patch)
 *   GET   /api/v1/pods?fieldSelector=spec.nodeName=NAME        (the node's pods)
 *   POST  /api/v1/namespaces/NS/pods/NAME/eviction             (policy/v1 Eviction)
 *   GET   /api/v1/namespaces/NS/pods/NAME                      (gone yet? 404 or a new uid)
 *
 * An eviction the API refuses because of a PodDisruptionBudget answers 429 with a Status
 * whose cause is `DisruptionBudget` (kubectl retries it every 5 s); several budgets for one
 * pod answer 500. Parsing is pure and never throws; every error is a KubeError.
 */
import type { CallOptions } from '../store/io.js';
import { isKubeError, KubeError, type KubeStatus } from './errors.js';
import type { KubeHttp } from './http.js';
import { arr, isObj, obj, str } from './parse/meta.js';

/** A pod as the drain sees it. */
export interface DrainPod {
  namespace: string;
  name: string;
  uid?: string;
  /** The controller owner (ownerReferences[controller=true]), if any. */
  owner?: { kind: string; name: string };
  /** A static pod's API mirror (annotation kubernetes.io/config.mirror): not evictable. */
  mirror: boolean;
  /** Managed by a DaemonSet: the DaemonSet controller ignores unschedulable, so never evicted. */
  daemonSet: boolean;
  phase: string;
  /** metadata.deletionTimestamp is set. */
  terminating: boolean;
}

export type EvictResult =
  | { ok: true }
  /** The pod is already gone. */
  | { ok: false; kind: 'gone'; message: string }
  /** 429: a PodDisruptionBudget does not allow it now (retry later). */
  | { ok: false; kind: 'budget'; message: string };

export interface KubeNodeOps {
  /** The node's spec.unschedulable (rejects with a KubeError, e.g. not-found). */
  isUnschedulable(node: string, opts?: CallOptions): Promise<boolean>;
  /** PATCH spec.unschedulable (cordon: true, uncordon: false). */
  setUnschedulable(node: string, value: boolean, opts?: CallOptions): Promise<void>;
  /** Every pod bound to the node. */
  podsOnNode(node: string, opts?: CallOptions): Promise<DrainPod[]>;
  /** POST an Eviction for the pod (other refusals reject with a KubeError). */
  evict(pod: Pick<DrainPod, 'namespace' | 'name'>, opts?: CallOptions): Promise<EvictResult>;
  /** The uid of the pod now, undefined when it no longer exists. */
  podUid(namespace: string, name: string, opts?: CallOptions): Promise<string | undefined>;
}

/** A v1 Pod → DrainPod (undefined for garbage). */
export function parseDrainPod(o: unknown): DrainPod | undefined {
  const m = obj(obj(o).metadata);
  const name = str(m.name);
  if (!name) return undefined;
  const owners = arr(m.ownerReferences).filter(isObj);
  const ctl = owners.find((r) => r.controller === true) ?? undefined;
  const annotations = obj(m.annotations);
  const pod: DrainPod = {
    namespace: str(m.namespace) ?? '',
    name,
    mirror: typeof annotations['kubernetes.io/config.mirror'] === 'string',
    daemonSet: str(ctl?.kind) === 'DaemonSet',
    phase: str(obj(obj(o).status).phase) ?? 'Unknown',
    terminating: str(m.deletionTimestamp) !== undefined,
  };
  const uid = str(m.uid);
  if (uid) pod.uid = uid;
  const kind = str(ctl?.kind);
  const owner = str(ctl?.name);
  if (kind && owner) pod.owner = { kind, name: owner };
  return pod;
}

/** The policy/v1 Eviction body kubectl sends. */
export function evictionBody(pod: Pick<DrainPod, 'namespace' | 'name'>): unknown {
  return {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: pod.name, namespace: pod.namespace },
  };
}

const seg = (s: string): string => encodeURIComponent(s);

const callOpts = (opts?: CallOptions) => ({
  ...(opts?.signal ? { signal: opts.signal } : {}),
  ...(opts?.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
});

/** The cause message of a 429 Status (`The disruption budget X needs 2 healthy pods…`). */
function budgetMessage(status: KubeStatus | undefined, fallback: string): string {
  const causes = arr(status?.details?.causes).filter(isObj);
  const c = causes.find((x) => x.reason === 'DisruptionBudget') ?? causes[0];
  return str(c?.message) ?? status?.message ?? fallback;
}

/** The node operations over the API's HTTP transport (`http()`: the current route). */
export class HttpNodeOps implements KubeNodeOps {
  constructor(readonly http: () => KubeHttp | undefined) {}

  #http(): KubeHttp {
    const h = this.http();
    if (!h)
      throw new KubeError({
        kind: 'unreachable',
        message: 'the API server is not connected (yet): no node operation possible',
      });
    return h;
  }

  async isUnschedulable(node: string, opts?: CallOptions): Promise<boolean> {
    const n = await this.#http().getJson<unknown>(
      `/api/v1/nodes/${seg(node)}`,
      { verb: 'get', resource: 'nodes', name: node },
      callOpts(opts),
    );
    return obj(obj(n).spec).unschedulable === true;
  }

  async setUnschedulable(node: string, value: boolean, opts?: CallOptions): Promise<void> {
    await this.#http().sendJson(
      'PATCH',
      `/api/v1/nodes/${seg(node)}`,
      { spec: { unschedulable: value } },
      { verb: 'patch', resource: 'nodes', name: node },
      { ...callOpts(opts), contentType: 'application/strategic-merge-patch+json' },
    );
  }

  async podsOnNode(node: string, opts?: CallOptions): Promise<DrainPod[]> {
    const list = await this.#http().getJson<{ items?: unknown[] }>(
      `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`,
      { verb: 'list', resource: 'pods' },
      callOpts(opts),
    );
    return (Array.isArray(list.items) ? list.items : [])
      .map(parseDrainPod)
      .filter((p): p is DrainPod => p !== undefined);
  }

  async evict(pod: Pick<DrainPod, 'namespace' | 'name'>, opts?: CallOptions): Promise<EvictResult> {
    try {
      await this.#http().sendJson(
        'POST',
        `/api/v1/namespaces/${seg(pod.namespace)}/pods/${seg(pod.name)}/eviction`,
        evictionBody(pod),
        { verb: 'create', resource: 'pods/eviction', namespace: pod.namespace, name: pod.name },
        callOpts(opts),
      );
      return { ok: true };
    } catch (e) {
      if (isKubeError(e) && e.code === 429)
        return { ok: false, kind: 'budget', message: budgetMessage(e.status, e.message) };
      if (isKubeError(e) && e.code === 404)
        return { ok: false, kind: 'gone', message: `${pod.namespace}/${pod.name} is gone` };
      throw e;
    }
  }

  async podUid(namespace: string, name: string, opts?: CallOptions): Promise<string | undefined> {
    try {
      const p = await this.#http().getJson<unknown>(
        `/api/v1/namespaces/${seg(namespace)}/pods/${seg(name)}`,
        { verb: 'get', resource: 'pods', namespace, name },
        callOpts(opts),
      );
      return str(obj(obj(p).metadata).uid) ?? '';
    } catch (e) {
      if (isKubeError(e) && e.code === 404) return undefined;
      throw e;
    }
  }
}
