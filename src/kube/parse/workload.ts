/** Deployments and DaemonSets (apps/v1) → addon versions (pure; never throws). */
import type { AddonVersion, ImageRef } from '../types.js';
import { arr, meta, num, obj, str } from './meta.js';

/** `registry:5000/ns/name:tag@sha256:…` → tag and digest. */
export function parseImage(container: string, image: string): ImageRef {
  const out: ImageRef = { container, image };
  let rest = image;
  const at = rest.indexOf('@');
  if (at !== -1) {
    out.digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) out.tag = rest.slice(colon + 1);
  return out;
}

/** Known addons: how to recognise their workloads. */
const ADDONS: Array<{
  addon: string;
  match: (name: string, labels: Record<string, string>) => boolean;
}> = [
  {
    addon: 'cilium',
    match: (n, l) =>
      l['k8s-app'] === 'cilium' ||
      (n === 'cilium' && !l['app.kubernetes.io/name']) ||
      l['app.kubernetes.io/name'] === 'cilium-agent',
  },
  {
    addon: 'cilium-operator',
    match: (n, l) =>
      n === 'cilium-operator' ||
      l['io.cilium/app'] === 'operator' ||
      l['app.kubernetes.io/name'] === 'cilium-operator',
  },
  {
    addon: 'hubble-relay',
    match: (n, l) => n === 'hubble-relay' || l['k8s-app'] === 'hubble-relay',
  },
  { addon: 'hubble-ui', match: (n, l) => n === 'hubble-ui' || l['k8s-app'] === 'hubble-ui' },
  {
    addon: 'ingress-nginx',
    match: (n, l) =>
      (l['app.kubernetes.io/name'] === 'ingress-nginx' &&
        (l['app.kubernetes.io/component'] ?? 'controller') === 'controller') ||
      n === 'ingress-nginx-controller',
  },
  { addon: 'coredns', match: (n, l) => n === 'coredns' || l['k8s-app'] === 'kube-dns' },
  {
    addon: 'cert-manager',
    match: (n, l) =>
      l['app.kubernetes.io/instance'] === 'cert-manager' ||
      l['app.kubernetes.io/part-of'] === 'cert-manager' ||
      /^cert-manager(-cainjector|-webhook)?$/.test(n),
  },
  {
    addon: 'kubernetes-dashboard',
    match: (n, l) =>
      l['app.kubernetes.io/part-of'] === 'kubernetes-dashboard' ||
      l['app.kubernetes.io/instance'] === 'kubernetes-dashboard' ||
      n.startsWith('kubernetes-dashboard'),
  },
  {
    addon: 'kube-prometheus',
    match: (_n, l) => l['app.kubernetes.io/part-of'] === 'kube-prometheus',
  },
];

/** `helm.sh/chart: kubernetes-dashboard-7.13.0` → the chart's name and version. */
export function parseChartLabel(
  label: string | undefined,
): { name: string; version: string } | undefined {
  const m = label ? /^(.+)-(v?\d+\.\d+\.\d+[0-9A-Za-z.+-]*)$/.exec(label) : null;
  return m ? { name: m[1]!, version: m[2]! } : undefined;
}

export function addonOf(name: string, labels: Record<string, string>): string {
  return ADDONS.find((a) => a.match(name, labels))?.addon ?? name;
}

/** A Deployment or DaemonSet (apps/v1) → the addon version it runs. */
export function parseWorkload(
  o: unknown,
  kind: 'Deployment' | 'DaemonSet',
): AddonVersion | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const spec = obj(obj(o).spec);
  const status = obj(obj(o).status);
  const podSpec = obj(obj(spec.template).spec);
  const images = arr(podSpec.containers)
    .map((c) => {
      const name = str(obj(c).name);
      const image = str(obj(c).image);
      return name && image ? parseImage(name, image) : undefined;
    })
    .filter((i): i is ImageRef => i !== undefined);
  const addon = addonOf(m.name, m.labels);
  const out: AddonVersion = { addon, namespace: m.namespace ?? '', kind, name: m.name, images };
  const chart = parseChartLabel(m.labels['helm.sh/chart']);
  if (chart) out.chart = chart;
  const label = m.labels['app.kubernetes.io/version'];
  if (label) {
    out.version = label;
    out.versionSource = 'label';
  } else {
    // The main container: same name as the workload/addon, else the first.
    const main =
      images.find((i) => i.container === m.name || i.container === addon) ??
      images.find((i) => i.tag !== undefined);
    if (main?.tag) {
      out.version = main.tag;
      out.versionSource = 'image';
    }
  }
  if (kind === 'Deployment') {
    const desired = num(spec.replicas) ?? 1;
    out.desired = desired;
    out.ready = num(status.readyReplicas) ?? 0;
  } else {
    out.desired = num(status.desiredNumberScheduled) ?? 0;
    out.ready = num(status.numberReady) ?? 0;
  }
  return out;
}
