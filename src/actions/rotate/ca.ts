/**
 * The rotation of an intermediate CA (`k8ops rotate --ca ID`, `R` on its row in the
 * Rotation pane, `k8ops rotate --due`), as DESIGN.md "Rotation schedule" orders it:
 *
 *   1. the successor: its key and CSR at the signer (ca-rotate.sh stage; the key never
 *      leaves the signer), the ROOT's signature offline (issue-intermediate.sh --csr: the
 *      root key is never online, so the job stops here and prints the ceremony), the
 *      signed successor verified and accepted at the signer (ca-rotate.sh accept);
 *   2. bundle lead: every trust bundle that holds the CA gets the successor beside it, on
 *      every node (bundle-install.sh, which refuses content that would strand an installed
 *      leaf), and the units that read the bundle once are restarted one node at a time,
 *      health-gated (reload.json `bundles`); then the signer records it (mark-bundled);
 *   3. the switch, `bundleLead` after that: the successor signs (ca-rotate.sh switch, one
 *      rename); leaves move to it at their own rotation;
 *   4. the retire, after the old version's last leaf has expired (the switch plus the
 *      longest leaf lifetime, or earlier by the operator's decision): every node holding a
 *      leaf of the CA checks that the bundle without the old version still verifies it, the
 *      signer retires it (phase retired), the bundles are pushed again without it, and the
 *      signer finishes the rotation.
 * One run goes as far as it may now and says what it waits for (the ceremony, or a time).
 * Every step is idempotent (the scripts check the state they leave): a re-run after a cut
 * at any point converges. The signer's CA directory has its own lock (lock.sh there), each
 * node its rotation lock while its bundles change.
 */
import { X509Certificate } from 'node:crypto';
import type { NodeSpec } from '../../config/types.js';
import type { NodeAgent } from '../../nodes/agent.js';
import { type ClusterParams, type Layout, planNode } from '../../pki/layout.js';
import { splitPem } from '../../pki/pem.js';
import type { JobContext, JobSpec } from '../types.js';
import { type Exec, jobExec, type Must, type RotateDeps, tail, takeLock } from './job.js';
import {
  type Gate,
  type PlannedCommand,
  planCommandsJson,
  planUnitsJson,
  SYSTEMD,
  type UnitControl,
} from './plan.js';
import { BUNDLE_READERS } from './reload.js';
import {
  lockAcquireArgv,
  lockReleaseArgv,
  restartAndGate,
  type UnitStep,
  unitSteps,
} from './units.js';

/** The programs (the k8ops-pki-* commands of nix/modules/node-tools.nix). */
export interface CaTools {
  caRotate: string;
  bundleInstall: string;
  lock: string;
}
export const DEFAULT_CA_TOOLS: CaTools = {
  caRotate: 'k8ops-pki-ca-rotate',
  bundleInstall: 'k8ops-pki-bundle-install',
  lock: 'k8ops-pki-lock',
};

export type CaPhase = 'steady' | 'pending' | 'issued' | 'bundled' | 'switched' | 'retired';

/** A node whose trust bundles hold the CA: which, and the units that read them. */
export interface BundleNode {
  node: NodeSpec;
  /** The node's PKI directory (the inventory's pki.dir). */
  pkiDir: string;
  bundles: string[];
  units: UnitStep[];
}

export interface CaRotatePlan {
  ca: string;
  /** The CA that signs it (the root, offline). */
  parent: string;
  signer: NodeSpec;
  caDir: string;
  pkiDir: string;
  /** The bundles holding the CA. */
  bundles: string[];
  /** Every node holding one of them: control-plane and etcd nodes first, one at a time. */
  nodes: BundleNode[];
  /** Nodes holding a leaf the CA signs (checked before the retire). */
  leafHolders: { node: NodeSpec; pkiDir: string }[];
  tools: CaTools;
  units: UnitControl;
  bundleLeadMs: number;
  retireEarly: boolean;
  /** The root-signed successor (PEM), from the ceremony. */
  successor?: string;
  /** Start a rotation when none is under way (default); false: only finish one. */
  start: boolean;
}

export interface PlanCaOptions {
  layout: Layout;
  nodes: readonly NodeSpec[];
  signer: NodeSpec;
  pkiDir: string;
  /** A node's PKI directory when it is not `pkiDir` (a lab whose nodes share a disk). */
  pkiDirOf?: (node: NodeSpec) => string;
  ca: string;
  caDir?: string;
  cluster?: ClusterParams;
  tools?: CaTools;
  units?: UnitControl;
  gates?: Readonly<Record<string, Gate[]>>;
  hasKube?: boolean;
  bundleLeadMs: number;
  retireEarly?: boolean;
  successor?: string;
  start?: boolean;
}

export type CaPlanResult = { ok: true; plan: CaRotatePlan } | { ok: false; error: string };

const isCore = (n: NodeSpec) => n.roles.includes('control-plane') || n.roles.includes('etcd');

export function planCaRotate(o: PlanCaOptions): CaPlanResult {
  const ca = o.layout.cas.find((c) => c.id === o.ca);
  const intermediates = o.layout.cas.filter((c) => c.parent !== null).map((c) => c.id);
  if (!ca)
    return {
      ok: false,
      error: `no CA "${o.ca}" in the layout (intermediates: ${intermediates.join(', ')})`,
    };
  if (ca.parent === null)
    return {
      ok: false,
      error: `${o.ca} is the root: its key stays offline and k8ops does not rotate it (intermediates: ${intermediates.join(', ')})`,
    };
  if (o.successor !== undefined) {
    if (o.successor.length > 65_536) return { ok: false, error: 'the successor file is too big' };
    const blocks = splitPem(o.successor).blocks.filter((b) => b.label === 'CERTIFICATE');
    if (blocks.length === 0)
      return { ok: false, error: 'the successor file holds no PEM certificate' };
  }
  const bundles = o.layout.bundles.filter((b) => b.cas.includes(o.ca));
  const readers = Object.fromEntries(bundles.map((b) => [b.id, BUNDLE_READERS[b.id] ?? []]));
  const ordered = [...o.nodes.filter(isCore), ...o.nodes.filter((n) => !isCore(n))];
  const nodes: BundleNode[] = [];
  const leafHolders: { node: NodeSpec; pkiDir: string }[] = [];
  for (const n of ordered) {
    const pkiDir = o.pkiDirOf?.(n) ?? o.pkiDir;
    const np = planNode(o.layout, n, { ...(o.cluster ?? {}), pkiDir });
    if (np.certs.some((c) => c.ca === o.ca)) leafHolders.push({ node: n, pkiDir });
    const held = np.bundles.filter((b) => b.cas.includes(o.ca)).map((b) => b.id);
    if (held.length === 0) continue;
    const mine = Object.fromEntries(held.map((b) => [b, readers[b] ?? []]));
    nodes.push({
      node: n,
      pkiDir,
      bundles: held,
      units: unitSteps(mine, n, np.certs, o.layout, pkiDir, {
        ...(o.hasKube !== undefined ? { hasKube: o.hasKube } : {}),
        ...(o.gates ? { gates: o.gates } : {}),
      }),
    });
  }
  return {
    ok: true,
    plan: {
      ca: o.ca,
      parent: ca.parent,
      signer: o.signer,
      caDir: o.caDir ?? o.layout.caDir,
      pkiDir: o.pkiDir,
      bundles: bundles.map((b) => b.id),
      nodes,
      leafHolders,
      tools: o.tools ?? DEFAULT_CA_TOOLS,
      units: o.units ?? SYSTEMD,
      bundleLeadMs: o.bundleLeadMs,
      retireEarly: o.retireEarly === true,
      start: o.start !== false,
      ...(o.successor !== undefined ? { successor: o.successor } : {}),
    },
  };
}

// ---------------------------------------------------------------------------- commands

const caArgs = (p: CaRotatePlan) => ['--ca', p.ca, '--ca-dir', p.caDir];
export const caStatusArgv = (p: CaRotatePlan) => [p.tools.caRotate, 'status', ...caArgs(p)];
export const caStageArgv = (p: CaRotatePlan) => [p.tools.caRotate, 'stage', ...caArgs(p)];
export const caAcceptArgv = (p: CaRotatePlan) => [
  p.tools.caRotate,
  'accept',
  ...caArgs(p),
  '--cert',
  '-',
];
export const caBundleArgv = (p: CaRotatePlan, bundle: string, withoutOld = false) => [
  p.tools.caRotate,
  'bundle',
  '--bundle',
  bundle,
  ...(withoutOld ? ['--without-old'] : []),
  '--ca-dir',
  p.caDir,
];
export const caMarkArgv = (p: CaRotatePlan, version: string) => [
  p.tools.caRotate,
  'mark-bundled',
  ...caArgs(p),
  '--version',
  version,
];
export const caSwitchArgv = (p: CaRotatePlan) => [
  p.tools.caRotate,
  'switch',
  ...caArgs(p),
  '--min-lead',
  String(Math.ceil(p.bundleLeadMs / 1000)),
];
export const caFinishArgv = (p: CaRotatePlan) => [p.tools.caRotate, 'finish', ...caArgs(p)];
export const caRetireArgv = (p: CaRotatePlan) => [
  p.tools.caRotate,
  'retire',
  ...caArgs(p),
  ...(p.retireEarly ? ['--early'] : []),
];
const bundleArgv = (p: CaRotatePlan, pkiDir: string, bundle: string, ...extra: string[]) => [
  p.tools.bundleInstall,
  '--bundle',
  bundle,
  ...extra,
  '--pki-dir',
  pkiDir,
];

/** The offline ceremony, as the operator runs it on the machine that holds the root key. */
export function ceremonyCommands(p: CaRotatePlan): string[] {
  return [
    `# on the offline machine (the root key ${p.parent}-key.pem), with the CSR saved as ${p.ca}.csr:`,
    `issue-intermediate.sh --root-dir /path/to/offline/root --ca ${p.ca} --csr ${p.ca}.csr --out ${p.ca}.next.pem`,
    `# then, back here: k8ops rotate --ca ${p.ca} --successor ${p.ca}.next.pem`,
  ];
}

/** Every command the job may run, per host, in order, with when it runs: `--dry-run`. */
export function planCaCommands(p: CaRotatePlan, who: { owner: string; host: string; pid: number }) {
  const s = p.signer.name;
  const out: PlannedCommand[] = [
    { host: s, argv: lockAcquireArgv(p.tools.lock, who, p.caDir) },
    { host: s, argv: caStatusArgv(p) },
    { host: s, argv: caStageArgv(p), when: 'no successor is issued yet (phase steady/pending)' },
    {
      host: 'offline (root key)',
      argv: [
        'issue-intermediate.sh',
        '--root-dir',
        '<root dir>',
        '--ca',
        p.ca,
        '--csr',
        `${p.ca}.csr`,
        '--out',
        `${p.ca}.next.pem`,
      ],
      when: 'no successor is issued yet: the operator runs it, before --successor',
    },
    {
      host: s,
      argv: caAcceptArgv(p),
      stdin: 'the root-signed successor (--successor)',
      when: 'no successor is accepted yet',
    },
  ];
  const push = (when: string, content: string) => {
    for (const n of p.nodes) {
      const host = n.node.name;
      out.push({ host, argv: lockAcquireArgv(p.tools.lock, who, n.pkiDir), when });
      for (const b of n.bundles)
        out.push({ host, argv: bundleArgv(p, n.pkiDir, b, '--certs', '-'), stdin: content, when });
      for (const u of n.units) {
        const w = `${when}; ${u.reads.join(', ')} changed`;
        if (u.restart) out.push({ host, argv: p.units.restart(u.unit), when: w });
        for (const g of u.gates) {
          if (g.kind === 'unit-active') out.push({ host, argv: p.units.isActive(g.unit), when: w });
          else if (g.kind === 'exec' || g.kind === 'etcd-health' || g.kind === 'served-serial')
            out.push({ host, argv: g.argv, when: w });
          else out.push({ host: 'kube API', argv: ['get', 'node', g.node], when: w });
        }
        for (const b of u.reads)
          out.push({
            host,
            argv: bundleArgv(p, n.pkiDir, b, '--rollback'),
            when: `${u.unit} fails a gate`,
          });
      }
      for (const b of n.bundles)
        out.push({ host, argv: bundleArgv(p, n.pkiDir, b, '--restarted'), when: `${b} changed` });
      out.push({ host, argv: lockReleaseArgv(p.tools.lock, '<token>', n.pkiDir), when });
    }
  };
  const lead = 'a successor is accepted (bundle lead)';
  for (const b of p.bundles) out.push({ host: s, argv: caBundleArgv(p, b), when: lead });
  push(lead, 'the bundle with the successor');
  out.push({ host: s, argv: caMarkArgv(p, '<next version>'), when: lead });
  out.push({
    host: s,
    argv: caSwitchArgv(p),
    when: `bundled at least ${Math.round(p.bundleLeadMs / 3_600_000)} h ago`,
  });
  const retireWhen = p.retireEarly
    ? 'switched (--retire-now)'
    : 'switched, and its last leaf has expired (switch + longest leaf lifetime)';
  for (const b of p.bundles)
    out.push({ host: s, argv: caBundleArgv(p, b, true), when: retireWhen });
  for (const n of p.leafHolders)
    for (const b of p.bundles)
      out.push({
        host: n.node.name,
        argv: bundleArgv(p, n.pkiDir, b, '--certs', '-', '--check'),
        stdin: 'the bundle without the old version',
        when: retireWhen,
      });
  out.push({ host: s, argv: caRetireArgv(p), when: retireWhen });
  const retired = 'the old version is retired at the signer (phase retired)';
  for (const b of p.bundles) out.push({ host: s, argv: caBundleArgv(p, b), when: retired });
  push(retired, 'the bundle without the old version');
  out.push({ host: s, argv: caFinishArgv(p), when: retired });
  out.push({ host: s, argv: lockReleaseArgv(p.tools.lock, '<token>', p.caDir) });
  return out;
}

// ---------------------------------------------------------------------------- status

export interface CaVersion {
  version: string | null;
  fingerprint: string;
  notBefore: number;
  notAfter: number;
  subjectKeyId: string;
}
export interface CaStatus {
  ca: string;
  phase: CaPhase;
  now: number;
  current: CaVersion;
  next: CaVersion | null;
  old: CaVersion | null;
  pending: boolean;
  bundledAt: number | null;
  switchedAt: number | null;
  retireFrom: number | null;
  leafMaxSeconds: number;
}

const PHASES: readonly CaPhase[] = [
  'steady',
  'pending',
  'issued',
  'bundled',
  'switched',
  'retired',
];
const HEX = /^[0-9a-f]{1,128}$/;
const num = (x: unknown): number | null =>
  typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : null;

function parseVersion(v: unknown): CaVersion | null | undefined {
  if (v === null) return null;
  if (typeof v !== 'object' || v === undefined) return undefined;
  const o = v as Record<string, unknown>;
  const nb = num(o.notBefore);
  const na = num(o.notAfter);
  if (typeof o.fingerprint !== 'string' || !HEX.test(o.fingerprint) || nb === null || na === null)
    return undefined;
  const version =
    typeof o.version === 'string' && /^v-[0-9a-f]{16}$/.test(o.version) ? o.version : null;
  return {
    version,
    fingerprint: o.fingerprint,
    notBefore: nb,
    notAfter: na,
    subjectKeyId:
      typeof o.subjectKeyId === 'string' && /^[0-9a-f]{0,128}$/.test(o.subjectKeyId)
        ? o.subjectKeyId
        : '',
  };
}

/** ca-rotate.sh status's JSON; undefined when it is not one (hostile or truncated text). */
export function parseCaStatus(text: string): CaStatus | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text.trim().split('\n').at(-1) ?? '');
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (o.version !== 1 || typeof o.ca !== 'string' || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(o.ca))
    return undefined;
  if (!PHASES.includes(o.phase as CaPhase)) return undefined;
  const current = parseVersion(o.current);
  const next = parseVersion(o.next);
  const old = parseVersion(o.old);
  const now = num(o.now);
  const lmax = num(o.leafMaxSeconds);
  if (!current || next === undefined || old === undefined || now === null || lmax === null)
    return undefined;
  return {
    ca: o.ca,
    phase: o.phase as CaPhase,
    now,
    current,
    next,
    old,
    pending: o.pending === true,
    bundledAt: num(o.bundledAt),
    switchedAt: num(o.switchedAt),
    retireFrom: num(o.retireFrom),
    leafMaxSeconds: lmax,
  };
}

/** The SHA-256 fingerprints (lowercase hex) of the certificates of a PEM text. */
export function pemFingerprints(text: string): string[] {
  const out: string[] = [];
  for (const b of splitPem(text).blocks) {
    if (b.label !== 'CERTIFICATE') continue;
    try {
      out.push(
        new X509Certificate(Buffer.from(b.der)).fingerprint256.replaceAll(':', '').toLowerCase(),
      );
    } catch {
      // not a certificate: the node's bundle-install refuses it too
    }
  }
  return out;
}

// ---------------------------------------------------------------------------- the job

export type CaWaiting =
  | { kind: 'ceremony'; csr: string; commands: string[] }
  | { kind: 'time'; what: 'switch' | 'retire'; at: number };

export interface CaRotateResult {
  ca: string;
  /** The phase the run left the CA in. */
  phase: CaPhase;
  /** What the next step waits for (none: the rotation is complete). */
  waiting?: CaWaiting;
  /** `node: bundle` whose content changed. */
  changed: string[];
  /** `node: unit` restarted. */
  restarted: string[];
}

export function caRotateJob(plan: CaRotatePlan, deps: RotateDeps): JobSpec<CaRotateResult> {
  const commands = planCaCommands(plan, deps.who);
  return {
    action: 'rotate',
    title: `rotate intermediate ${plan.ca} (${plan.nodes.length} node${plan.nodes.length === 1 ? '' : 's'})`,
    targets: [plan.ca],
    plan: {
      ca: plan.ca,
      signer: plan.signer.name,
      bundles: plan.bundles,
      nodes: plan.nodes.map((n) => ({
        node: n.node.name,
        bundles: n.bundles,
        units: planUnitsJson(n.units),
      })),
      bundleLeadSeconds: Math.ceil(plan.bundleLeadMs / 1000),
      retireEarly: plan.retireEarly,
      successorGiven: plan.successor !== undefined,
      commands: planCommandsJson(commands),
    },
    run: (ctx) => runCa(plan, deps, ctx),
  };
}

async function runCa(
  plan: CaRotatePlan,
  deps: RotateDeps,
  ctx: JobContext,
): Promise<CaRotateResult> {
  const s = plan.signer.name;
  const signer = deps.agent(s);
  if (!signer) throw new Error(`signer ${s}: no agent for this node`);
  const { exec, must } = jobExec(ctx, deps.execTimeoutMs ?? 60_000);
  const result: CaRotateResult = { ca: plan.ca, phase: 'steady', changed: [], restarted: [] };
  const ca = plan.ca;

  const lock = await ctx.step(`${s}: ${ca}: lock (CA directory)`, () =>
    takeLock(
      s,
      signer,
      (r) => lockAcquireArgv(plan.tools.lock, deps.who, plan.caDir, r),
      deps,
      ctx,
      exec,
    ),
  );
  const status = async (name: string): Promise<CaStatus> =>
    ctx.step(name, async () => {
      const out = await must(signer, caStatusArgv(plan), 'status', { readOnly: true });
      const st = parseCaStatus(out);
      if (!st) throw new Error(`ca-rotate status: unreadable answer: ${tail(out)}`);
      if (st.ca !== ca) throw new Error(`ca-rotate status answered for ${st.ca}, not ${ca}`);
      return st;
    });
  try {
    let st = await status(`${s}: ${ca}: status`);
    result.phase = st.phase;
    if (st.phase === 'steady' && !plan.start) return result;

    // --- 1. the successor (the root's signature is the offline ceremony)
    if (st.phase === 'steady' || st.phase === 'pending') {
      const csr = await ctx.step(`${s}: ${ca}: successor key + CSR`, async () => {
        const out = await must(signer, caStageArgv(plan), 'stage');
        const m =
          /-----BEGIN CERTIFICATE REQUEST-----[\s\S]+?-----END CERTIFICATE REQUEST-----\n?/.exec(
            out,
          );
        if (!m) throw new Error(`stage printed no CSR: ${tail(out)}`);
        return m[0].endsWith('\n') ? m[0] : `${m[0]}\n`;
      });
      if (plan.successor === undefined) {
        ctx.skip(
          `${s}: ${ca}: accept the successor`,
          'the root must sign the CSR first (offline ceremony)',
        );
        for (const l of ceremonyCommands(plan)) ctx.log(l);
        result.phase = 'pending';
        result.waiting = { kind: 'ceremony', csr, commands: ceremonyCommands(plan) };
        return result;
      }
      await ctx.step(`${s}: ${ca}: accept the successor`, () =>
        must(
          signer,
          caAcceptArgv(plan),
          'accept (the successor is checked against the root, the pending key and the layout)',
          {
            stdin: plan.successor,
          },
        ),
      );
      st = await status(`${s}: ${ca}: status`);
    } else if (plan.successor !== undefined && st.phase === 'issued') {
      ctx.log(
        `${ca}: a successor is accepted already (${st.next?.version}): --successor is not used`,
      );
    }

    // --- 2. bundle lead: the successor in every bundle, the readers restarted and gated
    if (st.phase === 'issued' || st.phase === 'bundled') {
      const next = st.next;
      if (!next?.version) throw new Error(`${ca}: phase ${st.phase} without a successor version`);
      const contents = await fetchBundles(plan, false, signer, must, ctx);
      for (const [b, text] of contents)
        if (!pemFingerprints(text).includes(next.fingerprint))
          throw new Error(
            `bundle ${b} from the signer lacks the successor ${next.fingerprint.slice(0, 16)}`,
          );
      await pushBundles(plan, contents, deps, ctx, exec, must, result, 'with the successor');
      if (st.phase === 'issued')
        await ctx.step(`${s}: ${ca}: mark bundled`, () =>
          must(signer, caMarkArgv(plan, next.version as string), 'mark-bundled'),
        );
      st = await status(`${s}: ${ca}: status`);
    }

    // --- 3. the switch, bundleLead after the bundles hold the successor
    if (st.phase === 'bundled') {
      const from = (st.bundledAt ?? st.now) * 1000 + plan.bundleLeadMs;
      if (st.now * 1000 < from) {
        ctx.skip(`${s}: ${ca}: switch`, `bundle lead: the successor signs from ${iso(from)}`);
        result.phase = 'bundled';
        result.waiting = { kind: 'time', what: 'switch', at: from };
        return result;
      }
      await ctx.step(`${s}: ${ca}: switch`, () => must(signer, caSwitchArgv(plan), 'switch'));
      st = await status(`${s}: ${ca}: status`);
    }

    // --- 4. the retire, after the last leaf of the old version
    if (st.phase === 'switched') {
      const from = (st.retireFrom ?? st.now) * 1000;
      if (st.now * 1000 < from && !plan.retireEarly) {
        ctx.skip(
          `${s}: ${ca}: retire the old version`,
          `its leaves may be valid until ${iso(from)} (switch + longest leaf lifetime)`,
        );
        result.phase = 'switched';
        result.waiting = { kind: 'time', what: 'retire', at: from };
        return result;
      }
      const without = await fetchBundles(plan, true, signer, must, ctx);
      for (const holder of plan.leafHolders) {
        const agent = deps.agent(holder.node.name);
        if (!agent) throw new Error(`${holder.node.name}: no agent for this node`);
        for (const [b, text] of without)
          await ctx.step(
            `${holder.node.name}: ${b}: every leaf verifies without the old version`,
            () =>
              must(
                agent,
                bundleArgv(plan, holder.pkiDir, b, '--certs', '-', '--check'),
                `leaf check of ${b}`,
                {
                  stdin: text,
                  readOnly: true,
                },
              ),
          );
      }
      await ctx.step(`${s}: ${ca}: retire the old version`, () =>
        must(signer, caRetireArgv(plan), 'retire'),
      );
      st = await status(`${s}: ${ca}: status`);
    }

    // --- 5. retired at the signer: every bundle without it, then the rotation is finished
    if (st.phase === 'retired') {
      const contents = await fetchBundles(plan, false, signer, must, ctx);
      await pushBundles(plan, contents, deps, ctx, exec, must, result, 'without the old version');
      await ctx.step(`${s}: ${ca}: finish`, () => must(signer, caFinishArgv(plan), 'finish'));
      st = await status(`${s}: ${ca}: status`);
    }
    result.phase = st.phase;
    if (ctx.signal.aborted) throw new Error('cancelled');
    return result;
  } finally {
    if (!ctx.signal.aborted)
      await ctx
        .step(`${s}: ${ca}: unlock`, () =>
          must(signer, lockReleaseArgv(plan.tools.lock, lock.token, plan.caDir), 'unlock'),
        )
        .catch(() => undefined);
  }
}

const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');

async function fetchBundles(
  plan: CaRotatePlan,
  withoutOld: boolean,
  signer: NodeAgent,
  must: Must,
  ctx: JobContext,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const b of plan.bundles) {
    const text = await ctx.step(
      `${plan.signer.name}: ${b}${withoutOld ? ' without the old version' : ''}`,
      () => must(signer, caBundleArgv(plan, b, withoutOld), `bundle ${b}`, { readOnly: true }),
    );
    if (pemFingerprints(text).length === 0)
      throw new Error(`bundle ${b}: the signer sent no certificate`);
    out.set(b, text);
  }
  return out;
}

/** Every node's bundles, one node at a time (its lock held), readers restarted and gated. */
async function pushBundles(
  plan: CaRotatePlan,
  contents: ReadonlyMap<string, string>,
  deps: RotateDeps,
  ctx: JobContext,
  exec: Exec,
  must: Must,
  result: CaRotateResult,
  what: string,
): Promise<void> {
  for (const bn of plan.nodes) {
    const n = bn.node.name;
    const agent = deps.agent(n);
    if (!agent) throw new Error(`${n}: no agent for this node`);
    const lock = await ctx.step(`${n}: lock`, () =>
      takeLock(
        n,
        agent,
        (r) => lockAcquireArgv(plan.tools.lock, deps.who, plan.pkiDir, r),
        deps,
        ctx,
        exec,
      ),
    );
    try {
      const changed: string[] = [];
      for (const b of bn.bundles) {
        const text = contents.get(b);
        if (text === undefined) continue;
        const said = await ctx.step(`${n}: ${b}: ${what}`, () =>
          must(agent, bundleArgv(plan, bn.pkiDir, b, '--certs', '-'), `bundle-install ${b}`, {
            stdin: text,
          }),
        );
        const word = said.trim().split('\n').at(-1)?.split(' ')[0];
        if (word === 'installed' || word === 'pending') {
          changed.push(b);
          if (word === 'installed') result.changed.push(`${n}: ${b}`);
        }
      }
      if (changed.length > 0) {
        for (const u of bn.units.filter((x) => x.reads.some((b) => changed.includes(b)))) {
          const restarted = await restartAndGate(
            n,
            u,
            plan.units,
            agent,
            deps,
            ctx,
            exec,
            must,
            async () => {
              for (const b of u.reads.filter((x) => changed.includes(x)))
                await must(agent, bundleArgv(plan, bn.pkiDir, b, '--rollback'), `rollback of ${b}`);
            },
          );
          if (restarted) result.restarted.push(`${n}: ${u.unit}`);
        }
        for (const b of changed)
          await ctx.step(`${n}: ${b}: restarted`, () =>
            must(
              agent,
              bundleArgv(plan, bn.pkiDir, b, '--restarted'),
              `bundle-install --restarted ${b}`,
            ),
          );
      }
    } finally {
      // A cut run keeps the node's lock (resumed by the next run of this owner here).
      if (!ctx.signal.aborted)
        await ctx
          .step(`${n}: unlock`, () =>
            must(agent, lockReleaseArgv(plan.tools.lock, lock.token, bn.pkiDir), 'unlock'),
          )
          .catch(() => undefined);
    }
  }
}
