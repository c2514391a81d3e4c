import { Box, Text } from 'ink';
import type { OverviewRow } from '../../src/features/overview/model.js';
import { StatusDot } from '../components/StatusDot.js';
import { windowStart } from '../components/Table.js';
import { useTheme } from '../theme.js';

export interface NodeListProps {
  rows: readonly OverviewRow[];
  selected?: string;
  /** Marked nodes (Space): shown with a `*`. */
  marked?: readonly string[];
  filter: string;
  width: number;
  height: number;
}

/** The node list: one status dot per node, filtered by `/`, selection highlighted, marks `*`. */
export function NodeList({ rows, selected, marked = [], filter, width, height }: NodeListProps) {
  const theme = useTheme();
  const body = Math.max(0, height - 1);
  const sel = rows.findIndex((r) => r.name === selected);
  const start = windowStart(Math.max(sel, 0), rows.length, body);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold color={theme.dim} wrap="truncate">
        {`${filter ? `NODES /${filter}` : 'NODES'}${marked.length ? ` *${marked.length}` : ''}`}
      </Text>
      {rows.length === 0 ? (
        <Text color={theme.dim} wrap="truncate">
          no match
        </Text>
      ) : null}
      {rows.slice(start, start + body).map((r) => (
        <Box key={r.name} width={width}>
          <StatusDot health={r.health} />
          <Text inverse={r.name === selected} bold={marked.includes(r.name)} wrap="truncate">
            {`${marked.includes(r.name) ? '*' : ' '}${r.name}`}
          </Text>
        </Box>
      ))}
    </Box>
  );
}
