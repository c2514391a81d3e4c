/**
 * One GetFlows call without follow (`hubble observe --last N`) and one ServerStatus, on one
 * node, through a forwardSocket tunnel; bounded by a deadline. For `k8ops flows`.
 */
import { visible } from '../../store/sanitise.js';
import type { FlowFilterSpec } from './codec.js';
import type { SocketDialer } from './follow.js';
import type { DecodeError, FlowEvent, ServerStatusRecord } from './types.js';

export interface NodeFetch {
  events: FlowEvent[];
  malformed: number;
  status?: ServerStatusRecord;
  error?: string;
}

export async function fetchFlows(
  dialer: SocketDialer,
  socketPath: string,
  req: { number: number; whitelist: FlowFilterSpec[] },
  timeoutMs: number,
): Promise<NodeFetch> {
  const [{ ObserverClient }, { decodeResponse }] = await Promise.all([
    import('./client.js'),
    import('./codec.js'),
  ]);
  let fwd: Awaited<ReturnType<SocketDialer['forwardSocket']>>;
  try {
    fwd = await dialer.forwardSocket(socketPath, { timeoutMs });
  } catch (e) {
    return { events: [], malformed: 0, error: `${socketPath}: ${errText(e)}` };
  }
  const client = new ObserverClient(fwd.address);
  try {
    const out: NodeFetch = { events: [], malformed: 0 };
    const status = client.serverStatus(timeoutMs);
    const ended = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => {
        stream.cancel();
        resolve(`no answer within ${timeoutMs} ms`);
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
            resolve(e ? `hubble: ${e.message || `gRPC status ${e.code}`}` : undefined);
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
