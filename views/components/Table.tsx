/**
 * A fixed-height table: header line plus a window of rows that keeps the selected row
 * visible (virtualised: only the visible rows are rendered). Cells are truncated to their
 * column width so no line can wrap and make the frame taller than the terminal.
 *
 * A row whose cells are all narrow text (strings, or a <Text> around one) is drawn as one
 * line of text, each cell cut and padded to its column here — what Ink would draw with a
 * box per cell, at a fraction of the layout and composition work per redraw (issue 13: the
 * console's idle CPU). Other rows keep a box per cell.
 */
import { Box, Text } from 'ink';
import { isValidElement, memo, type ReactElement, type ReactNode } from 'react';
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
  /**
   * Columns available. Given, a row of narrow text whose columns fit is drawn as one line
   * of text; without it (or when they do not fit: Ink then narrows every cell) a box per cell.
   */
  width?: number;
  empty?: string;
  /**
   * The visible rows are React's by their place in the window, not by `rowKey` (selection
   * still goes by `rowKey`): a table whose rows are all new on each frame (the Flows pane's
   * newest flows) then updates its lines in place instead of unmounting and mounting a row
   * of Ink nodes and Yoga nodes per line (issue 13). Rows keep no state of their own.
   */
  byPosition?: boolean;
}

/** First visible row index so that `selected` is inside a window of `size` rows. */
export function windowStart(selected: number, count: number, size: number): number {
  if (size <= 0 || count <= size) return 0;
  const half = Math.floor(size / 2);
  return Math.max(0, Math.min(count - size, selected - half));
}

export function Table<R>({
  columns,
  rows,
  rowKey,
  selectedKey,
  height,
  width,
  empty,
  byPosition,
}: TableProps<R>) {
  const theme = useTheme();
  let total = 0;
  for (const c of columns) total += c.width;
  const line = width !== undefined && total <= width;
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
      {visible.map((r, i) => {
        const k = rowKey(r);
        return (
          <Row
            key={byPosition ? i : k}
            row={r}
            columns={columns}
            selected={k === selectedKey}
            line={line}
          />
        );
      })}
    </Box>
  );
}

interface RowProps<R> {
  row: R;
  columns: readonly Column<R>[];
  selected: boolean;
  /** The columns fit the table's width: a row of narrow text may be one line. */
  line: boolean;
}

/**
 * Text whose width is its length: printable ASCII and the console's one-column symbols —
 * the build's `narrow-text` set (esbuild.narrow-text.mjs, held to string-width's answers by
 * test/unit/build/narrow-text.test.ts; test/views/table-line.test.tsx keeps the two equal).
 */
export const NARROW_CELL =
  /^[\u0020-\u007E\u00B7\u00D7\u2013\u2014\u2026\u2190-\u2194\u2212\u2264\u2265\u2500\u2502\u2581-\u2588\u25CB\u25CF\u2713\u2717]*$/;

/**
 * `text` as Ink draws it in a box of `width` with wrap="truncate": cut to width − 1 and an
 * ellipsis when longer, padded to the width (on the left when right-aligned).
 */
export function fitCell(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const t = text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
  return align === 'right' ? t.padStart(width) : t.padEnd(width);
}

/** The row's cells as text and <Text> elements, or undefined when a cell is anything else. */
function lineCells<R>(
  row: R,
  columns: readonly Column<R>[],
  selected: boolean,
): ReactNode[] | undefined {
  const out: ReactNode[] = [];
  for (const c of columns) {
    const v = c.render(row, selected);
    let text: string;
    let el: ReactElement<{ children?: ReactNode }> | undefined;
    if (typeof v === 'string' || typeof v === 'number') text = String(v);
    else if (isValidElement<{ children?: ReactNode }>(v) && v.type === Text) {
      const inner = v.props.children;
      if (typeof inner !== 'string' && typeof inner !== 'number') return undefined;
      text = String(inner);
      el = v;
    } else return undefined;
    if (!NARROW_CELL.test(text)) return undefined;
    const fitted = fitCell(text, c.width, c.align);
    out.push(
      el ? (
        <Text key={c.key} {...el.props}>
          {fitted}
        </Text>
      ) : (
        fitted
      ),
    );
  }
  return out;
}

function RowImpl<R>({ row, columns, selected, line }: RowProps<R>) {
  const cells = line ? lineCells(row, columns, selected) : undefined;
  if (cells) {
    let width = 0;
    for (const c of columns) width += c.width;
    return (
      <Box width={width} flexShrink={0}>
        <Text inverse={selected} wrap="truncate">
          {cells}
        </Text>
      </Box>
    );
  }
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
