import { flowsFeature } from '../../../src/features/flows/model.js';
import { definePane } from '../types.js';
import { deriveFlows, flowsBindings, flowsFilter, initialFlowsUi } from './bindings.js';
import { FlowsPane } from './Pane.js';

export const flowsPane = definePane({
  id: 'flows',
  key: '4',
  title: 'Flows',
  feature: flowsFeature,
  initial: initialFlowsUi,
  derive: deriveFlows,
  bindings: flowsBindings,
  filter: flowsFilter,
  View: ({ ui, derived, width, height }) => (
    <FlowsPane ui={ui} derived={derived} width={width} height={height} />
  ),
});
