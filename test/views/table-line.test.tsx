/**
 * The Table's one-line rows (issue 13: idle CPU): a row of narrow text cells is drawn as one
 * line of text, cut and padded here, and must read exactly as the box-per-cell row Ink lays
 * out — same columns, same ellipses, same alignment — at any width, selected or not.
 */
import { Box, Text } from 'ink';
import { render } from 'ink-testing-library';
import type { ReactNode } from 'react';
import { describe, expect, it, vi } from 'vitest';
// @ts-expect-error: a plain .mjs build helper without types
import { NARROW_TEXT_SOURCE } from '../../esbuild.narrow-text.mjs';
import { type Column, fitCell, NARROW_CELL, Table } from '../../views/components/Table.js';
import { colorTheme, ThemeContext } from '../../views/theme.js';

interface Row {
  id: string;
  name: string;
  n: number;
  state: string;
}

// Count the boxes Ink is asked for (the one-line path draws one per row).
const boxes = vi.hoisted(() => ({ n: 0 }));
vi.mock('ink', async (original) => {
  const ink = await original<typeof import('ink')>();
  const { createElement } = await import('react');
  const Counted = (props: Parameters<typeof ink.Box>[0]) => {
    boxes.n++;
    return createElement(ink.Box, props);
  };
  return { ...ink, Box: Counted };
});

const rows: Row[] = [
  { id: 'a', name: 'kube-apiserver-etcd-client', n: 7, state: 'ok' },
  { id: 'b', name: 'x', n: 12345, state: 'DROPPED' },
  { id: 'c', name: 'shop/frontend → shop/api · 8080…', n: 0, state: 'FORWARDED' },
  { id: 'd', name: '✓ etcd-ca — 13 files', n: 3, state: '✗' },
  // Not narrow: drawn with a box per cell (string-width measures it).
  { id: 'e', name: '節点-ノード 🚀', n: 1, state: 'ok' },
];

function columns(wrap: (n: ReactNode) => ReactNode): Column<Row>[] {
  return [
    { key: 'name', title: 'NAME', width: 14, render: (r) => wrap(r.name) },
    { key: 'n', title: 'N', width: 6, align: 'right', render: (r) => wrap(r.n) },
    {
      key: 'state',
      title: 'STATE',
      width: 8,
      render: (r, sel) => wrap(<Text color={sel ? undefined : 'red'}>{r.state}</Text>),
    },
    { key: 'last', title: 'LAST', width: 5, render: (r) => wrap(r.id.repeat(9)) },
  ];
}

const frame = (cols: Column<Row>[], width: number, selected?: string) => {
  const r = render(
    <ThemeContext.Provider value={colorTheme}>
      <Box width={width} flexDirection="column">
        <Table
          columns={cols}
          rows={rows}
          rowKey={(x) => x.id}
          height={7}
          width={width}
          {...(selected ? { selectedKey: selected } : {})}
        />
      </Box>
    </ThemeContext.Provider>,
  );
  const f = r.lastFrame() ?? '';
  r.unmount();
  return f;
};
const plain = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

describe('Table: one-line rows', () => {
  it('the narrow set is the build’s (string-width agrees with it there)', () => {
    expect(NARROW_CELL.source).toBe(NARROW_TEXT_SOURCE);
  });

  it('cuts and pads a cell as Ink draws it in a box with wrap="truncate"', () => {
    expect(fitCell('abcdef', 4)).toBe('abc…');
    expect(fitCell('abcd', 4)).toBe('abcd');
    expect(fitCell('ab', 4)).toBe('ab  ');
    expect(fitCell('7', 4, 'right')).toBe('   7');
    expect(fitCell('123456', 4, 'right')).toBe('123…');
  });

  it('reads exactly as the box-per-cell rows, colours included; selected: the same text', () => {
    // A Fragment around each cell is not a <Text>: every row then takes the box path.
    const boxed = columns((n) => <>{n}</>);
    const lined = columns((n) => n);
    for (const width of [80, 33])
      for (const sel of [undefined, 'b', 'c']) {
        const a = frame(lined, width, sel);
        const b = frame(boxed, width, sel);
        expect(plain(a)).toBe(plain(b));
        if (!sel) expect(a).toBe(b);
        expect(plain(a)).toContain('kube-apiserve…');
      }
    // And the one-line path was taken: a box per row, not one per cell (4 columns).
    boxes.n = 0;
    frame(lined, 80);
    const one = boxes.n;
    boxes.n = 0;
    frame(boxed, 80);
    expect(boxes.n - one).toBe(4 * (rows.length - 1));
  });

  it('columns wider than the table: a box per cell (Ink narrows every cell), as before', () => {
    const boxed = columns((n) => <>{n}</>);
    const lined = columns((n) => n);
    for (const width of [20, 32]) expect(frame(lined, width, 'b')).toBe(frame(boxed, width, 'b'));
  });
});
