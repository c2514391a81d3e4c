/** Nodes (`/api/v1/nodes`): readiness, kubelet version, roles, addresses. Store id `kube`. */
import type { CallOptions } from '../../store/io.js';
import type { KubeHttp } from '../http.js';
import { parseNode } from '../parse/node.js';
import type { KubeNodeStatus, KubeSection } from '../types.js';
import type { KubeWatchDef, WatchContext } from './kube-watch.js';
import { ListSection, listWatcher } from './list.js';
import { byName, listSection } from './sections.js';

export class NodesWatch extends ListSection<KubeNodeStatus, readonly KubeNodeStatus[]> {
  constructor(ctx: WatchContext) {
    super(
      listWatcher<KubeNodeStatus>(
        ctx,
        { path: '/api/v1/nodes', ref: { resource: 'nodes' }, map: parseNode },
        ctx.limits.maxNodes,
      ),
      (st, noRoute) => listSection(st, noRoute, byName),
    );
  }

  /** The nodes from the watch cache when it is in sync, else undefined. */
  cached(): KubeNodeStatus[] | undefined {
    const st = this.watcher.state();
    return st.synced && st.updatedAt !== undefined
      ? [...st.items.values()].sort(byName)
      : undefined;
  }
}

/** One LIST of the nodes (rejects with a KubeError), for when the watch is not in sync. */
export async function listNodesOnce(http: KubeHttp, opts?: CallOptions): Promise<KubeNodeStatus[]> {
  const list = await http.getJson<{ items?: unknown[] }>(
    '/api/v1/nodes',
    { verb: 'list', resource: 'nodes' },
    {
      ...(opts?.signal ? { signal: opts.signal } : {}),
      ...(opts?.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    },
  );
  return (Array.isArray(list.items) ? list.items : [])
    .map(parseNode)
    .filter((n): n is KubeNodeStatus => n !== undefined)
    .sort(byName);
}

export const NODES = {
  storeId: 'kube',
  create: (ctx) => new NodesWatch(ctx),
} as const satisfies KubeWatchDef<KubeSection<readonly KubeNodeStatus[]>, NodesWatch>;
