/**
 * The typed confirmation as the pure reducer sees it: Enter with nothing typed or a wrong
 * name starts nothing and says why; typing clears the error; Backspace edits; the right
 * name closes it with a `start-job` effect; Esc closes it with `discard-job`. Letters that
 * are keys elsewhere (q, j, ?) are typed, not acted on.
 */
import { describe, expect, it } from 'vitest';
import { initialUiState, openConfirm, reduceKey, type UiState } from '../../views/state.js';
import { key } from '../helpers/ink-key.js';

const ctx = { nodes: ['cp-1', 'worker-q'] };
const open = (): UiState =>
  openConfirm(initialUiState(ctx.nodes), {
    token: 'tok',
    title: 'rotate worker-q',
    expect: 'worker-q',
    planText: ['1. node-csr'],
  });

const typeText = (s: UiState, text: string): UiState => {
  let st = s;
  for (const ch of text) [st] = reduceKey(st, ch, key(), ctx);
  return st;
};
const enter = (s: UiState) => reduceKey(s, '\r', key({ return: true }), ctx);

describe('typed confirmation', () => {
  it('refuses an empty or wrong name, starts with the right one', () => {
    let [s, e] = enter(open());
    expect(e).toBeUndefined();
    expect(s.overlay).toBe('confirm');
    expect(s.confirm?.error).toBe('type worker-q to start it');

    s = typeText(s, 'worker-');
    expect(s.confirm?.error).toBeUndefined();
    [s, e] = enter(s);
    expect(e).toBeUndefined();
    expect(s.confirm?.error).toBe('"worker-" is not "worker-q": nothing started');
    expect(s.input).toBe('');

    s = typeText(s, 'worker-qx');
    [s] = reduceKey(s, '', key({ backspace: true }), ctx);
    expect(s.input).toBe('worker-q'); // q typed, not quit
    [s, e] = enter(s);
    expect(e).toEqual({ kind: 'start-job', token: 'tok' });
    expect(s.overlay).toBe('none');
    expect(s.confirm).toBeUndefined();
  });

  it('Esc cancels and asks the shell to forget the prepared job', () => {
    const [s, e] = reduceKey(typeText(open(), 'wor'), '', key({ escape: true }), ctx);
    expect(e).toEqual({ kind: 'discard-job', token: 'tok' });
    expect(s.overlay).toBe('none');
    expect(s.message).toEqual({ text: 'cancelled: rotate worker-q not started', kind: 'info' });
  });
});
