/**
 * The rotate action as a JobSpec: what the console (`R`), `k8ops rotate NODE` and
 * `k8ops rotate --due` run, through the job runner's JobContext. Every program runs through
 * NodeAgent.exec (one program, each argument one quoted word): on the node the key is
 * generated (node-csr) and never leaves it; k8ops carries the CSR to the signer (sign --csr -)
 * and the chain back (install --cert -).
 *
 * Every step checks the state it leaves, so a re-run after a cut at any step converges:
 * node-csr reuses a pending key, install of an installed chain says `unchanged`, and the
 * node's lock records what this run installed — a run of the same owner on the same host
 * whose process is gone resumes it (skipping those installs) instead of rotating twice.
 */
import { X509Certificate } from 'node:crypto';
import type { NodeAgent, NodeExecResult } from '../../nodes/agent.js';
import { etcdHealthResult } from '../etcd-health.js';
import type { JobContext, JobSpec } from '../types.js';
import {
  csrArgv,
  type Gate,
  installArgv,
  type LockOwner,
  lockArgv,
  type PlannedCommand,
  planCommands,
  planCommandsJson,
  type RotatePlan,
  rollbackArgv,
  signArgv,
  type UnitControl,
  type UnitGroup,
} from './plan.js';

export interface RotateDeps {
  /** The agent of an inventory node (the rotated node and the signer). */
  agent(node: string): NodeAgent | undefined;
  /** Who takes the node's lock. */
  who: LockOwner;
  /** Whether a pid of this host is alive (to resume a dead run of ours). */
  pidAlive(pid: number): boolean;
  /** Node Ready through the kube API (undefined: no answer from it, not checked). */
  nodeReady?(node: string, signal: AbortSignal): Promise<boolean | undefined>;
  /** How long a gate may take to pass (default 60 s), polled every pollMs (default 1 s). */
  gateTimeoutMs?: number;
  pollMs?: number;
  /** Deadline of one remote program (default 60 s). */
  execTimeoutMs?: number;
}

export interface RotateResult {
  node: string;
  installed: string[];
  unchanged: string[];
  restarted: string[];
  resumed: boolean;
}

/** The lock is held by another: names the holder (shown by the console and the CLI). */
export class LockHeldError extends Error {
  override name = 'LockHeldError';
  constructor(
    readonly node: string,
    readonly holder: LockHolder,
  ) {
    super(`${node} is being rotated by ${describeHolder(holder)}`);
  }
}

/** A health gate failed: the previous pair is back, the unit restarted. */
export class GateFailedError extends Error {
  override name = 'GateFailedError';
  constructor(
    readonly node: string,
    readonly unit: string,
    readonly gate: string,
    readonly detail: string,
    readonly logTail: string[],
    /** What was put back (a leaf's rotation: the previous pair). */
    restored = 'the previous pair',
  ) {
    super(
      `${node}: gate "${gate}" of ${unit} failed: ${detail}; ${restored} is back and ${unit} restarted` +
        (logTail.length > 0 ? `\nlast log lines of ${unit}:\n  ${logTail.join('\n  ')}` : ''),
    );
  }
}

export interface LockHolder {
  owner: string;
  host: string;
  pid: number | null;
  since: number;
  ageSeconds: number;
  installed: string[];
}

export function describeHolder(h: LockHolder): string {
  const who = h.owner || 'an unknown owner (it died while taking the lock)';
  const where = h.host ? ` on ${h.host}` : '';
  const pid = h.pid !== null ? ` (pid ${h.pid})` : '';
  return `${who}${where}${pid}, held for ${formatAge(h.ageSeconds)} since ${new Date(h.since * 1000).toISOString().replace('.000Z', 'Z')}`;
}

export function formatAge(s: number): string {
  if (s < 120) return `${Math.max(0, Math.floor(s))} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d`;
}

const ID_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Parse lock.sh's holder JSON; undefined when it is not one. */
export function parseLockHolder(text: string): LockHolder | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text.trim().split('\n').at(-1) ?? '');
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (o.held !== true) return undefined;
  const str = (x: unknown) => (typeof x === 'string' ? x.slice(0, 64) : '');
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  return {
    owner: str(o.owner),
    host: str(o.host),
    pid: num(o.pid),
    since: num(o.since) ?? 0,
    ageSeconds: num(o.ageSeconds) ?? 0,
    installed: Array.isArray(o.installed)
      ? o.installed.filter((x): x is string => typeof x === 'string' && ID_RE.test(x))
      : [],
  };
}

export interface Acquired {
  token: string;
  resumed: boolean;
  installed: string[];
}
export function parseAcquired(text: string): Acquired | undefined {
  try {
    const o = JSON.parse(text.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
    if (typeof o.token !== 'string' || !/^[0-9a-f]{32}$/.test(o.token)) return undefined;
    return {
      token: o.token,
      resumed: o.resumed === true,
      installed: Array.isArray(o.installed)
        ? o.installed.filter((x): x is string => typeof x === 'string' && ID_RE.test(x))
        : [],
    };
  } catch {
    return undefined;
  }
}

export const tail = (s: string, n = 3): string =>
  s.trim().split('\n').slice(-n).join(' / ').slice(0, 600) || '(no output)';

/** The serial (upper-case hex, no leading zeros) of the first PEM certificate in text. */
export function firstPemSerial(text: string): string | undefined {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text);
  if (!m) return undefined;
  try {
    return normSerial(new X509Certificate(m[0]).serialNumber);
  } catch {
    return undefined;
  }
}
const normSerial = (s: string): string => s.toUpperCase().replace(/^0+(?=.)/, '');

export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** The exec of a job: one program on an agent, under the job's signal and deadline. */
export type Exec = (
  agent: NodeAgent,
  argv: readonly string[],
  opts?: { stdin?: string; readOnly?: boolean },
) => Promise<NodeExecResult>;
/** Exec that throws (naming `what`) on a non-zero exit; the stdout otherwise. */
export type Must = (
  agent: NodeAgent,
  argv: readonly string[],
  what: string,
  opts?: { stdin?: string; readOnly?: boolean },
) => Promise<string>;

/** The exec and must of a job under its signal, each program with `timeoutMs`. */
export function jobExec(ctx: JobContext, timeoutMs: number): { exec: Exec; must: Must } {
  const exec: Exec = async (agent, argv, opts = {}) => {
    if (ctx.signal.aborted) throw new Error('cancelled');
    return agent.exec(argv, { ...opts, timeoutMs, signal: ctx.signal });
  };
  const must: Must = async (agent, argv, what, opts = {}) => {
    const r = await exec(agent, argv, opts);
    if (r.code !== 0)
      throw new Error(`${what} failed (exit ${r.code}): ${tail(r.stderr || r.stdout)}`);
    return r.stdout;
  };
  return { exec, must };
}

/**
 * Take a lock of lock.sh (a node's, or the signer's CA directory's): when another holds it,
 * LockHeldError naming the holder, unless the holder is an earlier run of this owner on
 * this host whose process is gone: that one is resumed (what it noted comes back).
 */
export async function takeLock(
  name: string,
  agent: NodeAgent,
  argv: (resumePid?: number) => string[],
  deps: Pick<RotateDeps, 'who' | 'pidAlive'>,
  ctx: JobContext,
  exec: Exec,
): Promise<Acquired> {
  let r = await exec(agent, argv());
  if (r.code === 3) {
    const holder = parseLockHolder(r.stdout);
    if (!holder) throw new Error(`lock held, holder unreadable: ${tail(r.stdout + r.stderr)}`);
    const ours =
      holder.owner === deps.who.owner &&
      holder.host === deps.who.host &&
      holder.pid !== null &&
      holder.pid !== deps.who.pid &&
      !deps.pidAlive(holder.pid);
    if (!ours) throw new LockHeldError(name, holder);
    ctx.log(
      `${name}: resuming the interrupted run of pid ${holder.pid} (${describeHolder(holder)})`,
    );
    r = await exec(agent, argv(holder.pid ?? undefined));
    if (r.code === 3) throw new LockHeldError(name, parseLockHolder(r.stdout) ?? holder);
  }
  if (r.code !== 0) throw new Error(`lock: exit ${r.code}: ${tail(r.stderr || r.stdout)}`);
  const a = parseAcquired(r.stdout);
  if (!a) throw new Error(`lock: unreadable answer: ${tail(r.stdout)}`);
  return a;
}

export function rotateJob(plan: RotatePlan, deps: RotateDeps): JobSpec<RotateResult> {
  const commands: PlannedCommand[] = planCommands(plan, deps.who);
  return {
    action: 'rotate',
    title: `rotate ${plan.node.name} (${plan.ids.length} certificate${plan.ids.length === 1 ? '' : 's'})`,
    targets: [plan.node.name],
    plan: {
      node: plan.node.name,
      signer: plan.signer.name,
      certificates: plan.ids,
      units: plan.groups
        .filter((g) => g.unit !== null)
        .map((g) => ({
          unit: g.unit,
          restart: g.restart,
          pickup: g.pickup,
          gates: g.gates.map((x) => x.name),
        })),
      commands: planCommandsJson(commands),
    },
    run: (ctx) => runRotate(plan, deps, ctx),
  };
}

async function runRotate(
  plan: RotatePlan,
  deps: RotateDeps,
  ctx: JobContext,
): Promise<RotateResult> {
  const n = plan.node.name;
  const node = deps.agent(n);
  const signer = deps.agent(plan.signer.name);
  if (!node) throw new Error(`${n}: no agent for this node`);
  if (!signer) throw new Error(`signer ${plan.signer.name}: no agent for this node`);
  const { exec, must } = jobExec(ctx, deps.execTimeoutMs ?? 60_000);

  // --- the lock (resuming a dead run of ours on this host)
  const acquired = await ctx.step(`${n}: lock`, () =>
    takeLock(n, node, (resume) => lockArgv(plan, deps.who, resume), deps, ctx, exec),
  );
  const result: RotateResult = {
    node: n,
    installed: [],
    unchanged: [],
    restarted: [],
    resumed: acquired.resumed,
  };
  const doneBefore = new Set(acquired.installed);
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await ctx.step(`${n}: unlock`, () =>
      must(
        node,
        [plan.tools.lock, 'release', '--token', acquired.token, '--pki-dir', plan.pkiDir],
        'unlock',
      ),
    );
  };

  try {
    for (const g of plan.groups) {
      for (const c of g.certs) {
        if (doneBefore.has(c.id)) {
          ctx.skip(`${n}: ${c.id}: key + CSR, sign, install`, 'installed by the interrupted run');
          result.installed.push(c.id);
          continue;
        }
        const csrPath = await ctx.step(`${n}: ${c.id}: key + CSR`, async () => {
          const out = await must(node, csrArgv(plan, c.id), 'node-csr');
          const p = out.trim().split('\n').at(-1) ?? '';
          if (!p.startsWith('/') || !p.endsWith(`/${c.id}.csr`))
            throw new Error(`node-csr printed no CSR path: ${tail(out)}`);
          return p;
        });
        const csr = await ctx.step(`${n}: ${c.id}: fetch CSR`, () =>
          must(node, ['cat', '--', csrPath], 'reading the CSR', { readOnly: true }),
        );
        if (!csr.includes('-----BEGIN CERTIFICATE REQUEST-----'))
          throw new Error(`${n}: ${c.id}: ${csrPath} is not a CSR`);
        const chain = await ctx.step(`${plan.signer.name}: ${c.id}: sign`, () =>
          must(signer, signArgv(plan, c.id), 'sign', { stdin: csr }),
        );
        const said = await ctx.step(`${n}: ${c.id}: install`, async () => {
          const out = await must(node, installArgv(plan, c.id), 'install', { stdin: chain });
          await must(
            node,
            [
              plan.tools.lock,
              'note',
              '--token',
              acquired.token,
              '--id',
              c.id,
              '--pki-dir',
              plan.pkiDir,
            ],
            'noting the install in the lock',
          );
          return out.trim();
        });
        if (said.startsWith('unchanged')) result.unchanged.push(c.id);
        else result.installed.push(c.id);
      }
      if (g.unit === null) continue;
      await handleUnit(plan, g, node, deps, ctx, exec, must, result);
    }
    if (ctx.signal.aborted) throw new Error('cancelled');
  } finally {
    // A held lock is released only by the run that took it, and only when it did not die
    // mid-way: a cut connection leaves it (resumable); a failed step releases it.
    if (!ctx.signal.aborted) await release().catch(() => undefined);
  }
  return result;
}

async function handleUnit(
  plan: RotatePlan,
  g: UnitGroup,
  node: NodeAgent,
  deps: RotateDeps,
  ctx: JobContext,
  exec: Exec,
  must: Must,
  result: RotateResult,
): Promise<void> {
  const n = plan.node.name;
  const unit = g.unit as string;
  if (g.restart) {
    await ctx.step(`${n}: ${unit}: restart`, () => must(node, plan.units.restart(unit), 'restart'));
    result.restarted.push(unit);
  } else ctx.skip(`${n}: ${unit}: restart`, `not needed: ${g.why.join('; ')}`);

  for (const gate of g.gates) {
    let failure: string | undefined;
    try {
      await ctx.step(`${n}: ${unit}: gate: ${gate.name}`, async () => {
        const f = await waitGate(gate, plan.units, node, deps, ctx, exec);
        if (f !== undefined) throw new Error(f);
      });
    } catch (e) {
      failure = (e as Error).message;
    }
    if (failure === undefined) continue;
    // The gate failed: put the previous pairs back, restart, and fail naming the gate.
    await ctx.step(`${n}: ${unit}: rollback`, async () => {
      for (const id of g.uses) await must(node, rollbackArgv(plan, id), `rollback of ${id}`);
      await must(node, plan.units.restart(unit), 'restart after rollback');
      const deadline = Date.now() + (deps.gateTimeoutMs ?? 60_000);
      for (;;) {
        const r = await exec(node, plan.units.isActive(unit), { readOnly: true });
        if (r.code === 0) break;
        if (Date.now() > deadline || ctx.signal.aborted)
          throw new Error(`${unit} is not active after the rollback`);
        await sleep(deps.pollMs ?? 1000, ctx.signal);
      }
    });
    const logs = await exec(node, plan.units.logs(unit), { readOnly: true }).catch(() => undefined);
    const lines = (logs?.stdout ?? '').trim().split('\n').filter(Boolean).slice(-10);
    throw new GateFailedError(n, unit, gate.name, failure, lines);
  }
}

/** Poll a gate until it passes (undefined) or its time is up (the last failure). */
export async function waitGate(
  gate: Gate,
  units: UnitControl,
  node: NodeAgent,
  deps: RotateDeps,
  ctx: JobContext,
  exec: Exec,
): Promise<string | undefined> {
  const deadline = Date.now() + (deps.gateTimeoutMs ?? 60_000);
  let last = '';
  for (;;) {
    last = (await checkGate(gate, units, node, deps, ctx, exec)) ?? '';
    if (last === '') return undefined;
    if (Date.now() > deadline || ctx.signal.aborted) return last;
    await sleep(deps.pollMs ?? 1000, ctx.signal);
  }
}

async function checkGate(
  gate: Gate,
  units: UnitControl,
  node: NodeAgent,
  deps: RotateDeps,
  ctx: JobContext,
  exec: Exec,
): Promise<string | undefined> {
  try {
    switch (gate.kind) {
      case 'unit-active': {
        const r = await exec(node, units.isActive(gate.unit), { readOnly: true });
        return r.code === 0 ? undefined : `${gate.unit} is not active`;
      }
      case 'exec': {
        const r = await exec(node, gate.argv, { readOnly: true });
        return r.code === 0 ? undefined : `exit ${r.code}: ${tail(r.stderr || r.stdout)}`;
      }
      case 'etcd-health': {
        const r = etcdHealthResult(await exec(node, gate.argv, { readOnly: true }));
        return r.ok ? undefined : r.detail;
      }
      case 'served-serial': {
        const want = await exec(
          node,
          ['openssl', 'x509', '-in', gate.certPath, '-noout', '-serial'],
          {
            readOnly: true,
          },
        );
        const m = /serial=([0-9A-Fa-f]+)/.exec(want.stdout);
        if (!m) return `cannot read the serial of ${gate.certPath}`;
        const served = await exec(node, gate.argv, { readOnly: true, stdin: '' });
        const got = firstPemSerial(served.stdout);
        if (!got) return `no certificate served: ${tail(served.stderr)}`;
        return got === normSerial(m[1]!)
          ? undefined
          : `serves serial ${got}, the installed certificate is ${normSerial(m[1]!)}`;
      }
      case 'node-ready': {
        if (!deps.nodeReady) {
          ctx.log(`${gate.name}: no kube API, not checked`);
          return undefined;
        }
        return (await deps.nodeReady(gate.node, ctx.signal))
          ? undefined
          : `${gate.node} is not Ready`;
      }
    }
  } catch (e) {
    return (e as Error).message;
  }
}
