/**
 * The demo lab's addon manifest: the entries of nix/addons/addons.json (names, versions,
 * formats, URLs: a test holds them equal) with demo pins — the SHA-256 of a label, not of
 * the release (the demo downloads nothing) — and kube-prometheus left unpinned, as a
 * repository before its first sync is. With the demo cluster's workloads (Cilium runs
 * v1.18.2 against a declared 1.17.8) the Addons view shows one drift and one missing pin.
 */
import { createHash } from 'node:crypto';

export const DEMO_ADDONS = [
  {
    name: 'cert-manager',
    version: '1.19.1',
    format: 'yaml',
    url: 'https://github.com/cert-manager/cert-manager/releases/download/v1.19.1/cert-manager.yaml',
    namespace: 'cert-manager',
  },
  {
    name: 'cilium',
    version: '1.17.8',
    format: 'helm',
    url: 'https://helm.cilium.io/cilium-1.17.8.tgz',
    namespace: 'kube-system',
    release: 'cilium',
    values: {},
  },
  {
    name: 'hubble',
    version: '1.18.0',
    format: 'cli',
    url: 'https://github.com/cilium/hubble/releases/download/v1.18.0/hubble-linux-amd64.tar.gz',
    system: 'x86_64-linux',
    binary: 'hubble',
  },
  {
    name: 'kubernetes-dashboard',
    version: '7.13.0',
    format: 'helm',
    url: 'https://github.com/kubernetes/dashboard/releases/download/kubernetes-dashboard-7.13.0/kubernetes-dashboard-7.13.0.tgz',
    namespace: 'kubernetes-dashboard',
    release: 'kubernetes-dashboard',
    values: {},
  },
  {
    name: 'ingress-nginx',
    version: '1.13.3',
    format: 'yaml',
    url: 'https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.13.3/deploy/static/provider/cloud/deploy.yaml',
    namespace: 'ingress-nginx',
  },
  {
    name: 'kube-prometheus',
    version: '0.16.0',
    format: 'tarball',
    url: 'https://github.com/prometheus-operator/kube-prometheus/archive/refs/tags/v0.16.0.tar.gz',
    paths: ['manifests/setup', 'manifests'],
  },
] as const;

/** A demo pin: SRI of `demo:<name>@<version>` (never a release's real hash). */
const demoPin = (name: string, version: string): string =>
  `sha256-${createHash('sha256').update(`demo:${name}@${version}`).digest('base64')}`;

export function demoAddonsManifest(): string {
  const doc = {
    $comment:
      'k8ops demo lab: the addons of nix/addons/addons.json with demo pins (hashes of a label, not of the releases); kube-prometheus is not pinned yet.',
    version: 1,
    addons: DEMO_ADDONS.map((a) => ({
      ...a,
      sha256: a.name === 'kube-prometheus' ? '' : demoPin(a.name, a.version),
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
