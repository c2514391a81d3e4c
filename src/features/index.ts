/**
 * Every feature, in pane order. The session registers the sources of these (each source
 * once, however many features share it); a new feature is one folder and one line here.
 */

import { addonsFeature } from './addons/model.js';
import { bgpFeature } from './bgp/model.js';
import { flowsFeature } from './flows/model.js';
import { mtuFeature } from './mtu/model.js';
import { nginxFeature } from './nginx/model.js';
import { overviewFeature } from './overview/model.js';
import { pkiFeature } from './pki/model.js';
import { rotationFeature } from './rotation/model.js';
import type { FeatureDef, SourceDef } from './types.js';

export const FEATURES: readonly FeatureDef[] = [
  overviewFeature,
  pkiFeature,
  rotationFeature,
  mtuFeature,
  bgpFeature,
  nginxFeature,
  flowsFeature,
  addonsFeature, // shown as the Addons view of the Jobs pane
] as FeatureDef[];

/** The sources of `features`, each once (by id), in first-seen order. */
export function sourcesOf(features: readonly Pick<FeatureDef, 'sources'>[]): SourceDef[] {
  const seen = new Map<string, SourceDef>();
  for (const f of features) {
    for (const s of f.sources) {
      const prev = seen.get(s.id);
      if (prev && prev !== s) throw new Error(`two different sources share the id "${s.id}"`);
      seen.set(s.id, s);
    }
  }
  return [...seen.values()];
}
