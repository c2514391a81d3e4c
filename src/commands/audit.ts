/**
 * `k8ops audit [--json] [--since DUR] [--action A] [--demo]`: the audit log (one line per
 * job start and end: who, when, action, targets, plan, result, job id), oldest first.
 * Reads `$XDG_STATE_HOME/k8ops/audit.jsonl` (the demo lab's: `…/k8ops/demo/audit.jsonl`);
 * contacts no node. Exit: 0 listed (an empty log too); 1 a line of the log is not an
 * audit entry (skipped, its number on stderr); 2 usage error or the log cannot be read.
 */
import { ACTIONS } from '../actions/index.js';
import { type AuditEntry, auditPath, readAudit } from '../actions/jobs/audit.js';
import { parseDuration } from '../config/duration.js';
import { stateDir } from '../config/paths.js';
import { demoStateDir } from '../session/demo.js';
import { safeJson, visible } from '../store/sanitise.js';
import { EXIT, formatTable, isSubcommand, type Out, parseSubcommand } from './common.js';

export const AUDIT_EXIT = { ok: 0, malformed: 1, usage: 2 } as const;

const OPTIONS = {
  json: { type: 'boolean' },
  since: { type: 'string' },
  action: { type: 'string' },
  demo: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const KNOWN_ACTIONS = ['rotate', 'rebuild', 'addon-sync', ...ACTIONS.map((a) => a.action)];

export const AUDIT_HELP = `Usage: k8ops audit [--json] [--since DUR] [--action A] [--demo]

The audit log: one line when a job starts (who, action, targets, the confirmed plan) and
one when it ends (result, elapsed), oldest first.
  --since DUR   only entries of the last DUR (e.g. 30m, 24h, 7d)
  --action A    only this action (${[...new Set(KNOWN_ACTIONS)].join(', ')})
  --demo        the demo lab's log instead of the real one
  --json        a JSON array of the entries
Exit: 0 listed; 1 a malformed line (skipped); 2 usage error or an unreadable log.
`;

/** Whether argv's subcommand (first positional) is `audit`: cli.ts hands it here. */
export const isAuditArgv = (argv: readonly string[]): boolean =>
  isSubcommand('audit', argv, OPTIONS);

export interface AuditDeps {
  out: Out;
  err: Out;
  env: NodeJS.ProcessEnv;
  now?: () => number;
}

const when = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function auditCommand(argv: readonly string[], deps: AuditDeps): number {
  const { out, err, env } = deps;
  const parsed = parseSubcommand('audit', argv, OPTIONS, err, AUDIT_EXIT.usage);
  if (!parsed.ok) return parsed.exit;
  const { usage } = parsed;
  const v = parsed.values;
  const positionals = parsed.positionals;
  if (v.help) {
    out.write(AUDIT_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 1) return usage(`unexpected argument "${visible(positionals[1]!)}"`);
  let sinceMs: number | undefined;
  if (v.since !== undefined) {
    const d = parseDuration(String(v.since));
    if (!d.ok) return usage(`--since: ${d.error.message}`);
    sinceMs = d.ms;
  }
  const action = v.action as string | undefined;
  if (action !== undefined && !KNOWN_ACTIONS.includes(action))
    return usage(
      `--action: no action named "${visible(action)}" (actions: ${[...new Set(KNOWN_ACTIONS)].join(', ')})`,
    );

  const path = auditPath(v.demo ? demoStateDir(env) : stateDir(env));
  let read: ReturnType<typeof readAudit>;
  try {
    read = readAudit(path);
  } catch (e) {
    err.write(`k8ops audit: cannot read ${path}: ${visible((e as Error).message)}\n`);
    return AUDIT_EXIT.usage;
  }
  const now = (deps.now ?? Date.now)();
  const shown = read.entries.filter((e: AuditEntry) => {
    if (action !== undefined && e.action !== action) return false;
    if (sinceMs !== undefined) {
      const t = Date.parse(e.at);
      if (!Number.isFinite(t) || t < now - sinceMs) return false;
    }
    return true;
  });

  if (v.json) out.write(`${safeJson(shown, 2)}\n`);
  else if (shown.length === 0)
    out.write(read.missing ? `no audit log yet (${path})\n` : 'no audit entries match\n');
  else {
    const rows = shown.map((e) => [
      when(e.at),
      e.who,
      e.event,
      e.action,
      e.targets.join(','),
      e.event === 'end' ? `${e.result ?? '?'}${e.error ? `: ${e.error}` : ''}` : '',
      e.job,
    ]);
    const lines = formatTable(['WHEN', 'WHO', 'EVENT', 'ACTION', 'TARGETS', 'RESULT', 'JOB'], rows);
    out.write(`${lines.join('\n')}\n`);
  }
  if (read.malformed.length > 0) {
    const list = read.malformed.slice(0, 10).join(', ');
    const more = read.malformed.length > 10 ? ` and ${read.malformed.length - 10} more` : '';
    err.write(`k8ops audit: ${path}: line ${list}${more} not an audit entry (skipped)\n`);
    return AUDIT_EXIT.malformed;
  }
  return AUDIT_EXIT.ok;
}
