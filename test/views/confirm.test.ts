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

  it('choices: Tab cycles the highlighted one and the title, text and plan follow; ↑/↓ move; Enter sends the values', () => {
    const key2 = (o: Record<string, string>) =>
      ['action', 'drain'].map((id) => `${id}=${o[id]}`).join('\u0000');
    const variants: Record<string, { title: string; confirm: string; planText: string[] }> = {};
    for (const action of ['switch', 'test', 'boot'])
      for (const drain of ['no', 'yes'])
        variants[key2({ action, drain })] = {
          title: `rebuild ${action}: worker-q`,
          confirm: 'worker-q',
          planText: [`nixos-rebuild ${action}`, ...(drain === 'yes' ? ['drain: worker-q'] : [])],
        };
    let s = openConfirm(initialUiState(ctx.nodes), {
      token: 'tok',
      ...variants[key2({ action: 'switch', drain: 'no' })]!,
      expect: 'worker-q',
      options: [
        { id: 'action', label: 'action', choices: ['switch', 'test', 'boot'], value: 'switch' },
        { id: 'drain', label: 'drain', choices: ['no', 'yes'], value: 'no' },
      ],
      variants,
    });
    expect(s.confirm?.focus).toBe(0);
    [s] = reduceKey(s, '\t', key({ tab: true }), ctx);
    expect(s.confirm?.options?.[0]?.value).toBe('test');
    expect(s.confirm?.title).toBe('rebuild test: worker-q');
    expect(s.confirm?.planText).toEqual(['nixos-rebuild test']);
    [s] = reduceKey(s, '', key({ downArrow: true }), ctx);
    [s] = reduceKey(s, '\t', key({ tab: true }), ctx);
    expect(s.confirm?.options?.map((o) => o.value)).toEqual(['test', 'yes']);
    expect(s.confirm?.planText).toEqual(['nixos-rebuild test', 'drain: worker-q']);
    [s] = reduceKey(s, '', key({ upArrow: true }), ctx);
    [s] = reduceKey(s, '\t', key({ tab: true }), ctx);
    [s] = reduceKey(s, '\t', key({ tab: true }), ctx);
    expect(s.confirm?.options?.[0]?.value).toBe('switch'); // boot, then round to switch
    s = typeText(s, 'worker-q');
    const [done, e] = enter(s);
    expect(done.overlay).toBe('none');
    expect(e).toEqual({
      kind: 'start-job',
      token: 'tok',
      values: { action: 'switch', drain: 'yes' },
    });
  });

  it('without choices Tab does nothing (and is no hint)', () => {
    const [s] = reduceKey(open(), '\t', key({ tab: true }), ctx);
    expect(s.confirm).toEqual(open().confirm);
  });
});
