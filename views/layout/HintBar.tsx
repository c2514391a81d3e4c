import { Box, Text } from 'ink';
import type { PaneId } from '../panes.js';
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

const PKI_DETAIL_HINTS: ReadonlyArray<readonly [string, string]> = [
  ['j/k', 'scroll'],
  ['Esc', 'close details'],
  ['1-8', 'panes'],
  ['?', 'help'],
  ['q', 'quit'],
];

function pkiHints(order: 'tree' | 'worst'): ReadonlyArray<readonly [string, string]> {
  return [
    ['j/k', 'move'],
    ['Enter', 'details'],
    ['s', order === 'tree' ? 'worst first' : 'tree order'],
    ['/', 'filter'],
    ['1-8', 'panes'],
    [':', 'command'],
    ['?', 'help'],
    ['q', 'quit'],
  ];
}

export interface HintBarProps {
  overlay: Overlay;
  pane?: PaneId;
  pkiDetail?: boolean;
  pkiOrder?: 'tree' | 'worst';
  columns: number;
}

/** Always-visible key hints for the current mode (and pane). */
export function HintBar({ overlay, pane, pkiDetail, pkiOrder = 'tree', columns }: HintBarProps) {
  const theme = useTheme();
  const hints =
    overlay === 'none' && pane === 'pki'
      ? pkiDetail
        ? PKI_DETAIL_HINTS
        : pkiHints(pkiOrder)
      : HINTS[overlay];
  return (
    <Box width={columns} height={1} overflow="hidden">
      <Text wrap="truncate">
        {hints.map(([k, what]) => (
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
