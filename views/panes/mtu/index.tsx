import { mtuFeature } from '../../../src/features/mtu/model.js';
import { definePane } from '../types.js';
import { deriveMtu, initialMtuUi, mtuBindings } from './bindings.js';
import { MtuPane } from './Pane.js';

export const mtuPane = definePane({
  id: 'mtu',
  key: '7',
  title: 'MTU',
  feature: mtuFeature,
  initial: initialMtuUi,
  derive: deriveMtu,
  bindings: mtuBindings,
  View: ({ model, ui, derived, clock, width, height }) => (
    <MtuPane model={model} ui={ui} derived={derived} clock={clock} width={width} height={height} />
  ),
});
