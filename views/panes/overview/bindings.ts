/**
 * The Overview pane's keys and state: none of its own. Its rows are the node list's, so
 * the shell's keys (j/k, g/G, `/` on the node list) move and filter them.
 */
import type { Overview, OverviewRow } from '../../../src/features/overview/model.js';
import type { Binding } from '../../keys/types.js';
import type { PaneEnv, PaneKeyCtx } from '../types.js';

export type OverviewUi = Record<string, never>;
export const initialOverviewUi: OverviewUi = {};

/** The rows the node filter leaves, in inventory order. */
export function deriveOverview(model: Overview, _ui: OverviewUi, env: PaneEnv): OverviewRow[] {
  const visible = new Set(env.visibleNodes);
  return model.rows.filter((r) => visible.has(r.name));
}

export const overviewBindings: readonly Binding<OverviewUi, PaneKeyCtx<OverviewRow[]>>[] = [];
