/**
 * A small HTTP/1.1 GET over a NodeAgent.forwardSocket listener (the Cilium agent's REST API
 * on its unix socket): bounded body, a deadline, abortable. Never throws a raw socket
 * error: the error says what was asked of whom.
 */
import { request } from 'node:http';
import type { LocalForward } from '../../store/io.js';

export interface HttpAnswer {
  status: number;
  body: string;
}

export class AgentHttpError extends Error {
  override name = 'AgentHttpError';
  constructor(
    readonly kind: 'timeout' | 'unreachable' | 'output-limit' | 'aborted',
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 8 * 1024 * 1024;

export function httpGet(
  fwd: Pick<LocalForward, 'host' | 'port' | 'target'>,
  path: string,
  opts: { timeoutMs: number; signal?: AbortSignal; maxBytes?: number },
): Promise<HttpAnswer> {
  const max = opts.maxBytes ?? MAX_BODY;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (e: Error | undefined, a?: HttpAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (e) {
        req.destroy();
        reject(e);
      } else resolve(a!);
    };
    const req = request(
      {
        host: fwd.host,
        port: fwd.port,
        path,
        method: 'GET',
        headers: { Host: 'localhost', Accept: 'application/json' },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > max)
            finish(
              new AgentHttpError(
                'output-limit',
                `${fwd.target}: GET ${path}: body over ${max} bytes`,
              ),
            );
          else chunks.push(c);
        });
        res.on('end', () =>
          finish(undefined, {
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', (e) =>
          finish(new AgentHttpError('unreachable', `${fwd.target}: GET ${path}: ${e.message}`)),
        );
      },
    );
    req.on('error', (e) =>
      finish(
        new AgentHttpError(
          'unreachable',
          `${fwd.target}: GET ${path}: ${e.message === 'socket hang up' ? 'no answer on the socket (agent not running?)' : e.message}`,
        ),
      ),
    );
    const timer = setTimeout(
      () =>
        finish(
          new AgentHttpError(
            'timeout',
            `${fwd.target}: GET ${path}: no answer in ${opts.timeoutMs} ms`,
          ),
        ),
      opts.timeoutMs,
    );
    const onAbort = () =>
      finish(new AgentHttpError('aborted', `${fwd.target}: GET ${path}: aborted`));
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}
