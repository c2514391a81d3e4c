/**
 * The steps of choosing the API route that hold no state: the first status (from the
 * kubeconfig alone), a check of `/version`, and opening the SSH tunnel. Each returns its
 * failure as a value; none rejects.
 */
import { directEndpoint, type KubeEndpoint } from '../endpoint.js';
import { isKubeError, KubeError } from '../errors.js';
import type { KubeHttp } from '../http.js';
import { connectThroughTunnel, type KubeTunnel } from '../tunnel.js';
import type { KubeApiStatus } from '../types.js';
import type { WatchContext } from './kube-watch.js';
import { freeze } from './sections.js';

/** Failures at the network level: in `auto` mode they send k8ops to the tunnel. */
export const NETWORK_KINDS = new Set(['unreachable', 'timeout']);

export type Probe = { ok: true; version?: string } | { ok: false; error: KubeError };

export type TunnelResult = { ok: true; tunnel: KubeTunnel } | { ok: false; error: KubeError };

/** The direct endpoint (undefined when the kubeconfig gives none) and the status before any check. */
export function initialApi(ctx: WatchContext): {
  base: KubeEndpoint | undefined;
  status: KubeApiStatus;
} {
  let base: KubeEndpoint | undefined;
  let initialError: KubeError | undefined;
  try {
    base = directEndpoint(ctx.config);
  } catch (e) {
    initialError = isKubeError(e) ? e : new KubeError({ kind: 'kubeconfig', message: String(e) });
  }
  const cluster = ctx.config.kubeConfig.getCurrentCluster();
  let status = freeze<KubeApiStatus>({
    context: ctx.config.context,
    server: cluster?.server ?? '',
    via: ctx.mode === 'always' ? 'tunnel' : 'direct',
    tlsServerName: base?.verifyName ?? '',
    ...(initialError ? { error: initialError.toInfo(), reachable: false } : {}),
  });
  if (ctx.mode === 'always' && !ctx.openForward) {
    status = freeze({
      ...status,
      error: {
        kind: 'tunnel',
        message: 'kube.tunnel is set but no SSH forward is available for the API tunnel',
      },
    });
  }
  return { base, status };
}

/** GET /version. */
export async function probeVersion(http: KubeHttp, timeoutMs: number): Promise<Probe> {
  try {
    const v = await http.getJson<{ gitVersion?: string }>(
      '/version',
      { verb: 'get', resource: 'version' },
      { timeoutMs },
    );
    return typeof v.gitVersion === 'string' ? { ok: true, version: v.gitVersion } : { ok: true };
  } catch (e) {
    return {
      ok: false,
      error: isKubeError(e) ? e : new KubeError({ kind: 'unreachable', message: String(e) }),
    };
  }
}

/** A TCP forward to the API server over the SSH chain, with a client pointed at it. */
export async function openTunnel(ctx: WatchContext): Promise<TunnelResult> {
  const open = ctx.openForward;
  if (!open) {
    return {
      ok: false,
      error: new KubeError({
        kind: 'tunnel',
        message: 'no SSH forward is available for the API tunnel',
      }),
    };
  }
  try {
    return { ok: true, tunnel: await connectThroughTunnel(ctx.config, open) };
  } catch (e) {
    return {
      ok: false,
      error: isKubeError(e) ? e : new KubeError({ kind: 'tunnel', message: String(e) }),
    };
  }
}
