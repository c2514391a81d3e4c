/**
 * The Flows pane's state and keys: move over the flows, `Space` pauses (the table freezes
 * on what it shows; the streams go on and the counts catch up on resume), `Enter` shows
 * the selected flow in full (as `hubble observe -o jsonpb` would print it; j/k scroll,
 * Esc closes). `/` is the pane's filter, sent to the agents as server-side filters.
 */
import { parseFlowQuery } from '../../../src/features/flows/filter.js';
import type { FlowsModel } from '../../../src/features/flows/model.js';
import type { FlowRecord } from '../../../src/features/flows/types.js';
import { MOVE_KEYS, moveIndex, movement } from '../../keys/movement.js';
import type { Binding } from '../../keys/types.js';
import type { PaneEnv, PaneKeyCtx } from '../types.js';
import { flowDetailLines } from './detail.js';

export interface FlowsUi {
  filter: string;
  paused: boolean;
  /** The model the table froze on (while paused). */
  frozen?: FlowsModel;
  /** Selected flow key; none: the newest (the table follows the stream). */
  selected?: string;
  detail: boolean;
  /** The flow shown in full (kept: on a live stream it leaves the table within a second). */
  detailFlow?: FlowRecord;
  scroll: number;
}

export const initialFlowsUi: FlowsUi = { filter: '', paused: false, detail: false, scroll: 0 };

export interface FlowsDerived {
  /** The model shown (the frozen one while paused). */
  model: FlowsModel;
  rows: readonly FlowRecord[];
  selected: string | undefined;
  /** The filter's error (the streams keep the last good filter meanwhile). */
  filterError?: string;
  detail?: { lines: string[]; height: number };
}

/** A flow's key in the table (node, time to the nanosecond, and the raw bytes' length). */
export const flowKey = (f: FlowRecord): string =>
  `${f.node}|${f.timeMs}|${f.nanos}|${f.raw.length}|${f.src.pod || f.src.ip}:${f.src.port}`;

/** Flows of the nodes the node list shows (a flow's node is `cluster/node` or `node`). */
const nodeOf = (n: string): string => n.slice(n.lastIndexOf('/') + 1);

export const detailHeight = (height: number): number => Math.max(1, height - 2);

export function deriveFlows(model: FlowsModel, ui: FlowsUi, env: PaneEnv): FlowsDerived {
  const m = ui.paused && ui.frozen ? ui.frozen : model;
  const visible = env.nodeFilter ? new Set(env.visibleNodes) : undefined;
  const rows = visible ? m.flows.filter((f) => visible.has(nodeOf(f.node))) : m.flows;
  const keys = rows.map(flowKey);
  const selected = ui.selected !== undefined && keys.includes(ui.selected) ? ui.selected : keys[0];
  const q = parseFlowQuery(ui.filter);
  const out: FlowsDerived = { model: m, rows, selected };
  if (!q.ok) out.filterError = q.error;
  if (ui.detail && ui.detailFlow)
    out.detail = { lines: flowDetailLines(ui.detailFlow), height: detailHeight(env.height) };
  return out;
}

type FlowsBinding = Binding<FlowsUi, PaneKeyCtx<FlowsDerived>>;

const inDetail = (s: FlowsUi): boolean => s.detail;
const inTable = (s: FlowsUi): boolean => !s.detail;

const move: FlowsBinding['reduce'] = (s, { derived }, ev) => {
  const keys = derived?.rows.map(flowKey) ?? [];
  if (keys.length === 0) return [s];
  const cur = Math.max(0, derived?.selected ? keys.indexOf(derived.selected) : 0);
  const to = Math.max(
    0,
    Math.min(keys.length - 1, moveIndex(movement(ev.input, ev.key), cur, keys.length)),
  );
  // Back on the newest row: follow the stream again.
  return [{ ...s, ...(to === 0 && !s.paused ? { selected: undefined } : { selected: keys[to] }) }];
};

const scroll: FlowsBinding['reduce'] = (s, { derived }, ev) => {
  const d = derived?.detail;
  const max = d ? Math.max(0, d.lines.length - d.height) : 0;
  const m = movement(ev.input, ev.key);
  const to = m === 'last' ? max : moveIndex(m, s.scroll, 0);
  return [{ ...s, scroll: Math.max(0, Math.min(max, to)) }];
};

export const flowsBindings: readonly FlowsBinding[] = [
  {
    keys: ['escape', 'enter'],
    help: 'flow: close',
    hint: 'close flow',
    hintKeys: 'Esc',
    when: inDetail,
    reduce: (s) => [{ ...s, detail: false, detailFlow: undefined, scroll: 0 }],
  },
  {
    keys: MOVE_KEYS.step,
    help: 'flow: scroll',
    hint: 'scroll',
    hintKeys: 'j/k',
    when: inDetail,
    reduce: scroll,
  },
  { keys: MOVE_KEYS.page, help: 'flow: scroll by 10 lines', when: inDetail, reduce: scroll },
  { keys: MOVE_KEYS.ends, help: 'flow: top / bottom', when: inDetail, reduce: scroll },
  {
    keys: MOVE_KEYS.step,
    help: 'move over the flows',
    hint: 'move',
    hintKeys: 'j/k',
    when: inTable,
    reduce: move,
  },
  { keys: MOVE_KEYS.page, help: 'move by 10 flows', when: inTable, reduce: move },
  { keys: MOVE_KEYS.ends, help: 'newest / oldest flow', when: inTable, reduce: move },
  {
    keys: ['enter'],
    help: 'the selected flow in full (every field, as hubble observe -o jsonpb prints it)',
    hint: 'flow',
    when: inTable,
    reduce: (s, { derived }) => {
      const f = derived?.rows.find((r) => flowKey(r) === derived.selected);
      return f ? [{ ...s, detail: true, detailFlow: f, scroll: 0 }] : [s];
    },
  },
  {
    keys: [' '],
    label: 'Space',
    hintKeys: 'Space',
    help: 'pause / resume the table (the streams and counts go on)',
    hint: (s) => (s.paused ? 'resume' : 'pause'),
    reduce: (s, { derived }) =>
      s.paused
        ? [{ ...s, paused: false, frozen: undefined, selected: undefined }]
        : [{ ...s, paused: true, frozen: derived?.model, selected: derived?.selected }],
  },
];

/** `/` in this pane: the server-side filter of every node's stream. */
export const flowsFilter = {
  label: 'flows: verdict:DROPPED ns: pod: port: node: reason: dir: proto:',
  get: (s: FlowsUi): string => s.filter,
  set: (s: FlowsUi, text: string): FlowsUi =>
    text === s.filter
      ? s
      : {
          ...s,
          filter: text,
          detail: false,
          detailFlow: undefined,
          scroll: 0,
          selected: undefined,
        },
};
