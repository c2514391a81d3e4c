/**
 * The Flows pane on flows encoded in the Observer API's real shape (as the Hubble stand-in
 * sends them) and decoded by the product's codec: the table, drops by reason, top talkers,
 * lost events, the sparkline; Space freezes the table, Enter shows one flow in full (jsonpb);
 * a hostile pod name reaches the screen escaped; every frame fits its height.
 */
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/config/types.js';
import { encodeResponse } from '../../src/demo/hubble-proto.js';
import { FlowAggregate } from '../../src/features/flows/aggregate.js';
import { decodeResponse } from '../../src/features/flows/codec.js';
import { buildFlowsModel, type FlowsModel } from '../../src/features/flows/model.js';
import type { FlowsNodeValue } from '../../src/features/flows/sources.js';
import type { FlowRecord } from '../../src/features/flows/types.js';
import { matchKey } from '../../views/keys/match.js';
import {
  deriveFlows,
  type FlowsUi,
  flowsBindings,
  initialFlowsUi,
} from '../../views/panes/flows/bindings.js';
import { FlowsPane, sparkline } from '../../views/panes/flows/Pane.js';
import type { PaneEnv } from '../../views/panes/types.js';
import { monoTheme, ThemeContext } from '../../views/theme.js';
import { labFlow } from '../helpers/hubble-flows.js';

const inventory = {
  cluster: 'lab',
  nodes: [
    { name: 'node-1', index: 0, host: 'node-1', addresses: [], roles: ['worker'] },
    { name: 'node-2', index: 1, host: 'node-2', addresses: [], roles: ['worker'] },
  ],
  network: { targetMtu: 9216, bgpRouters: [] },
} as unknown as Inventory;

function record(i: number, o: Parameters<typeof labFlow>[1] = {}): FlowRecord {
  const ev = decodeResponse(encodeResponse({ flow: labFlow(i, o), node_name: o.node }));
  if (ev.kind !== 'flow') throw new Error('not a flow');
  return ev.flow;
}

function nodeValue(node: string, flows: FlowRecord[], lost = 0): FlowsNodeValue {
  const agg = new FlowAggregate();
  for (const f of [...flows].reverse()) agg.add(f);
  if (lost) agg.addLost({ source: 'PERF_EVENT_RING_BUFFER', count: lost, cpu: 1, node, timeMs: 0 });
  return {
    state: 'streaming',
    connects: 1,
    malformed: 0,
    received: flows.length,
    flows,
    counts: agg.counts(),
    rate: agg.rate(),
    talkers: agg.topTalkers(10),
    lost: agg.lost.newest(20),
    query: '',
    socket: '/var/run/cilium/hubble.sock',
    server: {
      numFlows: 3000,
      maxFlows: 4095,
      seenFlows: 9000,
      uptimeNs: 1,
      version: '1.18.6',
      flowsRate: 0,
      unavailableNodeNames: [],
      connectedNodes: undefined,
      unavailableNodes: undefined,
    },
    version: flows.length,
  };
}

function model(values: Record<string, FlowsNodeValue>): FlowsModel {
  return buildFlowsModel({
    inventory,
    now: 0,
    hasKube: false,
    read: <T,>(scope: string) =>
      (values[scope]
        ? { value: values[scope], stale: false, loading: false }
        : {
            stale: true,
            loading: false,
          }) as never as import('../../src/store/types.js').Snapshot<T>,
  });
}

const env = (height: number): PaneEnv => ({
  nodes: ['node-1', 'node-2'],
  nodeFilter: '',
  visibleNodes: ['node-1', 'node-2'],
  selectedNode: undefined,
  marked: [],
  width: 100,
  height,
});

function press(ui: FlowsUi, m: FlowsModel, input: string, height = 30): FlowsUi {
  const key = {
    return: input === '\r',
    escape: input === '\u001b',
    upArrow: false,
    downArrow: false,
  } as never;
  const derived = deriveFlows(m, ui, env(height));
  const b = flowsBindings.find(
    (x) => (x.when?.(ui) ?? true) && x.keys.some((k) => matchKey(k, input, key)),
  );
  if (!b) throw new Error(`no binding for ${JSON.stringify(input)}`);
  return b.reduce(ui, { derived, env: env(height) }, { input, key })[0];
}

function frame(m: FlowsModel, ui: FlowsUi, height = 30): string {
  const r = render(
    <ThemeContext.Provider value={monoTheme}>
      <FlowsPane ui={ui} derived={deriveFlows(m, ui, env(height))} width={100} height={height} />
    </ThemeContext.Provider>,
  );
  const f = r.lastFrame() ?? '';
  r.unmount();
  return f;
}

describe('Flows pane', () => {
  const n1 = [
    record(30, { verdict: 'DROPPED', node: 'lab/node-1', reason: 'SERVICE_BACKEND_NOT_FOUND' }),
    record(20, { verdict: 'DROPPED', node: 'lab/node-1' }),
    record(10, { node: 'lab/node-1' }),
  ];
  const n2 = [
    record(25, { node: 'lab/node-2', port: 53 }),
    record(15, { verdict: 'DROPPED', node: 'lab/node-2' }),
  ];
  const m = model({
    'node-1': nodeValue('lab/node-1', n1, 42),
    'node-2': nodeValue('lab/node-2', n2),
  });

  it('shows the flows newest first across nodes, drops by reason, talkers, lost events', () => {
    const f = frame(m, initialFlowsUi);
    expect(f).toContain(
      '2/2 streaming · filter: (none: / sets one) · 5 flows · fwd 2 drop 3 · lost 42 · agent ring 73% full',
    );
    const rows = f.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{3}/.test(l));
    expect(rows.map((l) => l.split(/\s+/).slice(1, 3).join(' '))).toEqual([
      'node-1 DROPPED',
      'node-2 FORWARDED',
      'node-1 DROPPED',
      'node-2 DROPPED',
      'node-1 FORWARDED',
    ]);
    // 100 columns: the pair and the drop reason are cut to fit, never wrapped.
    expect(rows[0]).toMatch(/shop\/frontend-30 -> shop\/api-5f\S*… +TCP +SERVICE_BACKEN… +egress/);
    expect(f).toMatch(/2 POLICY_DENY/);
    expect(f).toMatch(/1 SERVICE_BACKEND_NOT_FOUND/);
    expect(f).toContain('lost 42: last 42 PERF_EVENT_RING_BUFFER on node-1');
    expect(f).toMatch(/1\s+1 shop\/frontend-30 -> shop\/api-5f6b7c/);
    expect(f.split('\n').length).toBeLessThanOrEqual(30);
    expect(frame(m, initialFlowsUi, 12).split('\n').length).toBeLessThanOrEqual(12);
  });

  it('Space freezes the table on what it shows; Space again follows the stream', () => {
    const paused = press(initialFlowsUi, m, ' ');
    expect(paused.paused).toBe(true);
    const more = model({
      'node-1': nodeValue('lab/node-1', [record(40, { node: 'lab/node-1' }), ...n1]),
      'node-2': nodeValue('lab/node-2', n2),
    });
    expect(deriveFlows(more, paused, env(30)).rows).toHaveLength(5);
    expect(frame(more, paused)).toContain('PAUSED');
    const resumed = press(paused, more, ' ');
    expect(deriveFlows(more, resumed, env(30)).rows).toHaveLength(6);
  });

  it('Enter shows the selected flow in full, as hubble observe -o jsonpb; Esc closes', () => {
    const open = press(initialFlowsUi, m, '\r');
    expect(open.detail).toBe(true);
    const f = frame(m, open, 70);
    expect(f).toContain('"drop_reason_desc": "SERVICE_BACKEND_NOT_FOUND"');
    expect(f).toContain('"time": "2026-12-06T04:00:00.030000114Z"');
    expect(press(open, m, '\u001b').detail).toBe(false);
  });

  it('a hostile pod name reaches the screen escaped', () => {
    const f = labFlow(50, { node: 'lab/node-1' });
    f.source.pod_name = 'x\u001b[2J\u001b]0;pwned\u0007y';
    const ev = decodeResponse(encodeResponse({ flow: f }));
    if (ev.kind !== 'flow') throw new Error('not a flow');
    const hm = model({ 'node-1': nodeValue('lab/node-1', [ev.flow]) });
    const out = frame(hm, initialFlowsUi);
    expect(out).toContain('shop/x\\x1b[2J\\x1b]0;pwned\\x07y');
    expect(out).not.toContain('\u001b]0;');
  });

  it('a bad filter is shown; the sparkline scales to its maximum', () => {
    expect(frame(m, { ...initialFlowsUi, filter: 'verdict:NOPE' })).toContain(
      'filter: verdict: unknown "NOPE"',
    );
    expect(sparkline([0, 1, 2, 4, 8], 5)).toBe(' ▁▂▄█');
  });
});

describe('Flows pane on a live stream', () => {
  it('the flow opened with Enter stays shown when newer flows push it out of the table', () => {
    const first = [record(1, { verdict: 'DROPPED', node: 'lab/node-1' })];
    const m1 = model({ 'node-1': nodeValue('lab/node-1', first) });
    const open = press(initialFlowsUi, m1, '\r');
    const newer = Array.from({ length: 250 }, (_, i) => record(100 + i, { node: 'lab/node-1' }));
    const m2 = model({ 'node-1': nodeValue('lab/node-1', newer.reverse()) });
    expect(deriveFlows(m2, open, env(70)).rows.some((f) => f.src.pod === 'frontend-1')).toBe(false);
    const f = frame(m2, open, 70);
    expect(f).toContain('"pod_name": "frontend-1"');
    expect(f).toContain('"verdict": "DROPPED"');
  });
});

describe('Flows pane on hubble-relay', () => {
  const relayInv = {
    ...inventory,
    network: {
      targetMtu: 9216,
      bgpRouters: [],
      hubble: { kind: 'relay', address: 'hubble-relay.kube-system.svc:80' },
    },
  } as unknown as Inventory;
  const relayModel = (v: FlowsNodeValue | undefined, error?: string) =>
    buildFlowsModel({
      inventory: relayInv,
      now: 0,
      hasKube: true,
      read: <T,>(scope: string, source: string) =>
        (scope === 'cluster' && source === 'flows.relay' && v
          ? { value: v, stale: false, loading: false }
          : {
              stale: true,
              loading: false,
              ...(error ? { error: { kind: 'unreachable', message: error } } : {}),
            }) as never as import('../../src/store/types.js').Snapshot<T>,
    });

  it('one stream for every node: the table carries each flow’s node; relay’s reach in the header', () => {
    const v = nodeValue('', [
      record(30, { node: 'lab/node-2' }),
      record(20, { node: 'lab/node-1' }),
    ]);
    v.socket = 'hubble-relay hubble-relay.kube-system.svc:80 (10.96.148.27:80) via node-1';
    v.server = {
      ...v.server!,
      connectedNodes: 1,
      unavailableNodes: 1,
      unavailableNodeNames: ['lab/node-3'],
    };
    const m = relayModel(v);
    expect(m.nodes.map((n) => n.node)).toEqual(['hubble-relay']);
    const f = frame(m, initialFlowsUi);
    expect(f).toContain('relay streaming · relay reaches 1 node; 1 unavailable: lab/node-3');
    const rows = f.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{3}/.test(l));
    expect(rows.map((l) => l.split(/\s+/)[1])).toEqual(['node-2', 'node-1']);
  });

  it('relay unreachable: not streaming, and the error line says where and why', () => {
    const v = nodeValue('', []);
    v.state = 'retrying';
    v.connects = 0;
    v.error =
      'hubble-relay hubble-relay.kube-system.svc:80 (10.96.148.27:80) via node-1: hubble: No connection established. Last error: Failed to connect. (SSH: (SSH) Channel open failure: Connection refused)';
    delete v.server;
    const f = frame(relayModel(v), initialFlowsUi, 20);
    expect(f).toContain('relay not streaming');
    expect(f).toContain(
      'hubble-relay hubble-relay.kube-system.svc:80 (10.96.148.27:80) via node-1: hubble: No connection',
    );
    expect(f).toContain('connecting to Hubble…');
    expect(f.split('\n').length).toBeLessThanOrEqual(20);
  });
});
