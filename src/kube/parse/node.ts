/** A v1 Node, parsed (pure; never throws). */
import type { KubeNodeAddress, KubeNodeStatus } from '../types.js';
import { arr, conditions, meta, obj, str } from './meta.js';

/** A v1 Node → readiness, kubelet version, addresses, conditions. */
export function parseNode(o: unknown): KubeNodeStatus | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const spec = obj(obj(o).spec);
  const status = obj(obj(o).status);
  const conds = conditions(status.conditions);
  const readyCond = conds.find((c) => c.type === 'Ready');
  const ready = readyCond?.status === 'True';
  const node: KubeNodeStatus = { name: m.name, ready };
  if (!ready) {
    if (!readyCond) node.reason = 'no Ready condition reported';
    else {
      const parts = [readyCond.reason, readyCond.message].filter(Boolean);
      node.reason =
        parts.join(': ') || (readyCond.status === 'Unknown' ? 'NodeStatusUnknown' : 'NotReady');
    }
  }
  const info = obj(status.nodeInfo);
  const kubelet = str(info.kubeletVersion);
  if (kubelet) node.kubeletVersion = kubelet;
  const os = str(info.osImage);
  if (os) node.osImage = os;
  const kernel = str(info.kernelVersion);
  if (kernel) node.kernelVersion = kernel;
  const cri = str(info.containerRuntimeVersion);
  if (cri) node.containerRuntimeVersion = cri;
  const addresses: KubeNodeAddress[] = [];
  for (const a of arr(status.addresses)) {
    const type = str(obj(a).type);
    const address = str(obj(a).address);
    if (type && address) addresses.push({ type, address });
  }
  node.addresses = addresses;
  const internal = addresses.find((a) => a.type === 'InternalIP');
  if (internal) node.internalIP = internal.address;
  node.conditions = conds;
  const roles = Object.keys(m.labels)
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter(Boolean)
    .sort();
  node.roles = roles;
  if (spec.unschedulable === true) node.unschedulable = true;
  return node;
}
