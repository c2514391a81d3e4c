/**
 * A fixed-height table: header line plus a window of rows that keeps the selected row
 * visible (virtualised: only the visible rows are rendered). Cells are truncated to their
 * column width so no line can wrap and make the frame taller than the terminal.
 */
import { Box, Text } from 'ink';
import { memo, type ReactNode } from 'react';
import { useTheme } from '../theme.js';

export interface Column<R> {
  key: string;
  title: string;
  width: number;
  align?: 'left' | 'right';
  render: (row: R, selected: boolean) => ReactNode;
}

export interface TableProps<R> {
  columns: readonly Column<R>[];
  rows: readonly R[];
  rowKey: (row: R) => string;
  selectedKey?: string;
  /** Total lines available, including the header line. */
  height: number;
  empty?: string;
}

/** First visible row index so that `selected` is inside a window of `size` rows. */
export function windowStart(selected: number, count: number, size: number): number {
  if (size <= 0 || count <= size) return 0;
  const half = Math.floor(size / 2);
  return Math.max(0, Math.min(count - size, selected - half));
}

export function Table<R>({ columns, rows, rowKey, selectedKey, height, empty }: TableProps<R>) {
  const theme = useTheme();
  const body = Math.max(0, height - 1);
  const sel = selectedKey === undefined ? -1 : rows.findIndex((r) => rowKey(r) === selectedKey);
  const start = windowStart(Math.max(sel, 0), rows.length, body);
  const visible = rows.slice(start, start + body);
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Box>
        {columns.map((c) => (
          <Box
            key={c.key}
            width={c.width}
            justifyContent={c.align === 'right' ? 'flex-end' : 'flex-start'}
          >
            <Text bold color={theme.dim} wrap="truncate">
              {c.title}
            </Text>
          </Box>
        ))}
      </Box>
      {rows.length === 0 && empty ? <Text color={theme.dim}>{empty}</Text> : null}
      {visible.map((r) => {
        const k = rowKey(r);
        return <Row key={k} row={r} columns={columns} selected={k === selectedKey} />;
      })}
    </Box>
  );
}

interface RowProps<R> {
  row: R;
  columns: readonly Column<R>[];
  selected: boolean;
}

function RowImpl<R>({ row, columns, selected }: RowProps<R>) {
  return (
    <Box>
      {columns.map((c) => (
        <Box
          key={c.key}
          width={c.width}
          justifyContent={c.align === 'right' ? 'flex-end' : 'flex-start'}
        >
          <Text inverse={selected} wrap="truncate">
            {c.render(row, selected)}
          </Text>
        </Box>
      ))}
    </Box>
  );
}
const Row = memo(RowImpl) as typeof RowImpl;
