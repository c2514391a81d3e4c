import { Box, Text } from 'ink';
import type { PaneId } from '../panes/types.js';
import { helpSections } from '../state.js';
import { useTheme } from '../theme.js';

/** Every line of the help for a pane: section titles and key lines, generated from the bindings. */
export function helpRows(
  pane: PaneId,
): Array<{ id: string } & ({ title: string } | { keys: string; help: string })> {
  return helpSections(pane).flatMap((s) => [
    { id: s.title, title: s.title },
    ...s.lines.map((l, i) => ({ id: `${s.title}.${i}`, ...l })),
  ]);
}

export function HelpOverlay({
  pane,
  scroll,
  width,
  height,
}: {
  pane: PaneId;
  scroll: number;
  width: number;
  height: number;
}) {
  const theme = useTheme();
  const rows = helpRows(pane);
  const keyWidth = Math.max(...rows.map((r) => ('keys' in r ? r.keys.length : 0))) + 2;
  const body = Math.max(0, height - 3);
  const top = Math.max(0, Math.min(scroll, rows.length - body));
  const more = rows.length > body;
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
        {more
          ? `Keys (${top + 1}–${Math.min(rows.length, top + body)} of ${rows.length}, j/k scroll)`
          : 'Keys'}
      </Text>
      {rows.slice(top, top + body).map((r) =>
        'title' in r ? (
          <Text key={r.id} bold color={theme.dim} wrap="truncate">
            {r.title}
          </Text>
        ) : (
          <Box key={r.id}>
            <Box width={keyWidth} flexShrink={0}>
              <Text color={theme.accent} bold>
                {r.keys}
              </Text>
            </Box>
            <Text wrap="truncate">{r.help}</Text>
          </Box>
        ),
      )}
    </Box>
  );
}
