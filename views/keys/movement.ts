/** Movement keys, shared by every list: j/k/↓/↑ by one, PgDn/PgUp by ten, g/G/Home/End to an end. */
import type { Key } from 'ink';

export type Movement = 'down' | 'up' | 'pagedown' | 'pageup' | 'first' | 'last';

/** Which way a movement key goes. */
export function movement(input: string, key: Key): Movement {
  if (key.downArrow || input === 'j') return 'down';
  if (key.upArrow || input === 'k') return 'up';
  if (key.pageDown) return 'pagedown';
  if (key.pageUp) return 'pageup';
  if (key.home || input === 'g') return 'first';
  return 'last';
}

/** The index a movement reaches from `i` among `n` (the caller clamps). */
export function moveIndex(m: Movement, i: number, n: number): number {
  switch (m) {
    case 'down':
      return i + 1;
    case 'up':
      return i < 0 ? 0 : i - 1;
    case 'pagedown':
      return i + 10;
    case 'pageup':
      return i - 10;
    case 'first':
      return 0;
    case 'last':
      return n - 1;
  }
}

/** The movement keys, in the pairs help shows them. */
export const MOVE_KEYS = {
  step: ['j', 'k', 'up', 'down'],
  page: ['pageup', 'pagedown'],
  ends: ['g', 'G', 'home', 'end'],
} as const;
