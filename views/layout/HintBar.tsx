import { Box, Text } from 'ink';
import type { Overlay } from '../state.js';
import { useTheme } from '../theme.js';

const HINTS: Record<Overlay, ReadonlyArray<readonly [string, string]>> = {
  none: [
    ['1-8', 'panes'],
    ['j/k', 'move'],
    ['/', 'filter'],
    [':', 'command'],
    ['^R', 'refresh'],
    ['?', 'help'],
    ['q', 'quit'],
  ],
  palette: [
    ['Tab', 'complete'],
    ['↑/↓', 'choose'],
    ['Enter', 'run'],
    ['Esc', 'cancel'],
  ],
  filter: [
    ['Enter', 'keep filter'],
    ['Esc', 'clear'],
  ],
  help: [
    ['Esc/?', 'close help'],
    ['q', 'close'],
  ],
};

/** Always-visible key hints for the current mode. */
export function HintBar({ overlay, columns }: { overlay: Overlay; columns: number }) {
  const theme = useTheme();
  return (
    <Box width={columns} height={1} overflow="hidden">
      <Text wrap="truncate">
        {HINTS[overlay].map(([k, what]) => (
          <Text key={k}>
            <Text color={theme.accent} bold>
              {k}
            </Text>
            <Text color={theme.dim}>{` ${what}  `}</Text>
          </Text>
        ))}
      </Text>
    </Box>
  );
}
