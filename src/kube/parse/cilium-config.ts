/** The `cilium-config` ConfigMap, parsed (pure; never throws). */
import type { CiliumConfigSummary } from '../types.js';
import { meta, obj } from './meta.js';

const truthy = (v: string | undefined): boolean | undefined =>
  v === undefined ? undefined : v === 'true' || v === 'strict';

/** The `cilium-config` ConfigMap → the keys the MTU/BGP/Flows panes need, plus all data. */
export function parseCiliumConfig(o: unknown): CiliumConfigSummary | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(obj(o).data))) {
    if (typeof v === 'string') data[k] = v.length > 4096 ? v.slice(0, 4096) : v;
  }
  const out: CiliumConfigSummary = { namespace: m.namespace ?? '', data };
  if (m.resourceVersion) out.resourceVersion = m.resourceVersion;
  // routing-mode (1.14+); before, `tunnel: disabled|vxlan|geneve`.
  const tunnel = data.tunnel;
  const routing =
    data['routing-mode'] ?? (tunnel ? (tunnel === 'disabled' ? 'native' : 'tunnel') : undefined);
  if (routing) out.routingMode = routing;
  const proto = data['tunnel-protocol'] ?? (tunnel && tunnel !== 'disabled' ? tunnel : undefined);
  if (proto) out.tunnelProtocol = proto;
  if (data['kube-proxy-replacement']) out.kubeProxyReplacement = data['kube-proxy-replacement'];
  const bgp = truthy(data['enable-bgp-control-plane']);
  if (bgp !== undefined) out.bgpControlPlane = bgp;
  const hubble = truthy(data['enable-hubble']);
  if (hubble !== undefined) out.hubble = hubble;
  if (data.ipam) out.ipam = data.ipam;
  if (data['cluster-name']) out.clusterName = data['cluster-name'];
  if (data.devices) out.devices = data.devices;
  const mtu = data.mtu !== undefined ? Number(data.mtu) : Number.NaN;
  if (Number.isInteger(mtu) && mtu > 0) out.mtu = mtu;
  return out;
}
