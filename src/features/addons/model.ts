/**
 * The addons model: each declared addon (the manifest) beside what runs in the cluster
 * (`kube.addons`: Deployments/DaemonSets, their version label, image tag or Helm chart),
 * with its pin and the manifest's problems (the ones nix/lib/addons.nix refuses to build).
 * Pure; shared by the Addons pane and `k8ops addons --json`.
 */
import { type AddonRow, rowFor } from '../../actions/addons/drift.js';
import { KUBE_STORE_SOURCES } from '../../kube/collect.js';
import type { AddonVersion } from '../../kube/types.js';
import { CLUSTER_SCOPE } from '../../store/types.js';

export {
  type AddonRow,
  type AddonState,
  type AddonVerdict,
  rowFor,
} from '../../actions/addons/drift.js';

import { kubeSource } from '../overview/sources.js';
import type { FeatureDef, ModelInput } from '../types.js';
import { addonsManifestSource, type ManifestValue } from './sources.js';

export interface AddonsModel {
  manifestPath?: string;
  /** Why there are no rows: no manifest configured, unreadable, not JSON… */
  error?: string;
  manifestProblems: string[];
  rows: AddonRow[];
  kubeError?: string;
  totals: { ok: number; warning: number; unknown: number };
}

export function buildAddonsModel(input: ModelInput): AddonsModel {
  const manifest = input.read<ManifestValue>(CLUSTER_SCOPE, addonsManifestSource.id);
  const kube = input.read<readonly AddonVersion[]>(CLUSTER_SCOPE, KUBE_STORE_SOURCES.addons);
  const totals = { ok: 0, warning: 0, unknown: 0 };
  const path = input.inventory.addons.manifest;
  if (!path)
    return {
      error: 'no addon manifest configured (inventory addons.manifest)',
      manifestProblems: [],
      rows: [],
      totals,
    };
  const m = manifest.value?.manifest;
  if (!m)
    return {
      manifestPath: path,
      error: manifest.error ? manifest.error.message : 'not read yet',
      manifestProblems: [],
      rows: [],
      totals,
    };
  if (!m.ok) return { manifestPath: path, error: m.error, manifestProblems: [], rows: [], totals };
  const workloads = input.hasKube ? kube.value : undefined;
  const rows = m.addons.map((d) => rowFor(d, workloads));
  for (const r of rows) totals[r.verdict]++;
  const out: AddonsModel = { manifestPath: path, manifestProblems: m.problems, rows, totals };
  if (input.hasKube && kube.error) out.kubeError = kube.error.message;
  return out;
}

export const addonsFeature: FeatureDef<AddonsModel> = {
  id: 'addons',
  sources: [addonsManifestSource, kubeSource],
  reads: [{ scope: 'cluster', id: KUBE_STORE_SOURCES.addons }],
  model: buildAddonsModel,
};
