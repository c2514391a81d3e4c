/**
 * The rotation of the service-account keys (`k8ops rotate --sa-key`, `R` on its row in the
 * Rotation pane, `k8ops rotate --due` for the end of an overlap), on every control-plane
 * node with sa-rotate.sh:
 *
 *   1. every node makes its new signing key (stage; it never leaves the node);
 *   2. every API server trusts every node's current and new public key (trust: the
 *      --service-account-key-file holds several PEM keys), restarted one node at a time
 *      and gated (/readyz);
 *   3. one node at a time, the new key signs (switch; API server and controller-manager
 *      restarted, gated; a failed gate puts the previous key back);
 *   4. the old public keys stay trusted for the overlap (`rotation.saOverlap`, default 48 h:
 *      the kubelet refreshes every projected token by 24 h of its age, plus a day), then
 *      leave every API server's file (trust again, restarted and gated) and the previous keys
 *      are removed (finish).
 * Each node signs with its own key and every API server trusts every node's: tokens signed
 * on one verify on all, and no private key is copied between nodes. Every step is
 * idempotent (sa-rotate.sh checks the state it leaves; a restart owed by a cut run is
 * marked on the node): a re-run after a cut converges. The control-plane nodes' rotation
 * locks are held for the whole run.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { DEFAULTS } from '../../config/defaults.js';
import type { NodeSpec } from '../../config/types.js';
import type { NodeAgent } from '../../nodes/agent.js';
import type { Layout } from '../../pki/layout.js';
import { planNode } from '../../pki/layout.js';
import { splitPem } from '../../pki/pem.js';
import type { JobContext, JobSpec } from '../types.js';
import { type Acquired, jobExec, type RotateDeps, tail, takeLock } from './job.js';
import {
  type Gate,
  type PlannedCommand,
  planCommandsJson,
  planUnitsJson,
  SYSTEMD,
  type UnitControl,
} from './plan.js';
import { KEYPAIR_READERS } from './reload.js';
import {
  lockAcquireArgv,
  lockReleaseArgv,
  restartAndGate,
  type UnitStep,
  unitSteps,
} from './units.js';

export interface SaTools {
  saRotate: string;
  lock: string;
}
export const DEFAULT_SA_TOOLS: SaTools = {
  saRotate: 'k8ops-pki-sa-rotate',
  lock: 'k8ops-pki-lock',
};

/** DESIGN.md: the old public key stays trusted at least 24 h plus margin after the switch. */
export const DEFAULT_SA_OVERLAP_MS = DEFAULTS.rotation.saOverlapMs;

export interface SaNode {
  node: NodeSpec;
  /** The node's PKI directory (the inventory's pki.dir). */
  pkiDir: string;
  units: UnitStep[];
}

export interface SaRotatePlan {
  id: string;
  nodes: SaNode[];
  pkiDir: string;
  tools: SaTools;
  units: UnitControl;
  overlapMs: number;
  /** Start a rotation when none is in progress (`--sa-key`; `--due` only finishes one). */
  start: boolean;
}

export interface PlanSaOptions {
  layout: Layout;
  nodes: readonly NodeSpec[];
  pkiDir: string;
  /** A node's PKI directory when it is not `pkiDir` (a lab whose nodes share a disk). */
  pkiDirOf?: (node: NodeSpec) => string;
  id?: string;
  tools?: SaTools;
  units?: UnitControl;
  gates?: Readonly<Record<string, Gate[]>>;
  hasKube?: boolean;
  overlapMs?: number;
  start?: boolean;
}

export type SaPlanResult = { ok: true; plan: SaRotatePlan } | { ok: false; error: string };

export function planSaRotate(o: PlanSaOptions): SaPlanResult {
  const id = o.id ?? 'service-account';
  const kp = o.layout.keypairs.find((k) => k.id === id);
  if (!kp?.enabled) return { ok: false, error: `no enabled key pair "${id}" in the layout` };
  const readers = { [id]: KEYPAIR_READERS[id] ?? [] };
  const nodes: SaNode[] = [];
  for (const n of o.nodes) {
    const pkiDir = o.pkiDirOf?.(n) ?? o.pkiDir;
    const np = planNode(o.layout, n, { pkiDir });
    if (!np.keypairs.some((k) => k.id === id)) continue;
    nodes.push({
      node: n,
      pkiDir,
      units: unitSteps(readers, n, np.certs, o.layout, pkiDir, {
        ...(o.hasKube !== undefined ? { hasKube: o.hasKube } : {}),
        ...(o.gates ? { gates: o.gates } : {}),
        runs: new Set([...np.certs.flatMap((c) => c.units), ...kp.units]),
      }),
    });
  }
  if (nodes.length === 0)
    return {
      ok: false,
      error: `no node of the inventory holds the key pair ${id} (roles ${kp.roles.join(', ')})`,
    };
  return {
    ok: true,
    plan: {
      id,
      nodes,
      pkiDir: o.pkiDir,
      tools: o.tools ?? DEFAULT_SA_TOOLS,
      units: o.units ?? SYSTEMD,
      overlapMs: o.overlapMs ?? DEFAULT_SA_OVERLAP_MS,
      start: o.start !== false,
    },
  };
}

// ---------------------------------------------------------------------------- commands

export const saArgv = (p: SaRotatePlan, n: SaNode, verb: string, ...extra: string[]): string[] => [
  p.tools.saRotate,
  verb,
  ...extra,
  '--id',
  p.id,
  '--pki-dir',
  n.pkiDir,
];

/** Every command the job may run, per host, in order, with when it runs: `--dry-run`. */
export function planSaCommands(
  p: SaRotatePlan,
  who: { owner: string; host: string; pid: number },
): PlannedCommand[] {
  const out: PlannedCommand[] = [];
  for (const n of p.nodes)
    out.push({ host: n.node.name, argv: lockAcquireArgv(p.tools.lock, who, n.pkiDir) });
  for (const n of p.nodes) out.push({ host: n.node.name, argv: saArgv(p, n, 'status') });
  const switching = 'a rotation starts or is under way';
  for (const n of p.nodes)
    out.push({
      host: n.node.name,
      argv: saArgv(p, n, 'stage'),
      when: `${switching} (not switched yet)`,
    });
  const unitCommands = (
    n: SaNode,
    when: string,
    rollback: string[] | undefined,
    file: 'key' | 'pub',
  ) => {
    for (const u of n.units.filter((x) => !x.files || x.files.includes(file))) {
      if (u.restart) out.push({ host: n.node.name, argv: p.units.restart(u.unit), when });
      for (const g of u.gates) {
        if (g.kind === 'unit-active')
          out.push({ host: n.node.name, argv: p.units.isActive(g.unit), when });
        else if (g.kind === 'exec' || g.kind === 'etcd-health' || g.kind === 'served-serial')
          out.push({ host: n.node.name, argv: g.argv, when });
        else out.push({ host: 'kube API', argv: ['get', 'node', g.node], when });
      }
      if (rollback) out.push({ host: n.node.name, argv: rollback, when: `${u.unit} fails a gate` });
    }
    out.push({ host: n.node.name, argv: saArgv(p, n, 'restarted'), when });
  };
  for (const n of p.nodes) {
    out.push({
      host: n.node.name,
      argv: saArgv(p, n, 'trust', '--pubs', '-'),
      stdin: "every node's current and new public keys",
      when: switching,
    });
    unitCommands(n, `${switching}; the file changed`, undefined, 'pub');
  }
  for (const n of p.nodes) {
    out.push({ host: n.node.name, argv: saArgv(p, n, 'switch'), when: switching });
    unitCommands(n, `${switching}; the key switched`, saArgv(p, n, 'rollback'), 'key');
  }
  const drop = `every node switched ${Math.round(p.overlapMs / 3_600_000)} h ago (the overlap is over)`;
  for (const n of p.nodes) {
    out.push({
      host: n.node.name,
      argv: saArgv(p, n, 'trust', '--pubs', '-'),
      stdin: "every node's current public key",
      when: drop,
    });
    unitCommands(n, `${drop}; the file changed`, undefined, 'pub');
  }
  for (const n of p.nodes)
    out.push({ host: n.node.name, argv: saArgv(p, n, 'finish'), when: drop });
  for (const n of p.nodes)
    out.push({ host: n.node.name, argv: lockReleaseArgv(p.tools.lock, '<token>', n.pkiDir) });
  return out;
}

// ---------------------------------------------------------------------------- status

export interface SaKey {
  sha256: string;
  pem: string;
}
export interface SaStatus {
  id: string;
  now: number;
  current: SaKey;
  pending: SaKey | null;
  previous: SaKey | null;
  trusted: string[];
  switchedAt: number | null;
  restartPending: boolean;
}

/** The SHA-256 of a PEM public key's DER SubjectPublicKeyInfo (undefined: not one). */
export function pubSha256(pem: string): string | undefined {
  const blocks = splitPem(pem).blocks.filter((b) => b.label === 'PUBLIC KEY');
  if (blocks.length !== 1) return undefined;
  try {
    const der = createPublicKey({
      key: Buffer.from(blocks[0]!.der),
      format: 'der',
      type: 'spki',
    }).export({
      type: 'spki',
      format: 'der',
    });
    return createHash('sha256').update(der).digest('hex');
  } catch {
    return undefined;
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
/** A key of the status: its PEM must be a public key with the digest it claims. */
function parseKey(v: unknown): SaKey | null | undefined {
  if (v === null) return null;
  if (typeof v !== 'object' || v === undefined) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.sha256 !== 'string' || !HEX64.test(o.sha256) || typeof o.pem !== 'string')
    return undefined;
  if (o.pem.length > 4096 || pubSha256(o.pem) !== o.sha256) return undefined;
  return { sha256: o.sha256, pem: o.pem.endsWith('\n') ? o.pem : `${o.pem}\n` };
}

/** sa-rotate.sh status's JSON; undefined when it is not one (hostile or truncated text). */
export function parseSaStatus(text: string): SaStatus | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text.trim().split('\n').at(-1) ?? '');
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (o.version !== 1 || typeof o.id !== 'string' || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(o.id))
    return undefined;
  const current = parseKey(o.current);
  const pending = parseKey(o.pending);
  const previous = parseKey(o.previous);
  if (!current || pending === undefined || previous === undefined) return undefined;
  if (!Array.isArray(o.trusted) || !o.trusted.every((x) => typeof x === 'string' && HEX64.test(x)))
    return undefined;
  const now = typeof o.now === 'number' && Number.isFinite(o.now) ? o.now : undefined;
  if (now === undefined) return undefined;
  return {
    id: o.id,
    now,
    current,
    pending,
    previous,
    trusted: o.trusted as string[],
    switchedAt:
      typeof o.switchedAt === 'number' && Number.isFinite(o.switchedAt) ? o.switchedAt : null,
    restartPending: o.restartPending === true,
  };
}

// ---------------------------------------------------------------------------- the job

export type SaPhase = 'steady' | 'switching' | 'overlap';

export interface SaRotateResult {
  id: string;
  phase: SaPhase;
  /** When the old public keys may leave the API servers (overlap). */
  waiting?: { kind: 'time'; what: 'drop'; at: number };
  /** Nodes that switched to a new signing key in this run. */
  switched: string[];
  /** `node: unit` restarted. */
  restarted: string[];
}

const readsPub = (u: UnitStep) => !u.files || u.files.includes('pub');
const readsKey = (u: UnitStep) => !u.files || u.files.includes('key');

const isSwitched = (s: SaStatus) => s.previous !== null || s.switchedAt !== null;

/** The phase the statuses of every node say (and whether anything is in progress). */
export function saPhase(statuses: readonly SaStatus[]): SaPhase {
  const sw = statuses.filter(isSwitched).length;
  if (sw > 0 && sw === statuses.length) return 'overlap';
  if (sw > 0 || statuses.some((s) => s.pending !== null)) return 'switching';
  return 'steady';
}

/** The keys to trust: each distinct public key once, in digest order (the same on every node). */
function union(keys: readonly (SaKey | null)[]): string {
  const by = new Map<string, string>();
  for (const k of keys) if (k) by.set(k.sha256, k.pem);
  return [...by.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, pem]) => pem)
    .join('');
}

export function saRotateJob(plan: SaRotatePlan, deps: RotateDeps): JobSpec<SaRotateResult> {
  const commands = planSaCommands(plan, deps.who);
  return {
    action: 'rotate',
    title: `rotate service-account keys (${plan.nodes.length} control-plane node${plan.nodes.length === 1 ? '' : 's'})`,
    targets: [plan.id],
    plan: {
      keypair: plan.id,
      nodes: plan.nodes.map((n) => ({
        node: n.node.name,
        units: planUnitsJson(n.units),
      })),
      overlapSeconds: Math.ceil(plan.overlapMs / 1000),
      start: plan.start,
      commands: planCommandsJson(commands),
    },
    run: (ctx) => runSa(plan, deps, ctx),
  };
}

async function runSa(
  plan: SaRotatePlan,
  deps: RotateDeps,
  ctx: JobContext,
): Promise<SaRotateResult> {
  const { exec, must } = jobExec(ctx, deps.execTimeoutMs ?? 60_000);
  const result: SaRotateResult = { id: plan.id, phase: 'steady', switched: [], restarted: [] };
  const agents = new Map<string, NodeAgent>();
  for (const n of plan.nodes) {
    const a = deps.agent(n.node.name);
    if (!a) throw new Error(`${n.node.name}: no agent for this node`);
    agents.set(n.node.name, a);
  }
  const locks = new Map<string, Acquired>();
  const dirOf = new Map(plan.nodes.map((n) => [n.node.name, n.pkiDir]));
  const statusOf = async (n: SaNode): Promise<SaStatus> =>
    ctx.step(`${n.node.name}: ${plan.id}: status`, async () => {
      const out = await must(agents.get(n.node.name)!, saArgv(plan, n, 'status'), 'status', {
        readOnly: true,
      });
      const st = parseSaStatus(out);
      if (!st) throw new Error(`sa-rotate status: unreadable answer: ${tail(out)}`);
      return st;
    });
  /** Write `keys` into a node's public-key file, restart and gate its readers. */
  const trust = async (n: SaNode, keys: string, what: string, restoreKeys?: string) => {
    const agent = agents.get(n.node.name)!;
    const said = await ctx.step(`${n.node.name}: ${plan.id}: trust ${what}`, () =>
      must(agent, saArgv(plan, n, 'trust', '--pubs', '-'), 'trust', { stdin: keys }),
    );
    const word = said.trim().split('\n').at(-1)?.split(' ')[0];
    if (word !== 'installed' && word !== 'pending') return;
    for (const u of n.units.filter(readsPub)) {
      const restarted = await restartAndGate(
        n.node.name,
        u,
        plan.units,
        agent,
        deps,
        ctx,
        exec,
        must,
        async () => {
          if (restoreKeys !== undefined)
            await must(agent, saArgv(plan, n, 'trust', '--pubs', '-'), 'trust (restore)', {
              stdin: restoreKeys,
            });
        },
        restoreKeys !== undefined
          ? 'the previous public keys'
          : 'nothing (the file only gained keys)',
      );
      if (restarted) result.restarted.push(`${n.node.name}: ${u.unit}`);
    }
    await ctx.step(`${n.node.name}: ${plan.id}: restarted`, () =>
      must(agent, saArgv(plan, n, 'restarted'), 'restarted'),
    );
  };

  try {
    for (const n of plan.nodes) {
      const name = n.node.name;
      locks.set(
        name,
        await ctx.step(`${name}: lock`, () =>
          takeLock(
            name,
            agents.get(name)!,
            (r) => lockAcquireArgv(plan.tools.lock, deps.who, n.pkiDir, r),
            deps,
            ctx,
            exec,
          ),
        ),
      );
    }
    let st = new Map<string, SaStatus>();
    for (const n of plan.nodes) st.set(n.node.name, await statusOf(n));
    let phase = saPhase([...st.values()]);
    result.phase = phase;

    // A restart owed by a cut run (the file changed, its readers not restarted yet) first:
    // what the running API servers trust and sign with must catch up with the disk.
    for (const n of plan.nodes) {
      if (!st.get(n.node.name)?.restartPending) continue;
      const agent = agents.get(n.node.name)!;
      ctx.log(`${n.node.name}: ${plan.id}: a restart is owed by an interrupted run`);
      for (const u of n.units) {
        const restarted = await restartAndGate(
          n.node.name,
          u,
          plan.units,
          agent,
          deps,
          ctx,
          exec,
          must,
          async () => undefined,
          'nothing (the files are as the interrupted run left them)',
        );
        if (restarted) result.restarted.push(`${n.node.name}: ${u.unit}`);
      }
      await ctx.step(`${n.node.name}: ${plan.id}: restarted`, () =>
        must(agent, saArgv(plan, n, 'restarted'), 'restarted'),
      );
    }

    if (phase === 'steady' && !plan.start) return result;

    if (phase === 'steady' || phase === 'switching') {
      // 1. every node not switched yet: its new key (a pending one is reused)
      for (const n of plan.nodes) {
        const s = st.get(n.node.name)!;
        if (isSwitched(s)) continue;
        const pem = await ctx.step(`${n.node.name}: ${plan.id}: new signing key`, () =>
          must(agents.get(n.node.name)!, saArgv(plan, n, 'stage'), 'stage'),
        );
        const sha = pubSha256(pem);
        if (!sha) throw new Error(`${n.node.name}: stage printed no public key: ${tail(pem)}`);
        st.set(n.node.name, { ...s, pending: { sha256: sha, pem } });
      }
      // 2. every API server trusts every node's current, new and previous public keys
      const all = union([...st.values()].flatMap((s) => [s.current, s.pending, s.previous]));
      for (const n of plan.nodes) await trust(n, all, 'every new public key');
      // 3. one node at a time: the new key signs
      for (const n of plan.nodes) {
        const agent = agents.get(n.node.name)!;
        const said = await ctx.step(`${n.node.name}: ${plan.id}: switch the signing key`, () =>
          must(agent, saArgv(plan, n, 'switch'), 'switch'),
        );
        const word = said.trim().split('\n').at(-1)?.split(' ')[0];
        if (word === 'switched') result.switched.push(n.node.name);
        if (word !== 'switched' && word !== 'pending') continue;
        for (const u of n.units.filter(readsKey)) {
          const restarted = await restartAndGate(
            n.node.name,
            u,
            plan.units,
            agent,
            deps,
            ctx,
            exec,
            must,
            async () => {
              await must(agent, saArgv(plan, n, 'rollback'), 'rollback');
            },
            'the previous signing key',
          );
          if (restarted) result.restarted.push(`${n.node.name}: ${u.unit}`);
        }
        await ctx.step(`${n.node.name}: ${plan.id}: restarted`, () =>
          must(agent, saArgv(plan, n, 'restarted'), 'restarted'),
        );
      }
      st = new Map();
      for (const n of plan.nodes) st.set(n.node.name, await statusOf(n));
      phase = saPhase([...st.values()]);
      if (phase !== 'overlap')
        throw new Error(`${plan.id}: not every node switched (phase ${phase})`);
    }

    // 4. the overlap, then the old public keys leave
    const statuses = [...st.values()];
    const last = Math.max(...statuses.map((s) => s.switchedAt ?? s.now));
    const until = last * 1000 + plan.overlapMs;
    const now = Math.max(...statuses.map((s) => s.now)) * 1000;
    if (now < until) {
      ctx.skip(
        `${plan.id}: drop the old public keys`,
        `the overlap: the old keys stay trusted until ${new Date(until).toISOString().replace('.000Z', 'Z')}`,
      );
      result.phase = 'overlap';
      result.waiting = { kind: 'time', what: 'drop', at: until };
      return result;
    }
    const currents = union(statuses.map((s) => s.current));
    const before = union(statuses.flatMap((s) => [s.current, s.previous]));
    for (const n of plan.nodes) await trust(n, currents, 'only the current public keys', before);
    for (const n of plan.nodes)
      await ctx.step(`${n.node.name}: ${plan.id}: finish (previous key removed)`, () =>
        must(agents.get(n.node.name)!, saArgv(plan, n, 'finish'), 'finish'),
      );
    result.phase = 'steady';
    if (ctx.signal.aborted) throw new Error('cancelled');
    return result;
  } finally {
    if (!ctx.signal.aborted)
      for (const [name, l] of locks)
        await ctx
          .step(`${name}: unlock`, () =>
            must(
              agents.get(name)!,
              lockReleaseArgv(plan.tools.lock, l.token, dirOf.get(name) ?? plan.pkiDir),
              'unlock',
            ),
          )
          .catch(() => undefined);
  }
}
