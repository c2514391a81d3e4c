import { createInterface } from 'node:readline/promises';
import {
  DEFAULT_TOOLS,
  describeHolder,
  GateFailedError,
  LockHeldError,
  type LockOwner,
  parseLockHolder,
  planCommands,
  type RotatePlan,
  type RotateResult,
  rotateJob,
} from '../actions/rotate/index.js';
import { lockOwner, pidAlive, planNodeRotation } from '../actions/rotate/prepare.js';
import type { JobSpec } from '../actions/types.js';
import { buildRotationModel } from '../features/rotation/model.js';
import { allEvents } from '../features/rotation/plan.js';
import type { KubeNodeStatus } from '../kube/types.js';
import type { Session } from '../session/session.js';
import { shQuote } from '../ssh/quote.js';
import { visible } from '../store/sanitise.js';
import { CLUSTER_SCOPE } from '../store/types.js';
import type { Out } from './common.js';
import { runJobPrinting } from './job-print.js';

/** Exit codes of the rotate actions (beside `rotate plan`'s 0–3). */
export const ROTATE_RUN_EXIT = {
  ok: 0,
  usage: 2,
  unreachable: 3,
  failed: 4,
  locked: 5,
  refused: 6,
} as const;

export { lockOwner, pidAlive, signerNode } from '../actions/rotate/prepare.js';

/** Plan the rotation of `node` (all its certificates, or `only`). */
export function planFor(
  session: Pick<Session, 'inventory' | 'hasKube'>,
  nodeName: string,
  only?: readonly string[],
): { ok: true; plan: RotatePlan } | { ok: false; error: string } {
  return planNodeRotation(session.inventory, session.hasKube, nodeName, only);
}

/** `--dry-run`: every command per host, in order, each argument shell-quoted. */
export function formatDryRun(plan: RotatePlan, who: LockOwner): string {
  const lines = [
    `k8ops rotate ${plan.node.name} --dry-run: ${plan.ids.length} certificate(s), signed at ${plan.signer.name}`,
    '',
    'Units:',
  ];
  for (const g of plan.groups) {
    if (g.unit === null) {
      lines.push(`  (no unit) ${g.uses.join(', ')}: nothing to restart`);
      continue;
    }
    const what = g.restart
      ? 'restart'
      : g.pickup === 'per-handshake'
        ? 'no restart (re-read per handshake)'
        : 'no restart (reloaded from disk)';
    lines.push(`  ${g.unit}: ${g.uses.join(', ')} → ${what}`);
    for (const w of g.why) lines.push(`      ${w}`);
    lines.push(`      gates: ${g.gates.map((x) => x.name).join('; ')}`);
  }
  lines.push('', 'Commands, in order:');
  let i = 1;
  for (const c of planCommands(plan, who)) {
    const cmd = c.argv.map((x) => (/^[A-Za-z0-9_./=:,@+-]+$/.test(x) ? x : shQuote(x))).join(' ');
    const extra = [c.stdin ? `stdin: ${c.stdin}` : '', c.when ? `only if ${c.when}` : '']
      .filter(Boolean)
      .join('; ');
    lines.push(`${String(i++).padStart(3)}. ${c.host}$ ${cmd}${extra ? `    # ${extra}` : ''}`);
  }
  return `${lines.map(visible).join('\n')}\n`;
}

async function confirm(node: string, err: Out, stdinIsTTY: boolean): Promise<boolean> {
  if (!stdinIsTTY) return false;
  const rl = createInterface({ input: process.stdin, output: err });
  try {
    const a = await rl.question(`Type the node name (${node}) to rotate it: `);
    return a.trim() === node;
  } finally {
    rl.close();
  }
}

export interface RunArgs {
  nodes: string[];
  only: string[];
  dryRun: boolean;
  yes: boolean;
  due: boolean;
  breakLock: boolean;
  readOnly: boolean;
}

export async function rotateRun(
  a: RunArgs,
  session: Session,
  io: { out: Out; err: Out; stdinIsTTY: boolean; signal: AbortSignal; env?: NodeJS.ProcessEnv },
): Promise<number> {
  const { out, err } = io;
  const who = lockOwner();
  const inv = session.inventory;

  if (a.breakLock) {
    const name = a.nodes[0]!;
    const node = inv.nodes.find((n) => n.name === name);
    if (!node) {
      err.write(`k8ops rotate: no node "${visible(name)}" in the inventory\n`);
      return ROTATE_RUN_EXIT.usage;
    }
    const agent = session.agents.get(name);
    if (!agent) return ROTATE_RUN_EXIT.unreachable;
    try {
      const show = await agent.exec([DEFAULT_TOOLS.lock, 'show', '--pki-dir', inv.pki.dir], {
        readOnly: true,
        signal: io.signal,
      });
      const holder = parseLockHolder(show.stdout);
      if (!holder) {
        out.write(`${name}: not locked\n`);
        return ROTATE_RUN_EXIT.ok;
      }
      const r = await agent.exec([DEFAULT_TOOLS.lock, 'break', '--pki-dir', inv.pki.dir], {
        signal: io.signal,
      });
      if (r.code !== 0) {
        err.write(`k8ops rotate: ${name}: breaking the lock failed: ${visible(r.stderr.trim())}\n`);
        return ROTATE_RUN_EXIT.failed;
      }
      out.write(`${name}: broke the rotation lock of ${visible(describeHolder(holder))}\n`);
      return ROTATE_RUN_EXIT.ok;
    } catch (e) {
      err.write(`k8ops rotate: ${name}: ${visible((e as Error).message)}\n`);
      return ROTATE_RUN_EXIT.unreachable;
    }
  }

  // Which nodes, which certificates: by name, or everything whose slot has passed.
  let targets: { node: string; only: string[] }[];
  if (a.due) {
    const m = buildRotationModel(inv, (s, src) => session.store.get(s, src), Date.now());
    const due = new Map<string, Set<string>>();
    for (const e of allEvents(m.schedule))
      if (e.at <= m.schedule.now)
        for (const c of e.certs) due.set(e.node, (due.get(e.node) ?? new Set()).add(c));
    // One node at a time, control-plane nodes first (in inventory order).
    const cp = (n: string) => inv.nodes.find((x) => x.name === n)?.roles.includes('control-plane');
    targets = [...due]
      .sort(([x], [y]) => Number(cp(y)) - Number(cp(x)))
      .map(([node, ids]) => ({ node, only: [...ids] }));
    if (m.unreachable.length > 0)
      err.write(`k8ops rotate --due: unreachable, not considered: ${m.unreachable.join(', ')}\n`);
    if (targets.length === 0) {
      out.write('k8ops rotate --due: nothing is due\n');
      return m.unreachable.length > 0 ? ROTATE_RUN_EXIT.unreachable : ROTATE_RUN_EXIT.ok;
    }
  } else targets = a.nodes.map((node) => ({ node, only: a.only }));

  const plans: RotatePlan[] = [];
  for (const t of targets) {
    const p = planFor(session, t.node, t.only);
    if (!p.ok) {
      err.write(`k8ops rotate: ${p.error}\n`);
      return ROTATE_RUN_EXIT.usage;
    }
    plans.push(p.plan);
  }
  if (a.dryRun) {
    out.write(plans.map((p) => formatDryRun(p, who)).join('\n'));
    return ROTATE_RUN_EXIT.ok;
  }
  if (a.readOnly) {
    err.write('k8ops rotate: refused: --read-only (use --dry-run to see the commands)\n');
    return ROTATE_RUN_EXIT.refused;
  }
  if (session.mode === 'demo') {
    err.write('k8ops rotate: the demo lab does not rotate yet (try --dry-run)\n');
    return ROTATE_RUN_EXIT.refused;
  }
  if (!a.yes) {
    for (const p of plans) {
      err.write(formatDryRun(p, who));
      if (!(await confirm(p.node.name, err, io.stdinIsTTY))) {
        err.write('k8ops rotate: not confirmed (pass --yes in scripts)\n');
        return ROTATE_RUN_EXIT.refused;
      }
    }
  }

  const nodeReady = session.hasKube
    ? async (name: string) => {
        const snap = session.store.get<KubeNodeStatus[]>(CLUSTER_SCOPE, 'kube');
        if (!snap.value) return undefined;
        return snap.value.some((n) => n.name === name && n.ready);
      }
    : undefined;
  for (const plan of plans) {
    const job = rotateJob(plan, {
      agent: (n) => session.agents.get(n),
      who,
      pidAlive,
      ...(nodeReady ? { nodeReady } : {}),
    });
    try {
      const r = await runJobPrinting(job, err, {
        signal: io.signal,
        ...(io.env ? { env: io.env } : {}),
      });
      out.write(
        `${plan.node.name}: installed ${r.installed.join(', ') || 'nothing'}${r.unchanged.length ? `; unchanged ${r.unchanged.join(', ')}` : ''}; restarted ${r.restarted.join(', ') || 'nothing'}${r.resumed ? ' (resumed an interrupted run)' : ''}\n`,
      );
    } catch (e) {
      if (e instanceof LockHeldError) {
        err.write(
          `k8ops rotate: ${visible(e.message)}\n  if that run is gone for good: k8ops rotate --break-lock ${plan.node.name}\n`,
        );
        return ROTATE_RUN_EXIT.locked;
      }
      if (e instanceof GateFailedError) {
        err.write(`k8ops rotate: ${visible(e.message)}\n`);
        return ROTATE_RUN_EXIT.failed;
      }
      err.write(`k8ops rotate: ${plan.node.name}: ${visible((e as Error).message)}\n`);
      return ROTATE_RUN_EXIT.failed;
    }
  }
  return ROTATE_RUN_EXIT.ok;
}

/**
 * What the console's `R` on the Rotation pane asks for: the JobSpec of rotating `node`
 * (the same as `k8ops rotate NODE`), its plan in a few lines for the typed confirmation, and
 * the word to type. The job runner's confirm-and-start (src/actions/jobs/) consumes it.
 */
export interface RotateRequest {
  node: string;
  title: string;
  /** The plan for the confirmation: certificates, units (restart or not), gates. */
  summary: string[];
  /** What the operator types to confirm (the node name). */
  confirmWord: string;
  spec: JobSpec<RotateResult>;
}

export function rotateRequest(
  session: Pick<Session, 'inventory' | 'hasKube' | 'agents' | 'readOnly' | 'mode' | 'store'>,
  node: string,
): { ok: true; request: RotateRequest } | { ok: false; error: string } {
  if (session.readOnly) return { ok: false, error: 'read-only: rotating is refused' };
  if (session.mode === 'demo')
    return {
      ok: false,
      error: `the demo lab does not rotate yet (k8ops rotate ${node} --dry-run --demo shows the plan)`,
    };
  const p = planFor(session, node);
  if (!p.ok) return { ok: false, error: p.error };
  const plan = p.plan;
  const who = lockOwner();
  const nodeReady = session.hasKube
    ? async (name: string) => {
        const v = session.store.get<KubeNodeStatus[]>(CLUSTER_SCOPE, 'kube').value;
        return v ? v.some((n) => n.name === name && n.ready) : undefined;
      }
    : undefined;
  const spec = rotateJob(plan, {
    agent: (n) => session.agents.get(n),
    who,
    pidAlive,
    ...(nodeReady ? { nodeReady } : {}),
  });
  const summary = [
    `${plan.ids.length} certificate(s) of ${node}, signed at ${plan.signer.name}: ${plan.ids.join(', ')}`,
    ...plan.groups
      .filter((g) => g.unit !== null)
      .map(
        (g) =>
          `${g.unit}: ${g.restart ? 'restart' : 'no restart'}; gates: ${g.gates.map((x) => x.name).join('; ')}`,
      ),
  ];
  return { ok: true, request: { node, title: spec.title, summary, confirmWord: node, spec } };
}
