import { bgpFeature } from '../../../src/features/bgp/model.js';
import { definePane } from '../types.js';
import { bgpBindings, bgpFilter, deriveBgp, initialBgpUi } from './bindings.js';
import { BgpPane } from './Pane.js';

export const bgpPane = definePane({
  id: 'bgp',
  key: '5',
  title: 'BGP',
  feature: bgpFeature,
  initial: initialBgpUi,
  derive: deriveBgp,
  bindings: bgpBindings,
  filter: bgpFilter,
  View: ({ model, ui, derived, clock, width, height }) => (
    <BgpPane model={model} ui={ui} derived={derived} clock={clock} width={width} height={height} />
  ),
});
