/**
 * The BGP pane's state and keys: move over the sessions (j/k…), Enter for a session's
 * details (both sides, every problem, the router's received routes; j/k scroll), Esc
 * closes; `s` table order ↔ worst first; `/` filters the sessions (node, peer, router,
 * state, VIP). Every key is declared once: the hint bar and help read this list.
 */
import type { BgpModel, BgpRow } from '../../../src/features/bgp/model.js';
import { MOVE_KEYS, moveIndex, movement } from '../../keys/movement.js';
import type { Binding } from '../../keys/types.js';
import type { PaneEnv, PaneKeyCtx } from '../types.js';
import { detailLines } from './detail-lines.js';

export interface BgpUi {
  order: 'table' | 'worst';
  filter: string;
  selected?: string;
  detail: boolean;
  scroll: number;
}

export const initialBgpUi: BgpUi = { order: 'table', filter: '', detail: false, scroll: 0 };

export interface BgpDerived {
  rows: readonly BgpRow[];
  selected: string | undefined;
  detail?: { lines: number; height: number };
}

const RANK = { critical: 0, warning: 1, ok: 2 } as const;

function matcher(filter: string): (s: string) => boolean {
  if (filter === '') return () => true;
  try {
    const re = new RegExp(filter, 'i');
    return (s) => re.test(s);
  } catch {
    const f = filter.toLowerCase();
    return (s) => s.toLowerCase().includes(f);
  }
}

/** Lines the details get (the pane less its header line). */
export const detailHeight = (height: number): number => Math.max(1, height - 1);

export function deriveBgp(model: BgpModel, ui: BgpUi, env: PaneEnv): BgpDerived {
  const m = matcher(ui.filter);
  const visible = new Set(env.visibleNodes);
  let rows = model.rows.filter(
    (r) =>
      (!env.nodeFilter || visible.has(r.node)) &&
      m(
        [
          r.node,
          r.peerAddress,
          r.nodeAddress ?? '',
          r.router ?? '',
          r.state,
          ...r.vips,
          ...r.problems,
        ].join(' '),
      ),
  );
  if (ui.order === 'worst')
    rows = [...rows].sort((a, b) => RANK[a.severity] - RANK[b.severity] || b.flaps - a.flaps);
  const selected = rows.some((r) => r.key === ui.selected) ? ui.selected : rows[0]?.key;
  const row = ui.detail ? rows.find((r) => r.key === selected) : undefined;
  if (!row) return { rows, selected };
  return {
    rows,
    selected,
    detail: {
      lines: detailLines(row, model, 0, env.width).length,
      height: detailHeight(env.height),
    },
  };
}

type BgpBinding = Binding<BgpUi, PaneKeyCtx<BgpDerived>>;
const inDetail = (s: BgpUi): boolean => s.detail;
const inTable = (s: BgpUi): boolean => !s.detail;

const move: BgpBinding['reduce'] = (s, { derived }, ev) => {
  const keys = derived?.rows.map((r) => r.key) ?? [];
  if (keys.length === 0) return [s];
  const cur = Math.max(0, s.selected ? keys.indexOf(s.selected) : 0);
  const to = moveIndex(movement(ev.input, ev.key), cur, keys.length);
  return [{ ...s, selected: keys[Math.max(0, Math.min(keys.length - 1, to))] }];
};

const scroll: BgpBinding['reduce'] = (s, { derived }, ev) => {
  const d = derived?.detail;
  const max = d ? Math.max(0, d.lines - d.height) : Number.MAX_SAFE_INTEGER;
  const mv = movement(ev.input, ev.key);
  const to = mv === 'last' ? max : moveIndex(mv, s.scroll, 0);
  return [{ ...s, scroll: Math.max(0, Math.min(max, to)) }];
};

export const bgpBindings: readonly BgpBinding[] = [
  {
    keys: ['escape', 'enter'],
    help: 'session details: close',
    hint: 'close details',
    hintKeys: 'Esc',
    when: inDetail,
    reduce: (s) => [{ ...s, detail: false, scroll: 0 }],
  },
  {
    keys: MOVE_KEYS.step,
    help: 'session details: scroll',
    hint: 'scroll',
    hintKeys: 'j/k',
    when: inDetail,
    reduce: scroll,
  },
  {
    keys: MOVE_KEYS.page,
    help: 'session details: scroll by 10 lines',
    when: inDetail,
    reduce: scroll,
  },
  { keys: MOVE_KEYS.ends, help: 'session details: top / bottom', when: inDetail, reduce: scroll },
  {
    keys: MOVE_KEYS.step,
    help: 'move over the sessions',
    hint: 'move',
    hintKeys: 'j/k',
    when: inTable,
    reduce: move,
  },
  { keys: MOVE_KEYS.page, help: 'move by 10 sessions', when: inTable, reduce: move },
  { keys: MOVE_KEYS.ends, help: 'first / last session', when: inTable, reduce: move },
  {
    keys: ['enter'],
    help: "details of the selected session: both sides, every problem, the router's received routes",
    hint: 'details',
    when: inTable,
    reduce: (s, { derived }) =>
      derived?.selected === undefined
        ? [s]
        : [{ ...s, selected: derived.selected, detail: true, scroll: 0 }],
  },
  {
    keys: ['s'],
    help: 'table order ↔ worst sessions first',
    hint: (s) => (s.order === 'table' ? 'worst first' : 'table order'),
    when: inTable,
    reduce: (s) => [{ ...s, order: s.order === 'table' ? 'worst' : 'table' }],
  },
];

export const bgpFilter = {
  label: 'sessions',
  get: (s: BgpUi): string => s.filter,
  set: (s: BgpUi, text: string): BgpUi =>
    text === s.filter ? s : { ...s, filter: text, detail: false, scroll: 0 },
};
