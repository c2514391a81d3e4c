import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { paletteSuggestions } from '../../views/keys/palette.js';
import type { PkiDerived, PkiUi } from '../../views/panes/pki/bindings.js';
import {
  filterNodes,
  initialUiState,
  paneState,
  reduceKey,
  type ShellCtx,
  type UiState,
} from '../../views/state.js';
import { key } from '../helpers/ink-key.js';

const NODES = ['cp-1', 'cp-2', 'cp-3', 'worker-1', 'worker-2', 'worker-3'];
const ctx = { nodes: NODES };

function press(state: UiState, ...inputs: Array<string | Partial<Key>>) {
  let s = state;
  let effect: ReturnType<typeof reduceKey>[1];
  for (const i of inputs) {
    [s, effect] =
      typeof i === 'string' ? reduceKey(s, i, key(), ctx) : reduceKey(s, '', key(i), ctx);
  }
  return { s, effect };
}

describe('UI key reducer', () => {
  const s0 = initialUiState(NODES);

  it('Tab and Shift-Tab cycle panes, wrapping', () => {
    expect(press(s0, { tab: true }).s.pane).toBe('pki');
    expect(press(s0, { tab: true, shift: true }).s.pane).toBe('jobs');
  });

  it('Ctrl-R asks for a refresh, q and Ctrl-C quit', () => {
    expect(reduceKey(s0, 'r', key({ ctrl: true }), ctx)[1]).toEqual({ kind: 'refresh' });
    expect(press(s0, 'q').effect).toEqual({ kind: 'quit' });
    expect(reduceKey({ ...s0, overlay: 'palette' }, 'c', key({ ctrl: true }), ctx)[1]).toEqual({
      kind: 'quit',
    });
  });

  it('q typed into the filter is text, not quit', () => {
    const { s, effect } = press(s0, '/', 'q');
    expect(effect).toBeUndefined();
    expect(s.filter).toBe('q');
  });

  it('Enter on a unique partial command runs it; Backspace on an empty palette closes it', () => {
    expect(press(s0, ':', 'pk', { return: true }).s.pane).toBe('pki');
    expect(press(s0, ':', 'rot', { return: true }).s.pane).toBe('rotation');
    expect(press(s0, ':', { backspace: true }).s.overlay).toBe('none');
  });

  it('Space marks and unmarks nodes (kept in inventory order); Esc clears the marks after the filter', () => {
    let { s } = press(s0, 'j', 'j', 'j', ' ', 'k', 'k', ' ');
    expect(s.marked).toEqual(['cp-2', 'worker-1']);
    s = press(s, 'j', 'j', ' ').s;
    expect(s.marked).toEqual(['cp-2']);
    s = press(s, '/', 'cp', { return: true }).s;
    s = press(s, { escape: true }).s;
    expect(s.filter).toBe('');
    expect(s.marked).toEqual(['cp-2']);
    expect(press(s, { escape: true }).s.marked).toEqual([]);
  });

  it('B rebuilds the marked nodes, else the selected one (an action effect; the plan comes first)', () => {
    expect(press(s0, 'j', 'B').effect).toEqual({
      kind: 'action',
      request: { action: 'rebuild', targets: ['cp-2'] },
    });
    const { s, effect } = press(s0, 'j', 'j', 'j', ' ', 'j', ' ', 'B');
    expect(effect).toEqual({
      kind: 'action',
      request: { action: 'rebuild', targets: ['worker-1', 'worker-2'] },
    });
    expect(s.message?.text).toMatch(/^rebuild worker-1, worker-2: preparing/);
  });

  it(':rebuild takes nodes, @role, an action and drain; :rollback NODE; bad words are errors', () => {
    const run = (line: string) => press(s0, ':', line, { return: true });
    expect(run('rebuild @worker test drain').effect).toEqual({
      kind: 'action',
      request: {
        action: 'rebuild',
        targets: [],
        options: { role: 'worker', action: 'test', drain: true },
      },
    });
    expect(run('rebuild cp-1 worker-2').effect).toMatchObject({
      request: { action: 'rebuild', targets: ['cp-1', 'worker-2'], options: {} },
    });
    expect(run('rollback worker-3').effect).toEqual({
      kind: 'action',
      request: { action: 'rebuild', targets: ['worker-3'], options: { rollback: true } },
    });
    for (const bad of ['rebuild', 'rebuild nope', 'rebuild @nope', 'rollback'])
      expect(run(bad).s.message?.kind, bad).toBe('error');
    expect(paletteSuggestions('rebuild cp-1 @w', ctx)).toEqual(['rebuild cp-1 @worker']);
    expect(paletteSuggestions('rebuild cp-1 wor', ctx)).toEqual([
      'rebuild cp-1 worker-1',
      'rebuild cp-1 worker-2',
      'rebuild cp-1 worker-3',
    ]);
  });

  it(':node NAME selects it and clears a filter that hides it; unknown node is an error', () => {
    const filtered = press(s0, '/', 'worker', { return: true }).s;
    const { s } = press(filtered, ':', 'node cp-2', { return: true });
    expect(s.selected).toBe('cp-2');
    expect(s.filter).toBe('');
    expect(press(s0, ':', 'node nope', { return: true }).s.message?.kind).toBe('error');
  });

  it('suggestions complete commands, then node names', () => {
    expect(paletteSuggestions('r', ctx)).toEqual(['rotation', 'rebuild ', 'rollback ', 'refresh']);
    expect(paletteSuggestions('node cp', ctx)).toEqual(['node cp-1', 'node cp-2', 'node cp-3']);
    expect(paletteSuggestions('pki x', ctx)).toEqual([]);
  });

  it('filter: regex when it compiles, text otherwise', () => {
    expect(filterNodes(NODES, '^cp-[12]$')).toEqual(['cp-1', 'cp-2']);
    expect(filterNodes(NODES, 'WORKER')).toHaveLength(3);
    expect(filterNodes(NODES, '[')).toEqual([]); // invalid regex → substring "[" → nothing
  });

  it('selection is clamped at both ends', () => {
    expect(press(s0, 'k').s.selected).toBe('cp-1');
    expect(press(s0, 'G', 'j').s.selected).toBe('worker-3');
    expect(press(s0, { pageDown: true }).s.selected).toBe('worker-3');
  });
});

describe('UI key reducer: PKI pane keys', () => {
  const rows = ['root', 'int', 'leaf-a', 'leaf-b'];
  const s0 = { ...initialUiState(NODES), pane: 'pki' as const };
  const pki = (s: UiState): PkiUi => paneState<PkiUi>(s);
  /** What the App derives for the pane from its state: the rows as shown, the selection. */
  const derivedOf = (s: UiState, detail?: { lines: number; height: number }): PkiDerived => {
    const sel = pki(s).selected;
    return {
      rows: rows.map((key) => ({ key, depth: 0, item: { kind: 'group', key, title: key } })),
      selected: sel && rows.includes(sel) ? sel : rows[0],
      ...(pki(s).detail && detail ? { detail } : {}),
    };
  };
  function pkiPress(
    state: UiState,
    detail: { lines: number; height: number } | undefined,
    ...inputs: Array<string | Partial<Key>>
  ) {
    let s = state;
    for (const i of inputs) {
      const c: ShellCtx = {
        nodes: NODES,
        derive: (st) => (st.pane === 'pki' ? derivedOf(st, detail) : undefined),
      };
      [s] = typeof i === 'string' ? reduceKey(s, i, key(), c) : reduceKey(s, '', key(i), c);
    }
    return s;
  }

  it('j/k/g/G move in the tree, not in the node list', () => {
    const s = pkiPress(s0, undefined, 'j', 'j');
    expect(pki(s).selected).toBe('leaf-a');
    expect(s.selected).toBe('cp-1');
    expect(pki(pkiPress(s, undefined, 'G', 'j')).selected).toBe('leaf-b');
    expect(pki(pkiPress(s, undefined, 'g', 'k')).selected).toBe('root');
    expect(pki(pkiPress(s0, undefined, { pageDown: true })).selected).toBe('leaf-b');
  });

  it('Enter opens details (j/k scroll, clamped), Esc closes; s toggles the order', () => {
    const open = pkiPress(s0, undefined, 'j', { return: true });
    expect(pki(open)).toMatchObject({ selected: 'int', detail: true, scroll: 0 });
    const d = { lines: 12, height: 10 };
    expect(pki(pkiPress(open, d, 'j', 'j', 'j', 'j')).scroll).toBe(2);
    expect(pki(pkiPress(open, d, 'G')).scroll).toBe(2);
    expect(pki(pkiPress(open, d, 'j', 'k', 'k')).scroll).toBe(0);
    expect(pki(pkiPress(open, d, 'j')).selected).toBe('int'); // j scrolls, does not move
    expect(pki(pkiPress(open, d, { escape: true, meta: true })).detail).toBe(false);
    expect(pki(pkiPress(s0, undefined, 's')).order).toBe('worst');
    expect(pki(pkiPress(s0, undefined, 's', 's')).order).toBe('tree');
    // s in the details closes them and toggles.
    expect(pki(pkiPress(open, d, 's'))).toMatchObject({ order: 'worst', detail: false });
  });

  it('/ edits the pane-local filter; Esc clears it, then the node filter', () => {
    const typed = pkiPress(s0, undefined, '/', 'etcd');
    expect(typed.overlay).toBe('filter');
    expect(typed.filterTarget).toBe('pane');
    expect(pki(typed).filter).toBe('etcd');
    expect(typed.filter).toBe('');
    const kept = pkiPress(typed, undefined, { return: true });
    expect(kept.overlay).toBe('none');
    expect(pki(kept).filter).toBe('etcd');
    const both = { ...kept, filter: 'cp' };
    const once = pkiPress(both, undefined, { escape: true, meta: true });
    expect(pki(once).filter).toBe('');
    expect(once.filter).toBe('cp');
    expect(pkiPress(once, undefined, { escape: true }).filter).toBe('');
    // Other panes keep the node filter.
    expect(press({ ...s0, pane: 'overview' }, '/', 'w').s.filterTarget).toBe('nodes');
  });

  it('global keys still work on the PKI pane', () => {
    expect(pkiPress(s0, undefined, '1').pane).toBe('overview');
    expect(pkiPress(s0, undefined, '?').overlay).toBe('help');
    expect(reduceKey(s0, 'q', key(), { nodes: NODES })[1]).toEqual({ kind: 'quit' });
  });

  it('a key chunk that switches panes gives the new pane no stale data ("2j")', () => {
    const c: ShellCtx = { nodes: NODES, derive: (st) => (st.pane === 'overview' ? [] : undefined) };
    const [on] = reduceKey(initialUiState(NODES), '2', key(), c);
    const [after] = reduceKey(on, 'j', key(), c);
    expect(after.pane).toBe('pki');
    expect(pki(after).selected).toBeUndefined();
  });
});

describe('UI key reducer: help overlay', () => {
  it('j/k scroll the help, bounded by its length and the room it has', () => {
    const open = reduceKey(initialUiState(['a']), '?', key(), { nodes: ['a'], height: 10 })[0];
    let s = open;
    for (let i = 0; i < 200; i++) s = reduceKey(s, 'j', key(), { nodes: ['a'], height: 10 })[0];
    const max = s.helpScroll;
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThan(200);
    expect(reduceKey(s, 'k', key(), { nodes: ['a'], height: 10 })[0].helpScroll).toBe(max - 1);
    expect(reduceKey(s, 'g', key(), { nodes: ['a'], height: 10 })[0].helpScroll).toBe(0);
    expect(reduceKey(s, '?', key(), { nodes: ['a'] })[0].overlay).toBe('none');
  });
});
