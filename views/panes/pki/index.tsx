import { pkiFeature } from '../../../src/features/pki/model.js';
import { definePane } from '../types.js';
import { derivePki, initialPkiUi, pkiBindings, pkiFilter } from './bindings.js';
import { PkiPane } from './Pane.js';

export const pkiPane = definePane({
  id: 'pki',
  key: '2',
  title: 'PKI',
  feature: pkiFeature,
  initial: initialPkiUi,
  derive: derivePki,
  bindings: pkiBindings,
  filter: pkiFilter,
  View: ({ model, ui, derived, clock, width, height }) => (
    <PkiPane report={model} ui={ui} derived={derived} clock={clock} width={width} height={height} />
  ),
});
