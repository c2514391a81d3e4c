/**
 * Download a release artefact and hash it as Nix does (a flat SHA-256 of its bytes),
 * streamed: nothing is buffered beyond one chunk, the size is capped, progress is
 * reported, redirects are followed (https only, a bounded number), an idle connection
 * times out, and a download that ends short of its Content-Length is an error — a cut
 * download never yields a hash.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:https';

export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;

export type FetchErrorKind =
  | 'insecure'
  | 'http'
  | 'redirects'
  | 'too-large'
  | 'truncated'
  | 'timeout'
  | 'network'
  | 'aborted';

export class FetchError extends Error {
  override readonly name = 'FetchError';
  constructor(
    readonly kind: FetchErrorKind,
    readonly url: string,
    message: string,
  ) {
    super(`${url}: ${message}`);
  }
}

export interface FetchOptions {
  signal?: AbortSignal;
  /** Cap on the body (default 256 MiB). */
  maxBytes?: number;
  /** No byte for this long fails the download (default 30 s). */
  idleTimeoutMs?: number;
  /** Called as bytes arrive (`total` from Content-Length when the server sent one). */
  onProgress?(got: number, total: number | undefined): void;
  /** Extra trusted CA certificates (PEM), e.g. a test server's. */
  ca?: string;
}

export interface Fetched {
  url: string;
  /** After redirects. */
  finalUrl: string;
  bytes: number;
  /** SHA-256 of the body. */
  digest: Uint8Array;
  ms: number;
}

function once(url: string, opts: FetchOptions): Promise<Fetched | { redirect: string }> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new FetchError('insecure', url, 'not a URL'));
      return;
    }
    if (u.protocol !== 'https:') {
      reject(new FetchError('insecure', url, 'only https:// is fetched'));
      return;
    }
    const t0 = performance.now();
    const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    const req = request(
      u,
      {
        method: 'GET',
        headers: { 'user-agent': 'k8ops-addon-sync', accept: '*/*' },
        ...(opts.ca ? { ca: opts.ca } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          resolve({ redirect: new URL(res.headers.location, u).toString() });
          return;
        }
        if (status !== 200) {
          res.resume();
          reject(new FetchError('http', url, `HTTP ${status}`));
          return;
        }
        const lenHeader = res.headers['content-length'];
        const total = lenHeader !== undefined ? Number(lenHeader) : undefined;
        if (total !== undefined && total > max) {
          res.destroy();
          reject(new FetchError('too-large', url, `${total} bytes is over the ${max}-byte cap`));
          return;
        }
        const hash = createHash('sha256');
        let got = 0;
        let failed = false;
        const fail = (e: FetchError): void => {
          if (failed) return;
          failed = true;
          res.destroy();
          reject(e);
        };
        res.on('data', (chunk: Buffer) => {
          got += chunk.length;
          if (got > max) {
            fail(new FetchError('too-large', url, `over the ${max}-byte cap`));
            return;
          }
          hash.update(chunk);
          opts.onProgress?.(got, total);
        });
        res.on('aborted', () => fail(new FetchError('truncated', url, `cut after ${got} bytes`)));
        res.on('error', (e) =>
          fail(
            opts.signal?.aborted
              ? new FetchError('aborted', url, 'aborted')
              : new FetchError('truncated', url, `cut after ${got} bytes: ${e.message}`),
          ),
        );
        res.on('end', () => {
          if (failed) return;
          if (!res.complete || (total !== undefined && got !== total)) {
            fail(new FetchError('truncated', url, `got ${got} of ${total ?? '?'} bytes`));
            return;
          }
          resolve({
            url,
            finalUrl: url,
            bytes: got,
            digest: new Uint8Array(hash.digest()),
            ms: performance.now() - t0,
          });
        });
      },
    );
    req.setTimeout(opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => {
      req.destroy(new FetchError('timeout', url, 'no data for too long'));
    });
    req.on('error', (e) => {
      if (e instanceof FetchError) reject(e);
      else if (opts.signal?.aborted) reject(new FetchError('aborted', url, 'aborted'));
      else reject(new FetchError('network', url, e.message));
    });
    req.end();
  });
}

/** GET `url` (https), following redirects, and hash the body. */
export async function fetchAndHash(url: string, opts: FetchOptions = {}): Promise<Fetched> {
  let at = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const r = await once(at, opts);
    if (!('redirect' in r)) return { ...r, url, finalUrl: at };
    at = r.redirect;
  }
  throw new FetchError('redirects', url, `more than ${MAX_REDIRECTS} redirects`);
}
