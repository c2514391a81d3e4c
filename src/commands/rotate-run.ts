import { createInterface } from 'node:readline/promises';
import {
  type CaRotatePlan,
  type CaRotateResult,
  caRotateJob,
  caStatusArgv,
  DEFAULT_TOOLS,
  describeHolder,
  GateFailedError,
  LockHeldError,
  type LockOwner,
  type PlannedCommand,
  parseCaStatus,
  parseLockHolder,
  parseSaStatus,
  planCaCommands,
  planCommands,
  planSaCommands,
  type RotateDeps,
  type RotatePlan,
  type RotateResult,
  rotateJob,
  type SaRotatePlan,
  type SaRotateResult,
  type SaStatus,
  saArgv,
  saPhase,
  saRotateJob,
} from '../actions/rotate/index.js';
import {
  caPlanSummary,
  lockOwner,
  pidAlive,
  planCaRotation,
  planNodeRotation,
  planSaRotation,
  saPlanSummary,
} from '../actions/rotate/prepare.js';
import type { JobSpec } from '../actions/types.js';
import { buildRotationModel } from '../features/rotation/model.js';
import { allEvents, DEFAULT_BUNDLE_LEAD_MS } from '../features/rotation/plan.js';
import type { KubeNodeStatus } from '../kube/types.js';
import { INTERMEDIATE_RENEW_BEFORE_MS } from '../pki/expiry.js';
import { defaultLayout } from '../pki/layout-data.js';
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
  /** An intermediate's successor waits for the root's signature (the offline ceremony). */
  ceremony: 7,
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
  lines.push('', 'Commands, in order:', ...commandLines(planCommands(plan, who)));
  return `${lines.map(visible).join('\n')}\n`;
}

/** Numbered `host$ command` lines, each argument shell-quoted, with stdin and condition. */
export function commandLines(commands: readonly PlannedCommand[]): string[] {
  let i = 1;
  return commands.map((c) => {
    const cmd = c.argv.map((x) => (/^[A-Za-z0-9_./=:,@+-]+$/.test(x) ? x : shQuote(x))).join(' ');
    const extra = [c.stdin ? `stdin: ${c.stdin}` : '', c.when ? `only if ${c.when}` : '']
      .filter(Boolean)
      .join('; ');
    return `${String(i++).padStart(3)}. ${c.host}$ ${cmd}${extra ? `    # ${extra}` : ''}`;
  });
}

/** `--ca ID --dry-run`: the plan, then every command per host, in order. */
export function formatCaDryRun(plan: CaRotatePlan, who: LockOwner): string {
  const lines = [
    `k8ops rotate --ca ${plan.ca} --dry-run: signer ${plan.signer.name}, bundles ${plan.bundles.join(', ')}`,
    '',
    ...caPlanSummary(plan).map((l) => `  ${l}`),
    '',
    'Units per node (after a bundle changed):',
  ];
  for (const n of plan.nodes)
    for (const u of n.units) {
      lines.push(
        `  ${n.node.name}: ${u.unit} → ${u.restart ? 'restart' : 'no restart (reloaded from disk)'}`,
      );
      for (const w of u.why) lines.push(`      ${w}`);
      lines.push(`      gates: ${u.gates.map((x) => x.name).join('; ')}`);
    }
  lines.push('', 'Commands, in order:', ...commandLines(planCaCommands(plan, who)));
  return `${lines.map(visible).join('\n')}\n`;
}

/** `--sa-key --dry-run`: the plan, then every command per host, in order. */
export function formatSaDryRun(plan: SaRotatePlan, who: LockOwner): string {
  const lines = [
    `k8ops rotate --sa-key --dry-run: ${plan.id} on ${plan.nodes.map((n) => n.node.name).join(', ')}`,
    '',
    ...saPlanSummary(plan).map((l) => `  ${l}`),
    '',
    'Units per node (after its key file changed):',
  ];
  for (const n of plan.nodes)
    for (const u of n.units) {
      lines.push(`  ${n.node.name}: ${u.unit} → ${u.restart ? 'restart' : 'no restart'}`);
      lines.push(`      gates: ${u.gates.map((x) => x.name).join('; ')}`);
    }
  lines.push('', 'Commands, in order:', ...commandLines(planSaCommands(plan, who)));
  return `${lines.map(visible).join('\n')}\n`;
}

async function confirm(
  node: string,
  err: Out,
  stdinIsTTY: boolean,
  what = 'the node name',
): Promise<boolean> {
  if (!stdinIsTTY) return false;
  const rl = createInterface({ input: process.stdin, output: err });
  try {
    const a = await rl.question(`Type ${what} (${node}) to rotate it: `);
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
  let dueCas: { ca: string; why: string }[] = [];
  let dueSa: string | undefined;
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
    // The intermediates and the service-account keys: their state is at the signer and on
    // the control-plane nodes (asked read-only; the demo lab has none).
    if (session.mode !== 'demo') {
      dueCas = await dueIntermediates(session, err, io.signal);
      dueSa = await dueSaKeys(session, err, io.signal);
    }
    for (const c of dueCas) err.write(`k8ops rotate --due: intermediate ${c.ca}: ${c.why}\n`);
    if (dueSa) err.write(`k8ops rotate --due: service-account keys: ${dueSa}\n`);
    if (targets.length === 0 && dueCas.length === 0 && !dueSa) {
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
  const later = { dryRun: a.dryRun, yes: a.yes, readOnly: a.readOnly };
  if (a.dryRun) {
    out.write(plans.map((p) => formatDryRun(p, who)).join('\n'));
    for (const c of dueCas)
      await rotateCaRun({ ca: c.ca, retireEarly: false, ...later }, session, io);
    if (dueSa) await rotateSaRun({ ...later, start: false }, session, io);
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
  // --due: then the intermediates and the service-account keys (each asks its own typed
  // confirmation without --yes). A ceremony owed is reported (exit 7) after the others ran.
  let code: number = ROTATE_RUN_EXIT.ok;
  for (const c of dueCas) {
    const r = await rotateCaRun({ ca: c.ca, retireEarly: false, ...later }, session, io);
    if (r === ROTATE_RUN_EXIT.ceremony) code = r;
    else if (r !== ROTATE_RUN_EXIT.ok) return r;
  }
  if (dueSa) {
    const r = await rotateSaRun({ ...later, start: false }, session, io);
    if (r !== ROTATE_RUN_EXIT.ok) return r;
  }
  return code;
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

// ------------------------------------------------------- intermediates and service-account keys

interface RunIo {
  out: Out;
  err: Out;
  stdinIsTTY: boolean;
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

function jobDeps(
  session: Pick<Session, 'agents' | 'hasKube' | 'store'>,
  who: LockOwner,
): RotateDeps {
  const nodeReady = session.hasKube
    ? async (name: string) => {
        const v = session.store.get<KubeNodeStatus[]>(CLUSTER_SCOPE, 'kube').value;
        return v ? v.some((n) => n.name === name && n.ready) : undefined;
      }
    : undefined;
  return {
    agent: (n) => session.agents.get(n),
    who,
    pidAlive,
    ...(nodeReady ? { nodeReady } : {}),
  };
}

const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

/** What an intermediate's run did and waits for, on stdout; the CSR when the root must sign. */
function reportCa(r: CaRotateResult, out: Out, err: Out): number {
  const did = [
    r.changed.length > 0 ? `bundles changed on ${r.changed.join(', ')}` : '',
    r.restarted.length > 0 ? `restarted ${r.restarted.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  if (r.waiting?.kind === 'ceremony') {
    err.write(
      `k8ops rotate --ca ${r.ca}: the successor's key is at the signer; the root must sign its CSR (printed on stdout), offline:\n${r.waiting.commands.map((c) => `  ${c}`).join('\n')}\n`,
    );
    out.write(r.waiting.csr);
    return ROTATE_RUN_EXIT.ceremony;
  }
  const next =
    r.waiting?.kind === 'time'
      ? `; ${r.waiting.what === 'switch' ? 'the successor signs' : 'the old version leaves the bundles'} from ${iso(r.waiting.at)} (run again then, or --due)`
      : r.phase === 'steady'
        ? '; the rotation is complete'
        : '';
  out.write(`${r.ca}: phase ${r.phase}${did ? `; ${did}` : ''}${next}\n`);
  return ROTATE_RUN_EXIT.ok;
}

function reportSa(r: SaRotateResult, out: Out): number {
  const did = [
    r.switched.length > 0 ? `switched ${r.switched.join(', ')}` : '',
    r.restarted.length > 0 ? `restarted ${r.restarted.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  const next =
    r.waiting !== undefined
      ? `; the old public keys stay trusted until ${iso(r.waiting.at)} (run again then, or --due)`
      : r.phase === 'steady'
        ? '; nothing left to do'
        : '';
  out.write(`${r.id}: phase ${r.phase}${did ? `; ${did}` : ''}${next}\n`);
  return ROTATE_RUN_EXIT.ok;
}

/** A job's error as the exit code and message of the rotate commands. */
function failed(e: unknown, name: string, err: Out): number {
  if (e instanceof LockHeldError) {
    err.write(
      `k8ops rotate: ${visible(e.message)}\n  if that run is gone for good: k8ops rotate --break-lock ${e.node}\n`,
    );
    return ROTATE_RUN_EXIT.locked;
  }
  if (e instanceof GateFailedError) {
    err.write(`k8ops rotate: ${visible(e.message)}\n`);
    return ROTATE_RUN_EXIT.failed;
  }
  err.write(`k8ops rotate: ${name}: ${visible((e as Error).message)}\n`);
  return ROTATE_RUN_EXIT.failed;
}

export interface CaRunArgs {
  ca: string;
  successor?: string;
  retireEarly: boolean;
  dryRun: boolean;
  yes: boolean;
  readOnly: boolean;
}

/**
 * A rotation of an intermediate or of the service-account keys from the command line: the
 * plan (or its error), `--dry-run` prints it, `--read-only` and the demo refuse, the typed
 * confirmation (`what` names the word), then the job with its lines on stderr.
 */
async function runKeyRotation<P, R>(
  a: { dryRun: boolean; yes: boolean; readOnly: boolean },
  p: { ok: true; plan: P } | { ok: false; error: string },
  o: {
    dryRun: (plan: P, who: ReturnType<typeof lockOwner>) => string;
    word: (plan: P) => string;
    what: string;
    job: (plan: P, deps: ReturnType<typeof jobDeps>) => JobSpec<R>;
    report: (r: R) => number;
  },
  session: Session,
  io: RunIo,
): Promise<number> {
  const who = lockOwner();
  if (!p.ok) {
    io.err.write(`k8ops rotate: ${visible(p.error)}\n`);
    return ROTATE_RUN_EXIT.usage;
  }
  if (a.dryRun) {
    io.out.write(o.dryRun(p.plan, who));
    return ROTATE_RUN_EXIT.ok;
  }
  if (a.readOnly) {
    io.err.write('k8ops rotate: refused: --read-only (use --dry-run to see the commands)\n');
    return ROTATE_RUN_EXIT.refused;
  }
  if (session.mode === 'demo') {
    io.err.write('k8ops rotate: the demo lab does not rotate yet (try --dry-run)\n');
    return ROTATE_RUN_EXIT.refused;
  }
  const word = o.word(p.plan);
  if (!a.yes) {
    io.err.write(o.dryRun(p.plan, who));
    if (!(await confirm(word, io.err, io.stdinIsTTY, o.what))) {
      io.err.write('k8ops rotate: not confirmed (pass --yes in scripts)\n');
      return ROTATE_RUN_EXIT.refused;
    }
  }
  try {
    const r = await runJobPrinting(o.job(p.plan, jobDeps(session, who)), io.err, {
      signal: io.signal,
      ...(io.env ? { env: io.env } : {}),
    });
    return o.report(r);
  } catch (e) {
    return failed(e, word, io.err);
  }
}

/** `k8ops rotate --ca ID`: as far as the intermediate's rotation may go now. */
export function rotateCaRun(a: CaRunArgs, session: Session, io: RunIo): Promise<number> {
  const p = planCaRotation(session.inventory, session.hasKube, a.ca, {
    ...(a.successor !== undefined ? { successor: a.successor } : {}),
    retireEarly: a.retireEarly,
  });
  return runKeyRotation(
    a,
    p,
    {
      dryRun: formatCaDryRun,
      word: () => a.ca,
      what: 'the CA id',
      job: caRotateJob,
      report: (r) => reportCa(r, io.out, io.err),
    },
    session,
    io,
  );
}

export interface SaRunArgs {
  dryRun: boolean;
  yes: boolean;
  readOnly: boolean;
  /** Start a rotation when none is under way (`--sa-key`); `--due` only finishes one. */
  start?: boolean;
}

/** `k8ops rotate --sa-key`: as far as the service-account keys' rotation may go now. */
export function rotateSaRun(a: SaRunArgs, session: Session, io: RunIo): Promise<number> {
  const p = planSaRotation(session.inventory, session.hasKube, { start: a.start !== false });
  return runKeyRotation(
    a,
    p,
    {
      dryRun: formatSaDryRun,
      word: (plan) => plan.id,
      what: 'the key pair id',
      job: saRotateJob,
      report: (r) => reportSa(r, io.out),
    },
    session,
    io,
  );
}

/** Why an intermediate's rotation has a step due now (undefined: nothing due). */
export function caDueReason(
  st: ReturnType<typeof parseCaStatus> & object,
  bundleLeadMs: number,
): string | undefined {
  const now = st.now * 1000;
  switch (st.phase) {
    case 'steady': {
      const by = st.current.notAfter * 1000 - INTERMEDIATE_RENEW_BEFORE_MS - bundleLeadMs;
      return now >= by ? `its successor was due in the bundles by ${iso(by)}` : undefined;
    }
    case 'pending':
      return 'its successor waits for the root (offline ceremony)';
    case 'issued':
      return 'its successor goes into the bundles';
    case 'bundled': {
      const at = (st.bundledAt ?? st.now) * 1000 + bundleLeadMs;
      return now >= at ? 'the successor starts signing' : undefined;
    }
    case 'switched':
      return st.retireFrom !== null && now >= st.retireFrom * 1000
        ? 'the old version leaves the bundles'
        : undefined;
    case 'retired':
      return 'the retired version is still to leave the bundles';
  }
}

/** `--due`: the intermediates whose rotation has a step due, asked of the signer (read-only). */
export async function dueIntermediates(
  session: Session,
  err: Out,
  signal: AbortSignal,
): Promise<{ ca: string; why: string }[]> {
  const inv = session.inventory;
  const out: { ca: string; why: string }[] = [];
  for (const c of defaultLayout().cas.filter((x) => x.parent !== null)) {
    const p = planCaRotation(inv, session.hasKube, c.id);
    if (!p.ok) {
      err.write(`k8ops rotate --due: ${c.id}: ${visible(p.error)}\n`);
      continue;
    }
    const agent = session.agents.get(p.plan.signer.name);
    const r = await agent
      ?.exec(caStatusArgv(p.plan), { readOnly: true, signal, timeoutMs: 60_000 })
      .catch((e: unknown) => ({ code: -1, stdout: '', stderr: (e as Error).message }));
    const st = r && r.code === 0 ? parseCaStatus(r.stdout) : undefined;
    if (!st) {
      err.write(
        `k8ops rotate --due: ${c.id}: no status from the signer ${p.plan.signer.name}: ${visible((r?.stderr ?? 'no agent').trim().split('\n').at(-1) ?? '')}\n`,
      );
      continue;
    }
    const why = caDueReason(st, inv.rotation.bundleLeadMs ?? DEFAULT_BUNDLE_LEAD_MS);
    if (why) out.push({ ca: c.id, why });
  }
  return out;
}

/** `--due`: whether the service-account keys' rotation has a step due (an interrupted switch, the end of the overlap). */
export async function dueSaKeys(
  session: Session,
  err: Out,
  signal: AbortSignal,
): Promise<string | undefined> {
  const p = planSaRotation(session.inventory, session.hasKube, { start: false });
  if (!p.ok) return undefined;
  const sts: SaStatus[] = [];
  for (const n of p.plan.nodes) {
    const r = await session.agents
      .get(n.node.name)
      ?.exec(saArgv(p.plan, n, 'status'), { readOnly: true, signal, timeoutMs: 60_000 })
      .catch(() => undefined);
    const st = r && r.code === 0 ? parseSaStatus(r.stdout) : undefined;
    if (!st) {
      err.write(`k8ops rotate --due: ${p.plan.id}: no status from ${n.node.name}\n`);
      return undefined;
    }
    sts.push(st);
  }
  const phase = saPhase(sts);
  if (phase === 'switching') return 'a switch of the signing keys was interrupted';
  if (phase !== 'overlap') return undefined;
  const until = Math.max(...sts.map((s) => s.switchedAt ?? s.now)) * 1000 + p.plan.overlapMs;
  return Math.max(...sts.map((s) => s.now)) * 1000 >= until
    ? 'the overlap is over: the old public keys leave'
    : undefined;
}
