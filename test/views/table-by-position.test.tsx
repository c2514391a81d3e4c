/**
 * The Table's `byPosition` (issue 13: the Flows pane's rows are all new on every frame): the
 * visible rows are updated in place, not unmounted and mounted again, and the table reads
 * exactly as with rows keyed by `rowKey`, the selected row included.
 */
import { Text } from 'ink';
import { render } from 'ink-testing-library';
import { useEffect } from 'react';
import { describe, expect, it } from 'vitest';
import { type Column, Table } from '../../views/components/Table.js';

interface Row {
  id: string;
  name: string;
}

const counts = { mounts: 0 };
/** A cell that counts its mounts (not narrow text: the row is drawn with a box per cell). */
function Probe({ text }: { text: string }) {
  useEffect(() => {
    counts.mounts++;
  }, []);
  return <Text>{text}</Text>;
}

const probeColumns: Column<Row>[] = [
  { key: 'id', title: 'ID', width: 8, render: (r) => r.id },
  { key: 'name', title: 'NAME', width: 20, render: (r) => <Probe text={r.name} /> },
];
const lineColumns: Column<Row>[] = [
  { key: 'id', title: 'ID', width: 8, render: (r) => r.id },
  { key: 'name', title: 'NAME', width: 20, render: (r) => r.name },
];

/** `n` rows no earlier frame had (as the Flows pane's newest flows each second). */
const batch = (frame: number, n: number): Row[] =>
  Array.from({ length: n }, (_, i) => ({ id: `f${frame}-${i}`, name: `flow ${frame}.${i}` }));

const table = (rows: Row[], byPosition: boolean, columns = probeColumns, selectedKey?: string) => (
  <Table
    columns={columns}
    rows={rows}
    rowKey={(r) => r.id}
    height={6}
    width={40}
    byPosition={byPosition}
    {...(selectedKey !== undefined ? { selectedKey } : {})}
  />
);

describe('Table byPosition', () => {
  it('updates the visible rows in place when every row is new; keyed by rowKey, each is mounted again', () => {
    for (const byPosition of [true, false]) {
      counts.mounts = 0;
      const r = render(table(batch(0, 5), byPosition));
      expect(counts.mounts).toBe(5);
      for (let frame = 1; frame <= 3; frame++) r.rerender(table(batch(frame, 5), byPosition));
      expect(r.lastFrame()).toContain('flow 3.4');
      expect(counts.mounts).toBe(byPosition ? 5 : 20);
      r.unmount();
    }
  });

  it('reads exactly as the table keyed by rowKey, selection included', () => {
    for (const columns of [probeColumns, lineColumns]) {
      for (const sel of [undefined, 'f2-3']) {
        const frames = [true, false].map((byPosition) => {
          const r = render(table(batch(1, 5), byPosition, columns, sel));
          r.rerender(table(batch(2, 7), byPosition, columns, sel));
          const out = r.lastFrame();
          r.unmount();
          return out;
        });
        expect(frames[0]).toBe(frames[1]);
        if (sel) expect(frames[0]).toContain('flow 2.3');
      }
    }
  });
});
