/** A v1 Pod, parsed (pure; never throws). */
import type { KubeContainerStatus, KubePod } from '../types.js';
import { arr, clip, conditions, isObj, meta, num, obj, str } from './meta.js';

function containerStatus(c: unknown): KubeContainerStatus | undefined {
  const o = obj(c);
  const name = str(o.name);
  if (!name) return undefined;
  const state = obj(o.state);
  let st = 'unknown';
  let reason: string | undefined;
  if (isObj(state.running)) st = 'running';
  else if (isObj(state.waiting)) {
    st = 'waiting';
    reason = str(state.waiting.reason);
  } else if (isObj(state.terminated)) {
    st = 'terminated';
    reason = str(state.terminated.reason);
  }
  const out: KubeContainerStatus = {
    name,
    image: str(o.image) ?? '',
    ready: o.ready === true,
    restartCount: num(o.restartCount) ?? 0,
    state: st,
  };
  if (reason) out.reason = clip(reason)!;
  return out;
}

/** A v1 Pod → what `kubectl get pods -o wide` shows, plus container names for logs. */
export function parsePod(o: unknown): KubePod | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const spec = obj(obj(o).spec);
  const status = obj(obj(o).status);
  const phase = str(status.phase) ?? 'Unknown';
  const containers: KubeContainerStatus[] = [];
  for (const c of arr(status.containerStatuses)) {
    const cs = containerStatus(c);
    if (cs) containers.push(cs);
  }
  const containerNames = arr(spec.containers)
    .map((c) => str(obj(c).name))
    .filter((n): n is string => n !== undefined);
  const conds = conditions(status.conditions);
  let shown = str(status.reason) ?? phase;
  for (const c of containers) {
    if (c.state !== 'running' && c.reason) shown = c.reason;
  }
  if (str(obj(obj(o).metadata).deletionTimestamp)) shown = 'Terminating';
  const pod: KubePod = {
    namespace: m.namespace ?? '',
    name: m.name,
    phase,
    status: shown,
    ready: conds.some((c) => c.type === 'Ready' && c.status === 'True'),
    containersReady: containers.filter((c) => c.ready).length,
    containersTotal: containerNames.length || containers.length,
    restarts: containers.reduce((s, c) => s + c.restartCount, 0),
    containerNames,
    containers,
    labels: m.labels,
  };
  const nodeName = str(spec.nodeName);
  if (nodeName) pod.nodeName = nodeName;
  const podIP = str(status.podIP);
  if (podIP) pod.podIP = podIP;
  const hostIP = str(status.hostIP);
  if (hostIP) pod.hostIP = hostIP;
  const startTime = str(status.startTime);
  if (startTime) pod.startTime = startTime;
  return pod;
}
