/**
 * Key specs: how a binding names its keys once, for matching an Ink key event and for
 * showing it in the hint bar and the help overlay.
 *
 * A spec is a single printable character (`j`, `G`, `/`, `?`), or a name: `up`, `down`,
 * `pageup`, `pagedown`, `home`, `end`, `enter`, `escape`, `tab`, `shift+tab`,
 * `backspace`, or `ctrl+<letter>`.
 */
import type { Key } from 'ink';

export type KeySpec = string;

const NAMED: Record<string, { label: string; test: (key: Key) => boolean }> = {
  up: { label: '↑', test: (k) => k.upArrow },
  down: { label: '↓', test: (k) => k.downArrow },
  pageup: { label: 'PgUp', test: (k) => k.pageUp },
  pagedown: { label: 'PgDn', test: (k) => k.pageDown },
  home: { label: 'Home', test: (k) => k.home },
  end: { label: 'End', test: (k) => k.end },
  enter: { label: 'Enter', test: (k) => k.return },
  escape: { label: 'Esc', test: (k) => k.escape },
  tab: { label: 'Tab', test: (k) => k.tab && !k.shift },
  'shift+tab': { label: 'Shift-Tab', test: (k) => k.tab && k.shift },
  backspace: { label: 'Backspace', test: (k) => k.backspace || k.delete },
};

/** Whether the key event (Ink's `input` and flags) is the key `spec` names. */
export function matchKey(spec: KeySpec, input: string, key: Key): boolean {
  const named = NAMED[spec];
  if (named) return named.test(key);
  if (spec.startsWith('ctrl+')) return key.ctrl && input === spec.slice(5);
  // A printable key: no Ctrl, and no Meta (Ink reports a lone Esc with meta set).
  if (key.ctrl || key.meta) return false;
  return input === spec;
}

/** How the hint bar and the help overlay show a key. */
export function keyLabel(spec: KeySpec): string {
  const named = NAMED[spec];
  if (named) return named.label;
  if (spec.startsWith('ctrl+')) return `Ctrl-${spec.slice(5).toUpperCase()}`;
  return spec;
}

/** Every spec name matchKey understands (for tests). */
export const NAMED_KEYS: readonly string[] = Object.keys(NAMED);
