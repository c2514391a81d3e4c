import { Text } from 'ink';
import type { Health } from '../../src/features/overview/model.js';
import { useTheme } from '../theme.js';

const GLYPH: Record<Health, string> = { ok: '●', warn: '●', bad: '●', pending: '○' };
/** Under NO_COLOR the dot alone carries no meaning, so a letter goes with it. */
const MONO: Record<Health, string> = { ok: '●', warn: '!', bad: '✗', pending: '○' };

export function StatusDot({ health }: { health: Health }) {
  const theme = useTheme();
  const color =
    health === 'ok'
      ? theme.ok
      : health === 'warn'
        ? theme.warn
        : health === 'bad'
          ? theme.bad
          : theme.dim;
  return <Text color={color}>{theme.color ? GLYPH[health] : MONO[health]}</Text>;
}
