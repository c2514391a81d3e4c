/**
 * A core/v1 Service, reduced to what decides the VIPs Cilium's BGP control plane
 * advertises for it (cilium `pkg/bgpv1/manager/reconcilerv2/service.go`): its labels (the
 * advertisement's selector, plus `io.kubernetes.service.name`/`.namespace`), type,
 * `spec.clusterIP(s)`, `spec.externalIPs`, `status.loadBalancer.ingress[].ip`,
 * `spec.loadBalancerClass` and the traffic policies. Pure; never throws; addresses that
 * are not IP addresses are dropped (Cilium skips them too).
 */
import { isIP } from 'node:net';
import type { KubeServiceVips } from '../types.js';
import { arr, clip, meta, obj, str } from './meta.js';

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
