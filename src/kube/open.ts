/**
 * One call for the session: kubeconfig + context from the inventory (and `--context`),
 * the tunnel mode from `kube.tunnel`, and a SwitchableKubeSource for `:ctx`.
 */
import type { Inventory } from '../config/types.js';
import {
  KubeClusterSource,
  type KubeLimits,
  type KubeTiming,
  type TunnelMode,
} from './cluster-source.js';
import type { KubeError } from './errors.js';
import { type KubeContextConfig, loadKubeContext } from './kubeconfig.js';
import { SwitchableKubeSource } from './switchable.js';
import type { OpenForward } from './tunnel.js';

export interface OpenKubeOptions {
  inventory: Pick<Inventory, 'kube' | 'ingress'>;
  /** `--context`: wins over the inventory's `kube.context`. */
  context?: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
  /** The SSH layer's TCP forward (through the jump chain); enables the tunnel. */
  openForward?: OpenForward;
  limits?: Partial<KubeLimits>;
  timing?: Partial<KubeTiming>;
}

export type OpenKubeResult =
  | { ok: true; source: SwitchableKubeSource; config: KubeContextConfig; mode: TunnelMode }
  | { ok: false; error: KubeError };

/** `kube.tunnel: true` → always; otherwise direct, falling back to the tunnel when a forward is available. */
export function tunnelModeFor(tunnel: boolean, hasForward: boolean): TunnelMode {
  if (tunnel) return 'always';
  return hasForward ? 'auto' : 'off';
}

export async function openKubeSource(opts: OpenKubeOptions): Promise<OpenKubeResult> {
  const kube = opts.inventory.kube;
  const loaded = await loadKubeContext({
    ...(kube.kubeconfig ? { path: kube.kubeconfig } : {}),
    ...((opts.context ?? kube.context) ? { context: opts.context ?? kube.context } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.home ? { home: opts.home } : {}),
  });
  if (!loaded.ok) return loaded;
  const mode = tunnelModeFor(kube.tunnel, opts.openForward !== undefined);
  const inner = new KubeClusterSource({
    config: loaded.config,
    tunnel: mode,
    ...(opts.openForward ? { openForward: opts.openForward } : {}),
    ingressNamespace: opts.inventory.ingress.namespace,
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.timing ? { timing: opts.timing } : {}),
  });
  return { ok: true, source: new SwitchableKubeSource(inner), config: loaded.config, mode };
}

/** Adapt an SSH host's TCP forward (src/ssh `SshHost.forwardTcp`) to `OpenForward`. */
export function forwardVia(host: {
  forwardTcp(
    remoteHost: string,
    remotePort: number,
  ): Promise<{ port: number; close(): Promise<void> }>;
}): OpenForward {
  return async (remoteHost, remotePort) => {
    const f = await host.forwardTcp(remoteHost, remotePort);
    return { localPort: f.port, close: () => f.close() };
  };
}
