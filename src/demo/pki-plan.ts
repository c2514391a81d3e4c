/**
 * What the demo lab's PKI contains: CAs, per-node leaves with their subjects/SANs/usages,
 * file names, simulated owners and modes, and the staggered ages that make countdowns
 * differ. Pure data derived from the inventory; lab.ts turns it into real files.
 */
import type { Inventory, NodeSpec } from '../config/types.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** 40 years including 10 leap days, like cfssl's `350640h`. */
export const ROOT_LIFETIME_MS = 350_640 * HOUR_MS;
export const INTERMEDIATE_LIFETIME_MS = 1_440 * HOUR_MS; // 60 days
export const LEAF_LIFETIME_MS = 336 * HOUR_MS; // 14 days

/** Where node-side CA material lives on the signer (intermediate keys; never the root key). */
export const SIGNER_CA_DIR = '/var/lib/k8ops/ca';
export const ROOT_ID = 'k8s-root';
export const ROOT_AGE_MS = 412 * DAY_MS;

export type CaId = 'kubernetes-ca' | 'etcd-ca' | 'front-proxy-ca';
export const CA_IDS: readonly CaId[] = ['kubernetes-ca', 'etcd-ca', 'front-proxy-ca'];

export interface DemoCaSpec {
  id: CaId;
  commonName: string;
  /** How long before generation the intermediate was issued. */
  ageMs: number;
}

/**
 * Intermediate ages are staggered so their countdowns differ, and all stay outside their
 * default renew window (1/3 of 60 d = 20 d) even when the lab is a day old: the oldest has
 * 24 d left at generation. (An age of 40 d would sit exactly on the window's edge.)
 */
export const DEMO_CAS: readonly DemoCaSpec[] = [
  { id: 'kubernetes-ca', commonName: 'kubernetes-ca', ageMs: 12 * DAY_MS },
  { id: 'front-proxy-ca', commonName: 'front-proxy-ca', ageMs: 24 * DAY_MS },
  { id: 'etcd-ca', commonName: 'etcd-ca', ageMs: 36 * DAY_MS },
];

export type LeafKind = 'server' | 'client' | 'peer';

export interface DemoLeafSpec {
  node: string;
  /** File stem: `<id>.pem` (leaf + intermediate) and `<id>-key.pem`. */
  id: string;
  ca: CaId;
  commonName: string;
  organizations: string[];
  kind: LeafKind;
  dnsNames: string[];
  ipAddresses: string[];
  owner: string;
  group: string;
  /** systemd units that use this certificate (restarted after rotation). */
  units: string[];
  /** How long before generation the leaf was issued. */
  ageMs: number;
}

/** One file of the lab, addressed by node-absolute path (or `offline/…` for the root). */
export interface DemoFileSpec {
  /** Node name, or undefined for the offline root material. */
  node?: string;
  /** Absolute path on the node (or relative to the lab's `offline/`). */
  path: string;
  kind: 'chain' | 'bundle' | 'ca-cert' | 'key' | 'public-key';
  mode: number;
  owner: string;
  group: string;
}

/** The one leaf inside its renew window: worker-2's kubelet serving certificate. */
export const RENEW_FAULT = { node: 'worker-2', id: 'kubelet' } as const;
/** Issued 9 d 18 h before generation: 4 d 6 h left (< 4 d 16 h), and still > 3 d after a day. */
const RENEW_FAULT_AGE_MS = 9.75 * DAY_MS;

const NODE_AGE_BASE_MS = 0.15 * DAY_MS;
const NODE_AGE_STEP_MS = 1.3 * DAY_MS;
const CERT_AGE_STEP_MS = 23 * 60_000;

const SERVICE_IP = '10.96.0.1';

const isControlPlane = (n: NodeSpec): boolean => n.roles.includes('control-plane');
const isEtcd = (n: NodeSpec): boolean => n.roles.includes('etcd');

type LeafDraft = Omit<DemoLeafSpec, 'node' | 'ageMs'>;

function controlPlaneLeaves(n: NodeSpec): LeafDraft[] {
  const addrs = n.addresses;
  const k8s = { owner: 'kubernetes', group: 'kubernetes' };
  return [
    {
      id: 'kube-apiserver',
      ca: 'kubernetes-ca',
      commonName: 'kube-apiserver',
      organizations: [],
      kind: 'server',
      dnsNames: [
        n.name,
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
      ipAddresses: [...addrs, SERVICE_IP, '127.0.0.1'],
      ...k8s,
      units: ['kube-apiserver.service'],
    },
    {
      id: 'apiserver-kubelet-client',
      ca: 'kubernetes-ca',
      commonName: 'kube-apiserver-kubelet-client',
      organizations: ['system:masters'],
      kind: 'client',
      dnsNames: [],
      ipAddresses: [],
      ...k8s,
      units: ['kube-apiserver.service'],
    },
    {
      id: 'apiserver-etcd-client',
      ca: 'etcd-ca',
      commonName: 'kube-apiserver-etcd-client',
      organizations: [],
      kind: 'client',
      dnsNames: [],
      ipAddresses: [],
      ...k8s,
      units: ['kube-apiserver.service'],
    },
    {
      id: 'front-proxy-client',
      ca: 'front-proxy-ca',
      commonName: 'front-proxy-client',
      organizations: [],
      kind: 'client',
      dnsNames: [],
      ipAddresses: [],
      ...k8s,
      units: ['kube-apiserver.service'],
    },
    {
      id: 'etcd-server',
      ca: 'etcd-ca',
      commonName: 'kube-etcd',
      organizations: [],
      kind: 'peer',
      dnsNames: ['localhost', n.name],
      ipAddresses: ['127.0.0.1', ...addrs],
      owner: 'etcd',
      group: 'etcd',
      units: ['etcd.service'],
    },
    {
      id: 'etcd-peer',
      ca: 'etcd-ca',
      commonName: 'kube-etcd-peer',
      organizations: [],
      kind: 'peer',
      dnsNames: ['localhost', n.name],
      ipAddresses: ['127.0.0.1', ...addrs],
      owner: 'etcd',
      group: 'etcd',
      units: ['etcd.service'],
    },
    {
      id: 'kube-controller-manager',
      ca: 'kubernetes-ca',
      commonName: 'system:kube-controller-manager',
      organizations: [],
      kind: 'client',
      dnsNames: [],
      ipAddresses: [],
      ...k8s,
      units: ['kube-controller-manager.service'],
    },
    {
      id: 'kube-scheduler',
      ca: 'kubernetes-ca',
      commonName: 'system:kube-scheduler',
      organizations: [],
      kind: 'client',
      dnsNames: [],
      ipAddresses: [],
      ...k8s,
      units: ['kube-scheduler.service'],
    },
    {
      id: 'kube-addon-manager',
      ca: 'kubernetes-ca',
      commonName: 'system:kube-addon-manager',
      organizations: [],
      kind: 'client',
      dnsNames: [],
      ipAddresses: [],
      ...k8s,
      units: ['kube-addon-manager.service'],
    },
  ];
}

function kubeletLeaves(n: NodeSpec): LeafDraft[] {
  return [
    {
      id: 'kubelet',
      ca: 'kubernetes-ca',
      commonName: `system:node:${n.name}`,
      organizations: ['system:nodes'],
      kind: 'server',
      dnsNames: [n.name],
      ipAddresses: [...n.addresses],
      owner: 'root',
      group: 'root',
      units: ['kubelet.service'],
    },
    {
      id: 'kubelet-client',
      ca: 'kubernetes-ca',
      commonName: `system:node:${n.name}`,
      organizations: ['system:nodes'],
      kind: 'client',
      dnsNames: [],
      ipAddresses: [],
      owner: 'root',
      group: 'root',
      units: ['kubelet.service'],
    },
  ];
}

/** Every leaf of one node, with its deterministic age. */
export function demoLeaves(n: NodeSpec): DemoLeafSpec[] {
  const drafts = [...(isControlPlane(n) ? controlPlaneLeaves(n) : []), ...kubeletLeaves(n)];
  return drafts.map((d, k) => {
    const fault = n.name === RENEW_FAULT.node && d.id === RENEW_FAULT.id;
    const ageMs = fault
      ? RENEW_FAULT_AGE_MS
      : NODE_AGE_BASE_MS + n.index * NODE_AGE_STEP_MS + k * CERT_AGE_STEP_MS;
    return { ...d, node: n.name, ageMs };
  });
}

/** CA bundles a node's PKI directory holds (the intermediates, never the root). */
export function demoBundles(n: NodeSpec): CaId[] {
  const out: CaId[] = ['kubernetes-ca'];
  if (isEtcd(n)) out.push('etcd-ca');
  if (isControlPlane(n)) out.push('front-proxy-ca');
  return out;
}

/** Units a node runs (the demo agent answers `active` for these). */
export function demoUnits(n: NodeSpec): string[] {
  const units = ['sshd.service', 'containerd.service', 'kubelet.service'];
  if (isControlPlane(n)) {
    units.push(
      'kube-apiserver.service',
      'kube-controller-manager.service',
      'kube-scheduler.service',
      'kube-addon-manager.service',
    );
  }
  if (isEtcd(n)) units.push('etcd.service');
  return units;
}

export const hasServiceAccountKeys = isControlPlane;

/** Every file the lab holds for `n`, with simulated owner/group and the real mode. */
export function demoNodeFiles(
  n: NodeSpec,
  pkiDir: string,
  signer: string | undefined,
): DemoFileSpec[] {
  const p = (name: string): string => `${pkiDir.replace(/\/+$/, '')}/${name}`;
  const files: DemoFileSpec[] = [];
  for (const l of demoLeaves(n)) {
    const own = { node: n.name, owner: l.owner, group: l.group };
    files.push({ ...own, path: p(`${l.id}.pem`), kind: 'chain', mode: 0o644 });
    files.push({ ...own, path: p(`${l.id}-key.pem`), kind: 'key', mode: 0o600 });
  }
  for (const b of demoBundles(n)) {
    files.push({
      node: n.name,
      path: p(`${b}.pem`),
      kind: 'bundle',
      mode: 0o644,
      owner: 'root',
      group: 'root',
    });
  }
  if (hasServiceAccountKeys(n)) {
    const own = { node: n.name, owner: 'kubernetes', group: 'kubernetes' };
    files.push({ ...own, path: p('sa.pub'), kind: 'public-key', mode: 0o644 });
    files.push({ ...own, path: p('sa-key.pem'), kind: 'key', mode: 0o600 });
  }
  if (n.name === signer) {
    const own = { node: n.name, owner: 'root', group: 'root' };
    files.push({ ...own, path: `${SIGNER_CA_DIR}/${ROOT_ID}.pem`, kind: 'ca-cert', mode: 0o644 });
    for (const ca of CA_IDS) {
      files.push({ ...own, path: `${SIGNER_CA_DIR}/${ca}.pem`, kind: 'ca-cert', mode: 0o644 });
      files.push({ ...own, path: `${SIGNER_CA_DIR}/${ca}-key.pem`, kind: 'key', mode: 0o600 });
    }
  }
  return files;
}

/** Every node file of the lab, plus the offline root pair. */
export function demoLabFiles(inv: Inventory): DemoFileSpec[] {
  const files = inv.nodes.flatMap((n) => demoNodeFiles(n, inv.pki.dir, inv.pki.signer));
  files.push(
    { path: `${ROOT_ID}.pem`, kind: 'ca-cert', mode: 0o644, owner: 'root', group: 'root' },
    { path: `${ROOT_ID}-key.pem`, kind: 'key', mode: 0o600, owner: 'root', group: 'root' },
  );
  return files;
}
