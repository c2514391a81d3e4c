/**
 * A core/v1 Service, parsed into the two views k8ops reads (pure; never throw; a malformed
 * object yields `undefined`):
 * - `parseServiceVips`: what decides the VIPs Cilium's BGP control plane advertises for it
 *   (cilium `pkg/bgpv1/manager/reconcilerv2/service.go`): its labels (the advertisement's
 *   selector, plus `io.kubernetes.service.name`/`.namespace`), type, `spec.clusterIP(s)`,
 *   `spec.externalIPs`, `status.loadBalancer.ingress[].ip`, `spec.loadBalancerClass` and the
 *   traffic policies; addresses that are not IP addresses are dropped (Cilium skips them too).
 * - `parseService`: as far as k8ops dials one through a node (hubble-relay): its ClusterIP
 *   (an IP address, else none) and ports.
 */
import { isIP } from 'node:net';
import type { KubeService, KubeServiceVips } from '../types.js';
import { arr, clip, meta, num, obj, str } from './meta.js';

const MAX_ADDRESSES = 64;

function ips(values: unknown[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (out.length >= MAX_ADDRESSES) break;
    if (typeof v !== 'string' || v.length > 64 || isIP(v) === 0 || out.includes(v)) continue;
    out.push(v);
  }
  return out;
}

export function parseServiceVips(o: unknown): KubeServiceVips | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const spec = obj(obj(o).spec);
  const status = obj(obj(o).status);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.labels))
    if (k !== '__proto__') labels[clip(k, 317)!] = clip(v, 253)!;
  const out: KubeServiceVips = {
    namespace: clip(m.namespace ?? '', 63)!,
    name: clip(m.name, 253)!,
    labels,
    type: clip(str(spec.type) ?? 'ClusterIP', 32)!,
    clusterIPs: ips([spec.clusterIP, ...arr(spec.clusterIPs)]),
    externalIPs: ips(arr(spec.externalIPs)),
    loadBalancerIPs: ips(arr(obj(status.loadBalancer).ingress).map((i) => obj(i).ip)),
  };
  const cls = str(spec.loadBalancerClass);
  if (cls) out.loadBalancerClass = clip(cls, 253)!;
  const etp = str(spec.externalTrafficPolicy);
  if (etp) out.externalTrafficPolicy = clip(etp, 16)!;
  const itp = str(spec.internalTrafficPolicy);
  if (itp) out.internalTrafficPolicy = clip(itp, 16)!;
  return out;
}

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
    // "None": a headless Service, which has no virtual address to dial; anything but an
    // IP address is not dialled either.
    ...(ip && ip !== 'None' && isIP(ip) !== 0 ? { clusterIP: ip } : {}),
    ports,
  };
}
