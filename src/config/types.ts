/**
 * The validated inventory (k8ops.yaml) as the rest of k8ops sees it.
 * Produced by `loadInventory` (src/config/load.ts) from the zod schema in schema.ts;
 * every optional field of the file has its default filled in here.
 * Durations are milliseconds.
 */

export type Role = 'control-plane' | 'worker' | 'etcd';
export const ROLES: readonly Role[] = ['control-plane', 'worker', 'etcd'];

export interface NodeSpec {
  /** Unique node name, `[a-z0-9]([-a-z0-9]*[a-z0-9])?` (a DNS label), used in the UI and in paths. */
  name: string;
  /** Inventory index (0-based, unique): node i of N gets rotation slot i × spread / N. */
  index: number;
  /** SSH destination: a host name, an IP address or an alias from ~/.ssh/config. Defaults to `name`. */
  host: string;
  /** Node addresses (IPv4/IPv6 literals) used for SANs and MTU probes. */
  addresses: string[];
  roles: Role[];
  /** Per-node SSH overrides; undefined fields fall back to `ssh` defaults. */
  ssh?: Partial<SshDefaults>;
}

export interface SshDefaults {
  /** Remote user; undefined = whatever OpenSSH config resolves. */
  user?: string;
  /** ProxyJump chain, first hop first (each `[user@]host[:port]` or an ssh alias). */
  jump: string[];
  /** known_hosts file; undefined = OpenSSH config / ~/.ssh/known_hosts. */
  knownHosts?: string;
  /** Identity file; undefined = ssh-agent, then OpenSSH config. */
  identity?: string;
  port?: number;
  connectTimeoutMs: number;
}

export interface KubeSettings {
  kubeconfig?: string;
  context?: string;
  /** Reach the API server through the SSH jump chain. */
  tunnel: boolean;
}

export interface PkiSettings {
  /** Directory on the nodes that holds certificates and keys. */
  dir: string;
  /** Node name (or ssh host) that holds the intermediate CA keys and signs. */
  signer?: string;
  /** The root CA key is kept offline (never on the signer). */
  rootOffline: boolean;
}

export interface RotationSettings {
  /** Renew this long before notAfter; undefined = one third of the certificate's lifetime. */
  renewBeforeMs?: number;
  /** Jitter spread across nodes. */
  spreadMs: number;
  /** Minimum gap between two control-plane rotations. */
  cpGapMs: number;
  /** A schedule leaving less than this before notAfter is flagged. */
  minRemainingMs: number;
  /** An intermediate's successor is in every bundle this long before it signs (default 24 h). */
  bundleLeadMs?: number;
  /** Old service-account public keys stay trusted this long after the switch (default 48 h). */
  saOverlapMs?: number;
}

export type BgpRouterKind = 'gobgp' | 'bird';
export interface BgpRouter {
  name: string;
  kind: BgpRouterKind;
  /** SSH destination of the router. */
  host: string;
  /** BIRD: control socket for `birdc -s` (default: birdc's compiled-in path). */
  socket?: string;
  /** GoBGP: gRPC API `host:port` for `gobgp -u HOST -p PORT` (default 127.0.0.1:50051). */
  api?: string;
}

/** TLS to hubble-relay (its server TLS; a client certificate when it requires mTLS). */
export interface RelayTls {
  /** CA bundle file (local path, resolved against the inventory's directory). */
  ca: string;
  /** Name checked in relay's certificate and sent as SNI/authority. */
  serverName: string;
  cert?: string;
  key?: string;
}

export type HubbleSource =
  | { kind: 'node-socket'; socket: string }
  | { kind: 'relay'; address: string; tls?: RelayTls };

export interface NetworkSettings {
  targetMtu: number;
  bgpRouters: BgpRouter[];
  hubble?: HubbleSource;
}

export interface IngressSettings {
  namespace: string;
  cacheZone: string;
  /** Access log file on the nodes, read over SSH (`tail -n`) instead of the controller logs. */
  logFile?: string;
  /** Nodes whose `logFile` is read (default: every node). */
  logNodes?: string[];
}

export interface AddonsSettings {
  /** Path of the addons JSON manifest (relative paths are relative to the inventory file). */
  manifest?: string;
  /**
   * Nodes whose rebuild applies the pins (they run kube-addon-manager); absent: the
   * control-plane nodes (nix/lib/pki-options.nix: `components.addonManager = isControlPlane`).
   */
  applyOn?: string[];
  /** How long a sync watches the deployed versions converge after the rebuild (default 10 min). */
  convergeTimeoutMs?: number;
}

export interface RebuildSettings {
  /**
   * The flake holding the nodes' configurations (`nixosConfigurations.<node>`); a path is
   * relative to the inventory file (runOn local) or absolute on the node (runOn node).
   */
  flake?: string;
  /** Where nixos-rebuild runs: here with --target-host (default), or on the node itself. */
  runOn: 'local' | 'node';
  /** Bound of one node's nixos-rebuild (default 1 h): killed and failed past it. */
  timeoutMs?: number;
}

export interface Inventory {
  /** Absolute path of the file this came from (or `<demo>`). */
  source: string;
  /**
   * SHA-256 (hex) of the file's bytes as loaded (loadInventory), to refuse writing over a
   * file that changed since; absent for an inventory not read from a file.
   */
  sourceDigest?: string;
  cluster: string;
  nodes: NodeSpec[];
  ssh: SshDefaults;
  kube: KubeSettings;
  pki: PkiSettings;
  rotation: RotationSettings;
  network: NetworkSettings;
  ingress: IngressSettings;
  addons: AddonsSettings;
  /** Absent in inventories built in code (tests): rebuild unavailable. */
  rebuild?: RebuildSettings;
}
