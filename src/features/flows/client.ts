/**
 * An Observer API client over grpc-js, for one address (the local end of a forward: a
 * node's hubble.sock, or hubble-relay through a node; endpoint.ts). Messages stay bytes through grpc-js (identity
 * (de)serialisers) and are decoded by codec.ts, so a malformed message is an error value,
 * never an exception inside grpc-js.
 */
import * as grpc from '@grpc/grpc-js';
import { visible } from '../../store/sanitise.js';
import { decodeServerStatus, encodeGetFlowsRequest, type GetFlowsRequestSpec } from './codec.js';
import type { ObserverTls } from './endpoint.js';
import { GET_FLOWS, SERVER_STATUS } from './proto.js';
import type { DecodeError, ServerStatusRecord } from './types.js';

const identity = (b: Buffer): Buffer => b;

/**
 * grpc-js's status details, made short: without its trailing "Resolution note:" and the
 * timestamps it puts in "Last error", then made visible (they can carry remote text).
 */
export function grpcDetails(details: string): string {
  return visible(
    details
      .replace(/\s*Resolution note:.*$/s, '')
      .replace(/\s*\(\d{4}-\d\d-\d\dT[\d:.]+Z\)/g, '')
      .trim(),
  );
}

export interface FlowStreamHandlers {
  /** One GetFlowsResponse, as received. */
  data(bytes: Buffer): void;
  /** The stream ended: `error` unless the server ended it cleanly. */
  end(error?: { code: number; message: string }): void;
}

export interface FlowStream {
  cancel(): void;
  pause(): void;
  resume(): void;
}

export class ObserverClient {
  readonly #client: grpc.Client;

  /**
   * `tls`: hubble-relay's server TLS. The channel dials the local end of a forward
   * (127.0.0.1), so the name checked in relay's certificate — and sent as SNI and
   * :authority — is `tls.serverName`, never the forward's address.
   */
  constructor(address: string, tls?: ObserverTls) {
    const opts: grpc.ChannelOptions = {
      // The tunnel is one TCP connection per channel: keep it, and notice a dead one.
      'grpc.keepalive_time_ms': 20_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.max_receive_message_length': 4 * 1024 * 1024,
      'grpc.enable_retries': 0,
    };
    if (tls) {
      opts['grpc.ssl_target_name_override'] = tls.serverName;
      opts['grpc.default_authority'] = tls.serverName;
    }
    const creds = tls
      ? grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null)
      : grpc.credentials.createInsecure();
    this.#client = new grpc.Client(address, creds, opts);
  }

  getFlows(req: GetFlowsRequestSpec, h: FlowStreamHandlers): FlowStream {
    const call = this.#client.makeServerStreamRequest(
      GET_FLOWS,
      identity,
      identity,
      encodeGetFlowsRequest(req),
      new grpc.Metadata(),
      {},
    );
    let done = false;
    const finish = (e?: { code: number; message: string }) => {
      if (done) return;
      done = true;
      h.end(e);
    };
    call.on('data', (b: Buffer) => h.data(b));
    // The status details come from the server: sanitised here, where they enter.
    call.on('error', (e: grpc.ServiceError) =>
      finish({ code: e.code ?? grpc.status.UNKNOWN, message: grpcDetails(e.details || e.message) }),
    );
    call.on('status', (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK) finish();
      else finish({ code: s.code, message: grpcDetails(s.details) });
    });
    call.on('end', () => setImmediate(() => finish()));
    return {
      cancel: () => {
        done = true;
        call.cancel();
      },
      pause: () => call.pause(),
      resume: () => call.resume(),
    };
  }

  serverStatus(timeoutMs: number): Promise<ServerStatusRecord | DecodeError> {
    return new Promise((resolve) => {
      this.#client.makeUnaryRequest(
        SERVER_STATUS,
        identity,
        identity,
        Buffer.alloc(0),
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, b) => {
          if (err || !b)
            resolve({
              kind: 'error',
              message: grpcDetails(err?.details || err?.message || 'no answer'),
            });
          else resolve(decodeServerStatus(b));
        },
      );
    });
  }

  close(): void {
    this.#client.close();
  }
}
