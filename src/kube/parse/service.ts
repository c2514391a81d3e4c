/**
 * A core/v1 Service, as far as k8ops dials one through a node (hubble-relay): its ClusterIP
 * and ports. Pure; never throws: a malformed object yields `undefined`.
 */
import type { KubeService } from '../types.js';
import { arr, clip, meta, num, obj, str } from './meta.js';

export function parseService(o: unknown): KubeService | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const spec = obj(obj(o).spec);
  const ports: KubeService['ports'] = [];
  for (const p of arr(spec.ports)) {
    const port = num(obj(p).port);
    if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) continue;
    const name = str(obj(p).name);
    const target = obj(p).targetPort;
    ports.push({
      port,
      ...(name ? { name: clip(name, 63)! } : {}),
      ...(typeof target === 'number' || typeof target === 'string'
        ? { targetPort: typeof target === 'string' ? clip(target, 63)! : target }
        : {}),
      protocol: clip(str(obj(p).protocol) ?? 'TCP', 8)!,
    });
  }
  const ip = str(spec.clusterIP);
  return {
    namespace: m.namespace ?? '',
    name: clip(m.name, 253)!,
    type: clip(str(spec.type) ?? 'ClusterIP', 32)!,
    // "None": a headless Service, which has no virtual address to dial.
    ...(ip && ip !== 'None' ? { clusterIP: clip(ip, 64)! } : {}),
    ports,
  };
}
