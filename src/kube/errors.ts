/**
 * Kubernetes API errors as typed values with one-line messages: what failed, against what,
 * and what to check. Built from the API's Status objects (401/403/404/410) and from
 * Node's network and TLS errors.
 */
import type { KubeErrorInfo } from './types.js';

export type KubeErrorKind =
  /** 401: the server does not accept the credentials. */
  | 'unauthorized'
  /** 403: authenticated, but RBAC denies the verb on the resource. */
  | 'forbidden'
  /** Connection refused / reset / no route / DNS. */
  | 'unreachable'
  /** No answer (connect, headers or stream idle) within the bound. */
  | 'timeout'
  /** TLS: unknown CA, name mismatch, expired, handshake failure. */
  | 'tls'
  /** The requested context is not in the kubeconfig. */
  | 'context-missing'
  /** No kubeconfig file, unreadable or invalid file, or an unusable entry. */
  | 'kubeconfig'
  /** 404 from the API. */
  | 'not-found'
  /** 410: the resourceVersion is too old (the watcher relists). */
  | 'gone'
  /** The SSH forward for the API tunnel could not be opened. */
  | 'tunnel'
  /** Any other HTTP error status. */
  | 'http'
  /** An answer that is not what the API sends (bad JSON, oversized event). */
  | 'protocol'
  | 'closed'
  | 'aborted';

/** What a request was doing, for messages: `list pods in namespace "kube-system"`. */
export interface ResourceRef {
  verb: string;
  /** Plural resource, e.g. `pods`, `pods/log`, `ciliumbgpnodeconfigs`. */
  resource: string;
  /** API group (`''` for core). */
  group?: string;
  namespace?: string;
  name?: string;
}

/** The Kubernetes `Status` object (metav1.Status). */
export interface KubeStatus {
  kind?: string;
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: unknown[] };
}

export interface KubeErrorInit {
  kind: KubeErrorKind;
  message: string;
  /** HTTP status code, when there was an answer. */
  code?: number;
  status?: KubeStatus;
  ref?: ResourceRef;
  /** Node's error code (`ECONNREFUSED`, `ERR_TLS_CERT_ALTNAME_INVALID`, …). */
  errno?: string;
  cause?: unknown;
}

export class KubeError extends Error {
  override readonly name = 'KubeError';
  readonly kind: KubeErrorKind;
  readonly code?: number;
  readonly status?: KubeStatus;
  readonly ref?: ResourceRef;
  readonly errno?: string;

  constructor(init: KubeErrorInit) {
    super(oneLine(init.message), init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    if (init.code !== undefined) this.code = init.code;
    if (init.status !== undefined) this.status = init.status;
    if (init.ref !== undefined) this.ref = init.ref;
    if (init.errno !== undefined) this.errno = init.errno;
  }

  toInfo(): KubeErrorInfo {
    return { kind: this.kind, message: this.message };
  }
}

export function isKubeError(e: unknown): e is KubeError {
  return e instanceof KubeError;
}

const MAX_MESSAGE = 300;

export function oneLine(s: string, max = MAX_MESSAGE): string {
  const flat = s
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `pods in namespace "kube-system"`, `ciliumbgpnodeconfigs.cilium.io`, `node "cp-1"`. */
export function describeResource(ref: Omit<ResourceRef, 'verb'>): string {
  const res = ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
  const named = ref.name ? `${res} "${ref.name}"` : res;
  return ref.namespace ? `${named} in namespace "${ref.namespace}"` : named;
}

/** `forbidden` message parts from a real 403 Status message. */
const FORBIDDEN_RE =
  /User "([^"]*)" cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)"| at the cluster scope)?/;

/** An HTTP error answer (status code + body) as a KubeError. */
export function errorFromResponse(
  code: number,
  body: string,
  ref: ResourceRef,
  context?: { server?: string; user?: string },
): KubeError {
  const status = parseStatus(body);
  const what = `${ref.verb} ${describeResource(ref)}`;
  if (code === 401) {
    const who = context?.user ? ` of kubeconfig user "${context.user}"` : '';
    return new KubeError({
      kind: 'unauthorized',
      code,
      ref,
      ...(status ? { status } : {}),
      message: `unauthorized: the API server rejected the credentials${who} (401 ${status?.message ?? 'Unauthorized'}) on ${what}`,
    });
  }
  if (code === 403) {
    const m = status?.message ? FORBIDDEN_RE.exec(status.message) : null;
    let message: string;
    if (m) {
      const [, user, verb, resource, group, ns] = m;
      const res = describeResource({
        resource: resource ?? ref.resource,
        group: group ?? ref.group ?? '',
        ...(ns ? { namespace: ns } : {}),
        ...(ref.name ? { name: ref.name } : {}),
      });
      const scope = ns ? '' : ' at the cluster scope';
      message = `forbidden: User "${user}" cannot ${verb} ${res}${scope} (403)`;
    } else {
      const detail = status?.message ? `: ${status.message}` : '';
      message = `forbidden: cannot ${what} (403)${detail}`;
    }
    return new KubeError({ kind: 'forbidden', code, ref, ...(status ? { status } : {}), message });
  }
  if (code === 404) {
    return new KubeError({
      kind: 'not-found',
      code,
      ref,
      ...(status ? { status } : {}),
      message: `not found: ${what}: ${status?.message ?? 'the server could not find the requested resource'} (404)`,
    });
  }
  if (code === 410) {
    return new KubeError({
      kind: 'gone',
      code,
      ref,
      ...(status ? { status } : {}),
      message: `gone: ${what}: ${status?.message ?? 'resource version too old'} (410)`,
    });
  }
  const text = status?.message ?? (body.trim() ? body.trim() : `HTTP ${code}`);
  return new KubeError({
    kind: 'http',
    code,
    ref,
    ...(status ? { status } : {}),
    message: `${what} failed: ${text} (${code}${status?.reason ? ` ${status.reason}` : ''})`,
  });
}

/** A Status object from an ERROR watch event (code 410 → `gone`, others like an HTTP answer). */
export function errorFromWatchStatus(obj: unknown, ref: ResourceRef): KubeError {
  const status = (obj && typeof obj === 'object' ? obj : {}) as KubeStatus;
  const code = typeof status.code === 'number' ? status.code : 500;
  return errorFromResponse(code, JSON.stringify(status), ref);
}

export function parseStatus(body: string): KubeStatus | undefined {
  if (!body.trim().startsWith('{')) return undefined;
  try {
    const v = JSON.parse(body) as unknown;
    if (v && typeof v === 'object' && (v as KubeStatus).kind === 'Status') return v as KubeStatus;
  } catch {
    // not JSON
  }
  return undefined;
}

const UNKNOWN_CA = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'INVALID_CA',
]);

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'name not found',
  EAI_AGAIN: 'name lookup failed',
  EPIPE: 'connection closed',
  ECONNABORTED: 'connection aborted',
};

/**
 * A network or TLS error from node:https as a KubeError. `target` is the `host:port`
 * dialled (or `host:port via 127.0.0.1:N`), `verifyName` the name the certificate must match.
 */
export function errorFromNetwork(
  err: unknown,
  target: string,
  verifyName: string,
  ref?: ResourceRef,
): KubeError {
  if (err instanceof KubeError) return err;
  const e = (err ?? {}) as NodeJS.ErrnoException & { reason?: string };
  const code = typeof e.code === 'string' ? e.code : '';
  const base = { errno: code, cause: err, ...(ref ? { ref } : {}) };
  const raw = e.message ?? String(err);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = /cert's altnames: (.*)$/.exec(e.reason ?? raw)?.[1];
    return new KubeError({
      ...base,
      kind: 'tls',
      message: `TLS: the API server's certificate is not valid for "${verifyName}"${names ? ` (it names ${names})` : ''}; check the server URL or tls-server-name`,
    });
  }
  if (UNKNOWN_CA.has(code)) {
    const hint =
      code === 'UNABLE_TO_GET_ISSUER_CERT' && !partialTrustChainSupported()
        ? `; Node.js ${process.versions.node} cannot trust an intermediate CA alone (allowPartialTrustChain needs 20.18+ / 22.9+): add the root to certificate-authority-data or upgrade Node`
        : '; check certificate-authority(-data)';
    return new KubeError({
      ...base,
      kind: 'tls',
      message: `TLS: the API server's certificate at ${target} is not signed by the CA in the kubeconfig (${code})${hint}`,
    });
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new KubeError({
      ...base,
      kind: 'tls',
      message: `TLS: the API server's certificate at ${target} ${code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not yet valid'} (${code})`,
    });
  }
  if (
    /alert (unknown ca|bad certificate|certificate required|certificate unknown|handshake failure|certificate expired|decrypt error)/i.test(
      raw,
    ) ||
    code.startsWith('ERR_SSL_')
  ) {
    const alert = /alert ([a-z ]+?)(?::|$)/i.exec(raw)?.[1] ?? code;
    return new KubeError({
      ...base,
      kind: 'tls',
      message: `TLS handshake with ${target} failed (${alert.trim()}); the server may not accept the client certificate in the kubeconfig`,
    });
  }
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || (e as Error).name === 'TimeoutError') {
    return new KubeError({
      ...base,
      kind: 'timeout',
      message: `API server ${target} did not answer in time (${code || 'timeout'})`,
    });
  }
  if (code in UNREACHABLE) {
    return new KubeError({
      ...base,
      kind: 'unreachable',
      message: `API server ${target} unreachable: ${UNREACHABLE[code]} (${code})`,
    });
  }
  if ((e as Error).name === 'AbortError' || code === 'ABORT_ERR') {
    return new KubeError({ ...base, kind: 'aborted', message: 'request aborted' });
  }
  return new KubeError({
    ...base,
    kind: 'unreachable',
    message: `API server ${target}: ${oneLine(raw, 200)}${code ? ` (${code})` : ''}`,
  });
}

/** Node ≥ 20.18 / ≥ 22.9 honour `allowPartialTrustChain` (an intermediate CA as trust anchor). */
export function partialTrustChainSupported(version = process.versions.node): boolean {
  const [maj = 0, min = 0] = version.split('.').map(Number);
  if (maj === 20) return min >= 18;
  if (maj === 22) return min >= 9;
  return maj >= 23;
}

/** Any thrown value as a pane-ready `{kind, message}`. */
export function toKubeErrorInfo(e: unknown): KubeErrorInfo {
  if (e instanceof KubeError) return e.toInfo();
  const msg = e instanceof Error ? e.message : String(e);
  return { kind: 'error', message: oneLine(msg || 'unknown error') };
}
