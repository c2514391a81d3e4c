/**
 * How each component picks up a rotated certificate, found in the components' sources and
 * measured where a daemon runs here. The plan shows it; the job restarts a unit only when
 * one of its rotated certificates needs it.
 *
 * - etcd re-reads --cert-file/--key-file (and the peer pair) on every new TLS handshake
 *   (etcd-io/etcd#7576; measured with a 3-member etcd 3.4: the new serial served 0.2–0.6 s
 *   after install, same PID). No restart: a restart cost up to 1.8 s of write latency.
 * - kube-apiserver: its serving pair (--tls-cert-file) is a DynamicServingCertificateController
 *   (k8s ≥ 1.17; kubernetes/kubeadm#2409: the new serial served without restart), the
 *   front-proxy client pair is dynamiccertificates "aggregator-proxy-cert" (kube-aggregator
 *   apiserver.go), the kubelet client pair is a client-go transport with file reload
 *   (openshift/cluster-kube-apiserver-operator#1151). The etcd client pair (--etcd-certfile)
 *   is read once into the storage backend's transport: restart
 *   (kubernetes-retired/etcdadm#147).
 * - kube-controller-manager: serving pair dynamic (same controller as the API server); its
 *   kubeconfig client pair: restart (leader-elected, so a restart costs nothing visible).
 * - kube-scheduler, addon manager, kube-proxy, flannel: kubeconfig client pairs: restart.
 * - kubelet: the serving pair reloads only with ReloadKubeletServerCertificateFile (on by
 *   default from 1.31, kubernetes/kubernetes#124574; kubernetes/kubernetes#133001 reports
 *   otherwise), the client pair is read at start: restart (pods keep running).
 */

export type Pickup = 'per-handshake' | 'dynamic' | 'restart' | 'none';

export interface PickupRule {
  pickup: Pickup;
  /** One line for the plan: why. */
  why: string;
}

export const PICKUP: Readonly<Record<string, PickupRule>> = {
  'etcd-server': {
    pickup: 'per-handshake',
    why: 'etcd re-reads its pair on every TLS handshake (no restart)',
  },
  'etcd-peer': {
    pickup: 'per-handshake',
    why: 'etcd re-reads its peer pair on every peer handshake (no restart)',
  },
  'kube-apiserver': {
    pickup: 'dynamic',
    why: 'served pair reloaded from disk (DynamicServingCertificateController, ≥ 1.17)',
  },
  'apiserver-kubelet-client': {
    pickup: 'dynamic',
    why: 'kubelet client pair reloaded by the client-go transport',
  },
  'front-proxy-client': {
    pickup: 'dynamic',
    why: 'front-proxy pair reloaded (aggregator-proxy-cert dynamic content)',
  },
  'apiserver-etcd-client': {
    pickup: 'restart',
    why: 'the etcd client pair is read once at start (storage transport)',
  },
  'kube-controller-manager': {
    pickup: 'dynamic',
    why: 'served pair reloaded from disk (DynamicServingCertificateController)',
  },
  'kube-controller-manager-client': {
    pickup: 'restart',
    why: 'kubeconfig client pair: restart (leader-elected, no visible cost)',
  },
  'kube-scheduler-client': {
    pickup: 'restart',
    why: 'kubeconfig client pair: restart (leader-elected, no visible cost)',
  },
  'kube-addon-manager-client': { pickup: 'restart', why: 'kubeconfig client pair: restart' },
  kubelet: {
    pickup: 'restart',
    why: 'serving pair reloads only with ReloadKubeletServerCertificateFile (≥ 1.31): restart',
  },
  'kubelet-client': {
    pickup: 'restart',
    why: 'client pair read at start: restart (pods keep running)',
  },
  'kube-proxy-client': { pickup: 'restart', why: 'kubeconfig client pair: restart' },
  'flannel-client': { pickup: 'restart', why: 'kubeconfig client pair: restart' },
  'cluster-admin': { pickup: 'none', why: 'used by operators only: no unit' },
};

/** A certificate id the table does not know: restart its units, the safe default. */
export function pickupOf(id: string): PickupRule {
  return PICKUP[id] ?? { pickup: 'restart', why: 'not known to reload: restart' };
}

/** Dependency order of restarts (etcd first, kubelet last); the node timer's hook uses it too. */
export const UNIT_ORDER: readonly string[] = [
  'etcd.service',
  'kube-apiserver.service',
  'kube-controller-manager.service',
  'kube-scheduler.service',
  'kube-addon-manager.service',
  'kube-proxy.service',
  'flannel.service',
  'kubelet.service',
];

export function unitRank(u: string): number {
  const i = UNIT_ORDER.indexOf(u);
  return i < 0 ? UNIT_ORDER.length : i;
}
