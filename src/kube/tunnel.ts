/**
 * The API server through the SSH chain: the SSH layer opens a local TCP forward to the
 * server's host:port (as seen from the bastion) and k8ops dials `127.0.0.1:<localPort>`,
 * still verifying the server certificate against the real name (`tls-server-name`, else
 * the server URL's host) and sending it as SNI.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { directEndpoint, type KubeEndpoint, tunnelledEndpoint } from './endpoint.js';
import { KubeError, oneLine } from './errors.js';
import { type KubeContextConfig, kubeConfigClass } from './kubeconfig.js';

export interface LocalForwardHandle {
  localPort: number;
  close(): Promise<void>;
}

/** Opens a TCP forward to `host:port` through the SSH chain (src/ssh provides it). */
export type OpenForward = (host: string, port: number) => Promise<LocalForwardHandle>;

export interface KubeTunnel {
  /** The endpoint k8ops' transport uses: 127.0.0.1:<localPort>, TLS name = the real one. */
  readonly endpoint: KubeEndpoint;
  /**
   * The same, as a library KubeConfig (server = https://127.0.0.1:<port>, tls-server-name
   * = the real name), for code that uses @kubernetes/client-node's own clients. Note the
   * library passes tls-server-name as SNI; Node warns (DEP0123) when that is an IP.
   */
  readonly kubeConfig: KubeConfig;
  readonly localPort: number;
  /** `host:port` the forward reaches. */
  readonly target: string;
  close(): Promise<void>;
}

/**
 * Open a forward to the selected context's API server and point the client at it.
 * Rejects with a KubeError (`tunnel` when the forward cannot be opened, `kubeconfig`).
 */
export async function connectThroughTunnel(
  kc: KubeContextConfig,
  openForward: OpenForward,
): Promise<KubeTunnel> {
  const base = directEndpoint(kc);
  const target = `${base.serverHost}:${base.serverPort}`;
  let fwd: LocalForwardHandle;
  try {
    fwd = await openForward(base.serverHost, base.serverPort);
  } catch (e) {
    throw new KubeError({
      kind: 'tunnel',
      message: `SSH tunnel to the API server ${target} could not be opened: ${oneLine((e as Error)?.message ?? String(e), 200)}`,
      cause: e,
    });
  }
  const endpoint = tunnelledEndpoint(base, fwd.localPort);
  const Ctor = await kubeConfigClass();
  const lib = new Ctor();
  const src = kc.kubeConfig;
  const cur = src.getCurrentCluster()!;
  lib.loadFromOptions({
    clusters: src.clusters.map((c) =>
      c.name === cur.name
        ? {
            ...c,
            server: `https://127.0.0.1:${fwd.localPort}${base.basePath}`,
            tlsServerName: base.verifyName,
          }
        : c,
    ),
    users: src.users,
    contexts: src.contexts,
    currentContext: src.currentContext,
  });
  let closed = false;
  return {
    endpoint,
    kubeConfig: lib,
    localPort: fwd.localPort,
    target,
    close: async () => {
      if (closed) return;
      closed = true;
      await fwd.close().catch(() => undefined);
    },
  };
}
