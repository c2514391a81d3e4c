/**
 * API discovery for CRDs whose served version depends on the installed release: Cilium's
 * BGP v2 kinds (CiliumBGPNodeConfig, CiliumBGPPeerConfig, CiliumBGPAdvertisement,
 * CiliumBGPClusterConfig) are `cilium.io/v2alpha1` up to Cilium 1.17 and `cilium.io/v2`
 * from 1.18 (v2alpha1 still served, deprecated). Read `/apis/<group>` (APIGroup: versions in
 * priority order + preferredVersion), then `/apis/<group>/<version>` (APIResourceList)
 * until a version serves the resource.
 */
import { isKubeError, type KubeError } from './errors.js';
import type { KubeHttp, RequestOptions } from './http.js';

export interface ServedResource {
  group: string;
  version: string;
  /** `group/version` */
  apiVersion: string;
  resource: string;
  kind?: string;
  namespaced: boolean;
  verbs: string[];
}

export type DiscoveryResult = { ok: true; served: ServedResource } | { ok: false; absent: string };

interface APIGroup {
  kind?: string;
  name?: string;
  versions?: Array<{ groupVersion?: string; version?: string }>;
  preferredVersion?: { groupVersion?: string; version?: string };
}

interface APIResourceList {
  kind?: string;
  groupVersion?: string;
  resources?: Array<{ name?: string; kind?: string; namespaced?: boolean; verbs?: string[] }>;
}

/** Versions to try, most preferred first. */
export function versionOrder(group: APIGroup, prefer: readonly string[] = []): string[] {
  const listed = (group.versions ?? []).map((v) => v.version).filter((v): v is string => !!v);
  const out: string[] = [];
  for (const v of prefer) if (listed.includes(v) && !out.includes(v)) out.push(v);
  const pv = group.preferredVersion?.version;
  if (pv && listed.includes(pv) && !out.includes(pv)) out.push(pv);
  for (const v of listed) if (!out.includes(v)) out.push(v);
  return out;
}

/**
 * How long a discovery answer is shared (the BGP kinds discover together at start). A
 * watch that finds its version gone (404) or its resource absent forgets the answers
 * (`forgetDiscovery`), so the next discovery asks the API server afresh.
 */
const SHARE_MS = 30_000;
const shared = new WeakMap<KubeHttp, Map<string, { at: number; p: Promise<unknown> }>>();

/**
 * A discovery document, shared between callers on the same transport for `SHARE_MS`:
 * the watches of several kinds of one group discover at the same moment, and ask the API
 * server once. A failure is not kept.
 */
function discoveryGet<T>(
  http: KubeHttp,
  path: string,
  ref: Parameters<KubeHttp['getJson']>[1],
  opts: RequestOptions,
): Promise<T> {
  let m = shared.get(http);
  if (!m) {
    m = new Map();
    shared.set(http, m);
  }
  const now = Date.now();
  const hit = m.get(path);
  if (hit && now - hit.at < SHARE_MS) return hit.p as Promise<T>;
  const { signal: _own, ...rest } = opts;
  // Not tied to one caller's signal: another caller may still want the answer.
  const p = http.getJson<T>(path, ref, rest);
  const entry = { at: now, p };
  m.set(path, entry);
  p.catch(() => {
    if (m.get(path) === entry) m.delete(path);
  });
  return p;
}

/** Drop the shared answers of this transport (a served version just went away). */
export function forgetDiscovery(http: KubeHttp): void {
  shared.delete(http);
}

/**
 * Which version of `group` serves `resource`. A group or version that is not served is
 * `{ok: false, absent}`; transport and auth errors reject (KubeError).
 */
export async function discoverResource(
  http: KubeHttp,
  group: string,
  resource: string,
  opts: RequestOptions & { prefer?: readonly string[] } = {},
): Promise<DiscoveryResult> {
  let g: APIGroup;
  try {
    g = await discoveryGet<APIGroup>(
      http,
      `/apis/${group}`,
      { verb: 'get', resource: 'apigroups', name: group },
      opts,
    );
  } catch (e) {
    if (isKubeError(e) && (e as KubeError).kind === 'not-found') {
      return { ok: false, absent: `API group ${group} is not served (its CRDs are not installed)` };
    }
    throw e;
  }
  const versions = versionOrder(g, opts.prefer);
  for (const v of versions) {
    let list: APIResourceList;
    try {
      list = await discoveryGet<APIResourceList>(
        http,
        `/apis/${group}/${v}`,
        { verb: 'get', resource: 'apiresources', name: `${group}/${v}` },
        opts,
      );
    } catch (e) {
      if (isKubeError(e) && (e as KubeError).kind === 'not-found') continue;
      throw e;
    }
    const r = (list.resources ?? []).find((x) => x.name === resource);
    if (r) {
      const served: ServedResource = {
        group,
        version: v,
        apiVersion: `${group}/${v}`,
        resource,
        namespaced: r.namespaced === true,
        verbs: Array.isArray(r.verbs) ? r.verbs.filter((x) => typeof x === 'string') : [],
      };
      if (r.kind) served.kind = r.kind;
      return { ok: true, served };
    }
  }
  return {
    ok: false,
    absent: `${resource}.${group} is not served (${group} serves ${versions.join(', ') || 'no versions'})`,
  };
}

export const BGP_NODE_CONFIGS = 'ciliumbgpnodeconfigs';
export const BGP_PEER_CONFIGS = 'ciliumbgppeerconfigs';
export const BGP_ADVERTISEMENTS = 'ciliumbgpadvertisements';
export const BGP_CLUSTER_CONFIGS = 'ciliumbgpclusterconfigs';

/** A cilium.io resource whose version moved with the release: v2 preferred, then v2alpha1. */
export function discoverCiliumResource(
  http: KubeHttp,
  resource: string,
  opts: RequestOptions = {},
): Promise<DiscoveryResult> {
  return discoverResource(http, 'cilium.io', resource, { ...opts, prefer: ['v2', 'v2alpha1'] });
}

/** CiliumBGPNodeConfig: v2 preferred, then v2alpha1. */
export function discoverBgpNodeConfigs(
  http: KubeHttp,
  opts: RequestOptions = {},
): Promise<DiscoveryResult> {
  return discoverCiliumResource(http, BGP_NODE_CONFIGS, opts);
}
