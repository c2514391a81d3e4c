/**
 * The PKI pane's state and keys: move in the tree, Enter/Esc for details (which j/k then
 * scroll), `s` tree order ↔ worst first; `/` filters the tree (the pane's own filter).
 * Every key here is declared once: the hint bar and the help overlay read this list.
 */
import type { PkiReport } from '../../../src/pki/report.js';
import { flattenTree, sortTree, type TreeRow } from '../../../src/pki/tree.js';
import { MOVE_KEYS, moveIndex, movement } from '../../keys/movement.js';
import type { Binding } from '../../keys/types.js';
import type { PaneEnv, PaneKeyCtx } from '../types.js';
import { detailHeight, detailLines } from './detail-lines.js';

export interface PkiUi {
  /** `tree`: root → intermediates → leaves by name/node; `worst`: worst findings first. */
  order: 'tree' | 'worst';
  /** Filter of the tree (regex or text over names, nodes, files, SANs, check ids). */
  filter: string;
  /** Selected row key (a fingerprint, `file:…`, `node:…`); the first row when unset or gone. */
  selected?: string;
  /** The details of the selected row are open (Enter; Esc closes). */
  detail: boolean;
  /** First visible line of the details. */
  scroll: number;
}

export const initialPkiUi: PkiUi = { order: 'tree', filter: '', detail: false, scroll: 0 };

export interface PkiDerived {
  /** The tree as shown: sorted, filtered by the pane's filter and the node list's. */
  rows: readonly TreeRow[];
  /** The selected row's key (the first row when the state's is unset or filtered away). */
  selected: string | undefined;
  /** With details open: their line count and the lines that fit (bounds scrolling). */
  detail?: { lines: number; height: number };
}

export function derivePki(report: PkiReport, ui: PkiUi, env: PaneEnv): PkiDerived {
  const tree = sortTree(report.tree, ui.order, env.nodes);
  const rows = flattenTree(tree, {
    filter: ui.filter,
    ...(env.nodeFilter ? { nodes: new Set(env.visibleNodes) } : {}),
  });
  const selected = rows.some((r) => r.key === ui.selected) ? ui.selected : rows[0]?.key;
  const item = ui.detail ? rows.find((r) => r.key === selected)?.item : undefined;
  if (!item) return { rows, selected };
  return {
    rows,
    selected,
    detail: { lines: detailLines(item, env.width).length, height: detailHeight(env.height) },
  };
}

type PkiBinding = Binding<PkiUi, PaneKeyCtx<PkiDerived>>;

const inDetail = (s: PkiUi): boolean => s.detail;
const inTree = (s: PkiUi): boolean => !s.detail;

/** Move the tree selection over the rows as shown. */
const move: PkiBinding['reduce'] = (s, { derived }, ev) => {
  const keys = derived?.rows.map((r) => r.key) ?? [];
  if (keys.length === 0) return [s];
  const cur = Math.max(0, s.selected ? keys.indexOf(s.selected) : 0);
  const to = moveIndex(movement(ev.input, ev.key), cur, keys.length);
  return [{ ...s, selected: keys[Math.max(0, Math.min(keys.length - 1, to))] }];
};

/** Scroll the open details, bounded by their length. */
const scroll: PkiBinding['reduce'] = (s, { derived }, ev) => {
  const d = derived?.detail;
  const max = d ? Math.max(0, d.lines - d.height) : Number.MAX_SAFE_INTEGER;
  const m = movement(ev.input, ev.key);
  const to = m === 'last' ? max : moveIndex(m, s.scroll, 0);
  return [{ ...s, scroll: Math.max(0, Math.min(max, to)) }];
};

const toggleOrder = (s: PkiUi): PkiUi => ({
  ...s,
  order: s.order === 'tree' ? 'worst' : 'tree',
  detail: false,
  scroll: 0,
});

export const pkiBindings: readonly PkiBinding[] = [
  // The details.
  {
    keys: ['escape', 'enter'],
    help: 'details: close',
    hint: 'close details',
    hintKeys: 'Esc',
    when: inDetail,
    reduce: (s) => [{ ...s, detail: false, scroll: 0 }],
  },
  {
    keys: MOVE_KEYS.step,
    help: 'details: scroll',
    hint: 'scroll',
    hintKeys: 'j/k',
    when: inDetail,
    reduce: scroll,
  },
  { keys: MOVE_KEYS.page, help: 'details: scroll by 10 lines', when: inDetail, reduce: scroll },
  { keys: MOVE_KEYS.ends, help: 'details: top / bottom', when: inDetail, reduce: scroll },
  // The tree.
  {
    keys: MOVE_KEYS.step,
    help: 'move in the tree',
    hint: 'move',
    hintKeys: 'j/k',
    when: inTree,
    reduce: move,
  },
  { keys: MOVE_KEYS.page, help: 'move by 10 rows', when: inTree, reduce: move },
  { keys: MOVE_KEYS.ends, help: 'first / last row', when: inTree, reduce: move },
  {
    keys: ['enter'],
    help: 'details of the selected certificate (subject, issuer, SANs, usages, validity, fingerprint, every check)',
    hint: 'details',
    when: inTree,
    reduce: (s, { derived }) =>
      derived?.selected === undefined
        ? [s]
        : [{ ...s, selected: derived.selected, detail: true, scroll: 0 }],
  },
  {
    keys: ['s'],
    help: 'tree order ↔ worst findings first',
    hint: (s) => (s.order === 'tree' ? 'worst first' : 'tree order'),
    reduce: (s) => [toggleOrder(s)],
  },
];

/** `/` in this pane filters the tree; typing closes the details. */
export const pkiFilter = {
  label: 'certificates',
  get: (s: PkiUi): string => s.filter,
  set: (s: PkiUi, text: string): PkiUi =>
    text === s.filter ? s : { ...s, filter: text, detail: false, scroll: 0 },
};
