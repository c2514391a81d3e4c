/**
 * The addons model: each declared addon (the manifest) beside what runs in the cluster
 * (`kube.addons`: Deployments/DaemonSets, their version label, image tag or Helm chart),
 * with its pin and the manifest's problems (the ones nix/lib/addons.nix refuses to build).
 * Pure; shared by the Addons pane and `k8ops addons --json`.
 */
import type { AddonDecl } from '../../actions/addons/manifest.js';
import { KUBE_STORE_SOURCES } from '../../kube/collect.js';
import type { AddonVersion } from '../../kube/types.js';
import { CLUSTER_SCOPE } from '../../store/types.js';
import { kubeSource } from '../overview/sources.js';
import type { FeatureDef, ModelInput } from '../types.js';
import { addonsManifestSource, type ManifestValue } from './sources.js';

export type AddonVerdict = 'ok' | 'warning' | 'unknown';

export type AddonState =
  /** Runs the declared version. */
  | 'in-sync'
  /** Runs another version. */
  | 'drift'
  /** Nothing of it runs (or k8ops may not see its namespace). */
  | 'not-running'
  /** It runs, but nothing it publishes names the release version (kube-prometheus). */
  | 'version-unknown'
  /** A binary for the nodes (format cli): not deployed to the cluster. */
  | 'not-deployed'
  /** No kube source, or its addons section has not answered. */
  | 'no-kube';

export interface AddonRow {
  name: string;
  version: string;
  format: string;
  url: string;
  pin: string;
  pinned: boolean;
  problems: string[];
  state: AddonState;
  /** The versions found in the cluster (distinct), with where each came from. */
  running: Array<{ workload: string; namespace: string; version: string; from: string }>;
  verdict: AddonVerdict;
  /** One line saying why the verdict is what it is. */
  detail: string;
}

export interface AddonsModel {
  manifestPath?: string;
  /** Why there are no rows: no manifest configured, unreadable, not JSON… */
  error?: string;
  manifestProblems: string[];
  rows: AddonRow[];
  kubeError?: string;
  totals: { ok: number; warning: number; unknown: number };
}

/** `v1.19.1` and `1.19.1` are one version. */
const norm = (v: string): string => v.replace(/^v(?=\d)/, '');

/** The workloads of addon `name` (cilium's agent is `cilium`, its operator `cilium-operator`, …). */
function workloadsOf(name: string, all: readonly AddonVersion[]): AddonVersion[] {
  return all.filter((w) => w.addon === name || w.addon.startsWith(`${name}-`));
}

function runningVersions(decl: AddonDecl, ws: readonly AddonVersion[]): AddonRow['running'] {
  const out: AddonRow['running'] = [];
  for (const w of ws) {
    const chart =
      w.chart && (w.chart.name === decl.name || decl.format === 'helm') ? w.chart : undefined;
    const version = chart?.version ?? w.version;
    if (!version) continue;
    const from = chart ? `chart ${chart.name}` : w.versionSource === 'label' ? 'label' : 'image';
    out.push({ workload: `${w.kind}/${w.name}`, namespace: w.namespace, version, from });
  }
  return out;
}

export function rowFor(decl: AddonDecl, workloads: readonly AddonVersion[] | undefined): AddonRow {
  const pinned = decl.sha256 !== '' && !decl.problems.some((p) => p.includes('sha256'));
  const base = {
    name: decl.name,
    version: decl.version,
    format: decl.format,
    url: decl.url,
    pin: decl.sha256,
    pinned,
    problems: decl.problems,
  };
  let state: AddonState;
  let running: AddonRow['running'] = [];
  if (decl.format === 'cli') state = 'not-deployed';
  else if (!workloads) state = 'no-kube';
  else {
    const ws = workloadsOf(decl.name, workloads);
    running = runningVersions(decl, ws);
    if (ws.length === 0) state = 'not-running';
    else if (decl.name === 'kube-prometheus' || running.length === 0) state = 'version-unknown';
    else state = running.every((r) => norm(r.version) === norm(decl.version)) ? 'in-sync' : 'drift';
  }
  const others = [...new Set(running.map((r) => r.version))].filter(
    (v) => norm(v) !== norm(decl.version),
  );
  const detail =
    decl.problems.length > 0
      ? decl.problems[0]!.replace(`${decl.name} ${decl.version}: `, '')
      : state === 'drift'
        ? `declared ${decl.version}, running ${others.join(', ')}`
        : state === 'not-running'
          ? 'declared, but no workload of it runs (or its namespace is not visible)'
          : state === 'version-unknown'
            ? 'runs; its workloads do not name the release version'
            : state === 'not-deployed'
              ? 'node binary (format cli): installed by node-tools, not deployed'
              : state === 'no-kube'
                ? 'pinned; no kube API to compare with'
                : 'pinned and running the declared version';
  const verdict: AddonVerdict =
    decl.problems.length > 0 || state === 'drift' || state === 'not-running'
      ? 'warning'
      : state === 'version-unknown' || state === 'no-kube'
        ? 'unknown'
        : 'ok';
  return { ...base, state, running, verdict, detail };
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
