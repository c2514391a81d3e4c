/**
 * A pane whose data source does not exist yet: it says what it will show and which issue
 * brings it. No invented numbers. A real pane replaces its line in panes/index.ts.
 */
import { Box, Text } from 'ink';
import { useTheme } from '../../theme.js';
import { type AnyPane, definePane, type PaneId } from '../types.js';

export interface PlaceholderSpec {
  id: PaneId;
  key: string;
  title: string;
  /** What the pane will show. */
  what: string;
  /** Where its data will come from (and the issue that brings it). */
  source: string;
}

export function PlaceholderPane({
  spec,
  width,
  height,
}: {
  spec: PlaceholderSpec;
  width: number;
  height: number;
}) {
  const theme = useTheme();
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden" paddingX={1}>
      <Text color={theme.warn}>No source is configured for this pane yet.</Text>
      <Text> </Text>
      <Text>{spec.what}</Text>
      <Text> </Text>
      <Text color={theme.dim}>Data arrives with: {spec.source}.</Text>
    </Box>
  );
}

function PlaceholderView({
  derived,
  width,
  height,
}: {
  derived: PlaceholderSpec;
  width: number;
  height: number;
}) {
  return <PlaceholderPane spec={derived} width={width} height={height} />;
}

/** A registry entry for a pane to come: its promise is its derived data. */
export const placeholderPane = (spec: PlaceholderSpec): AnyPane =>
  definePane<undefined, Record<string, never>, PlaceholderSpec>({
    id: spec.id,
    key: spec.key,
    title: spec.title,
    initial: {},
    derive: () => spec,
    bindings: [],
    View: PlaceholderView,
  });
