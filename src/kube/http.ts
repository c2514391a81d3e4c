/**
 * The HTTP transport to the API server: node:https with the kubeconfig's TLS material,
 * a timeout on every request (connect + headers, body, and idle time on streams), bounded
 * bodies and bounded lines, and every failure as a KubeError.
 *
 * Why not the library's generated clients / Watch / Log: in @kubernetes/client-node 1.4
 * they cannot trust an intermediate CA on Node (no `allowPartialTrustChain`: a kubeconfig
 * holding only `kubernetes-ca` fails with UNABLE_TO_GET_ISSUER_CERT), `Watch` drops the
 * body of error answers (no Status → no "forbidden: verb resource") and has no idle
 * timeout, and neither lets the tunnel keep verifying the real server name when the
 * server is an IP. Kubeconfig parsing and credentials still come from the library.
 */
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { KubeEndpoint } from './endpoint.js';
import { errorFromNetwork, errorFromResponse, KubeError, type ResourceRef } from './errors.js';

export interface KubeHttpOptions {
  /** Connect + TLS + response headers. */
  connectTimeoutMs: number;
  /** Whole request including the body (JSON requests). */
  requestTimeoutMs: number;
  /** Largest JSON body accepted. */
  maxBodyBytes: number;
}

export const DEFAULT_HTTP_OPTIONS: KubeHttpOptions = {
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxBodyBytes: 64 * 1024 * 1024,
};

export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface StreamOptions {
  signal?: AbortSignal;
  /** Connect + headers bound (default: the transport's). */
  connectTimeoutMs?: number;
  /** Abort when no bytes arrive for this long (0 = no idle bound). */
  idleTimeoutMs: number;
  /** Longest line kept. */
  maxLineBytes: number;
  /** `truncate`: cut long lines (logs); `error`: fail the stream (watch events). */
  oversize: 'truncate' | 'error';
  /** Called once the server answered 200. */
  onOpen?: () => void;
  /** One line (without the newline). Return `false` to stop the stream. */
  onLine: (line: string, truncated: boolean) => boolean | undefined;
}

const MAX_ERROR_BODY = 64 * 1024;

export class KubeHttp {
  readonly endpoint: KubeEndpoint;
  readonly #opts: KubeHttpOptions;
  readonly #agent: https.Agent;
  readonly #live = new Set<{ destroy(err?: Error): void }>();
  #closed = false;

  constructor(endpoint: KubeEndpoint, opts: Partial<KubeHttpOptions> = {}) {
    this.endpoint = endpoint;
    this.#opts = { ...DEFAULT_HTTP_OPTIONS, ...opts };
    this.#agent = new https.Agent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 4 });
  }

  /** GET a JSON document. */
  async getJson<T>(path: string, ref: ResourceRef, opts: RequestOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.#opts.requestTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const res = await this.#open(path, ref, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      timeoutMs: Math.min(timeoutMs, this.#opts.connectTimeoutMs),
      agent: this.#agent,
    });
    const body = await this.#readBody(res, this.#opts.maxBodyBytes, deadline - Date.now(), ref);
    try {
      return JSON.parse(body) as T;
    } catch {
      throw new KubeError({
        kind: 'protocol',
        ref,
        message: `${ref.verb} ${ref.resource}: the API server sent invalid JSON (${body.length} bytes)`,
      });
    }
  }

  /**
   * Send a JSON (or patch) document with `method` and read the JSON answer (200, 201 or 202):
   * PATCH of a node, POST of an Eviction. An error answer is a KubeError with its `code`
   * and the API's Status (429 TooManyRequests for an eviction a disruption budget refuses).
   */
  async sendJson<T>(
    method: 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    path: string,
    body: unknown,
    ref: ResourceRef,
    opts: RequestOptions & { contentType?: string } = {},
  ): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.#opts.requestTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const res = await this.#open(path, ref, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      timeoutMs: Math.min(timeoutMs, this.#opts.connectTimeoutMs),
      agent: this.#agent,
      method,
      body: JSON.stringify(body),
      contentType: opts.contentType ?? 'application/json',
    });
    const text = await this.#readBody(res, 1 << 20, deadline - Date.now(), ref);
    try {
      return (text.trim() === '' ? {} : JSON.parse(text)) as T;
    } catch {
      throw new KubeError({
        kind: 'protocol',
        ref,
        message: `${ref.verb} ${ref.resource}: the API server sent invalid JSON (${text.length} bytes)`,
      });
    }
  }

  /**
   * GET a streaming response (watch, log follow) and deliver it line by line. Resolves
   * when the server ends the stream (or `onLine` returned false); rejects with a KubeError.
   */
  async stream(path: string, ref: ResourceRef, opts: StreamOptions): Promise<void> {
    const res = await this.#open(path, ref, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      timeoutMs: opts.connectTimeoutMs ?? this.#opts.connectTimeoutMs,
      agent: false,
    });
    res.socket?.setKeepAlive(true, 15_000);
    opts.onOpen?.();
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let idle: NodeJS.Timeout | undefined;
      const parts: Buffer[] = [];
      let pending = 0;
      let skipping = false;
      const finish = (err?: KubeError) => {
        if (settled) return;
        settled = true;
        if (idle) clearTimeout(idle);
        this.#live.delete(res);
        opts.signal?.removeEventListener('abort', onAbort);
        if (!res.destroyed) res.destroy();
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () =>
        finish(new KubeError({ kind: 'aborted', ref, message: 'stream aborted' }));
      const armIdle = () => {
        if (!opts.idleTimeoutMs) return;
        if (idle) clearTimeout(idle);
        idle = setTimeout(
          () =>
            finish(
              new KubeError({
                kind: 'timeout',
                ref,
                message: `${ref.verb} ${ref.resource}: no data from ${this.endpoint.target} for ${formatSeconds(opts.idleTimeoutMs)}`,
              }),
            ),
          opts.idleTimeoutMs,
        );
      };
      const emit = (buf: Buffer, truncated: boolean): boolean => {
        let line = buf.toString('utf8');
        if (line.endsWith('\r')) line = line.slice(0, -1);
        return opts.onLine(line, truncated) !== false;
      };
      this.#live.add(res);
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      armIdle();
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        armIdle();
        let start = 0;
        for (;;) {
          const nl = chunk.indexOf(10, start);
          if (nl === -1) break;
          const piece = chunk.subarray(start, nl);
          start = nl + 1;
          if (skipping) {
            skipping = false;
            continue;
          }
          let line: Buffer;
          if (pending > 0) {
            parts.push(piece);
            line = Buffer.concat(parts);
            parts.length = 0;
            pending = 0;
          } else line = piece;
          if (line.length > opts.maxLineBytes) {
            if (opts.oversize === 'error') return finish(oversize(ref, opts.maxLineBytes));
            if (!emit(line.subarray(0, opts.maxLineBytes), true)) return finish();
          } else if (!emit(line, false)) return finish();
          if (settled) return;
        }
        if (start < chunk.length && !skipping) {
          const rest = chunk.subarray(start);
          if (pending + rest.length > opts.maxLineBytes) {
            if (opts.oversize === 'error') return finish(oversize(ref, opts.maxLineBytes));
            parts.push(rest.subarray(0, Math.max(0, opts.maxLineBytes - pending)));
            const cut = Buffer.concat(parts);
            parts.length = 0;
            pending = 0;
            skipping = true;
            if (!emit(cut, true)) return finish();
          } else {
            parts.push(Buffer.from(rest));
            pending += rest.length;
          }
        }
      });
      res.on('end', () => {
        if (pending > 0 && !skipping) emit(Buffer.concat(parts), false);
        finish();
      });
      res.on('error', (err) =>
        finish(errorFromNetwork(err, this.endpoint.target, this.endpoint.verifyName, ref)),
      );
      res.on('close', () => {
        if (!res.complete)
          finish(
            new KubeError({
              kind: 'unreachable',
              ref,
              message: `${ref.verb} ${ref.resource}: the API server ${this.endpoint.target} closed the stream`,
            }),
          );
        else finish();
      });
    });
  }

  /** Abort every request in flight and drop idle connections. */
  close(): void {
    this.#closed = true;
    for (const r of this.#live)
      r.destroy(new KubeError({ kind: 'closed', message: 'kube client closed' }));
    this.#live.clear();
    this.#agent.destroy();
  }

  async #open(
    path: string,
    ref: ResourceRef,
    o: {
      signal?: AbortSignal;
      timeoutMs: number;
      agent: https.Agent | false;
      method?: string;
      body?: string;
      contentType?: string;
    },
  ): Promise<IncomingMessage> {
    if (this.#closed) throw new KubeError({ kind: 'closed', ref, message: 'kube client closed' });
    o.signal?.throwIfAborted();
    const ep = this.endpoint;
    const creds = await ep.credentials();
    return new Promise<IncomingMessage>((resolve, reject) => {
      let done = false;
      const req = https.request({
        host: ep.connectHost,
        port: ep.connectPort,
        method: o.method ?? 'GET',
        path: ep.basePath + path,
        headers: {
          Accept: 'application/json',
          'User-Agent': 'k8ops',
          ...(o.body !== undefined
            ? {
                'Content-Type': o.contentType ?? 'application/json',
                'Content-Length': String(Buffer.byteLength(o.body)),
              }
            : {}),
          ...creds.headers,
        },
        ...(creds.ca ? { ca: creds.ca } : {}),
        ...(creds.cert ? { cert: creds.cert } : {}),
        ...(creds.key ? { key: creds.key } : {}),
        ...(creds.passphrase ? { passphrase: creds.passphrase } : {}),
        // '' = send no SNI (an IP verify name); the identity check below uses the real name.
        servername: ep.sni ?? '',
        checkServerIdentity: (_host: string, cert: PeerCertificate) =>
          checkServerIdentity(ep.verifyName, cert),
        rejectUnauthorized: !ep.insecureSkipTlsVerify,
        allowPartialTrustChain: true,
        agent: o.agent,
        ...(o.signal ? { signal: o.signal } : {}),
      });
      const entry = { destroy: (err?: Error) => req.destroy(err) };
      this.#live.add(entry);
      const timer = setTimeout(() => {
        req.destroy(
          new KubeError({
            kind: 'timeout',
            ref,
            message: `API server ${ep.target} did not answer within ${formatSeconds(o.timeoutMs)} (${ref.verb} ${ref.resource})`,
          }),
        );
      }, o.timeoutMs);
      const fail = (err: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#live.delete(entry);
        const ke = errorFromNetwork(err, ep.target, ep.verifyName, ref);
        reject(
          ke.kind === 'aborted' && o.signal?.reason instanceof Error && isKube(o.signal.reason)
            ? o.signal.reason
            : ke,
        );
      };
      req.on('error', fail);
      req.on('response', (res) => {
        if (done) {
          res.destroy();
          return;
        }
        done = true;
        clearTimeout(timer);
        this.#live.delete(entry);
        if (
          res.statusCode === 200 ||
          (o.method !== undefined &&
            o.method !== 'GET' &&
            (res.statusCode === 201 || res.statusCode === 202))
        ) {
          resolve(res);
          return;
        }
        const code = res.statusCode ?? 0;
        this.#readBody(res, MAX_ERROR_BODY, o.timeoutMs, ref, true).then(
          (body) => reject(errorFromResponse(code, body, ref, { user: ep.user })),
          () => reject(errorFromResponse(code, '', ref, { user: ep.user })),
        );
      });
      req.end(o.body);
    });
  }

  #readBody(
    res: IncomingMessage,
    max: number,
    timeoutMs: number,
    ref: ResourceRef,
    cut = false,
  ): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const parts: Buffer[] = [];
      let size = 0;
      let done = false;
      const entry = { destroy: (err?: Error) => res.destroy(err) };
      this.#live.add(entry);
      const finish = (err?: KubeError) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#live.delete(entry);
        if (err) {
          res.destroy();
          reject(err);
        } else resolve(Buffer.concat(parts).toString('utf8'));
      };
      const timer = setTimeout(
        () =>
          finish(
            new KubeError({
              kind: 'timeout',
              ref,
              message: `API server ${this.endpoint.target} did not finish the answer within ${formatSeconds(timeoutMs)} (${ref.verb} ${ref.resource})`,
            }),
          ),
        Math.max(1, timeoutMs),
      );
      res.on('data', (chunk: Buffer) => {
        if (done) return;
        size += chunk.length;
        if (size > max) {
          if (cut) {
            parts.push(chunk.subarray(0, chunk.length - (size - max)));
            finish();
            res.destroy();
            return;
          }
          finish(
            new KubeError({
              kind: 'protocol',
              ref,
              message: `${ref.verb} ${ref.resource}: answer larger than ${max} bytes`,
            }),
          );
          return;
        }
        parts.push(chunk);
      });
      res.on('end', () => finish());
      res.on('error', (err) =>
        finish(errorFromNetwork(err, this.endpoint.target, this.endpoint.verifyName, ref)),
      );
      res.on('close', () => {
        if (!res.complete)
          finish(
            new KubeError({
              kind: 'unreachable',
              ref,
              message: `${ref.verb} ${ref.resource}: connection to ${this.endpoint.target} closed mid-answer`,
            }),
          );
      });
    });
  }
}

function isKube(e: unknown): e is KubeError {
  return e instanceof KubeError;
}

function oversize(ref: ResourceRef, max: number): KubeError {
  return new KubeError({
    kind: 'protocol',
    ref,
    message: `${ref.verb} ${ref.resource}: a line longer than ${max} bytes`,
  });
}

export function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

/** Build `path?query` from defined values. */
export function withQuery(
  path: string,
  q: Record<string, string | number | boolean | undefined>,
): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') sp.set(k, String(v));
  const s = sp.toString();
  return s ? `${path}?${s}` : path;
}
