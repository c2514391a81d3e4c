import { Box, Text } from 'ink';
import { KEY_HELP } from '../state.js';
import { useTheme } from '../theme.js';

export function HelpOverlay({ width, height }: { width: number; height: number }) {
  const theme = useTheme();
  const keyWidth = Math.max(...KEY_HELP.map(([k]) => k.length)) + 2;
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      overflow="hidden"
      borderStyle="round"
      paddingX={1}
    >
      <Text bold wrap="truncate">
        Keys
      </Text>
      {KEY_HELP.slice(0, Math.max(0, height - 3)).map(([k, what]) => (
        <Box key={k}>
          <Box width={keyWidth} flexShrink={0}>
            <Text color={theme.accent} bold>
              {k}
            </Text>
          </Box>
          <Text wrap="truncate">{what}</Text>
        </Box>
      ))}
    </Box>
  );
}
