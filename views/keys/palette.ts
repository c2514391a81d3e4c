/**
 * The `:` command palette: its commands (one per pane from the registry, plus the shell's),
 * completion, and running a command line. Pure.
 */
import { PANES } from '../panes/index.js';
import type { PaneId } from '../panes/types.js';
import type { Effect } from './types.js';

export interface PaletteCommand {
  name: string;
  /** Takes a node name, a kube context, or several rebuild targets (nodes, @roles, an action). */
  arg?: 'node' | 'context' | 'targets';
  help: string;
}

/** What `:rebuild` takes besides node names. */
const REBUILD_WORDS = [
  '@control-plane',
  '@etcd',
  '@worker',
  'switch',
  'test',
  'boot',
  'dry-activate',
  'drain',
];

export interface PaletteCtx {
  nodes: readonly string[];
  contexts?: readonly string[] | undefined;
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
  {
    name: 'demo-noop',
    arg: 'node',
    help: 'run the harmless demo action on a node (reads only; typed confirmation; see the Jobs pane)',
  },
  {
    name: 'rebuild',
    arg: 'targets',
    help: 'rebuild NODE… or @ROLE [switch|test|boot|dry-activate] [drain] (as B: dry-activate first, typed confirmation)',
  },
  {
    name: 'rollback',
    arg: 'node',
    help: 'nixos-rebuild switch --rollback on a node: back to its previous generation (typed confirmation)',
  },
  { name: 'refresh', help: 'refresh every source now (Ctrl-R)' },
  { name: 'help', help: 'list every key (?)' },
  { name: 'quit', help: 'leave k8ops (q)' },
];

const ALIASES: Record<string, string> = { q: 'quit', certs: 'pki', h: 'help' };

/** Completion candidates for the palette input (full command lines). */
export function paletteSuggestions(input: string, ctx: PaletteCtx): string[] {
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
  if (def?.arg === 'targets') {
    // Several words: complete the last one (a node, @role, action or `drain`).
    const words = text.slice(space + 1).split(/\s+/);
    const last = words.pop() ?? '';
    const head = [cmd, ...words.filter(Boolean)].join(' ');
    return [...ctx.nodes, ...REBUILD_WORDS]
      .filter((w) => w.startsWith(last) && !words.includes(w))
      .map((w) => `${head} ${w}`);
  }
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
export function completePalette(input: string, highlighted: number, ctx: PaletteCtx): string {
  const cands = paletteSuggestions(input, ctx);
  if (cands.length === 0) return input;
  if (cands.length === 1) return cands[0]!;
  const prefix = commonPrefix(cands);
  if (prefix.length > input.trimStart().length) return prefix;
  return cands[Math.min(highlighted, cands.length - 1)] ?? input;
}

/** What running a palette line does, before the shell applies it to its state. */
export type PaletteResult =
  | { kind: 'none' }
  | { kind: 'pane'; pane: PaneId }
  | { kind: 'help' }
  | { kind: 'select'; node: string }
  | { kind: 'message'; text: string; error: boolean; effect?: Effect };

/** Parse and check a palette command line. */
export function runPaletteLine(line: string, ctx: PaletteCtx): PaletteResult {
  const [rawCmd = '', ...args] = line.trim().split(/\s+/);
  if (!rawCmd) return { kind: 'none' };
  const cmd = ALIASES[rawCmd.toLowerCase()] ?? rawCmd.toLowerCase();
  const pane = PANES.find((p) => p.id === cmd);
  if (pane) return { kind: 'pane', pane: pane.id };
  const error = (text: string): PaletteResult => ({ kind: 'message', text, error: true });
  switch (cmd) {
    case 'quit':
      return { kind: 'message', text: '', error: false, effect: { kind: 'quit' } };
    case 'refresh':
      return {
        kind: 'message',
        text: 'refreshing every source',
        error: false,
        effect: { kind: 'refresh' },
      };
    case 'help':
      return { kind: 'help' };
    case 'accept-hostkey': {
      const name = args[0];
      if (!name || !ctx.nodes.includes(name))
        return error(name ? `no node named "${name}"` : 'usage: :accept-hostkey NODE');
      return {
        kind: 'message',
        text: `${name}: connecting to record its host key…`,
        error: false,
        effect: { kind: 'accept-hostkey', node: name },
      };
    }
    case 'ctx': {
      const name = args[0];
      const known = ctx.contexts ?? [];
      if (!name) {
        const text = known.length
          ? `contexts: ${known.join(', ')} (:ctx NAME switches)`
          : 'no kubeconfig contexts loaded';
        return { kind: 'message', text, error: false };
      }
      if (!known.includes(name)) return error(`no kube context named "${name}"`);
      return {
        kind: 'message',
        text: `switching to context ${name}…`,
        error: false,
        effect: { kind: 'ctx', name },
      };
    }
    case 'demo-noop': {
      const name = args[0];
      if (!name || !ctx.nodes.includes(name))
        return error(name ? `no node named "${name}"` : 'usage: :demo-noop NODE');
      return {
        kind: 'message',
        text: `demo-noop ${name}: preparing the plan…`,
        error: false,
        effect: { kind: 'action', request: { action: 'demo-noop', targets: [name] } },
      };
    }
    case 'rebuild': {
      if (args.length === 0)
        return error('usage: :rebuild NODE… | @ROLE [switch|test|boot|dry-activate] [drain]');
      const targets: string[] = [];
      const options: Record<string, unknown> = {};
      for (const a of args) {
        if (a.startsWith('@')) {
          if (!REBUILD_WORDS.includes(a))
            return error(`no role "${a.slice(1)}" (@control-plane, @etcd, @worker)`);
          options.role = a.slice(1);
        } else if (['switch', 'test', 'boot', 'dry-activate'].includes(a)) options.action = a;
        else if (a === 'drain') options.drain = true;
        else if (ctx.nodes.includes(a)) targets.push(a);
        else return error(`no node named "${a}"`);
      }
      return {
        kind: 'message',
        text: `rebuild ${args.join(' ')}: preparing (a switch runs dry-activate first, see 8: Jobs)…`,
        error: false,
        effect: { kind: 'action', request: { action: 'rebuild', targets, options } },
      };
    }
    case 'rollback': {
      const name = args[0];
      if (!name || !ctx.nodes.includes(name))
        return error(name ? `no node named "${name}"` : 'usage: :rollback NODE');
      return {
        kind: 'message',
        text: `rollback ${name}: preparing…`,
        error: false,
        effect: {
          kind: 'action',
          request: { action: 'rebuild', targets: [name], options: { rollback: true } },
        },
      };
    }
    case 'node': {
      const name = args[0];
      if (!name) return error('usage: :node NAME');
      if (!ctx.nodes.includes(name)) return error(`no node named "${name}"`);
      return { kind: 'select', node: name };
    }
    default:
      return error(`unknown command ":${rawCmd}" (Tab completes, ? lists keys)`);
  }
}
