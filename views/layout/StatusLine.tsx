import { Box, Text } from 'ink';
import { paneById } from '../panes/index.js';
import { paneState, type UiState } from '../state.js';
import { useTheme } from '../theme.js';

/** The line above the hint bar: the filter prompt, the palette, a message, or the filters in force. */
export function StatusLine({ ui, columns }: { ui: UiState; columns: number }) {
  const theme = useTheme();
  const pane = paneById(ui.pane);
  const paneFilter = pane.filter?.get(paneState(ui, pane)) ?? '';
  let body: React.ReactNode = null;
  if (ui.overlay === 'filter' || ui.overlay === 'palette') {
    body = (
      <Text wrap="truncate">
        <Text color={theme.accent}>{ui.overlay === 'filter' ? '/' : ':'}</Text>
        {ui.input}
        <Text inverse> </Text>
      </Text>
    );
  } else if (ui.message) {
    body = (
      <Text color={ui.message.kind === 'error' ? theme.bad : theme.dim} wrap="truncate">
        {ui.message.text}
      </Text>
    );
  } else if (paneFilter && pane.filter) {
    body = (
      <Text color={theme.dim} wrap="truncate">
        {pane.filter.label} /{paneFilter} (Esc clears){ui.filter ? ` · nodes /${ui.filter}` : ''}
      </Text>
    );
  } else if (ui.filter) {
    body = (
      <Text color={theme.dim} wrap="truncate">
        filter /{ui.filter} (Esc clears)
      </Text>
    );
  }
  return (
    <Box width={columns} height={1} overflow="hidden">
      {body}
    </Box>
  );
}
