import { Box, Text } from 'ink';
import { PANES } from '../panes/index.js';
import type { PaneId } from '../panes/types.js';
import { useTheme } from '../theme.js';

export function Tabs({ active, columns }: { active: PaneId; columns: number }) {
  const theme = useTheme();
  // Narrow terminals drop the titles of inactive tabs to their first 3 letters.
  const compact = columns < 84;
  return (
    <Box width={columns} height={1} overflow="hidden">
      {PANES.map((p) => {
        const on = p.id === active;
        const title = compact && !on ? p.title.slice(0, 3) : p.title;
        return (
          <Text key={p.id} inverse={on} color={on ? theme.accent : undefined} bold={on}>
            {` ${p.key} ${title} `}
          </Text>
        );
      })}
    </Box>
  );
}
