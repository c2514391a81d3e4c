/**
 * The addons feature's source: the addon manifest (inventory `addons.manifest`), read
 * from this machine (it lives in the operator's NixOS configuration repository) and parsed.
 * What runs in the cluster comes from the kube watches (`kube.addons`, kubeSource).
 */
import { readFile } from 'node:fs/promises';
import { type ManifestResult, parseManifest } from '../../actions/addons/manifest.js';
import type { ClusterSourceDef } from '../types.js';

export interface ManifestValue {
  path: string;
  manifest: ManifestResult;
}

/** Manifests are small; a larger file is refused rather than read. */
const MAX_MANIFEST_BYTES = 1 << 20;

export async function readManifest(path: string): Promise<ManifestValue> {
  const text = await readFile(path, 'utf8');
  if (text.length > MAX_MANIFEST_BYTES)
    return { path, manifest: { ok: false, error: `larger than ${MAX_MANIFEST_BYTES} bytes` } };
  return { path, manifest: parseManifest(text) };
}

export const addonsManifestSource: ClusterSourceDef<ManifestValue> = {
  id: 'addons.manifest',
  scope: 'cluster',
  intervalMs: 30_000,
  timeoutMs: 5_000,
  firstScreen: false,
  enabled: ({ inventory }) => inventory.addons.manifest !== undefined,
  collect: ({ inventory }) => readManifest(inventory.addons.manifest!),
};
