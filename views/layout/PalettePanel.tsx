import { Box, Text } from 'ink';
import { PALETTE_COMMANDS, type PaletteCtx, paletteSuggestions } from '../keys/palette.js';
import { useTheme } from '../theme.js';

/** Completion list shown above the pane while the palette is open. */
export function PalettePanel({
  input,
  suggestion,
  ctx,
  width,
  height,
}: {
  input: string;
  suggestion: number;
  ctx: PaletteCtx;
  width: number;
  height: number;
}) {
  const theme = useTheme();
  const cands = paletteSuggestions(input, ctx).slice(0, Math.max(1, height - 1));
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold color={theme.dim}>
        COMMANDS
      </Text>
      {cands.length === 0 ? (
        <Text color={theme.dim} wrap="truncate">
          no matching command
        </Text>
      ) : null}
      {cands.map((c, i) => {
        const name = c.split(' ')[0] ?? c;
        const help = PALETTE_COMMANDS.find((p) => p.name === name)?.help ?? '';
        return (
          <Box key={c}>
            <Box width={18} flexShrink={0}>
              <Text inverse={i === suggestion} color={theme.accent}>{`:${c}`}</Text>
            </Box>
            <Text color={theme.dim} wrap="truncate">
              {help}
            </Text>
          </Box>
        );
      })}
    </Box>
  );
}
