/** The flows codec: real proto shape, jsonpb output, sanitising at decode, totality. */
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { labPods, nodeFeed } from '../../../../src/demo/flows.js';
import * as demoProto from '../../../../src/demo/hubble-proto.js';
import {
  decodeResponse,
  decodeServerStatus,
  encodeGetFlowsRequest,
  responseJson,
} from '../../../../src/features/flows/codec.js';
import { mulberry32 as mulberry } from '../../../../src/store/prng.js';
import { labFlow } from '../../../helpers/hubble-flows.js';

const encode = (r: Record<string, unknown>) => demoProto.encodeResponse(r);

describe('flows codec', () => {
  it('field numbers are Cilium’s (hand-encoded wire bytes, numbers from flow.proto)', () => {
    // GetFlowsResponse{flow(1){verdict(2)=DROPPED, drop_reason_desc(25)=POLICY_DENY(181),
    // node_name(11)="n1", source(8){namespace(3)="ns", pod_name(5)="p"}}, node_name(1000)="n1"}
    const w = protobuf.Writer.create();
    const flow = protobuf.Writer.create();
    flow.uint32((2 << 3) | 0).int32(2);
    flow.uint32((25 << 3) | 0).int32(181);
    flow.uint32((11 << 3) | 2).string('n1');
    const src = protobuf.Writer.create();
    src.uint32((3 << 3) | 2).string('ns');
    src.uint32((5 << 3) | 2).string('p');
    flow.uint32((8 << 3) | 2).bytes(src.finish());
    const l4 = protobuf.Writer.create();
    const udp = protobuf.Writer.create()
      .uint32((2 << 3) | 0)
      .uint32(53)
      .finish();
    l4.uint32((2 << 3) | 2).bytes(udp);
    flow.uint32((6 << 3) | 2).bytes(l4.finish());
    flow.uint32((22 << 3) | 0).int32(1);
    w.uint32((1 << 3) | 2).bytes(flow.finish());
    w.uint32((1000 << 3) | 2).string('n1');
    const ev = decodeResponse(w.finish());
    expect(ev).toMatchObject({
      kind: 'flow',
      flow: {
        verdict: 'DROPPED',
        dropReason: 'POLICY_DENY',
        node: 'n1',
        src: { namespace: 'ns', pod: 'p' },
        dst: { port: 53 },
        l4: 'UDP',
        direction: 'INGRESS',
      },
    });
    // LostEvent is GetFlowsResponse field 3: {source(1)=2, num_events_lost(2)=7}.
    const lost = protobuf.Writer.create().uint32(8).int32(2).uint32(16).uint64(7).finish();
    const lw = protobuf.Writer.create()
      .uint32((3 << 3) | 2)
      .bytes(lost)
      .finish();
    expect(decodeResponse(lw)).toMatchObject({
      kind: 'lost',
      lost: { source: 'OBSERVER_EVENTS_QUEUE', count: 7 },
    });
  });

  it('prints a flow as hubble observe -o jsonpb does', () => {
    const raw = encode({
      flow: labFlow(7, { verdict: 'DROPPED' }),
      node_name: 'lab/node-1',
      time: labFlow(7).time,
    });
    const j = responseJson(raw);
    expect(j).toMatchObject({
      flow: {
        time: '2026-12-06T04:00:00.007000114Z',
        verdict: 'DROPPED',
        drop_reason: 181,
        drop_reason_desc: 'POLICY_DENY',
        IP: { source: '10.42.1.23', destination: '10.42.2.41', ipVersion: 'IPv4' },
        l4: { TCP: { source_port: 51544, destination_port: 8080, flags: { SYN: true } } },
        source: { ID: 1712, identity: 48213, namespace: 'shop', labels: ['k8s:app=frontend'] },
        Type: 'L3_L4',
        traffic_direction: 'EGRESS',
        event_type: { type: 1 },
        Summary: 'TCP Flags: SYN',
      },
      node_name: 'lab/node-1',
      time: '2026-12-06T04:00:00.007000114Z',
    });
    // Empty fields are left out, like protojson.
    expect(JSON.stringify(j)).not.toContain('"reply"');
    const fwd = responseJson(encode({ flow: labFlow(8), node_name: 'n' }));
    expect((fwd?.flow as Record<string, unknown> | undefined)?.is_reply).toBe(false);
  });

  it('sanitises hostile strings at decode (table fields and JSON)', () => {
    const f = labFlow(1);
    f.source.pod_name = 'evil\u001b]52;c;AAAA\u0007\u202e-pod';
    f.node_name = 'node\nforged line';
    const raw = encode({ flow: f });
    const ev = decodeResponse(raw);
    if (ev.kind !== 'flow') throw new Error(ev.kind);
    expect(ev.flow.src.pod).toBe('evil\\x1b]52;c;AAAA\\x07\\u202e-pod');
    expect(ev.flow.node).toBe('node\\x0aforged line');
    const text = JSON.stringify(responseJson(raw));
    expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(text).toContain('evil\\\\x1b');
  });

  it('decodes only what a FlowRecord needs, to the same records as a decode of every field', () => {
    // The demo lab's mix (drops, TCP/UDP, HTTP and DNS), the lab flows, and a flow with
    // what a real agent adds (policies, labels, interface, summary): all skipped on the wire.
    const proto = demoProto;
    const next = nodeFeed(proto, mulberry(7), labPods(), 'lab/node-1', 64);
    const raws: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) raws.push(next(Date.UTC(2026, 11, 6) + i * 13).bytes);
    for (const v of ['FORWARDED', 'DROPPED'])
      raws.push(encode({ flow: labFlow(5, { verdict: v }), node_name: 'n' }));
    const rich = labFlow(9, { verdict: 'DROPPED' });
    rich.source.labels = ['k8s:app=frontend', 'k8s:io.kubernetes.pod.namespace=shop\u001b'];
    rich.egress_denied_by = [{ name: 'deny-db', namespace: 'shop', labels: ['a'], revision: 3 }];
    rich.interface = { index: 7, name: 'lxc12' };
    rich.file = { name: 'bpf_lxc.c', line: 1234 };
    rich.source_service = { name: 'frontend', namespace: 'shop' };
    rich.destination_service = { name: 'api' };
    rich.l7 = {
      type: 'REQUEST',
      http: { method: 'GET', url: '/a\u202e', code: 0, headers: [{ key: 'k', value: 'v' }] },
    };
    rich.Summary = 'TCP Flags: SYN';
    raws.push(encode({ flow: rich, node_name: 'n' }));
    let skipped = 0;
    for (const raw of raws) {
      const lean = decodeResponse(raw);
      const every = decodeResponse(raw, true);
      expect(lean).toEqual(every);
      if (lean.kind === 'flow' && lean.flow.dst.service === 'api') skipped++;
    }
    expect(skipped).toBe(1);
    expect(
      new Set(raws.map((r) => (decodeResponse(r) as { flow: { l7: string } }).flow.l7)),
    ).toEqual(new Set(['', 'HTTP', 'DNS']));
  });

  it('never throws on garbage bytes: an error value or a decoded event', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const ev = decodeResponse(bytes);
        expect(['flow', 'lost', 'node-status', 'other', 'error']).toContain(ev.kind);
        const s = decodeServerStatus(bytes);
        expect(typeof s).toBe('object');
        responseJson(bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on mutated real messages (truncated, flipped bytes)', () => {
    const real = encode({ flow: labFlow(3, { verdict: 'DROPPED' }), node_name: 'n' });
    fc.assert(
      fc.property(
        fc.nat(real.length),
        fc.array(fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 0, max: 255 })), {
          maxLength: 8,
        }),
        (cut, flips) => {
          const b = Uint8Array.from(real.subarray(0, cut));
          for (const [i, v] of flips) if (i < b.length) b[i] = v;
          const ev = decodeResponse(b);
          if (ev.kind === 'flow') expect(typeof ev.flow.src.pod).toBe('string');
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('encodes GetFlowsRequest with the proto’s numbers (follow=3, whitelist=6)', () => {
    const b = encodeGetFlowsRequest({ follow: true, whitelist: [{ verdict: [2] }] });
    expect([...b]).toEqual([0x18, 0x01, 0x32, 0x03, 0x2a, 0x01, 0x02]);
  });
});
