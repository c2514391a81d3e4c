/**
 * `k8ops rotate plan [--json] [--days N]`: the rotation schedule the Rotation pane shows
 * (the same planner, the inventory's `rotation` settings): each node's next rotations
 * within the horizon, the intermediates' due dates and every conflict.
 * Exit code: 0 no conflict, 1 a conflict, 2 usage or configuration, 3 nodes unreachable
 * (the highest that applies, as `k8ops certs`). The rotate action itself is not here yet.
 */
import { parseArgs } from 'node:util';
import {
  buildRotationModel,
  type RotationModel,
  rotationFeature,
} from '../features/rotation/model.js';
import { allEvents } from '../features/rotation/plan.js';
import { formatCountdownCoarse } from '../pki/expiry.js';
import { safeJson } from '../store/sanitise.js';
import { EXIT, formatTable, type Out, settleOnce } from './common.js';
import { openSession, SESSION_OPTIONS } from './open.js';

export const ROTATE_EXIT = { ok: 0, conflict: 1, usage: 2, unreachable: 3 } as const;

const DAY = 86_400_000;
const OPTIONS = {
  ...SESSION_OPTIONS,
  json: { type: 'boolean' },
  days: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const ROTATE_HELP = `Usage: k8ops rotate plan [--json] [--days N] [--demo | --inventory FILE]

The rotation schedule of every node (node i of N rotates at notAfter − renewBefore +
i × spread / N, as the node timer does), the intermediates' due dates and the conflicts:
two control-plane rotations closer than cpGap, a leaf rotated with less than minRemaining
left, a leaf that would outlive its intermediate, an intermediate without bundle lead.
  --days N   the horizon listed (default 30); conflicts are reported whatever their date
Exit: 0 no conflict, 1 a conflict, 2 usage error, 3 nodes unreachable.
`;

/** Whether argv's subcommand (first positional) is `rotate`: cli.ts hands it here. */
export function isRotateArgv(argv: readonly string[]): boolean {
  try {
    const p = parseArgs({
      args: [...argv],
      options: OPTIONS,
      strict: false,
      allowPositionals: true,
    });
    return p.positionals[0] === 'rotate';
  } catch {
    return false;
  }
}

interface RotateDeps {
  out: Out;
  err: Out;
  env: NodeJS.ProcessEnv;
}

export async function rotateCommand(argv: readonly string[], deps: RotateDeps): Promise<number> {
  const { out, err, env } = deps;
  const usage = (msg: string) => {
    err.write(`k8ops rotate: ${msg}\nTry 'k8ops rotate --help'.\n`);
    return ROTATE_EXIT.usage;
  };
  let v: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const p = parseArgs({
      args: [...argv],
      options: OPTIONS,
      strict: true,
      allowPositionals: true,
    });
    v = p.values as Record<string, string | boolean | undefined>;
    positionals = p.positionals;
  } catch (e) {
    return usage((e as Error).message);
  }
  if (v.help) {
    out.write(ROTATE_HELP);
    return EXIT.ok;
  }
  const [, action, ...rest] = positionals;
  if (action !== 'plan')
    return usage(
      action === undefined
        ? 'what to do? (k8ops rotate plan)'
        : `unknown action "${action}" (actions: plan; rotating a node is not implemented yet)`,
    );
  if (rest.length > 0) return usage(`unexpected argument "${rest[0]}"`);
  if (v.demo && v.inventory) return usage('--demo and --inventory exclude each other');
  let days = 30;
  if (v.days !== undefined) {
    const d = String(v.days);
    if (!/^[0-9]{1,4}$/.test(d) || Number(d) < 1 || Number(d) > 3650)
      return usage(`--days must be a whole number of days from 1 to 3650, not "${d}"`);
    days = Number(d);
  }
  const opened = await openSession(
    {
      demo: v.demo === true,
      inventory: v.inventory as string | undefined,
      context: v.context as string | undefined,
      readOnly: v['read-only'] === true,
      sshConfig: v['ssh-config'] as string | undefined,
      acceptNew: v['accept-new'] === true,
      sub: 'rotate',
    },
    err,
    env,
    [rotationFeature],
  );
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
