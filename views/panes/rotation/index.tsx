import { rotationFeature } from '../../../src/features/rotation/model.js';
import { definePane } from '../types.js';
import { deriveRotation, initialRotationUi, rotationBindings } from './bindings.js';
import { RotationPane } from './Pane.js';

export const rotationPane = definePane({
  id: 'rotation',
  key: '3',
  title: 'Rotation',
  feature: rotationFeature,
  initial: initialRotationUi,
  derive: deriveRotation,
  bindings: rotationBindings,
  View: ({ model, ui, derived, clock, width, height }) => (
    <RotationPane
      model={model}
      ui={ui}
      derived={derived}
      clock={clock}
      width={width}
      height={height}
    />
  ),
});
