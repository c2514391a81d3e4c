import { Box, Text } from 'ink';
import type { UiState } from '../state.js';
import { useTheme } from '../theme.js';

/** The line above the hint bar: the filter prompt, a message, or the filter in force. */
export function StatusLine({ ui, columns }: { ui: UiState; columns: number }) {
  const theme = useTheme();
  let body: React.ReactNode = null;
  if (ui.overlay === 'filter') {
    body = (
      <Text wrap="truncate">
        <Text color={theme.accent}>/</Text>
        {ui.input}
        <Text inverse> </Text>
      </Text>
    );
  } else if (ui.overlay === 'palette') {
    body = (
      <Text wrap="truncate">
        <Text color={theme.accent}>:</Text>
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
  } else if (ui.pane === 'pki' && ui.pki.filter) {
    body = (
      <Text color={theme.dim} wrap="truncate">
        certificates /{ui.pki.filter} (Esc clears){ui.filter ? ` · nodes /${ui.filter}` : ''}
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
