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
 *
 * The table itself is nix/pki/reload.json: the node timer's hook reads the same one through
 * the rotation plan (nix/lib/node-tools.nix), so the two never disagree.
 */
import reloadJson from '../../../nix/pki/reload.json' with { type: 'json' };

export type Pickup = 'per-handshake' | 'dynamic' | 'restart' | 'none';

export interface PickupRule {
  pickup: Pickup;
  /** One line for the plan: why. */
  why: string;
}

const PICKUPS: readonly Pickup[] = ['per-handshake', 'dynamic', 'restart', 'none'];

/** nix/pki/reload.json's certificates, checked (a bad entry is a build bug: restart it). */
export const PICKUP: Readonly<Record<string, PickupRule>> = Object.fromEntries(
  Object.entries(reloadJson.certs as Record<string, { pickup: string; why: string }>).map(
    ([id, r]) => [
      id,
      PICKUPS.includes(r.pickup as Pickup)
        ? { pickup: r.pickup as Pickup, why: r.why }
        : { pickup: 'restart' as const, why: `unknown pickup "${r.pickup}": restart` },
    ],
  ),
);

/** A certificate id the table does not know: restart its units, the safe default. */
export function pickupOf(id: string): PickupRule {
  return PICKUP[id] ?? { pickup: 'restart', why: 'not known to reload: restart' };
}

/** Dependency order of restarts (etcd first, kubelet last); the node timer's hook uses it too. */
export const UNIT_ORDER: readonly string[] = reloadJson.unitOrder;

export function unitRank(u: string): number {
  const i = UNIT_ORDER.indexOf(u);
  return i < 0 ? UNIT_ORDER.length : i;
}

/**
 * The units that read a trust bundle (an intermediate's rotation changes it) or a key pair
 * (the service-account keys), and how each picks up a changed file: nix/pki/reload.json's
 * `bundles` and `keypairs`. etcd 3.4 reads its trusted CA files once at start (measured: a
 * client certificate of a CA added to the bundle is refused until the restart).
 */
export interface UnitPickup {
  unit: string;
  pickup: Pickup;
  why: string;
  /** A key pair's reader: which of its files it reads (`key`, `pub`); absent: all. */
  files?: string[];
}

type RawReader = { pickup: string; why: string; files?: unknown };
const unitTable = (
  t: Record<string, Record<string, RawReader>> | undefined,
): Readonly<Record<string, readonly UnitPickup[]>> =>
  Object.fromEntries(
    Object.entries(t ?? {}).map(([id, units]) => [
      id,
      Object.entries(units)
        .map(([unit, r]) => ({
          unit,
          pickup: PICKUPS.includes(r.pickup as Pickup) ? (r.pickup as Pickup) : 'restart',
          why: r.why,
          ...(Array.isArray(r.files)
            ? { files: r.files.filter((f): f is string => typeof f === 'string') }
            : {}),
        }))
        .sort((a, b) => unitRank(a.unit) - unitRank(b.unit) || (a.unit < b.unit ? -1 : 1)),
    ]),
  );

const tables = reloadJson as unknown as {
  bundles?: Record<string, Record<string, RawReader>>;
  keypairs?: Record<string, Record<string, RawReader>>;
};
export const BUNDLE_READERS = unitTable(tables.bundles);
export const KEYPAIR_READERS = unitTable(tables.keypairs);

/** The units that read bundle `id` (unknown: none listed), in restart order. */
export const bundleReaders = (id: string): readonly UnitPickup[] => BUNDLE_READERS[id] ?? [];
/** The units that read key pair `id`, in restart order. */
export const keypairReaders = (id: string): readonly UnitPickup[] => KEYPAIR_READERS[id] ?? [];
