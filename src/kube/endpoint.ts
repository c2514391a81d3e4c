/**
 * Where and how to reach the API server of one context: the TCP target (the server's
 * host:port, or a local forward through the SSH tunnel), the name the server certificate
 * must match, and the credentials from the kubeconfig.
 *
 * TLS follows kubectl: the certificate must chain to `certificate-authority(-data)` (a
 * non-self-signed CA such as the `kubernetes-ca` intermediate counts as a trust anchor, as
 * in Go — Node needs `allowPartialTrustChain` for that) and match `tls-server-name` if set,
 * else the server URL's host (DNS name or IP SAN).
 */
import { isIP } from 'node:net';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import { KubeError } from './errors.js';
import type { KubeContextConfig } from './kubeconfig.js';
import type { KubeRoute } from './types.js';

export interface KubeCredentials {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  passphrase?: string;
  /** Authorization (bearer/basic), Impersonate-User… */
  headers: Record<string, string>;
}

export interface KubeEndpoint {
  readonly context: string;
  /** kubeconfig user entry name (for messages). */
  readonly user: string;
  /** The server URL from the kubeconfig. */
  readonly server: string;
  readonly serverHost: string;
  readonly serverPort: number;
  /** Path prefix of the server URL (usually empty). */
  readonly basePath: string;
  /** Where TCP connections go. */
  readonly connectHost: string;
  readonly connectPort: number;
  /** The name the server certificate must match. */
  readonly verifyName: string;
  /** SNI to send: the verify name unless it is an IP literal (RFC 6066 forbids IPs in SNI). */
  readonly sni?: string;
  readonly via: KubeRoute;
  readonly insecureSkipTlsVerify: boolean;
  /** `host:port` for messages (`host:port via 127.0.0.1:N` when tunnelled). */
  readonly target: string;
  /** TLS material and headers, re-read at most every few seconds (rotated client certs are picked up). */
  credentials(): Promise<KubeCredentials>;
}

function parseServer(cluster: Cluster): { host: string; port: number; basePath: string } {
  const u = new URL(cluster.server);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port ? Number(u.port) : 443;
  const basePath = u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, '');
  return { host, port, basePath };
}

const CREDENTIAL_TTL_MS = 5000;

function credentialReader(kc: KubeConfig, context: string): () => Promise<KubeCredentials> {
  let cached: { at: number; value: KubeCredentials } | undefined;
  return async () => {
    const now = Date.now();
    if (cached && now - cached.at < CREDENTIAL_TTL_MS) return cached.value;
    const opts: {
      ca?: Buffer;
      cert?: Buffer;
      key?: Buffer;
      passphrase?: string;
      headers?: Record<string, string | number | string[]>;
      auth?: string;
    } = {};
    try {
      await kc.applyToHTTPSOptions(opts);
    } catch (e) {
      throw new KubeError({
        kind: 'kubeconfig',
        message: `context "${context}": cannot read credentials: ${(e as Error).message}`,
        cause: e,
      });
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    const value: KubeCredentials = { headers };
    if (opts.ca) value.ca = opts.ca;
    if (opts.cert) value.cert = opts.cert;
    if (opts.key) value.key = opts.key;
    if (opts.passphrase) value.passphrase = opts.passphrase;
    cached = { at: now, value };
    return value;
  };
}

/** The endpoint of the selected context, reached directly. */
export function directEndpoint(cfg: KubeContextConfig): KubeEndpoint {
  const kc = cfg.kubeConfig;
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster || !user) {
    throw new KubeError({
      kind: 'kubeconfig',
      message: `context "${cfg.context}" has no cluster or user entry`,
    });
  }
  let parsed: { host: string; port: number; basePath: string };
  try {
    parsed = parseServer(cluster);
  } catch {
    throw new KubeError({
      kind: 'kubeconfig',
      message: `cluster "${cluster.name}": invalid server URL ${JSON.stringify(cluster.server)}`,
    });
  }
  const verifyName = cluster.tlsServerName || parsed.host;
  const ep: KubeEndpoint = {
    context: cfg.context,
    user: user.name,
    server: cluster.server,
    serverHost: parsed.host,
    serverPort: parsed.port,
    basePath: parsed.basePath,
    connectHost: parsed.host,
    connectPort: parsed.port,
    verifyName,
    ...(isIP(verifyName) ? {} : { sni: verifyName }),
    via: 'direct',
    insecureSkipTlsVerify: cluster.skipTLSVerify === true,
    target: `${hostPort(parsed.host, parsed.port)}`,
    credentials: credentialReader(kc, cfg.context),
  };
  return ep;
}

/** The same endpoint, dialled at `127.0.0.1:<localPort>`; TLS still verifies the real name. */
export function tunnelledEndpoint(base: KubeEndpoint, localPort: number): KubeEndpoint {
  return {
    ...base,
    connectHost: '127.0.0.1',
    connectPort: localPort,
    via: 'tunnel',
    target: `${hostPort(base.serverHost, base.serverPort)} via tunnel 127.0.0.1:${localPort}`,
  };
}

export function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
