/**
 * The PKI layout (nix/pki/layout.json): the single source of truth for every certificate,
 * key and trust bundle, shared with the NixOS modules and the node scripts. This module
 * validates it and derives, for one node, the concrete plan (absolute paths, SANs, owners,
 * modes, units). Pure: text in, values out; errors as values.
 */
import type { Role } from '../config/types.js';

export type Profile = 'root' | 'intermediate' | 'server' | 'client' | 'peer';
export interface KeyOwner {
  owner: string;
  group: string;
  /** Octal string in the file, e.g. "0600". */
  mode: string;
}
export interface LayoutCa {
  id: string;
  cn: string;
  o: string[];
  parent: string | null;
  profile: 'root' | 'intermediate';
  lifetime: string;
  pathlen: number;
  offline: boolean;
  purpose: string;
}
export interface LayoutBundle {
  id: string;
  path: string;
  cas: string[];
  roles: Role[];
  mode: string;
  usedBy: string[];
}
export interface LayoutCert {
  id: string;
  purpose: string;
  cert: string;
  key: string;
  ca: string;
  profile: 'server' | 'client' | 'peer';
  cn: string;
  o: string[];
  sans: string[];
  roles: Role[];
  keyOwner: KeyOwner;
  units: string[];
  enabled: boolean;
}
export interface LayoutKeypair {
  id: string;
  purpose: string;
  key: string;
  pub: string;
  algo: 'ecdsa';
  size: number;
  roles: Role[];
  keyOwner: KeyOwner;
  units: string[];
  enabled: boolean;
}
export interface Layout {
  version: 1;
  pkiDir: string;
  caDir: string;
  defaults: { clusterDomain: string; serviceCIDR: string };
  cas: LayoutCa[];
  bundles: LayoutBundle[];
  certs: LayoutCert[];
  keypairs: LayoutKeypair[];
}

export interface NodeIdentity {
  name: string;
  roles: readonly Role[];
  addresses: readonly string[];
}
export interface ClusterParams {
  clusterDomain?: string;
  serviceCIDR?: string;
  apiserverAddress?: string;
  /** Overrides the layout's pkiDir. */
  pkiDir?: string;
}

export interface PlannedCert {
  id: string;
  purpose: string;
  certPath: string;
  keyPath: string;
  ca: string;
  profile: LayoutCert['profile'];
  cn: string;
  o: string[];
  sans: string[];
  owner: string;
  group: string;
  /** Key file mode, numeric (e.g. 0o600). */
  mode: number;
  units: string[];
}
export interface PlannedBundle {
  id: string;
  path: string;
  cas: string[];
  mode: number;
}
export interface PlannedKeypair {
  id: string;
  keyPath: string;
  pubPath: string;
  owner: string;
  group: string;
  mode: number;
  units: string[];
}
export interface NodePlan {
  node: string;
  pkiDir: string;
  certs: PlannedCert[];
  bundles: PlannedBundle[];
  keypairs: PlannedKeypair[];
}

export type LayoutResult = { ok: true; layout: Layout } | { ok: false; error: string };

const ROLES = new Set<string>(['control-plane', 'worker', 'etcd']);
const ID = /^[a-z0-9][a-z0-9-]*$/;
const REL_PATH = /^[A-Za-z0-9._-][A-Za-z0-9._/-]*$/;
const MODE = /^0[0-7]{3}$/;

/** Parse and validate layout.json; every problem is named with its JSON path. */
export function parseLayout(text: string): LayoutResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `layout is not JSON: ${(e as Error).message}` };
  }
  return validateLayout(raw);
}

/** Validate an already-parsed layout (e.g. the JSON module bundled with k8ops). */
export function validateLayout(raw: unknown): LayoutResult {
  const problems: string[] = [];
  const l = raw as Layout;
  if (typeof l !== 'object' || l === null) return { ok: false, error: 'layout is not an object' };
  if (l.version !== 1) problems.push(`version: expected 1, got ${JSON.stringify(l.version)}`);
  if (typeof l.pkiDir !== 'string' || !l.pkiDir.startsWith('/'))
    problems.push('pkiDir: expected an absolute path');
  if (typeof l.caDir !== 'string' || !l.caDir.startsWith('/'))
    problems.push('caDir: expected an absolute path');
  for (const key of ['cas', 'bundles', 'certs', 'keypairs'] as const) {
    if (!Array.isArray(l[key])) problems.push(`${key}: expected an array`);
  }
  if (problems.length) return { ok: false, error: problems.join('; ') };

  const ids = new Set<string>();
  const caIds = new Set(l.cas.map((c) => c.id));
  const checkId = (where: string, id: unknown) => {
    if (typeof id !== 'string' || !ID.test(id))
      problems.push(`${where}.id: expected a lowercase id, got ${JSON.stringify(id)}`);
    else if (ids.has(id)) problems.push(`${where}.id: duplicate id "${id}"`);
    else ids.add(id);
  };
  const checkPath = (where: string, p: unknown) => {
    if (typeof p !== 'string' || !REL_PATH.test(p) || p.split('/').includes('..'))
      problems.push(`${where}: expected a relative path without "..", got ${JSON.stringify(p)}`);
  };
  const checkRoles = (where: string, roles: unknown) => {
    if (!Array.isArray(roles) || roles.some((r) => !ROLES.has(r)))
      problems.push(`${where}: roles must be from control-plane, worker, etcd`);
  };
  const checkOwner = (where: string, o: KeyOwner | undefined) => {
    if (!o || typeof o.owner !== 'string' || typeof o.group !== 'string' || !MODE.test(o.mode))
      problems.push(`${where}.keyOwner: expected {owner, group, mode: "0600"}`);
    else if (o.mode !== '0600' && o.mode !== '0400')
      problems.push(`${where}.keyOwner.mode: private keys must be 0600 or 0400`);
  };
  l.cas.forEach((c, i) => {
    checkId(`cas[${i}]`, c.id);
    if (c.parent !== null && !caIds.has(c.parent))
      problems.push(`cas[${i}].parent: unknown CA "${c.parent}"`);
  });
  l.bundles.forEach((b, i) => {
    checkId(`bundles[${i}]`, b.id);
    checkPath(`bundles[${i}].path`, b.path);
    checkRoles(`bundles[${i}]`, b.roles);
    for (const ca of b.cas ?? [])
      if (!caIds.has(ca)) problems.push(`bundles[${i}].cas: unknown CA "${ca}"`);
  });
  l.certs.forEach((c, i) => {
    checkId(`certs[${i}]`, c.id);
    checkPath(`certs[${i}].cert`, c.cert);
    checkPath(`certs[${i}].key`, c.key);
    checkRoles(`certs[${i}]`, c.roles);
    checkOwner(`certs[${i}]`, c.keyOwner);
    if (!caIds.has(c.ca)) problems.push(`certs[${i}].ca: unknown CA "${c.ca}"`);
    if (!['server', 'client', 'peer'].includes(c.profile))
      problems.push(`certs[${i}].profile: expected server, client or peer`);
  });
  l.keypairs.forEach((k, i) => {
    checkId(`keypairs[${i}]`, k.id);
    checkPath(`keypairs[${i}].key`, k.key);
    checkPath(`keypairs[${i}].pub`, k.pub);
    checkRoles(`keypairs[${i}]`, k.roles);
    checkOwner(`keypairs[${i}]`, k.keyOwner);
  });
  return problems.length ? { ok: false, error: problems.join('; ') } : { ok: true, layout: l };
}

/** First host address of an IPv4 CIDR (10.96.0.0/12 → 10.96.0.1); undefined for anything else. */
export function firstServiceIP(cidr: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 30) return undefined;
  const n = octets.reduce((a, o) => a * 256 + o, 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const first = ((n & mask) >>> 0) + 1;
  return [24, 16, 8, 0].map((s) => (first >>> s) & 255).join('.');
}

/** Expand SAN templates for a node; duplicates removed, order kept. */
export function expandSans(
  templates: readonly string[],
  node: NodeIdentity,
  vars: Record<string, string | undefined>,
): string[] {
  const out: string[] = [];
  for (const t of templates) {
    if (t === '{nodeAddresses}') {
      out.push(...node.addresses);
      continue;
    }
    let dropped = false;
    const v = t.replace(/\{(\w+)\}/g, (_, name: string) => {
      const val = name === 'node' ? node.name : vars[name];
      if (val === undefined || val === '') dropped = true;
      return val ?? '';
    });
    if (!dropped) out.push(v);
  }
  return [...new Set(out)];
}

const applies = (roles: readonly Role[], node: NodeIdentity) =>
  roles.some((r) => node.roles.includes(r));
const abs = (dir: string, p: string) => (p.startsWith('/') ? p : `${dir.replace(/\/$/, '')}/${p}`);

/** Everything `node` must hold: enabled certs, bundles and key pairs for its roles. */
export function planNode(
  layout: Layout,
  node: NodeIdentity,
  cluster: ClusterParams = {},
): NodePlan {
  const pkiDir = cluster.pkiDir ?? layout.pkiDir;
  const vars = {
    clusterDomain: cluster.clusterDomain ?? layout.defaults.clusterDomain,
    serviceIP: firstServiceIP(cluster.serviceCIDR ?? layout.defaults.serviceCIDR),
    apiserverAddress: cluster.apiserverAddress,
  };
  return {
    node: node.name,
    pkiDir,
    certs: layout.certs
      .filter((c) => c.enabled && applies(c.roles, node))
      .map((c) => ({
        id: c.id,
        purpose: c.purpose,
        certPath: abs(pkiDir, c.cert),
        keyPath: abs(pkiDir, c.key),
        ca: c.ca,
        profile: c.profile,
        cn: c.cn.replaceAll('{node}', node.name),
        o: c.o,
        sans: expandSans(c.sans, node, vars),
        owner: c.keyOwner.owner,
        group: c.keyOwner.group,
        mode: Number.parseInt(c.keyOwner.mode, 8),
        units: c.units,
      })),
    bundles: layout.bundles
      .filter((b) => applies(b.roles, node))
      .map((b) => ({
        id: b.id,
        path: abs(pkiDir, b.path),
        cas: b.cas,
        mode: Number.parseInt(b.mode, 8),
      })),
    keypairs: layout.keypairs
      .filter((k) => k.enabled && applies(k.roles, node))
      .map((k) => ({
        id: k.id,
        keyPath: abs(pkiDir, k.key),
        pubPath: abs(pkiDir, k.pub),
        owner: k.keyOwner.owner,
        group: k.keyOwner.group,
        mode: Number.parseInt(k.keyOwner.mode, 8),
        units: k.units,
      })),
  };
}
