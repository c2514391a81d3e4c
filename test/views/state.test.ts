import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import {
  filterNodes,
  initialUiState,
  paletteSuggestions,
  reduceKey,
  type UiState,
} from '../../views/state.js';

const NODES = ['cp-1', 'cp-2', 'cp-3', 'worker-1', 'worker-2', 'worker-3'];
const ctx = { nodes: NODES };
const noKey: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};
const key = (k: Partial<Key> = {}): Key => ({ ...noKey, ...k });

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

  it(':node NAME selects it and clears a filter that hides it; unknown node is an error', () => {
    const filtered = press(s0, '/', 'worker', { return: true }).s;
    const { s } = press(filtered, ':', 'node cp-2', { return: true });
    expect(s.selected).toBe('cp-2');
    expect(s.filter).toBe('');
    expect(press(s0, ':', 'node nope', { return: true }).s.message?.kind).toBe('error');
  });

  it('suggestions complete commands, then node names', () => {
    expect(paletteSuggestions('r', ctx)).toEqual(['rotation', 'refresh']);
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
