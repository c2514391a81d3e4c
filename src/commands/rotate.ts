/**
 * `k8ops rotate plan [--json] [--days N]`: the rotation schedule the Rotation pane shows
 * (the same planner, the inventory's `rotation` settings): each node's next rotations
 * within the horizon, the intermediates' due dates and every conflict.
 * Exit code: 0 no conflict, 1 a conflict, 2 usage or configuration, 3 nodes unreachable
 * (the highest that applies, as `k8ops certs`).
 * `k8ops rotate NODE…`, `--due` and `--break-lock NODE` run the rotate action (rotate-run.ts).
 */

import { readFileSync, statSync } from 'node:fs';
import { kubeSource } from '../features/overview/sources.js';
import {
  buildRotationModel,
  type RotationModel,
  rotationFeature,
} from '../features/rotation/model.js';
import { allEvents } from '../features/rotation/plan.js';
import { formatCountdownCoarse } from '../pki/expiry.js';
import { safeJson } from '../store/sanitise.js';
import {
  EXIT,
  formatTable,
  holdOpen,
  isSubcommand,
  type Out,
  parseSubcommand,
  settleOnce,
} from './common.js';
import { openSession, SESSION_OPTIONS, sessionArgs } from './open.js';
import { ROTATE_RUN_EXIT, rotateCaRun, rotateRun, rotateSaRun } from './rotate-run.js';

export const ROTATE_EXIT = {
  ok: 0,
  conflict: 1,
  usage: 2,
  unreachable: 3,
  failed: ROTATE_RUN_EXIT.failed,
  locked: ROTATE_RUN_EXIT.locked,
  refused: ROTATE_RUN_EXIT.refused,
  ceremony: ROTATE_RUN_EXIT.ceremony,
} as const;

const DAY = 86_400_000;
const OPTIONS = {
  ...SESSION_OPTIONS,
  json: { type: 'boolean' },
  days: { type: 'string' },
  only: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  due: { type: 'boolean' },
  'break-lock': { type: 'boolean' },
  ca: { type: 'string' },
  successor: { type: 'string' },
  'retire-now': { type: 'boolean' },
  'sa-key': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const ROTATE_HELP = `Usage: k8ops rotate plan [--json] [--days N] [--demo | --inventory FILE]
       k8ops rotate NODE… [--only ID]… [--dry-run] [--yes]
       k8ops rotate --due [--dry-run] [--yes]
       k8ops rotate --ca ID [--successor FILE] [--retire-now] [--dry-run] [--yes]
       k8ops rotate --sa-key [--dry-run] [--yes]
       k8ops rotate --break-lock NODE

rotate NODE: lock the node, then per certificate a new key + CSR on the node (the key never
leaves it), the signature at pki.signer (CSR and chain carried by k8ops), a verified install
that switches certificate and key with one rename; then per unit in dependency order (etcd →
kube-apiserver → controller-manager/scheduler → kubelet) a restart only where the component
does not reload its pair, and health gates (etcd endpoint health over mTLS and the served
serial, API server /readyz, node Ready); a failed gate puts the previous pair back.
  --only ID      only this certificate id (repeatable)
  --dry-run      print the units, gates and every command per host, in order; change nothing
  --yes          do not ask (scripts); without it the node name is typed to confirm
  --due          every node whose slot has passed (as the node timer would), one at a time;
                 then every step of an intermediate's or the service-account keys' rotation
                 that is due (asked of the signer and the control-plane nodes)
  --break-lock   remove NODE's rotation lock (shown with its holder and age) — only when that
                 run is gone for good
--read-only refuses all but --dry-run.

rotate --ca ID (an intermediate: kubernetes-ca, etcd-ca, front-proxy-ca) goes as far as it
may now, each step idempotent: the successor's key + CSR at the signer; the ROOT signs it
offline (the CSR is printed on stdout, exit 7: issue-intermediate.sh --csr on the machine
with the root key); with --successor FILE the signed successor is checked and accepted; it
joins every trust bundle on every node (bundle lead; units that read the bundle once are
restarted one node at a time and gated); rotation.bundleLead (24h) later it signs; after
the switch plus the longest leaf lifetime, once no installed leaf needs it, the old
version leaves the bundles.
  --successor FILE  the root-signed successor from the ceremony
  --retire-now      retire the old version before its last leaf's expiry (no installed
                    leaf may need it; leaves elsewhere, e.g. an admin kubeconfig, stop working)
rotate --sa-key: every control-plane node makes a new service-account signing key (it never
leaves the node); every API server trusts every new public key (restarted, /readyz), then
each node switches, one at a time; the old public keys stay trusted rotation.saOverlap
(48h), then a later run (or --due) drops them.

The rotation schedule of every node (node i of N rotates at notAfter − renewBefore +
i × spread / N, as the node timer does), the intermediates' due dates and the conflicts:
two control-plane rotations closer than cpGap, a leaf rotated with less than minRemaining
left, a leaf that would outlive its intermediate, an intermediate without bundle lead.
  --days N   the horizon listed (default 30); conflicts are reported whatever their date
Exit: 0 no conflict (plan) or done, 1 a conflict (plan), 2 usage error, 3 nodes unreachable,
4 the rotation failed (a step or a health gate; the previous pair is back), 5 the node is
locked by another rotation, 6 refused (--read-only, not confirmed, the demo lab), 7 an
intermediate's successor waits for the root's signature (the offline ceremony).
`;

/** Whether argv's subcommand (first positional) is `rotate`: cli.ts hands it here. */
export const isRotateArgv = (argv: readonly string[]): boolean =>
  isSubcommand('rotate', argv, OPTIONS);

interface RotateDeps {
  out: Out;
  err: Out;
  env: NodeJS.ProcessEnv;
  stdinIsTTY?: boolean;
}

export async function rotateCommand(argv: readonly string[], deps: RotateDeps): Promise<number> {
  const { out, err, env } = deps;
  const parsed = parseSubcommand('rotate', argv, OPTIONS, err, ROTATE_EXIT.usage);
  if (!parsed.ok) return parsed.exit;
  const { usage } = parsed;
  const v = parsed.values;
  const positionals = parsed.positionals;
  if (v.help) {
    out.write(ROTATE_HELP);
    return EXIT.ok;
  }
  const [, action, ...rest] = positionals;
  if (v.demo && v.inventory) return usage('--demo and --inventory exclude each other');
  if (action !== 'plan') return rotateNodes(positionals.slice(1), v, deps, usage);
  if (rest.length > 0) return usage(`unexpected argument "${rest[0]}"`);
  let days = 30;
  if (v.days !== undefined) {
    const d = String(v.days);
    if (!/^[0-9]{1,4}$/.test(d) || Number(d) < 1 || Number(d) > 3650)
      return usage(`--days must be a whole number of days from 1 to 3650, not "${d}"`);
    days = Number(d);
  }
  const opened = await openSession(sessionArgs(v, 'rotate'), err, env, [rotationFeature]);
  if (!opened.ok) return EXIT.config;
  const session = opened.session;
  try {
    await settleOnce(session);
    const now = Date.now();
    const m = buildRotationModel(session.inventory, (s, src) => session.store.get(s, src), now);
    const code = rotateExitCode(m);
    if (v.json === true) {
      const doc = rotationPlanJson(m, days, {
        cluster: session.inventory.cluster,
        mode: session.mode,
      });
      out.write(`${safeJson({ ...doc, exitCode: code }, 2)}\n`);
    } else {
      out.write(
        formatRotationPlan(
          m,
          days,
          `${session.inventory.cluster}${session.mode === 'demo' ? ' (demo)' : ''}`,
        ),
      );
    }
    return code;
  } finally {
    await session.close();
  }
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const CERT_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

async function rotateNodes(
  nodes: string[],
  v: Record<string, string | boolean | string[] | undefined>,
  deps: RotateDeps,
  usage: (msg: string) => number,
): Promise<number> {
  const { out, err, env } = deps;
  const only = (v.only as string[] | undefined) ?? [];
  const due = v.due === true;
  const breakLock = v['break-lock'] === true;
  if (v.json || v.days !== undefined) return usage('--json and --days belong to `rotate plan`');
  const ca = typeof v.ca === 'string' ? v.ca : undefined;
  const saKey = v['sa-key'] === true;
  if (ca === undefined && (v.successor !== undefined || v['retire-now']))
    return usage('--successor and --retire-now go with --ca');
  if (ca !== undefined || saKey) {
    if (ca !== undefined && saKey)
      return usage('--ca and --sa-key are two rotations: one at a time');
    if (nodes.length > 0 || due || breakLock || only.length > 0)
      return usage(`${saKey ? '--sa-key' : '--ca'} takes no node, --only, --due or --break-lock`);
    if (ca !== undefined && !CERT_ID.test(ca)) return usage(`invalid CA id "${ca}"`);
    let successor: string | undefined;
    if (typeof v.successor === 'string') {
      try {
        if (statSync(v.successor).size > 65_536)
          return usage(`${v.successor}: too big for a certificate`);
        successor = readFileSync(v.successor, 'utf8');
      } catch (e) {
        return usage(`--successor: ${(e as Error).message}`);
      }
    }
    return rotateCaOrSa({ ca, saKey, successor, retireNow: v['retire-now'] === true }, v, deps);
  }
  if (due && nodes.length > 0) return usage('--due takes no node: it picks the due ones');
  if (!due && nodes.length === 0)
    return usage('which node? (k8ops rotate NODE, k8ops rotate --due, k8ops rotate plan)');
  if (breakLock && (nodes.length !== 1 || due || only.length > 0 || v['dry-run']))
    return usage('--break-lock takes exactly one node and nothing else');
  if (due && only.length > 0) return usage('--only goes with a node, not --due');
  for (const n of nodes) if (!NODE_NAME.test(n)) return usage(`invalid node name "${n}"`);
  for (const id of only) if (!CERT_ID.test(id)) return usage(`invalid certificate id "${id}"`);
  const readOnly = v['read-only'] === true;
  if (readOnly && !v['dry-run']) {
    err.write(
      `k8ops rotate: refused: --read-only${breakLock ? '' : ' (use --dry-run to see the commands)'}\n`,
    );
    return ROTATE_EXIT.refused;
  }
  const opened = await openSession(
    sessionArgs(v, 'rotate', { readOnly }),
    err,
    env,
    // The kube API's nodes for the "node Ready" gate; the certificates' schedule for --due.
    due ? [rotationFeature, { sources: [kubeSource] }] : [{ sources: [kubeSource] }],
  );
  if (!opened.ok) return EXIT.config;
  const session = opened.session;
  const ac = new AbortController();
  const onSignal = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (due) await settleOnce(session);
    else if (!v['dry-run']) await holdOpen(() => session.settleKube());
    return await holdOpen(() =>
      rotateRun(
        {
          nodes,
          only,
          dryRun: v['dry-run'] === true,
          yes: v.yes === true,
          due,
          breakLock,
          readOnly,
        },
        session,
        {
          out,
          err,
          stdinIsTTY: deps.stdinIsTTY ?? process.stdin.isTTY === true,
          signal: ac.signal,
          env,
        },
      ),
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await session.close();
  }
}

async function rotateCaOrSa(
  a: { ca: string | undefined; saKey: boolean; successor: string | undefined; retireNow: boolean },
  v: Record<string, string | boolean | string[] | undefined>,
  deps: RotateDeps,
): Promise<number> {
  const { out, err, env } = deps;
  const readOnly = v['read-only'] === true;
  const dryRun = v['dry-run'] === true;
  if (readOnly && !dryRun) {
    err.write('k8ops rotate: refused: --read-only (use --dry-run to see the commands)\n');
    return ROTATE_EXIT.refused;
  }
  const opened = await openSession(sessionArgs(v, 'rotate', { readOnly }), err, env, [
    { sources: [kubeSource] },
  ]);
  if (!opened.ok) return EXIT.config;
  const session = opened.session;
  const ac = new AbortController();
  const onSignal = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (!dryRun) await holdOpen(() => session.settleKube());
    const io = {
      out,
      err,
      stdinIsTTY: deps.stdinIsTTY ?? process.stdin.isTTY === true,
      signal: ac.signal,
      env,
    };
    const common = { dryRun, yes: v.yes === true, readOnly };
    return await holdOpen(() =>
      a.ca !== undefined
        ? rotateCaRun(
            {
              ca: a.ca,
              retireEarly: a.retireNow,
              ...(a.successor !== undefined ? { successor: a.successor } : {}),
              ...common,
            },
            session,
            io,
          )
        : rotateSaRun({ ...common, start: true }, session, io),
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await session.close();
  }
}

export function rotateExitCode(m: RotationModel): number {
  if (m.unreachable.length > 0) return ROTATE_EXIT.unreachable;
  if (m.schedule.conflicts.length > 0) return ROTATE_EXIT.conflict;
  return ROTATE_EXIT.ok;
}

const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');
const seconds = (ms: number): number => Math.floor(ms / 1000);

export function rotationPlanJson(
  m: RotationModel,
  days: number,
  meta: { cluster: string; mode: string },
): Record<string, unknown> {
  const s = m.schedule;
  const until = s.now + days * DAY;
  return {
    cluster: meta.cluster,
    mode: meta.mode,
    generatedAt: iso(s.now),
    horizonDays: days,
    settings: {
      spreadSeconds: seconds(s.settings.spreadMs),
      renewBeforeSeconds:
        s.settings.renewBeforeMs !== undefined ? seconds(s.settings.renewBeforeMs) : null,
      cpGapSeconds: seconds(s.settings.cpGapMs),
      minRemainingSeconds: seconds(s.settings.minRemainingMs),
      bundleLeadSeconds: seconds(s.settings.bundleLeadMs),
    },
    nodes: s.nodes.map((n) => ({
      name: n.name,
      index: n.index,
      roles: n.roles,
      offsetSeconds: seconds(n.offsetMs),
      error: n.error ?? null,
      pending: n.pending === true,
      certs: n.leaves.map((l) => ({
        id: l.id,
        path: l.path,
        notAfter: l.notAfter !== undefined ? iso(l.notAfter) : null,
        renewBeforeSeconds: l.renewBeforeMs !== undefined ? seconds(l.renewBeforeMs) : null,
        due: l.dueMs !== undefined ? iso(l.dueMs) : null,
        scheduled: iso(l.scheduledMs),
        scheduledEpoch: seconds(l.scheduledMs),
        remainingSeconds: l.remainingMs !== undefined ? seconds(l.remainingMs) : null,
        reason: l.reason,
        intermediate: l.intermediate ?? null,
        units: l.units,
      })),
      rotations: n.events
        .filter((e) => e.at <= until)
        .map((e) => ({
          at: iso(e.at),
          overdue: e.overdue,
          certs: e.certs,
          restart: e.units,
        })),
    })),
    intermediates: s.intermediates.map((c) => ({
      cn: c.cn,
      fingerprint: c.fingerprint,
      notAfter: iso(c.notAfter),
      due: iso(c.dueMs),
      bundleBy: iso(c.bundleByMs),
      superseded: c.superseded,
    })),
    conflicts: s.conflicts.map((c) => ({
      kind: c.kind,
      subject: c.subject,
      ...(c.other !== undefined ? { other: c.other } : {}),
      ...(c.cert !== undefined ? { cert: c.cert } : {}),
      at: iso(c.at),
      message: c.message,
    })),
    unreachable: m.unreachable,
  };
}

export function formatRotationPlan(m: RotationModel, days: number, title: string): string {
  const s = m.schedule;
  const until = s.now + days * DAY;
  const rb =
    s.settings.renewBeforeMs !== undefined
      ? formatCountdownCoarse(s.settings.renewBeforeMs)
      : 'a third of each lifetime';
  const lines: string[] = [
    `k8ops rotate plan — ${title}`,
    `spread ${formatCountdownCoarse(s.settings.spreadMs)} · renew before ${rb} · control-plane gap ${formatCountdownCoarse(s.settings.cpGapMs)} · min remaining ${formatCountdownCoarse(s.settings.minRemainingMs)}`,
    '',
    `Rotations in the next ${days} days:`,
  ];
  const rows = allEvents(s)
    .filter((e) => e.at <= until)
    .map((e) => [
      e.overdue ? `${iso(e.at)} (overdue)` : iso(e.at),
      e.node,
      e.certs.join(','),
      e.units.join(' → ') || '-',
    ]);
  if (rows.length === 0) lines.push('  none');
  else
    lines.push(
      ...formatTable(['AT', 'NODE', 'CERTIFICATES', 'RESTART'], rows).map((l) => `  ${l}`),
    );
  const ints = s.intermediates.filter((c) => !c.superseded);
  if (ints.length > 0) {
    lines.push('', 'Intermediates:');
    lines.push(
      ...formatTable(
        ['CA', 'SUCCESSOR IN BUNDLES BY', 'SIGNS FROM', 'EXPIRES'],
        ints.map((c) => [c.cn, iso(c.bundleByMs), iso(c.dueMs), iso(c.notAfter)]),
      ).map((l) => `  ${l}`),
    );
  }
  for (const n of s.nodes) {
    if (n.error !== undefined) lines.push(`! ${n.name}: certificates unreadable: ${n.error}`);
    else if (n.pending) lines.push(`! ${n.name}: no answer yet`);
  }
  lines.push('');
  if (s.conflicts.length === 0) lines.push('No conflicts.');
  else {
    lines.push(`${s.conflicts.length} conflict(s):`);
    for (const c of s.conflicts) lines.push(`  ✗ ${c.kind}: ${c.message}`);
  }
  return `${lines.join('\n')}\n`;
}
