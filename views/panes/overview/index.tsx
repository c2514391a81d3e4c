import { overviewFeature } from '../../../src/features/overview/model.js';
import { definePane } from '../types.js';
import { deriveOverview, initialOverviewUi, overviewBindings } from './bindings.js';
import { OverviewPane } from './Pane.js';

export const overviewPane = definePane({
  id: 'overview',
  key: '1',
  title: 'Overview',
  feature: overviewFeature,
  initial: initialOverviewUi,
  derive: deriveOverview,
  bindings: overviewBindings,
  View: ({ model, derived, env, clock, width, height }) => (
    <OverviewPane
      overview={model}
      rows={derived}
      selected={env.selectedNode}
      clock={clock}
      width={width}
      height={height}
    />
  ),
});
