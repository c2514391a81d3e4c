/**
 * The shell's state and key handling as a pure reducer: (state, key) → state + effect.
 * Every key is a binding (keys/types.ts) declared once — the shell's here, each pane's in
 * its folder — and the hint bar and help overlay are generated from the same lists. The
 * App component only feeds keys in and performs effects, so every binding is unit-testable.
 */
import type { Key } from 'ink';
import { filterByText } from '../src/store/filter.js';
import { keyLabel, matchKey } from './keys/match.js';
import { MOVE_KEYS, moveIndex, movement } from './keys/movement.js';
import {
  completePalette,
  PALETTE_COMMANDS,
  type PaletteCtx,
  paletteSuggestions,
  runPaletteLine,
} from './keys/palette.js';
import type { Binding, Effect, Hint } from './keys/types.js';
import { PANES, paneById, paneIndex } from './panes/index.js';
import type { AnyPane, PaneEnv, PaneId } from './panes/types.js';

export type { Effect } from './keys/types.js';

export type Overlay = 'none' | 'help' | 'palette' | 'filter' | 'confirm';

/** A choice of the confirmation (Tab cycles the focused one's value). */
export interface ConfirmChoice {
  id: string;
  label: string;
  choices: readonly string[];
  value: string;
}

/** The typed confirmation of an action: its plan, and the text the operator must type. */
export interface ConfirmState {
  token: string;
  title: string;
  /** What must be typed (the node name). */
  expect: string;
  planText: readonly string[];
  /** Why the last Enter did not start it. */
  error?: string;
  /** The choices it offers (e.g. switch/test/boot, drain no/yes); none for most actions. */
  options?: readonly ConfirmChoice[];
  /** The option Tab changes. */
  focus?: number;
  /** Title, text to type and plan per combination of the options (session.jobs' variantKey). */
  variants?: Readonly<
    Record<string, { title: string; confirm: string; planText: readonly string[] }>
  >;
}

export interface UiState {
  pane: PaneId;
  overlay: Overlay;
  /** Selected node by name (robust to filtering and reordering). */
  selected: string | undefined;
  /** Applied filter of the node list (regex or text, case-insensitive). */
  filter: string;
  /** Edit buffer of the palette or the filter prompt. */
  input: string;
  /** Highlighted palette suggestion. */
  suggestion: number;
  message?: { text: string; kind: 'info' | 'error' };
  /** What the open filter prompt edits: the node list, or the active pane's own filter. */
  filterTarget: 'nodes' | 'pane';
  /** First line of the help overlay. */
  helpScroll: number;
  /** Each pane's own state, by pane id (its `initial` until it changes). */
  panes: Partial<Record<PaneId, unknown>>;
  /** The open typed confirmation (overlay `confirm`). */
  confirm?: ConfirmState;
  /** Nodes marked in the node list (Space), in inventory order: what `B` rebuilds. */
  marked: readonly string[];
}

/** What the reducer needs besides the state: names, and the active pane's derived data. */
export interface ShellCtx extends PaletteCtx {
  /**
   * The active pane's derived data (its rows as shown) for a state, from the models the
   * App holds: computed per key, so every key of a chunk ("sjj\r") sees the rows as the
   * keys before it left them. Undefined for a pane whose model the App does not hold yet
   * (a chunk that switches panes: "2j").
   */
  derive?: (state: UiState) => unknown;
  /** The pane area's size (bounds scrolling). */
  width?: number;
  height?: number;
}

/** The context of a shell binding. */
export interface ShellKeyCtx {
  ctx: ShellCtx;
  pane: AnyPane;
  env: PaneEnv;
}

export const initialUiState = (nodes: readonly string[]): UiState => ({
  pane: 'overview',
  overlay: 'none',
  selected: nodes[0],
  filter: '',
  input: '',
  suggestion: 0,
  filterTarget: 'nodes',
  helpScroll: 0,
  panes: {},
  marked: [],
});

/** Nodes matching a filter: a case-insensitive regex when it compiles, else a substring. */
export const filterNodes = (nodes: readonly string[], filter: string): string[] =>
  filterByText(nodes, filter, (n) => n);

/** The active pane's own state. */
export function paneState<S = unknown>(ui: UiState, pane: AnyPane = paneById(ui.pane)): S {
  return (ui.panes[pane.id] ?? pane.initial) as S;
}

const withPaneState = (ui: UiState, pane: AnyPane, s: unknown): UiState =>
  s === paneState(ui, pane) ? ui : { ...ui, panes: { ...ui.panes, [pane.id]: s } };

export function makePaneEnv(
  nodes: readonly string[],
  nodeFilter: string,
  selectedNode: string | undefined,
  width: number,
  height: number,
  marked: readonly string[] = [],
): PaneEnv {
  return {
    nodes,
    nodeFilter,
    visibleNodes: filterNodes(nodes, nodeFilter),
    selectedNode,
    marked,
    width,
    height,
  };
}

export const paneEnv = (ui: UiState, ctx: ShellCtx): PaneEnv =>
  makePaneEnv(ctx.nodes, ui.filter, ui.selected, ctx.width ?? 80, ctx.height ?? 20, ui.marked);

/** Toggle the mark of `node`; the marks stay in inventory order. */
export function toggleMark(
  marked: readonly string[],
  node: string,
  nodes: readonly string[],
): string[] {
  const set = new Set(marked);
  if (set.has(node)) set.delete(node);
  else set.add(node);
  return nodes.filter((n) => set.has(n));
}

/** What `B` rebuilds: the marked nodes, else the selected one. */
export const rebuildTargets = (s: Pick<UiState, 'marked' | 'selected'>): string[] =>
  s.marked.length ? [...s.marked] : s.selected ? [s.selected] : [];

/* ---------- the shell's bindings ---------- */

function moveSelection(state: UiState, env: PaneEnv, to: (i: number, n: number) => number) {
  const visible = env.visibleNodes;
  if (visible.length === 0) return state;
  const cur = state.selected ? visible.indexOf(state.selected) : -1;
  const next = Math.max(0, Math.min(visible.length - 1, to(cur, visible.length)));
  return { ...state, selected: visible[next] };
}

/** Keep the selection on a visible node after the filter changed. */
function reselect(state: UiState, nodes: readonly string[]): UiState {
  const visible = filterNodes(nodes, state.filter);
  if (state.selected && visible.includes(state.selected)) return state;
  return { ...state, selected: visible[0] ?? state.selected };
}

type ShellBinding = Binding<UiState, ShellKeyCtx>;

const move = (
  keys: readonly string[],
  help: string,
  hint?: Pick<ShellBinding, 'hint' | 'hintKeys'>,
): ShellBinding => ({
  keys,
  help,
  ...hint,
  reduce: (s, { env }, ev) => [
    moveSelection(s, env, (i, n) => moveIndex(movement(ev.input, ev.key), i, n)),
  ],
});

/** Keys of normal mode (no overlay), after the active pane's own. */
export const SHELL_BINDINGS: readonly ShellBinding[] = [
  {
    keys: PANES.map((p) => p.key),
    label: `${PANES[0]!.key}–${PANES.at(-1)!.key}`,
    help: `panes: ${PANES.map((p) => p.title).join(' ')}`,
    hint: 'panes',
    hintKeys: `${PANES[0]!.key}-${PANES.at(-1)!.key}`,
    reduce: (s, _c, ev) => {
      const pane = PANES.find((p) => p.key === ev.input);
      return [pane ? { ...s, pane: pane.id } : s];
    },
  },
  {
    keys: ['tab', 'shift+tab'],
    label: 'Tab / Shift-Tab',
    help: 'next / previous pane',
    reduce: (s, _c, ev) => {
      const d = ev.key.shift ? -1 : 1;
      const i = paneIndex(s.pane);
      return [{ ...s, pane: PANES[(i + d + PANES.length) % PANES.length]!.id }];
    },
  },
  move(MOVE_KEYS.step, 'move the node selection', { hint: 'move', hintKeys: 'j/k' }),
  move(MOVE_KEYS.page, 'move by 10 rows'),
  move(MOVE_KEYS.ends, 'first / last row'),
  {
    keys: ['/'],
    help: "filter the node list, or the pane's own list (regex or text; Enter keeps, Esc clears)",
    hint: 'filter',
    reduce: (s, { pane }) => {
      const f = pane.filter;
      return f
        ? [{ ...s, overlay: 'filter', filterTarget: 'pane', input: f.get(paneState(s, pane)) }]
        : [{ ...s, overlay: 'filter', filterTarget: 'nodes', input: s.filter }];
    },
  },
  {
    keys: [' '],
    label: 'Space',
    help: 'mark / unmark the selected node (B rebuilds the marked nodes; Esc clears the marks)',
    hint: (s) => (s.marked.length ? `marked ${s.marked.length}` : 'mark'),
    hintKeys: 'Space',
    reduce: (s, { ctx }) =>
      s.selected ? [{ ...s, marked: toggleMark(s.marked, s.selected, ctx.nodes) }] : [s],
  },
  {
    keys: ['B'],
    help: 'rebuild the marked nodes, else the selected one: dry-activate first, then the typed confirmation (switch/test/boot, drain); :rebuild @ROLE for a role',
    hint: 'rebuild',
    reduce: (s) => {
      const targets = rebuildTargets(s);
      if (targets.length === 0) return [s];
      return [
        {
          ...s,
          message: {
            text: `rebuild ${targets.join(', ')}: preparing (a switch runs dry-activate first, see 8: Jobs)…`,
            kind: 'info',
          },
        },
        { kind: 'action', request: { action: 'rebuild', targets } },
      ];
    },
  },
  {
    keys: [':'],
    help: 'command palette (:pki, :node cp-1, :ctx prod, :refresh, :quit; Tab completes)',
    hint: 'command',
    reduce: (s) => [{ ...s, overlay: 'palette', input: '', suggestion: 0 }],
  },
  {
    keys: ['ctrl+r'],
    help: 'refresh every source now',
    hint: 'refresh',
    hintKeys: '^R',
    reduce: (s) => [
      { ...s, message: { text: 'refreshing every source', kind: 'info' } },
      { kind: 'refresh' },
    ],
  },
  {
    keys: ['escape'],
    help: "back: clear the pane's filter, then the node filter, then the marks",
    reduce: (s, { pane, ctx }) => {
      const ps = paneState(s, pane);
      if (pane.filter?.get(ps)) return [withPaneState(s, pane, pane.filter.set(ps, ''))];
      if (s.filter) return [reselect({ ...s, filter: '' }, ctx.nodes)];
      if (s.marked.length) return [{ ...s, marked: [] }];
      return [s];
    },
  },
  { keys: ['?'], help: 'this help', hint: 'help', reduce: (s) => [{ ...s, overlay: 'help' }] },
  { keys: ['q', 'ctrl+c'], help: 'quit', hint: 'quit', reduce: (s) => [s, { kind: 'quit' }] },
];

/** Shell hints the bar drops first when it is short of room. */
export const OPTIONAL_HINTS: ReadonlySet<string> = new Set([
  'filter',
  'command',
  'refresh',
  'mark',
]);

/* ---------- overlays: palette, filter, help ---------- */

function editBuffer(buf: string, input: string, key: Key): string | undefined {
  if (key.backspace || key.delete) return buf.slice(0, -1);
  if (key.ctrl && input === 'u') return '';
  if (key.ctrl || key.meta || key.tab || key.return || key.escape) return undefined;
  if (key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return undefined;
  if (!input || /[\x00-\x1f\x7f]/.test(input)) return undefined;
  return buf + input;
}

/** Run a palette command line. */
export function runPalette(state: UiState, line: string, ctx: ShellCtx): [UiState, Effect] {
  const closed: UiState = {
    ...state,
    overlay: 'none',
    input: '',
    suggestion: 0,
    message: undefined,
  };
  const r = runPaletteLine(line, ctx);
  switch (r.kind) {
    case 'none':
      return [closed, undefined];
    case 'pane':
      return [{ ...closed, pane: r.pane }, undefined];
    case 'help':
      return [{ ...closed, overlay: 'help', helpScroll: 0 }, undefined];
    case 'select': {
      // Selecting a node hidden by the filter clears the filter so the selection is visible.
      const visible = filterNodes(ctx.nodes, state.filter).includes(r.node);
      return [{ ...closed, selected: r.node, filter: visible ? state.filter : '' }, undefined];
    }
    case 'message':
      return [
        r.text
          ? { ...closed, message: { text: r.text, kind: r.error ? 'error' : 'info' } }
          : closed,
        r.effect,
      ];
  }
}

export const PALETTE_BINDINGS: readonly ShellBinding[] = [
  {
    keys: ['tab'],
    help: 'complete the command or its argument',
    hint: 'complete',
    reduce: (s, { ctx }) => [
      { ...s, input: completePalette(s.input, s.suggestion, ctx), suggestion: 0 },
    ],
  },
  {
    keys: ['up', 'down'],
    help: 'choose a suggestion',
    hint: 'choose',
    hintKeys: '↑/↓',
    reduce: (s, { ctx }, ev) => {
      const n = paletteSuggestions(s.input, ctx).length;
      if (n === 0) return [s];
      const d = ev.key.downArrow ? 1 : -1;
      return [{ ...s, suggestion: (s.suggestion + d + n) % n }];
    },
  },
  {
    keys: ['enter'],
    help: 'run it (a partial command with one candidate runs that one)',
    hint: 'run',
    reduce: (s, { ctx }) => {
      const cands = paletteSuggestions(s.input, ctx);
      // Enter on a partial command with candidates runs the highlighted one.
      const typed = s.input.trim().split(/\s+/)[0];
      const exact = PALETTE_COMMANDS.some((c) => c.name === typed);
      const line =
        !exact && cands.length > 0 ? cands[Math.min(s.suggestion, cands.length - 1)]! : s.input;
      return runPalette(s, line, ctx);
    },
  },
  {
    keys: ['escape'],
    help: 'close the palette',
    hint: 'cancel',
    reduce: (s) => [{ ...s, overlay: 'none', input: '', suggestion: 0 }],
  },
];

export const FILTER_BINDINGS: readonly ShellBinding[] = [
  {
    keys: ['enter'],
    help: 'keep the filter',
    hint: 'keep filter',
    reduce: (s) => [{ ...s, overlay: 'none', input: '' }],
  },
  {
    keys: ['escape'],
    help: 'clear the filter',
    hint: 'clear',
    reduce: (s, { pane, ctx }) => {
      const closed: UiState = { ...s, overlay: 'none', input: '' };
      if (s.filterTarget === 'pane' && pane.filter)
        return [withPaneState(closed, pane, pane.filter.set(paneState(s, pane), ''))];
      return [reselect({ ...closed, filter: '' }, ctx.nodes)];
    },
  },
];

/** Scroll the help overlay: it shows `height - 3` lines (border and title), never past the end. */
const scrollHelp: ShellBinding['reduce'] = (s, { ctx }, ev) => {
  const lines = helpSections(s.pane).reduce((n, sec) => n + 1 + sec.lines.length, 0);
  const max = Math.max(0, lines - Math.max(1, (ctx.height ?? 20) - 3));
  const m = movement(ev.input, ev.key);
  const to = m === 'last' ? max : moveIndex(m, s.helpScroll, 0);
  return [{ ...s, helpScroll: Math.max(0, Math.min(max, to)) }];
};

export const HELP_BINDINGS: readonly ShellBinding[] = [
  {
    keys: ['escape', '?', 'q'],
    help: 'close the help',
    hint: 'close help',
    hintKeys: 'Esc/?/q',
    reduce: (s) => [{ ...s, overlay: 'none', helpScroll: 0 }],
  },
  {
    keys: MOVE_KEYS.step,
    help: 'scroll the help',
    hint: 'scroll',
    hintKeys: 'j/k',
    reduce: scrollHelp,
  },
  { keys: MOVE_KEYS.page, help: 'scroll the help by 10 lines', reduce: scrollHelp },
  { keys: MOVE_KEYS.ends, help: 'top / bottom of the help', reduce: scrollHelp },
];

/** Open the typed confirmation of a prepared action (the App calls it when the plan arrives). */
export const openConfirm = (s: UiState, c: Omit<ConfirmState, 'error'>): UiState => ({
  ...s,
  overlay: 'confirm',
  input: '',
  confirm: { ...c, ...(c.options?.length ? { focus: 0 } : {}) },
  message: undefined,
});

/** The key of a combination of option values (as session/jobs.ts's variantKey). */
const variantKey = (options: readonly ConfirmChoice[]): string =>
  options.map((o) => `${o.id}=${o.value}`).join('\u0000');

/** Tab: the focused option's next value, and the title, text and plan that go with it. */
function cycleOption(c: ConfirmState): ConfirmState {
  const opts = c.options ?? [];
  const i = c.focus ?? 0;
  const o = opts[i];
  if (!o || o.choices.length < 2) return c;
  const next = o.choices[(o.choices.indexOf(o.value) + 1) % o.choices.length]!;
  const options = opts.map((x, j) => (j === i ? { ...x, value: next } : x));
  const v = c.variants?.[variantKey(options)];
  if (!v) return c;
  return {
    ...c,
    options,
    title: v.title,
    expect: v.confirm,
    planText: v.planText,
    error: undefined,
  };
}

const hasOptions = (s: UiState) => (s.confirm?.options?.length ?? 0) > 0;

export const CONFIRM_BINDINGS: readonly ShellBinding[] = [
  {
    keys: ['enter'],
    help: 'start the action if the typed text is the name asked for',
    hint: 'start',
    reduce: (s) => {
      const c = s.confirm;
      if (!c) return [{ ...s, overlay: 'none', input: '' }];
      if (s.input !== c.expect)
        return [
          {
            ...s,
            input: '',
            confirm: {
              ...c,
              error: s.input
                ? `"${s.input}" is not "${c.expect}": nothing started`
                : `type ${c.expect} to start it`,
            },
          },
        ];
      return [
        {
          ...s,
          overlay: 'none',
          input: '',
          confirm: undefined,
          message: { text: `starting ${c.title}…`, kind: 'info' },
        },
        {
          kind: 'start-job',
          token: c.token,
          ...(c.options?.length
            ? { values: Object.fromEntries(c.options.map((o) => [o.id, o.value])) }
            : {}),
        },
      ];
    },
  },
  {
    keys: ['tab'],
    help: 'change the highlighted choice of the confirmation (e.g. switch → test → boot, drain no → yes)',
    hint: 'change choice',
    when: hasOptions,
    reduce: (s) => [s.confirm ? { ...s, confirm: cycleOption(s.confirm) } : s],
  },
  {
    keys: ['up', 'down'],
    help: 'highlight another choice of the confirmation',
    hint: 'choice',
    hintKeys: '↑/↓',
    when: (s) => (s.confirm?.options?.length ?? 0) > 1,
    reduce: (s, _c, ev) => {
      const c = s.confirm;
      if (!c?.options?.length) return [s];
      const n = c.options.length;
      const d = ev.key.downArrow ? 1 : -1;
      return [{ ...s, confirm: { ...c, focus: ((c.focus ?? 0) + d + n) % n } }];
    },
  },
  {
    keys: ['escape'],
    help: 'cancel: nothing is started',
    hint: 'cancel',
    reduce: (s) => [
      {
        ...s,
        overlay: 'none',
        input: '',
        confirm: undefined,
        message: { text: `cancelled: ${s.confirm?.title ?? 'action'} not started`, kind: 'info' },
      },
      s.confirm ? { kind: 'discard-job', token: s.confirm.token } : undefined,
    ],
  },
];

/* ---------- dispatch ---------- */

const active = <S, C>(bindings: readonly Binding<S, C>[], s: S): Binding<S, C>[] =>
  bindings.filter((b) => !b.when || b.when(s));

const find = <S, C>(bindings: readonly Binding<S, C>[], s: S, input: string, key: Key) =>
  active(bindings, s).find((b) => b.keys.some((k) => matchKey(k, input, key)));

/** The bindings of the current mode (the active pane's come first in normal mode). */
export function modeBindings(state: UiState): readonly ShellBinding[] {
  switch (state.overlay) {
    case 'palette':
      return PALETTE_BINDINGS;
    case 'filter':
      return FILTER_BINDINGS;
    case 'help':
      return HELP_BINDINGS;
    case 'confirm':
      return CONFIRM_BINDINGS;
    default:
      return SHELL_BINDINGS;
  }
}

export function reduceKey(
  state: UiState,
  input: string,
  key: Key,
  ctx: ShellCtx,
): [UiState, Effect] {
  // Ctrl-C always quits, from anywhere.
  if (key.ctrl && input === 'c') return [state, { kind: 'quit' }];
  const pane = paneById(state.pane);
  const env = paneEnv(state, ctx);
  const kctx: ShellKeyCtx = { ctx, pane, env };
  const ev = { input, key };

  if (state.overlay !== 'none') {
    const b = find(modeBindings(state), state, input, key);
    if (b) {
      const [next, effect] = b.reduce(state, kctx, ev);
      return [next, effect];
    }
    if (state.overlay === 'help') return [state, undefined];
    // Palette, filter and confirmation: text editing.
    const text = editBuffer(state.input, input, key);
    if (text === undefined) return [state, undefined];
    if (state.overlay === 'confirm')
      return [
        {
          ...state,
          input: text,
          ...(state.confirm ? { confirm: { ...state.confirm, error: undefined } } : {}),
        },
        undefined,
      ];
    if (state.overlay === 'palette') {
      if (text === '' && (key.backspace || key.delete) && state.input === '')
        return [{ ...state, overlay: 'none' }, undefined];
      return [{ ...state, input: text, suggestion: 0 }, undefined];
    }
    if (state.filterTarget === 'pane' && pane.filter) {
      const next = { ...state, input: text };
      return [withPaneState(next, pane, pane.filter.set(paneState(state, pane), text)), undefined];
    }
    // Live filter while typing, as k9s does.
    return [reselect({ ...state, input: text, filter: text }, ctx.nodes), undefined];
  }

  // Normal mode: a key clears the last message; the pane's keys come first.
  const s: UiState = state.message ? { ...state, message: undefined } : state;
  const ps = paneState(s, pane);
  const pb = find(pane.bindings, ps, input, key);
  if (pb) {
    const [nextPs, effect] = pb.reduce(ps, { derived: ctx.derive?.(s), env }, ev);
    return [withPaneState(s, pane, nextPs), effect];
  }
  const b = find(SHELL_BINDINGS, s, input, key);
  if (!b) return [s, undefined];
  const [next, effect] = b.reduce(s, kctx, ev);
  return [next, effect];
}

/* ---------- what the hint bar and the help overlay show ---------- */

const hintOf = <S, C>(b: Binding<S, C>, s: S): Hint | undefined => {
  if (!b.hint) return undefined;
  const text = typeof b.hint === 'function' ? b.hint(s) : b.hint;
  return { keys: b.hintKeys ?? keyLabel(b.keys[0] ?? ''), text };
};

/**
 * The hint bar's entries in this state: the active pane's bindings with a hint, then the
 * shell's, less those a pane binding shadows (the same key). `optional` entries are the
 * ones the bar drops first when short of room.
 */
export function hintsFor(state: UiState): Array<Hint & { optional: boolean }> {
  if (state.overlay !== 'none')
    return active(modeBindings(state), state).flatMap((b) => {
      const h = hintOf(b, state);
      return h ? [{ ...h, optional: false }] : [];
    });
  const pane = paneById(state.pane);
  const ps = paneState(state, pane);
  const paneActive = active(pane.bindings, ps);
  const shadowed = new Set(paneActive.flatMap((b) => b.keys));
  const out: Array<Hint & { optional: boolean }> = [];
  for (const b of paneActive) {
    const h = hintOf(b, ps);
    if (h) out.push({ ...h, optional: false });
  }
  for (const b of SHELL_BINDINGS) {
    if (b.keys.some((k) => shadowed.has(k))) continue;
    const h = hintOf(b, state);
    if (h) out.push({ ...h, optional: OPTIONAL_HINTS.has(h.text) });
  }
  return out;
}

export interface HelpSection {
  title: string;
  lines: Array<{ keys: string; help: string }>;
}

const helpLine = <S, C>(b: Binding<S, C>) => ({
  keys: b.label ?? b.keys.map(keyLabel).join(' '),
  help: b.help,
});

/** Every key, by section: the shell's, the pane's, then the palette, filter and help modes. */
export function helpSections(paneId: PaneId): HelpSection[] {
  const pane = paneById(paneId);
  const sections: HelpSection[] = [{ title: 'Everywhere', lines: SHELL_BINDINGS.map(helpLine) }];
  if (pane.bindings.length > 0)
    sections.push({ title: pane.title, lines: pane.bindings.map(helpLine) });
  sections.push({ title: ': palette', lines: PALETTE_BINDINGS.map(helpLine) });
  sections.push({ title: '/ filter', lines: FILTER_BINDINGS.map(helpLine) });
  sections.push({ title: '? help', lines: HELP_BINDINGS.map(helpLine) });
  sections.push({ title: 'confirm an action', lines: CONFIRM_BINDINGS.map(helpLine) });
  return sections;
}
