/**
 * One GetFlows call without follow (`hubble observe --last N`) and one ServerStatus, on one
 * endpoint (a node's hubble.sock, or hubble-relay through a node: endpoint.ts); bounded by
 * a deadline. For `k8ops flows`.
 */
import { visible } from '../../store/sanitise.js';
import type { FlowFilterSpec } from './codec.js';
import type { HubbleEndpoint, OpenedEndpoint } from './endpoint.js';
import type { DecodeError, FlowEvent, ServerStatusRecord } from './types.js';

export interface NodeFetch {
  events: FlowEvent[];
  malformed: number;
  status?: ServerStatusRecord;
  error?: string;
  /** Where it went (`hubble-relay … via cp-1`), once opened. */
  label?: string;
}

export async function fetchFlows(
  endpoint: HubbleEndpoint,
  req: { number: number; whitelist: FlowFilterSpec[] },
  timeoutMs: number,
): Promise<NodeFetch> {
  const [{ ObserverClient }, { decodeResponse }] = await Promise.all([
    import('./client.js'),
    import('./codec.js'),
  ]);
  let opened: OpenedEndpoint;
  try {
    opened = await endpoint.open({ timeoutMs });
  } catch (e) {
    return { events: [], malformed: 0, error: errText(e) };
  }
  const fwd = opened.forward;
  const prefix = endpoint.failed ? `${opened.label}: ` : '';
  const client = new ObserverClient(fwd.address, opened.tls);
  try {
    const out: NodeFetch = { events: [], malformed: 0, label: opened.label };
    const status = client.serverStatus(timeoutMs);
    const ended = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => {
        stream.cancel();
        resolve(`${prefix}no answer within ${timeoutMs} ms`);
      }, timeoutMs);
      const stream = client.getFlows(
        { number: req.number, whitelist: req.whitelist },
        {
          data: (b) => {
            const ev = decodeResponse(Uint8Array.prototype.slice.call(b));
            if (ev.kind === 'error') out.malformed++;
            else out.events.push(ev);
          },
          end: (e) => {
            clearTimeout(timer);
            if (!e) {
              resolve(undefined);
              return;
            }
            const ssh = fwd.lastError?.();
            resolve(
              `${prefix}hubble: ${e.message || `gRPC status ${e.code}`}${ssh ? ` (SSH: ${ssh})` : ''}`,
            );
          },
        },
      );
    });
    if (ended !== undefined) out.error = ended;
    const s: ServerStatusRecord | DecodeError = await status;
    if (!('kind' in s)) out.status = s;
    return out;
  } finally {
    client.close();
    await fwd.close().catch(() => {});
  }
}

const errText = (e: unknown): string => visible(e instanceof Error ? e.message : String(e));
