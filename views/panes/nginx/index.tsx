import { nginxFeature } from '../../../src/features/nginx/model.js';
import { definePane } from '../types.js';
import { deriveNginx, initialNginxUi, nginxBindings } from './bindings.js';
import { NginxPane } from './Pane.js';

export const nginxPane = definePane({
  id: 'nginx',
  key: '6',
  title: 'NGINX',
  feature: nginxFeature,
  initial: initialNginxUi,
  derive: deriveNginx,
  bindings: nginxBindings,
  View: ({ model, ui, derived, clock, width, height }) => (
    <NginxPane
      model={model}
      ui={ui}
      derived={derived}
      clock={clock}
      width={width}
      height={height}
    />
  ),
});
