/**
 * The layout k8ops ships with: nix/pki/layout.json, bundled at build time (tsc copies the
 * JSON next to the compiled code; esbuild inlines it), so the console, `k8ops certs` and
 * the demo lab read the very file the Nix modules and the node scripts read.
 */
import layoutJson from '../../nix/pki/layout.json' with { type: 'json' };
import { type Layout, validateLayout } from './layout.js';

let cached: Layout | undefined;

/** The validated bundled layout. Throws only if the shipped file itself is invalid (a build bug). */
export function defaultLayout(): Layout {
  if (cached) return cached;
  const r = validateLayout(structuredClone(layoutJson) as unknown);
  if (!r.ok) throw new Error(`nix/pki/layout.json is invalid: ${r.error}`);
  cached = r.layout;
  return cached;
}
