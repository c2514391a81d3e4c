/**
 * The MTU pane's state and keys. The node rows are the node list's (the shell's j/k and
 * `/` move and filter them); `Enter` opens the selected node's interfaces (j/k scroll,
 * Esc closes); `p` probes every path again now (the `mtu-paths` source only).
 */
import type { MtuModel, MtuNodeRow } from '../../../src/features/mtu/model.js';
import { PATHS_SOURCE_ID } from '../../../src/features/mtu/sources.js';
import { MOVE_KEYS, moveIndex, movement } from '../../keys/movement.js';
import type { Binding } from '../../keys/types.js';
import type { PaneEnv, PaneKeyCtx } from '../types.js';

export interface MtuUi {
  /** The selected node's interfaces are open (Enter; Esc closes). */
  detail: boolean;
  /** First visible interface row of the details. */
  scroll: number;
}

export const initialMtuUi: MtuUi = { detail: false, scroll: 0 };

export interface MtuDerived {
  /** Node rows the node filter leaves, inventory order. */
  rows: readonly MtuNodeRow[];
  selected: MtuNodeRow | undefined;
  /** Interface rows that fit in the details (bounds scrolling). */
  detailRows: number;
}

/** Lines the details take besides the interface rows (title, Cilium, header, paths). */
export const DETAIL_CHROME = 8;

export function deriveMtu(model: MtuModel, _ui: MtuUi, env: PaneEnv): MtuDerived {
  const visible = new Set(env.visibleNodes);
  const rows = model.nodes.filter((r) => visible.has(r.name));
  const selected = rows.find((r) => r.name === env.selectedNode) ?? rows[0];
  return { rows, selected, detailRows: Math.max(1, env.height - DETAIL_CHROME) };
}

type MtuBinding = Binding<MtuUi, PaneKeyCtx<MtuDerived>>;

const inDetail = (s: MtuUi): boolean => s.detail;
const inList = (s: MtuUi): boolean => !s.detail;

const scroll: MtuBinding['reduce'] = (s, { derived }, ev) => {
  const n = derived?.selected?.links.length ?? 0;
  const max = Math.max(0, n - (derived?.detailRows ?? n));
  const m = movement(ev.input, ev.key);
  const to = m === 'last' ? max : moveIndex(m, s.scroll, 0);
  return [{ ...s, scroll: Math.max(0, Math.min(max, to)) }];
};

export const mtuBindings: readonly MtuBinding[] = [
  {
    keys: ['escape', 'enter'],
    help: 'interfaces: close',
    hint: 'close',
    hintKeys: 'Esc',
    when: inDetail,
    reduce: (s) => [{ ...s, detail: false, scroll: 0 }],
  },
  {
    keys: MOVE_KEYS.step,
    help: 'interfaces: scroll',
    hint: 'scroll',
    hintKeys: 'j/k',
    when: inDetail,
    reduce: scroll,
  },
  { keys: MOVE_KEYS.page, help: 'interfaces: scroll by 10 rows', when: inDetail, reduce: scroll },
  { keys: MOVE_KEYS.ends, help: 'interfaces: top / bottom', when: inDetail, reduce: scroll },
  {
    keys: ['enter'],
    help: "MTU pane: the selected node's interfaces with MTU, role and verdict; its Cilium MTUs and paths",
    hint: 'interfaces',
    when: inList,
    reduce: (s, { derived }) =>
      derived?.selected === undefined ? [s] : [{ ...s, detail: true, scroll: 0 }],
  },
  {
    keys: ['p'],
    help: 'MTU pane: probe every node × node path again now (ping -M do, bisection on failure)',
    hint: 'probe paths',
    reduce: (s) => [s, { kind: 'refresh', source: PATHS_SOURCE_ID }],
  },
];
