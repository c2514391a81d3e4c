/**
 * UI state and key handling as a pure reducer: (state, key) → state + effect. The App
 * component only feeds keys in and performs effects, so every binding is unit-testable.
 */
import type { Key } from 'ink';
import { PANES, type PaneId, paneIndex } from './panes.js';

export type Overlay = 'none' | 'help' | 'palette' | 'filter';

/** The PKI pane's own state: tree order, text filter, selected row, details. */
export interface PkiUiState {
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

export interface UiState {
  pane: PaneId;
  overlay: Overlay;
  /** Selected node by name (robust to filtering and reordering). */
  selected: string | undefined;
  /** Applied filter of the node list (substring or regex, case-insensitive). */
  filter: string;
  /** Edit buffer of the palette or the filter prompt. */
  input: string;
  /** Highlighted palette suggestion. */
  suggestion: number;
  message?: { text: string; kind: 'info' | 'error' };
  /** What the open filter prompt edits: the node list, or the PKI tree (pane-local). */
  filterTarget: 'nodes' | 'pki';
  pki: PkiUiState;
}

export type Effect =
  | { kind: 'quit' }
  | { kind: 'refresh' }
  | { kind: 'ctx'; name: string }
  | { kind: 'accept-hostkey'; node: string }
  | undefined;

export interface KeyContext {
  /** Every node name, inventory order. */
  nodes: readonly string[];
  /** Kube contexts of the loaded kubeconfig (for `:ctx`). */
  contexts?: readonly string[];
  /** Keys of the PKI pane's visible rows, in order (the App computes them from the store). */
  pkiRows?: readonly string[];
  /** Lines of the open PKI details and the lines that fit (to bound scrolling). */
  pkiDetail?: { lines: number; height: number };
}

export const initialUiState = (nodes: readonly string[]): UiState => ({
  pane: 'overview',
  overlay: 'none',
  selected: nodes[0],
  filter: '',
  input: '',
  suggestion: 0,
  filterTarget: 'nodes',
  pki: { order: 'tree', filter: '', detail: false, scroll: 0 },
});

/** Nodes matching a filter: a case-insensitive regex when it compiles, else a substring. */
export function filterNodes(nodes: readonly string[], filter: string): string[] {
  if (!filter) return [...nodes];
  let re: RegExp | undefined;
  try {
    re = new RegExp(filter, 'i');
  } catch {
    re = undefined;
  }
  const f = filter.toLowerCase();
  return nodes.filter((n) => (re ? re.test(n) : n.toLowerCase().includes(f)));
}

/* ---------- command palette ---------- */

export interface PaletteCommand {
  name: string;
  /** Takes a node name or a kube context argument. */
  arg?: 'node' | 'context';
  help: string;
}

export const PALETTE_COMMANDS: readonly PaletteCommand[] = [
  ...PANES.map((p) => ({ name: p.id, help: `show the ${p.title} pane (${p.key})` })),
  { name: 'certs', help: 'show the PKI pane (alias of :pki)' },
  { name: 'node', arg: 'node', help: 'select a node by name' },
  { name: 'ctx', arg: 'context', help: 'switch the kube context (no restart)' },
  {
    name: 'accept-hostkey',
    arg: 'node',
    help: "record a node's unknown host key (check its fingerprint first)",
  },
  { name: 'refresh', help: 'refresh every source now (Ctrl-R)' },
  { name: 'help', help: 'list every key (?)' },
  { name: 'quit', help: 'leave k8ops (q)' },
];

const ALIASES: Record<string, string> = { q: 'quit', certs: 'pki', h: 'help' };

/** Completion candidates for the palette input (full command lines). */
export function paletteSuggestions(input: string, ctx: KeyContext): string[] {
  const text = input.trimStart();
  const space = text.indexOf(' ');
  if (space === -1) {
    const p = text.toLowerCase();
    return PALETTE_COMMANDS.filter((c) => c.name.startsWith(p)).map((c) =>
      c.arg ? `${c.name} ` : c.name,
    );
  }
  const cmd = text.slice(0, space).toLowerCase();
  const arg = text.slice(space + 1).trim();
  const def = PALETTE_COMMANDS.find((c) => c.name === cmd);
  const values =
    def?.arg === 'node' ? ctx.nodes : def?.arg === 'context' ? (ctx.contexts ?? []) : [];
  return values.filter((n) => n.startsWith(arg)).map((n) => `${cmd} ${n}`);
}

function commonPrefix(items: readonly string[]): string {
  if (items.length === 0) return '';
  let prefix = items[0]!;
  for (const s of items.slice(1)) {
    let i = 0;
    while (i < prefix.length && i < s.length && prefix[i] === s[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

/** Tab in the palette: complete to the highlighted candidate, or the common prefix. */
export function completePalette(input: string, highlighted: number, ctx: KeyContext): string {
  const cands = paletteSuggestions(input, ctx);
  if (cands.length === 0) return input;
  if (cands.length === 1) return cands[0]!;
  const prefix = commonPrefix(cands);
  if (prefix.length > input.trimStart().length) return prefix;
  return cands[Math.min(highlighted, cands.length - 1)] ?? input;
}

/** Run a palette command line. */
export function runPalette(state: UiState, line: string, ctx: KeyContext): [UiState, Effect] {
  const closed: UiState = {
    ...state,
    overlay: 'none',
    input: '',
    suggestion: 0,
    message: undefined,
  };
  const [rawCmd = '', ...args] = line.trim().split(/\s+/);
  if (!rawCmd) return [closed, undefined];
  const cmd = ALIASES[rawCmd.toLowerCase()] ?? rawCmd.toLowerCase();
  const pane = PANES.find((p) => p.id === cmd);
  if (pane) return [{ ...closed, pane: pane.id }, undefined];
  switch (cmd) {
    case 'quit':
      return [closed, { kind: 'quit' }];
    case 'refresh':
      return [
        { ...closed, message: { text: 'refreshing every source', kind: 'info' } },
        { kind: 'refresh' },
      ];
    case 'help':
      return [{ ...closed, overlay: 'help' }, undefined];
    case 'accept-hostkey': {
      const name = args[0];
      if (!name || !ctx.nodes.includes(name)) {
        const text = name ? `no node named "${name}"` : 'usage: :accept-hostkey NODE';
        return [{ ...closed, message: { text, kind: 'error' } }, undefined];
      }
      return [
        {
          ...closed,
          message: { text: `${name}: connecting to record its host key…`, kind: 'info' },
        },
        { kind: 'accept-hostkey', node: name },
      ];
    }
    case 'ctx': {
      const name = args[0];
      const known = ctx.contexts ?? [];
      if (!name) {
        const text = known.length
          ? `contexts: ${known.join(', ')} (:ctx NAME switches)`
          : 'no kubeconfig contexts loaded';
        return [{ ...closed, message: { text, kind: 'info' } }, undefined];
      }
      if (!known.includes(name)) {
        return [
          { ...closed, message: { text: `no kube context named "${name}"`, kind: 'error' } },
          undefined,
        ];
      }
      return [
        { ...closed, message: { text: `switching to context ${name}…`, kind: 'info' } },
        { kind: 'ctx', name },
      ];
    }
    case 'node': {
      const name = args[0];
      if (!name)
        return [{ ...closed, message: { text: 'usage: :node NAME', kind: 'error' } }, undefined];
      if (!ctx.nodes.includes(name)) {
        return [
          { ...closed, message: { text: `no node named "${name}"`, kind: 'error' } },
          undefined,
        ];
      }
      // Selecting a node hidden by the filter clears the filter so the selection is visible.
      const visible = filterNodes(ctx.nodes, state.filter).includes(name);
      return [{ ...closed, selected: name, filter: visible ? state.filter : '' }, undefined];
    }
    default:
      return [
        {
          ...closed,
          message: {
            text: `unknown command ":${rawCmd}" (Tab completes, ? lists keys)`,
            kind: 'error',
          },
        },
        undefined,
      ];
  }
}

/* ---------- keys ---------- */

function moveSelection(
  state: UiState,
  ctx: KeyContext,
  to: (i: number, n: number) => number,
): UiState {
  const visible = filterNodes(ctx.nodes, state.filter);
  if (visible.length === 0) return state;
  const cur = state.selected ? visible.indexOf(state.selected) : -1;
  const next = Math.max(0, Math.min(visible.length - 1, to(cur, visible.length)));
  return { ...state, selected: visible[next] };
}

/** Keep the selection on a visible node after the filter changed. */
function reselect(state: UiState, ctx: KeyContext): UiState {
  const visible = filterNodes(ctx.nodes, state.filter);
  if (state.selected && visible.includes(state.selected)) return state;
  return { ...state, selected: visible[0] ?? state.selected };
}

function editBuffer(buf: string, input: string, key: Key): string | undefined {
  if (key.backspace || key.delete) return buf.slice(0, -1);
  if (key.ctrl && input === 'u') return '';
  if (key.ctrl || key.meta || key.tab || key.return || key.escape) return undefined;
  if (key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return undefined;
  if (!input || /[\x00-\x1f\x7f]/.test(input)) return undefined;
  return buf + input;
}

export function reduceKey(
  state: UiState,
  input: string,
  key: Key,
  ctx: KeyContext,
): [UiState, Effect] {
  // Ctrl-C always quits, from anywhere.
  if (key.ctrl && input === 'c') return [state, { kind: 'quit' }];

  if (state.overlay === 'palette') {
    if (key.escape) return [{ ...state, overlay: 'none', input: '', suggestion: 0 }, undefined];
    if (key.return) {
      const cands = paletteSuggestions(state.input, ctx);
      // Enter on a partial command with one candidate runs that candidate.
      const exact = PALETTE_COMMANDS.some((c) => c.name === state.input.trim().split(/\s+/)[0]);
      const line =
        !exact && cands.length > 0
          ? cands[Math.min(state.suggestion, cands.length - 1)]!
          : state.input;
      return runPalette(state, line, ctx);
    }
    if (key.tab) {
      return [
        { ...state, input: completePalette(state.input, state.suggestion, ctx), suggestion: 0 },
        undefined,
      ];
    }
    if (key.downArrow || key.upArrow) {
      const n = paletteSuggestions(state.input, ctx).length;
      if (n === 0) return [state, undefined];
      const d = key.downArrow ? 1 : -1;
      return [{ ...state, suggestion: (state.suggestion + d + n) % n }, undefined];
    }
    const next = editBuffer(state.input, input, key);
    if (next === undefined) return [state, undefined];
    if (next === '' && (key.backspace || key.delete) && state.input === '') {
      return [{ ...state, overlay: 'none' }, undefined];
    }
    return [{ ...state, input: next, suggestion: 0 }, undefined];
  }

  if (state.overlay === 'filter' && state.filterTarget === 'pki') {
    const pki = state.pki;
    if (key.escape)
      return [{ ...state, overlay: 'none', input: '', pki: { ...pki, filter: '' } }, undefined];
    if (key.return) return [{ ...state, overlay: 'none', input: '' }, undefined];
    const next = editBuffer(state.input, input, key);
    if (next === undefined) return [state, undefined];
    return [{ ...state, input: next, pki: { ...pki, filter: next } }, undefined];
  }

  if (state.overlay === 'filter') {
    if (key.escape)
      return [reselect({ ...state, overlay: 'none', input: '', filter: '' }, ctx), undefined];
    if (key.return) return [{ ...state, overlay: 'none', input: '' }, undefined];
    const next = editBuffer(state.input, input, key);
    if (next === undefined) return [state, undefined];
    // Live filter while typing, as k9s does.
    return [reselect({ ...state, input: next, filter: next }, ctx), undefined];
  }

  if (state.overlay === 'help') {
    if (key.escape || input === '?' || input === 'q')
      return [{ ...state, overlay: 'none' }, undefined];
    return [state, undefined];
  }

  // Normal mode.
  const s: UiState = state.message ? { ...state, message: undefined } : state;
  if (key.ctrl && input === 'r') {
    return [
      { ...s, message: { text: 'refreshing every source', kind: 'info' } },
      { kind: 'refresh' },
    ];
  }
  if (s.pane === 'pki') {
    const handled = reducePkiKey(s, input, key, ctx);
    if (handled) return [handled, undefined];
  }
  if (key.escape) {
    if (s.filter) return [reselect({ ...s, filter: '' }, ctx), undefined];
    return [s, undefined];
  }
  if (key.tab) {
    const i = paneIndex(s.pane);
    const d = key.shift ? -1 : 1;
    return [{ ...s, pane: PANES[(i + d + PANES.length) % PANES.length]!.id }, undefined];
  }
  if (key.downArrow || input === 'j') return [moveSelection(s, ctx, (i) => i + 1), undefined];
  if (key.upArrow || input === 'k')
    return [moveSelection(s, ctx, (i) => (i < 0 ? 0 : i - 1)), undefined];
  if (key.pageDown) return [moveSelection(s, ctx, (i) => i + 10), undefined];
  if (key.pageUp) return [moveSelection(s, ctx, (i) => i - 10), undefined];
  if (input === 'g' || key.home) return [moveSelection(s, ctx, () => 0), undefined];
  if (input === 'G' || key.end) return [moveSelection(s, ctx, (_i, n) => n - 1), undefined];
  if (key.ctrl || key.meta) return [s, undefined];
  switch (input) {
    case 'q':
      return [s, { kind: 'quit' }];
    case '?':
      return [{ ...s, overlay: 'help' }, undefined];
    case ':':
      return [{ ...s, overlay: 'palette', input: '', suggestion: 0 }, undefined];
    case '/':
      return [{ ...s, overlay: 'filter', filterTarget: 'nodes', input: s.filter }, undefined];
    default: {
      const pane = PANES.find((p) => p.key === input);
      if (pane) return [{ ...s, pane: pane.id }, undefined];
      return [s, undefined];
    }
  }
}

/**
 * Keys of the PKI pane (normal mode): move in the tree, Enter/Esc for details (which
 * j/k then scroll), `s` tree order ↔ worst first, `/` filters the tree. Returns undefined
 * for keys it leaves to the global bindings (panes, palette, help, quit…).
 */
function reducePkiKey(s: UiState, input: string, key: Key, ctx: KeyContext): UiState | undefined {
  const pki = s.pki;
  const rows = ctx.pkiRows ?? [];
  const set = (p: Partial<PkiUiState>): UiState => ({ ...s, pki: { ...pki, ...p } });
  // Ink reports a lone Esc with `meta` set: handle Esc before refusing modified keys.
  if (key.ctrl || (key.meta && !key.escape)) return undefined;

  if (pki.detail) {
    const d = ctx.pkiDetail;
    const max = d ? Math.max(0, d.lines - d.height) : Number.MAX_SAFE_INTEGER;
    const scroll = (to: number) => set({ scroll: Math.max(0, Math.min(max, to)) });
    if (key.escape || key.return) return set({ detail: false, scroll: 0 });
    if (key.downArrow || input === 'j') return scroll(pki.scroll + 1);
    if (key.upArrow || input === 'k') return scroll(pki.scroll - 1);
    if (key.pageDown) return scroll(pki.scroll + 10);
    if (key.pageUp) return scroll(pki.scroll - 10);
    if (input === 'g' || key.home) return scroll(0);
    if (input === 'G' || key.end) return scroll(max);
    if (input === 's' || input === '/') {
      const closed = { ...s, pki: { ...pki, detail: false, scroll: 0 } };
      return reducePkiKey(closed, input, key, ctx);
    }
    return undefined;
  }

  const move = (to: (i: number, n: number) => number): UiState => {
    if (rows.length === 0) return s;
    const cur = Math.max(0, pki.selected ? rows.indexOf(pki.selected) : 0);
    const next = Math.max(0, Math.min(rows.length - 1, to(cur, rows.length)));
    return set({ selected: rows[next] });
  };
  if (key.downArrow || input === 'j') return move((i) => i + 1);
  if (key.upArrow || input === 'k') return move((i) => i - 1);
  if (key.pageDown) return move((i) => i + 10);
  if (key.pageUp) return move((i) => i - 10);
  if (input === 'g' || key.home) return move(() => 0);
  if (input === 'G' || key.end) return move((_i, n) => n - 1);
  if (key.return) {
    if (rows.length === 0) return s;
    const sel = pki.selected && rows.includes(pki.selected) ? pki.selected : rows[0];
    return set({ selected: sel, detail: true, scroll: 0 });
  }
  if (key.escape) {
    if (pki.filter) return set({ filter: '' });
    return undefined;
  }
  if (input === 's') return set({ order: pki.order === 'tree' ? 'worst' : 'tree' });
  if (input === '/') return { ...s, overlay: 'filter', filterTarget: 'pki', input: pki.filter };
  return undefined;
}

/** Every key, for the help overlay and the README. */
export const KEY_HELP: ReadonlyArray<readonly [string, string]> = [
  ['1–8', 'panes: Overview PKI Rotation Flows BGP NGINX MTU Jobs'],
  ['Tab / Shift-Tab', 'next / previous pane'],
  ['j k ↑ ↓', 'move the selection'],
  ['g G Home End', 'first / last row'],
  ['PgUp PgDn', 'move by 10 rows'],
  ['/', 'filter the node list; in PKI the tree (regex or text; Enter keeps, Esc clears)'],
  ['Enter', 'PKI: details of the selected certificate (j/k scroll, Esc closes)'],
  ['s', 'PKI: tree order ↔ worst findings first'],
  [':', 'command palette (:pki, :node cp-1, :ctx prod, :refresh, :quit; Tab completes)'],
  ['Ctrl-R', 'refresh every source now'],
  ['?', 'this help'],
  ['Esc', 'back: close an overlay, clear the filter'],
  ['q Ctrl-C', 'quit'],
];
