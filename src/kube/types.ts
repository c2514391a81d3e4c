/**
 * What k8ops reads from the Kubernetes API.
 *
 * `KubeSource` is the minimal polled interface (the foundation's `kube` collector calls
 * `listNodes`). `LiveKubeSource` adds the watch-driven view: `snapshot()` returns an
 * immutable `KubeClusterSnapshot` whose sections keep their identity until they change,
 * and `onChange(cb)` says when to read it again. Both the real cluster source
 * (`KubeClusterSource`) and the demo lab (`DemoKubeSource`) implement it.
 */
import type { CallOptions } from '../store/io.js';
import type { SourceError } from '../store/types.js';
import type { KubeNodeOps } from './node-ops.js';

export interface KubeNodeAddress {
  /** `InternalIP`, `ExternalIP`, `Hostname`, … */
  type: string;
  address: string;
}

export interface KubeCondition {
  type: string;
  /** `True`, `False` or `Unknown`. */
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface KubeNodeStatus {
  name: string;
  ready: boolean;
  /** Reason/message of the Ready condition when not ready. */
  reason?: string;
  kubeletVersion?: string;
  /** From `node-role.kubernetes.io/<role>` labels. */
  roles?: string[];
  addresses?: KubeNodeAddress[];
  /** First InternalIP, for the node list. */
  internalIP?: string;
  conditions?: KubeCondition[];
  /** `kubectl cordon` */
  unschedulable?: boolean;
  osImage?: string;
  kernelVersion?: string;
  containerRuntimeVersion?: string;
}

export interface KubeSource {
  /** Context name shown in the header. */
  readonly context: string;
  listNodes(opts?: CallOptions): Promise<KubeNodeStatus[]>;
  /**
   * One GET of a Service (its ClusterIP and ports), for what k8ops dials through a node
   * (hubble-relay). Rejects with a KubeError (`not-found`, `forbidden`, unreachable…).
   */
  getService?(namespace: string, name: string, opts?: CallOptions): Promise<KubeService>;
  close(): Promise<void>;
}

/** A Service's virtual address and ports (core/v1). */
export interface KubeService {
  namespace: string;
  name: string;
  /** ClusterIP, NodePort, LoadBalancer… */
  type: string;
  /** Absent for a headless Service (`None`). */
  clusterIP?: string;
  ports: Array<{ port: number; name?: string; targetPort?: number | string; protocol: string }>;
}

// ---- the live view -----------------------------------------------------------------------

/** A typed error as the panes and `--json` show it (`kind` as in `KubeErrorKind`). */
export type KubeErrorInfo = SourceError;

/** One watched data set. */
export interface KubeSection<T> {
  /** Last good value; kept while an error is shown. Undefined until the first list. */
  readonly value?: T;
  /** Why the last attempt failed (the watch is re-established in the background). */
  readonly error?: KubeErrorInfo;
  /** Epoch ms of the last change seen from the API (list, event or relist). */
  readonly updatedAt?: number;
  /** The watch is connected and the value is current. */
  readonly synced: boolean;
  /** More objects than the configured bound: the value holds the first ones only. */
  readonly truncated?: boolean;
}

export type KubeRoute = 'direct' | 'tunnel';

export interface KubeApiStatus {
  readonly context: string;
  /** The server URL from the kubeconfig. */
  readonly server: string;
  /** How the API is reached: directly, or through a TCP forward over the SSH chain. */
  readonly via: KubeRoute;
  /** `127.0.0.1:<port>` of the local forward when tunnelled. */
  readonly connectedTo?: string;
  /** Name the server certificate is verified against (tls-server-name or the server's host). */
  readonly tlsServerName: string;
  /** Undefined until the first check. */
  readonly reachable?: boolean;
  /** `gitVersion` from `/version`, e.g. `v1.33.4`. */
  readonly serverVersion?: string;
  /** A notice for the header, e.g. that k8ops fell back to the SSH tunnel. */
  readonly notice?: string;
  readonly error?: KubeErrorInfo;
  /** Epoch ms of the last reachability check. */
  readonly checkedAt?: number;
}

export interface KubeContainerStatus {
  name: string;
  image: string;
  ready: boolean;
  restartCount: number;
  /** `running`, `waiting`, `terminated` (or `unknown`). */
  state: string;
  /** Reason of a waiting/terminated state, e.g. `CrashLoopBackOff`. */
  reason?: string;
}

export interface KubePod {
  namespace: string;
  name: string;
  nodeName?: string;
  /** `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`. */
  phase: string;
  /** What `kubectl get pods` shows in STATUS (phase, waiting reason, `Terminating`). */
  status: string;
  /** The pod's Ready condition. */
  ready: boolean;
  containersReady: number;
  containersTotal: number;
  restarts: number;
  podIP?: string;
  hostIP?: string;
  startTime?: string;
  /** Container names in spec order (for logs). */
  containerNames: string[];
  containers: KubeContainerStatus[];
  labels: Record<string, string>;
}

/** The interesting keys of the `cilium-config` ConfigMap, plus every key as is. */
export interface CiliumConfigSummary {
  namespace: string;
  resourceVersion?: string;
  /** `native` or `tunnel` (`routing-mode`, or the pre-1.14 `tunnel` key). */
  routingMode?: string;
  /** `vxlan` / `geneve` when tunnelling. */
  tunnelProtocol?: string;
  kubeProxyReplacement?: string;
  bgpControlPlane?: boolean;
  hubble?: boolean;
  ipam?: string;
  clusterName?: string;
  /** `mtu` key (unset: Cilium derives it from the devices). */
  mtu?: number;
  devices?: string;
  /** Every key (values cut at 4 KiB). */
  data: Record<string, string>;
}

export interface BgpRouteCount {
  afi: string;
  safi: string;
  received?: number;
  advertised?: number;
}

export interface BgpPeerStatus {
  name: string;
  peerAddress: string;
  peerASN?: number;
  /** `established`, `active`, `connect`, `idle`, `opensent`, `openconfirm`, or undefined. */
  peeringState?: string;
  /** RFC 3339 (Cilium ≥ 1.17 `establishedTime`). */
  establishedTime?: string;
  /** Cilium 1.16 `uptime` (Go duration text). */
  uptime?: string;
  routeCount: BgpRouteCount[];
  /** Sums over `routeCount` (or the 1.16 `routesReceived`/`routesAdvertised`). */
  routesReceived?: number;
  routesAdvertised?: number;
  holdTimeSeconds?: number;
  keepaliveSeconds?: number;
}

export interface BgpInstanceStatus {
  name: string;
  localASN?: number;
  peers: BgpPeerStatus[];
}

/** A peer of `spec.bgpInstances[].peers[]` (what the operator derived from the CiliumBGPClusterConfig). */
export interface BgpNodeSpecPeer {
  instance: string;
  name: string;
  peerAddress?: string;
  peerASN?: number;
  localAddress?: string;
  /** `peerConfigRef.name`: the CiliumBGPPeerConfig this peer uses (none: Cilium's defaults). */
  peerConfigRef?: string;
}

export interface BgpNodeConfigStatus {
  /** The object's name is the node's name. */
  node: string;
  instances: BgpInstanceStatus[];
  conditions: KubeCondition[];
  /** `spec.bgpInstances[].peers[]`: each peer's PeerConfig reference. */
  specPeers?: BgpNodeSpecPeer[];
}

export interface BgpNodeConfigs {
  /** Served version the objects were read with, e.g. `cilium.io/v2` or `cilium.io/v2alpha1`; undefined when not served. */
  apiVersion?: string;
  /** Why there is nothing to read (CRD not installed), when `apiVersion` is undefined. */
  absent?: string;
  nodes: BgpNodeConfigStatus[];
}

/** A `metav1.LabelSelector` (Cilium's slim copy): `matchLabels` AND every `matchExpressions` entry. */
export interface KubeLabelSelector {
  matchLabels: Record<string, string>;
  /** `operator`: `In`, `NotIn`, `Exists`, `DoesNotExist`. */
  matchExpressions: Array<{ key: string; operator: string; values: string[] }>;
}

/** One kind of Cilium's BGP v2 CRDs, read at the version the cluster serves. */
export interface BgpCrdList<T> {
  /** Served version the objects were read with (`cilium.io/v2` or `cilium.io/v2alpha1`). */
  apiVersion?: string;
  /** Why there is nothing to read (CRD not installed), when `apiVersion` is undefined. */
  absent?: string;
  items: T[];
}

/** `spec.families[]` of a CiliumBGPPeerConfig. */
export interface BgpPeerFamily {
  afi: string;
  safi: string;
  /** Selects CiliumBGPAdvertisement objects by their labels; absent: nothing advertised in this family. */
  advertisements?: KubeLabelSelector;
}

/** A CiliumBGPPeerConfig (cilium.io/v2 or v2alpha1): the spec as written (defaults not filled in). */
export interface BgpPeerConfig {
  name: string;
  peerPort?: number;
  /** v2alpha1 only (deprecated there). */
  localPort?: number;
  holdTimeSeconds?: number;
  keepAliveTimeSeconds?: number;
  connectRetryTimeSeconds?: number;
  ebgpMultihop?: number;
  gracefulRestart?: { enabled: boolean; restartTimeSeconds?: number };
  /** `spec.authSecretRef`: the Secret's NAME only; k8ops never reads the Secret. */
  authSecretRef?: string;
  families: BgpPeerFamily[];
  /** `spec.families` empty or absent: Cilium's defaults (ipv6 + ipv4 unicast, no advertisements). */
  defaultFamilies?: boolean;
  conditions: KubeCondition[];
  /** Fields present but unreadable (wrong type, invalid selector): shown, never guessed. */
  problems: string[];
}

/** One entry of a CiliumBGPAdvertisement's `spec.advertisements[]`. */
export interface BgpAdvertisementEntry {
  /** `PodCIDR`, `CiliumPodIPPool`, `Service` (or a later type, kept as written). */
  advertisementType: string;
  /** `service.addresses`: `LoadBalancerIP`, `ClusterIP`, `ExternalIP`. */
  addresses: string[];
  /** Selects the Services / CiliumPodIPPools; absent: none selected. */
  selector?: KubeLabelSelector;
  aggregationLengthIPv4?: number;
  aggregationLengthIPv6?: number;
  /** `attributes.communities` (standard, wellKnown and large together). */
  communities: string[];
  localPreference?: number;
}

/** A CiliumBGPAdvertisement. */
export interface BgpAdvertisementObject {
  name: string;
  /** What PeerConfig families select it by. */
  labels: Record<string, string>;
  advertisements: BgpAdvertisementEntry[];
  problems: string[];
}

/** A CiliumBGPClusterConfig: instances and peers, each peer's PeerConfig reference. */
export interface BgpClusterConfig {
  name: string;
  nodeSelector?: KubeLabelSelector;
  instances: Array<{
    name: string;
    localASN?: number;
    peers: Array<{ name: string; peerAddress?: string; peerASN?: number; peerConfigRef?: string }>;
  }>;
  conditions: KubeCondition[];
  problems: string[];
}

/** What BGP needs of a Service: its addresses and what decides whether Cilium advertises them. */
export interface KubeServiceVips {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`. */
  type: string;
  /** `spec.clusterIP` and `spec.clusterIPs` (without `None`). */
  clusterIPs: string[];
  externalIPs: string[];
  /** `status.loadBalancer.ingress[].ip` */
  loadBalancerIPs: string[];
  loadBalancerClass?: string;
  /** `Cluster` or `Local`. */
  externalTrafficPolicy?: string;
  internalTrafficPolicy?: string;
}

export interface ImageRef {
  container: string;
  image: string;
  /** Tag without the digest, e.g. `v1.16.5`. */
  tag?: string;
  digest?: string;
}

export interface AddonVersion {
  /** Addon id (`cilium`, `cilium-operator`, `hubble-relay`, `hubble-ui`, `ingress-nginx`, `coredns`) or the workload's name. */
  addon: string;
  namespace: string;
  kind: 'Deployment' | 'DaemonSet';
  name: string;
  /** `app.kubernetes.io/version` label, else the main image's tag. */
  version?: string;
  versionSource?: 'label' | 'image';
  /** The Helm chart it was installed from (`helm.sh/chart` label), when there is one. */
  chart?: { name: string; version: string };
  images: ImageRef[];
  /** Ready/desired replicas (DaemonSet: numberReady/desiredNumberScheduled). */
  ready?: number;
  desired?: number;
}

export interface KubeLogLine {
  /** Increasing across the whole buffer (survives eviction), for "new since" views. */
  seq: number;
  pod: string;
  /** RFC 3339 timestamp from the API (`timestamps=true`). */
  time?: string;
  text: string;
  /** The line was longer than the bound and was cut. */
  truncated?: boolean;
}

export interface KubeLogView {
  /** Oldest first, at most the ring's bound. */
  readonly lines: readonly KubeLogLine[];
  /** Lines received since start. */
  readonly total: number;
  /** Lines evicted from the ring. */
  readonly dropped: number;
  /** Pods being followed (`namespace/name`). */
  readonly following: readonly string[];
  readonly error?: KubeErrorInfo;
  readonly updatedAt?: number;
}

/** A cert-manager `Certificate` (cert-manager.io/v1) with the certificate its Secret holds. */
export interface AcmeCertificate {
  namespace: string;
  name: string;
  secretName: string;
  issuerName: string;
  /** `Issuer` (default) or `ClusterIssuer`. */
  issuerKind: string;
  /** spec.dnsNames (plus spec.commonName when not among them). */
  dnsNames: string[];
  /** The Ready condition: undefined when absent. */
  ready?: boolean;
  readyReason?: string;
  readyMessage?: string;
  /** status.notBefore / notAfter / renewalTime (RFC 3339). */
  notBefore?: string;
  notAfter?: string;
  renewalTime?: string;
  revision?: number;
  /** The Issuing condition is True (a renewal is in progress). */
  issuing?: boolean;
  /**
   * The certificates of the Secret's `tls.crt` (base64 DER, leaf first), read with a GET of
   * the Secret whose `tls.key` is dropped on receipt and never kept; or why it could not be read.
   */
  secret?: { certs?: string[]; error?: string };
}

export interface AcmeCertificates {
  /** Why there is nothing to read (cert-manager not installed) when set. */
  absent?: string;
  certificates: AcmeCertificate[];
}

/** An Ingress's hosts: from `spec.rules[].host` and `spec.tls[]` (with the Secret each names). */
export interface KubeIngress {
  namespace: string;
  name: string;
  hosts: string[];
  tls: Array<{ secretName?: string; hosts: string[] }>;
}

export interface KubeClusterSnapshot {
  readonly api: KubeApiStatus;
  readonly nodes: KubeSection<readonly KubeNodeStatus[]>;
  readonly ciliumPods: KubeSection<readonly KubePod[]>;
  readonly hubbleRelayPods: KubeSection<readonly KubePod[]>;
  readonly ingressControllerPods: KubeSection<readonly KubePod[]>;
  /** `null` value: the ConfigMap does not exist. */
  readonly ciliumConfig: KubeSection<CiliumConfigSummary | null>;
  readonly bgp: KubeSection<BgpNodeConfigs>;
  readonly bgpPeerConfigs: KubeSection<BgpCrdList<BgpPeerConfig>>;
  readonly bgpAdvertisements: KubeSection<BgpCrdList<BgpAdvertisementObject>>;
  readonly bgpClusterConfigs: KubeSection<BgpCrdList<BgpClusterConfig>>;
  readonly services: KubeSection<readonly KubeServiceVips[]>;
  readonly addons: KubeSection<readonly AddonVersion[]>;
  readonly ingressLog: KubeLogView;
  readonly certificates: KubeSection<AcmeCertificates>;
  readonly ingresses: KubeSection<readonly KubeIngress[]>;
}

export interface KubeContextInfo {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
  /** Server URL of the context's cluster (undefined if the cluster entry is missing). */
  server?: string;
  current: boolean;
}

export interface LiveKubeSource extends KubeSource {
  /** Current immutable snapshot; a section keeps its identity until it changes. */
  snapshot(): KubeClusterSnapshot;
  /** Called (coalesced) after the snapshot changed. Returns the unsubscribe function. */
  onChange(cb: () => void): () => void;
  /** Contexts of the loaded kubeconfig, for `:ctx`. */
  contexts(): KubeContextInfo[];
  /** Resolves once every watch has answered once (or after `timeoutMs`). */
  whenSettled?(timeoutMs?: number): Promise<unknown>;
  /**
   * Cordon, drain and uncordon (node-ops.ts): the writes a rebuild with `--drain` makes,
   * through the same route and credentials as the watches.
   */
  nodeOps?(): KubeNodeOps;
  /** Switch to another kubeconfig context without restarting. */
  switchContext?(
    name: string,
  ): Promise<{ ok: boolean; context?: string; error?: { message: string } }>;
}

export function isLiveKubeSource(k: KubeSource | undefined): k is LiveKubeSource {
  return (
    k !== undefined &&
    typeof (k as Partial<LiveKubeSource>).snapshot === 'function' &&
    typeof (k as Partial<LiveKubeSource>).onChange === 'function'
  );
}
