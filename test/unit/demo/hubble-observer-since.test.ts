/**
 * The Hubble Observer stand-in's `since`, pinned to the agent's own rule (cilium
 * pkg/hubble/observer/local_observer.go `newRingReader`: "since takes precedence over
 * Number"; the ring is rewound while flows are not older than `since`, the instant itself
 * included; filters apply). The console's suspended streams rely on it to pick up again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ObserverServer } from '../../../src/demo/hubble-observer.js';
import { ObserverClient } from '../../../src/features/flows/client.js';
import type { GetFlowsRequestSpec } from '../../../src/features/flows/codec.js';
import { decodeResponse } from '../../../src/features/flows/codec.js';
import { labFlow } from '../../helpers/hubble-flows.js';

let close: (() => void)[] = [];
afterEach(() => {
  for (const c of close) c();
  close = [];
});

async function pods(port: number, req: GetFlowsRequestSpec): Promise<string[]> {
  const client = new ObserverClient(`127.0.0.1:${port}`);
  close.push(() => client.close());
  const out: string[] = [];
  await new Promise<void>((res, rej) => {
    client.getFlows(req, {
      data: (b) => {
        const ev = decodeResponse(b);
        if (ev.kind === 'flow') out.push(ev.flow.src.pod);
      },
      end: (e) => (e ? rej(new Error(e.message)) : res()),
    });
  });
  return out;
}

describe('Hubble Observer stand-in: since', () => {
  it('from the instant on (included), over `number`, within what the ring still holds, filtered', async () => {
    const server = new ObserverServer({ capacity: 6 });
    close.push(() => server.close());
    for (let i = 0; i < 10; i++)
      server.push(labFlow(i, { verdict: i % 2 ? 'DROPPED' : 'FORWARDED' }));
    // A second flow at flow 7's instant.
    server.push({ ...labFlow(70), time: labFlow(7).time });
    const port = await server.listen('127.0.0.1:0');
    // The ring holds 5…9 and 70; `since` flow 7's instant: 7, 8, 9 and 70; `number` ignored.
    expect(await pods(port, { since: labFlow(7).time, number: 1 })).toEqual([
      'frontend-7',
      'frontend-8',
      'frontend-9',
      'frontend-70',
    ]);
    // Older than anything held: the whole ring.
    expect(await pods(port, { since: labFlow(0).time })).toHaveLength(6);
    // Filtered: DROPPED only (odd flows; flow 70 is FORWARDED).
    expect(await pods(port, { since: labFlow(6).time, whitelist: [{ verdict: [2] }] })).toEqual([
      'frontend-7',
      'frontend-9',
    ]);
    // Past the newest: nothing.
    expect(await pods(port, { since: labFlow(11).time })).toEqual([]);
  });
});
