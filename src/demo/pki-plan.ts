/**
 * What the demo lab's PKI contains, derived from the layout (nix/pki/layout.json through
 * src/pki/layout.ts `planNode`) exactly as the node scripts derive a real node's PKI: the
 * same file names, CNs, Os, SANs, profiles, owners and modes. Added here: the staggered
 * ages that make countdowns differ, and the lab's intended faults. Pure data; lab.ts turns
 * it into real files.
 */
import type { Inventory, NodeSpec } from '../config/types.js';
import { isIpLiteral } from '../config/validate.js';
import type { Layout, LayoutCa, NodePlan, Profile } from '../pki/layout.js';
import { planNode } from '../pki/layout.js';
import { defaultLayout } from '../pki/layout-data.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** A cfssl/Go duration in whole hours (`350640h`) → ms; the layout's lifetimes are written so. */
export function lifetimeMs(text: string): number {
  const m = /^(\d+)h$/.exec(text);
  if (!m) throw new Error(`layout lifetime ${JSON.stringify(text)}: expected hours, e.g. "1440h"`);
  return Number(m[1]) * HOUR_MS;
}

const layout: Layout = defaultLayout();
const rootCa: LayoutCa = (() => {
  const r = layout.cas.find((c) => c.parent === null);
  if (!r) throw new Error('layout has no root CA');
  return r;
})();

/** 40 years including 10 leap days: cfssl's `350640h`, from the layout. */
export const ROOT_LIFETIME_MS = lifetimeMs(rootCa.lifetime);
export const INTERMEDIATE_LIFETIME_MS = lifetimeMs(
  layout.cas.find((c) => c.parent !== null)?.lifetime ?? '1440h',
);
/** The server/client/peer profiles' expiry (cfssl `336h`): the one definition, in pki/expiry. */
export { LEAF_LIFETIME_MS } from '../pki/expiry.js';

/** Where CA material lives on the signer (intermediate keys; never the root key). */
export const SIGNER_CA_DIR = layout.caDir;
export const ROOT_ID = rootCa.id;
export const ROOT_AGE_MS = 412 * DAY_MS;

export type CaId = string;

export interface DemoCaSpec {
  id: CaId;
  commonName: string;
  organizations: string[];
  pathlen: number;
  /** How long before generation the CA was issued. */
  ageMs: number;
}

export const ROOT_SPEC: DemoCaSpec = {
  id: rootCa.id,
  commonName: rootCa.cn,
  organizations: [...rootCa.o],
  pathlen: rootCa.pathlen,
  ageMs: ROOT_AGE_MS,
};

/**
 * Intermediate ages are staggered so their countdowns differ, and all stay outside their
 * renew window (less than one leaf lifetime + 2 d = 16 d left) even when the lab is a day
 * old: the oldest has 24 d left at generation.
 */
const CA_AGES_MS: Record<string, number> = {
  'kubernetes-ca': 12 * DAY_MS,
  'front-proxy-ca': 24 * DAY_MS,
  'etcd-ca': 36 * DAY_MS,
};

export const DEMO_CAS: readonly DemoCaSpec[] = layout.cas
  .filter((c) => c.parent !== null)
  .map((c, i) => ({
    id: c.id,
    commonName: c.cn,
    organizations: [...c.o],
    pathlen: c.pathlen,
    ageMs: CA_AGES_MS[c.id] ?? (12 + 12 * i) * DAY_MS,
  }));
export const CA_IDS: readonly CaId[] = DEMO_CAS.map((c) => c.id);

export type LeafKind = Extract<Profile, 'server' | 'client' | 'peer'>;

export interface DemoLeafSpec {
  node: string;
  /** Layout id, e.g. `kubelet`. */
  id: string;
  ca: CaId;
  commonName: string;
  organizations: string[];
  kind: LeafKind;
  dnsNames: string[];
  ipAddresses: string[];
  /** Node-absolute paths: the chain file (leaf + intermediate) and the key. */
  certPath: string;
  keyPath: string;
  owner: string;
  group: string;
  /** Key file mode (the layout's, except for the intended mode fault). */
  keyMode: number;
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
/** The second fault: a private key left world-readable (0644) on worker-3. */
export const KEY_MODE_FAULT = { node: 'worker-3', id: 'kubelet-client', mode: 0o644 } as const;

const NODE_AGE_BASE_MS = 0.15 * DAY_MS;
const NODE_AGE_STEP_MS = 1.3 * DAY_MS;
const CERT_AGE_STEP_MS = 23 * 60_000;
/** Larger inventories (benchmarks) repeat the six demo ages, so no leaf is expired or due. */
const AGE_CYCLE = 6;

const identity = (n: NodeSpec) => ({ name: n.name, roles: n.roles, addresses: n.addresses });

/** The layout's plan for one demo node. */
export function demoPlan(n: NodeSpec, pkiDir: string = layout.pkiDir): NodePlan {
  return planNode(layout, identity(n), { pkiDir });
}

/** Every leaf of one node, with its deterministic age. */
export function demoLeaves(n: NodeSpec, pkiDir?: string): DemoLeafSpec[] {
  return demoPlan(n, pkiDir).certs.map((c, k): DemoLeafSpec => {
    const fault = n.name === RENEW_FAULT.node && c.id === RENEW_FAULT.id;
    const modeFault = n.name === KEY_MODE_FAULT.node && c.id === KEY_MODE_FAULT.id;
    return {
      node: n.name,
      id: c.id,
      ca: c.ca,
      commonName: c.cn,
      organizations: [...c.o],
      kind: c.profile,
      // cfssl: a host that parses as an IP address becomes an IP SAN, anything else a DNS SAN.
      dnsNames: c.sans.filter((s) => !isIpLiteral(s)),
      ipAddresses: c.sans.filter((s) => isIpLiteral(s)),
      certPath: c.certPath,
      keyPath: c.keyPath,
      owner: c.owner,
      group: c.group,
      keyMode: modeFault ? KEY_MODE_FAULT.mode : c.mode,
      units: [...c.units],
      ageMs: fault
        ? RENEW_FAULT_AGE_MS
        : NODE_AGE_BASE_MS + (n.index % AGE_CYCLE) * NODE_AGE_STEP_MS + k * CERT_AGE_STEP_MS,
    };
  });
}

/** CA bundles a node's PKI directory holds (intermediates, never the root): path and CAs. */
export function demoBundles(n: NodeSpec, pkiDir?: string): Array<{ path: string; cas: CaId[] }> {
  return demoPlan(n, pkiDir).bundles.map((b) => ({ path: b.path, cas: [...b.cas] }));
}

/** Units a node runs (the demo agent answers `active` for these). */
export function demoUnits(n: NodeSpec): string[] {
  const plan = demoPlan(n);
  const units = new Set(['sshd.service', 'containerd.service']);
  for (const c of plan.certs) for (const u of c.units) units.add(u);
  for (const k of plan.keypairs) for (const u of k.units) units.add(u);
  return [...units];
}

export function hasServiceAccountKeys(n: NodeSpec): boolean {
  return demoPlan(n).keypairs.length > 0;
}

/** Every file the lab holds for `n`, with simulated owner/group and the real mode. */
export function demoNodeFiles(
  n: NodeSpec,
  pkiDir: string,
  signer: string | undefined,
): DemoFileSpec[] {
  const plan = demoPlan(n, pkiDir);
  const files: DemoFileSpec[] = [];
  for (const l of demoLeaves(n, pkiDir)) {
    const own = { node: n.name, owner: l.owner, group: l.group };
    files.push({ ...own, path: l.certPath, kind: 'chain', mode: 0o644 });
    files.push({ ...own, path: l.keyPath, kind: 'key', mode: l.keyMode });
  }
  for (const b of plan.bundles) {
    files.push({
      node: n.name,
      path: b.path,
      kind: 'bundle',
      mode: b.mode,
      owner: 'root',
      group: 'root',
    });
  }
  for (const k of plan.keypairs) {
    const own = { node: n.name, owner: k.owner, group: k.group };
    files.push({ ...own, path: k.pubPath, kind: 'public-key', mode: 0o644 });
    files.push({ ...own, path: k.keyPath, kind: 'key', mode: k.mode });
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
