/**
 * Drift of one declared addon against what runs in the cluster (the kube watches' addon
 * workloads: version label, image tag or Helm chart) — pure. The Addons view's rows
 * (features/addons/model.ts) and the sync's convergence watch (apply.ts) both judge with it.
 */
import type { AddonVersion } from '../../kube/types.js';
import type { AddonDecl } from './manifest.js';

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

/** `v1.19.1` and `1.19.1` are one version. */
export const norm = (v: string): string => v.replace(/^v(?=\d)/, '');

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
