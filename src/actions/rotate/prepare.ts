/**
 * What a rotation needs from the k8ops that runs it, shared by the console's action (the
 * Jobs runner, typed confirmation) and `k8ops rotate`: who holds the node's lock, the
 * signer node, and the plan of a node's rotation.
 */
import { hostname, userInfo } from 'node:os';
import { DEFAULTS } from '../../config/defaults.js';
import type { Inventory, NodeSpec } from '../../config/types.js';
import { defaultLayout } from '../../pki/layout-data.js';
import { visible } from '../../store/sanitise.js';
import type { ActionFactory } from '../types.js';
import { type CaRotatePlan, caRotateJob, planCaRotate } from './ca.js';
import { rotateJob } from './job.js';
import { DEFAULT_TOOLS, type LockOwner, planRotate, type RotatePlan } from './plan.js';
import { planSaRotate, type SaRotatePlan, saRotateJob } from './sa.js';

const WHO_RE = /[^A-Za-z0-9._@:-]/g;
/** Who this k8ops is, for the node's lock: user@k8ops on this host, this pid. */
export function lockOwner(): LockOwner {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry
  }
  return {
    owner: `${user}@k8ops`.replace(WHO_RE, '_').slice(0, 64),
    host: hostname().replace(WHO_RE, '_').slice(0, 64) || 'localhost',
    pid: process.pid,
  };
}

export const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The inventory node that signs: `pki.signer` names a node (by name or SSH host). */
export function signerNode(inv: Inventory): NodeSpec | { error: string } {
  const s = inv.pki.signer;
  if (!s)
    return {
      error:
        'no signer: set pki.signer in the inventory to the node that holds the intermediate CA keys',
    };
  const n = inv.nodes.find((x) => x.name === s) ?? inv.nodes.find((x) => x.host === s);
  return (
    n ?? {
      error: `pki.signer "${s}" is not a node of the inventory (k8ops reaches the signer as a node)`,
    }
  );
}

/** Plan the rotation of `node` (all its certificates, or `only`). */
export function planNodeRotation(
  inv: Inventory,
  hasKube: boolean,
  nodeName: string,
  only?: readonly string[],
): { ok: true; plan: RotatePlan } | { ok: false; error: string } {
  const node = inv.nodes.find((n) => n.name === nodeName);
  if (!node)
    return {
      ok: false,
      error: `no node "${visible(nodeName)}" in the inventory (nodes: ${inv.nodes.map((n) => n.name).join(', ')})`,
    };
  const signer = signerNode(inv);
  if ('error' in signer) return { ok: false, error: signer.error };
  return planRotate({
    layout: defaultLayout(),
    node,
    signer,
    pkiDir: inv.pki.dir,
    ...(only && only.length > 0 ? { only } : {}),
    tools: DEFAULT_TOOLS,
    hasKube,
  });
}

/** Plan the rotation of intermediate `ca` (its successor, bundles, switch, retire). */
export function planCaRotation(
  inv: Inventory,
  hasKube: boolean,
  ca: string,
  o: { successor?: string; retireEarly?: boolean } = {},
): { ok: true; plan: CaRotatePlan } | { ok: false; error: string } {
  const signer = signerNode(inv);
  if ('error' in signer) return { ok: false, error: signer.error };
  return planCaRotate({
    layout: defaultLayout(),
    nodes: inv.nodes,
    signer,
    pkiDir: inv.pki.dir,
    ca,
    hasKube,
    bundleLeadMs: inv.rotation.bundleLeadMs ?? DEFAULTS.rotation.bundleLeadMs,
    ...(o.retireEarly ? { retireEarly: true } : {}),
    ...(o.successor !== undefined ? { successor: o.successor } : {}),
  });
}

/** Plan the rotation of the service-account keys (every control-plane node). */
export function planSaRotation(
  inv: Inventory,
  hasKube: boolean,
  o: { start?: boolean } = {},
): { ok: true; plan: SaRotatePlan } | { ok: false; error: string } {
  return planSaRotate({
    layout: defaultLayout(),
    nodes: inv.nodes,
    pkiDir: inv.pki.dir,
    hasKube,
    ...(inv.rotation.saOverlapMs !== undefined ? { overlapMs: inv.rotation.saOverlapMs } : {}),
    ...(o.start !== undefined ? { start: o.start } : {}),
  });
}

const hours = (ms: number) => `${Math.round(ms / 3_600_000)} h`;

/** An intermediate's plan as the confirmation shows it. */
export function caPlanSummary(p: CaRotatePlan): string[] {
  return [
    `intermediate ${p.ca} at the signer ${p.signer.name} (${p.caDir}); its successor needs the root's signature (offline ceremony)${p.successor !== undefined ? ': given' : ''}`,
    `bundles ${p.bundles.join(', ')} on ${p.nodes.length} node(s), one at a time: ${p.nodes.map((n) => n.node.name).join(', ')}`,
    ...p.nodes
      .filter((n) => n.units.length > 0)
      .slice(0, 6)
      .map(
        (n) =>
          `${n.node.name}: ${n.units.map((u) => `${u.unit} ${u.restart ? 'restart' : 'reloads'}`).join(', ')}`,
      ),
    `switch ${hours(p.bundleLeadMs)} after the bundles hold it; retire ${p.retireEarly ? 'now (--retire-now), once no installed leaf needs it' : 'after its last leaf expired'}`,
  ];
}

/** The service-account keys' plan as the confirmation shows it. */
export function saPlanSummary(p: SaRotatePlan): string[] {
  return [
    `service-account keys of ${p.nodes.map((n) => n.node.name).join(', ')}: a new key per node (never copied)`,
    'every API server trusts every new public key (restart, /readyz), then each node switches, one at a time',
    `the old public keys stay trusted ${hours(p.overlapMs)}, then leave (another run, or --due)`,
  ];
}

/** The plan as the confirmation shows it. */
export function planSummary(plan: RotatePlan): string[] {
  return [
    `${plan.ids.length} certificate(s) of ${plan.node.name}, signed at ${plan.signer.name}: ${plan.ids.join(', ')}`,
    ...plan.groups
      .filter((g) => g.unit !== null)
      .map(
        (g) =>
          `${g.unit}: ${g.restart ? 'restart' : 'no restart'}; gates: ${g.gates.map((x) => x.name).join('; ')}`,
      ),
  ];
}

/** `R` on the Rotation pane: plan, typed confirmation (the node's name), then the job. */
export const rotateAction: ActionFactory = {
  action: 'rotate',
  help: 'rotate NODE: its certificates (CSR on the node, signed at pki.signer, installed, units restarted, gated; rolled back on a failed gate); an intermediate (options.kind "ca") or the service-account keys ("sa-key")',
  async prepare(request, deps) {
    const kind = request.options?.kind;
    const deps2 = {
      agent: (n: string) => deps.agents.get(n),
      who: lockOwner(),
      pidAlive,
      ...(deps.nodeReady ? { nodeReady: deps.nodeReady } : {}),
    };
    if (kind === 'ca' || kind === 'sa-key') {
      const target = request.targets[0];
      if (!target || request.targets.length !== 1)
        return { ok: false, message: `rotate ${kind} takes exactly one target` };
      if (deps.mode === 'demo')
        return {
          ok: false,
          message: `the demo lab does not rotate (k8ops rotate ${kind === 'ca' ? `--ca ${visible(target)}` : '--sa-key'} --dry-run --demo shows the plan)`,
        };
      if (kind === 'ca') {
        const p = planCaRotation(deps.inventory, deps.hasKube ?? false, target);
        if (!p.ok) return { ok: false, message: p.error };
        return {
          ok: true,
          prepared: {
            spec: caRotateJob(p.plan, deps2),
            confirm: p.plan.ca,
            planText: caPlanSummary(p.plan),
          },
        };
      }
      const p = planSaRotation(deps.inventory, deps.hasKube ?? false);
      if (!p.ok) return { ok: false, message: p.error };
      return {
        ok: true,
        prepared: {
          spec: saRotateJob(p.plan, deps2),
          confirm: p.plan.id,
          planText: saPlanSummary(p.plan),
        },
      };
    }
    const node = request.targets[0];
    if (!node || request.targets.length !== 1)
      return { ok: false, message: 'rotate takes exactly one node' };
    if (deps.mode === 'demo')
      return {
        ok: false,
        message: `the demo lab does not rotate (k8ops rotate ${visible(node)} --dry-run --demo shows the plan)`,
      };
    const only = Array.isArray(request.options?.only)
      ? (request.options.only as unknown[]).filter((x): x is string => typeof x === 'string')
      : undefined;
    const p = planNodeRotation(deps.inventory, deps.hasKube ?? false, node, only);
    if (!p.ok) return { ok: false, message: p.error };
    const spec = rotateJob(p.plan, deps2);
    return { ok: true, prepared: { spec, confirm: node, planText: planSummary(p.plan) } };
  },
};
