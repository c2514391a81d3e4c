/**
 * The PKI pane: the certificate tree (root → intermediates → leaves, each certificate once
 * with the node and file it lives in), a check-severity marker per row, live countdowns
 * (the selected row ticks every second, the others every minute, from the one shared
 * clock), and the details of the selected row (Enter; j/k scroll; Esc closes). Capped to
 * its height; only the visible window of rows is rendered.
 */
import type { PkiReport } from '../../../src/pki/report.js';
import type { Clock } from '../../../src/store/clock.js';
import type { PkiDerived, PkiUi } from './bindings.js';
import { PkiDetail } from './Detail.js';
import { PkiTree } from './Tree.js';

export interface PkiPaneProps {
  report: PkiReport;
  ui: PkiUi;
  derived: PkiDerived;
  clock: Clock;
  width: number;
  height: number;
}

export function PkiPane({ report, ui, derived, clock, width, height }: PkiPaneProps) {
  const sel = derived.rows.find((r) => r.key === derived.selected);
  if (ui.detail && sel)
    return (
      <PkiDetail
        item={sel.item}
        clock={clock}
        renewBeforeMs={report.renewBeforeMs}
        scroll={ui.scroll}
        width={width}
        height={height}
      />
    );
  return (
    <PkiTree
      report={report}
      rows={derived.rows}
      selected={derived.selected}
      sel={sel}
      order={ui.order}
      filter={ui.filter}
      clock={clock}
      width={width}
      height={height}
    />
  );
}
