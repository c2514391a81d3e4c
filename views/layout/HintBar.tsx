import { Box, Text } from 'ink';
import type { Hint } from '../keys/types.js';
import { hintsFor, type UiState } from '../state.js';
import { useTheme } from '../theme.js';

const width = (h: Hint): number => [...`${h.keys} ${h.text}  `].length;

/**
 * The hints that fit in `columns`: every hint when they fit; else the optional ones are
 * dropped from the right, then the rest is cut (the bar never wraps).
 */
export function fitHints(hints: Array<Hint & { optional: boolean }>, columns: number): Hint[] {
  const kept = [...hints];
  const total = () => kept.reduce((n, h) => n + width(h), 0);
  for (let i = kept.length - 1; i >= 0 && total() > columns; i--) {
    if (kept[i]!.optional) kept.splice(i, 1);
  }
  return kept;
}

/** Always-visible key hints for the current mode and pane, generated from the bindings. */
export function HintBar({ ui, columns }: { ui: UiState; columns: number }) {
  const theme = useTheme();
  const hints = fitHints(hintsFor(ui), columns);
  return (
    <Box width={columns} height={1} overflow="hidden">
      <Text wrap="truncate">
        {hints.map((h) => (
          <Text key={`${h.keys} ${h.text}`}>
            <Text color={theme.accent} bold>
              {h.keys}
            </Text>
            <Text color={theme.dim}>{` ${h.text}  `}</Text>
          </Text>
        ))}
      </Text>
    </Box>
  );
}
