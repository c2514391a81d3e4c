/**
 * `k8ops rebuild [NODE…|--role R] [--action A] [--parallel N] [--yes] [--rollback]
 * [--dry-run] [--json]`: nixos-rebuild rolled out node by node (control-plane one at a
 * time, workers up to --parallel), a health gate between nodes, the first failure stops it.
 * Exit: 0 done; 1 a node failed (run or gate) or not confirmed; 2 usage/configuration;
 * 4 switched but units failed.
 */
import { createInterface } from 'node:readline/promises';
import { rebuildExecutor, rebuildTimeoutMs } from '../actions/rebuild/execute.js';
import { gateSources } from '../actions/rebuild/gate-sources.js';
import { defaultChecks, runGate } from '../actions/rebuild/gates.js';
import {
  drains,
  RebuildFailed,
  type RebuildSummary,
  rebuildExitCode,
  rebuildJob,
} from '../actions/rebuild/job.js';
import {
  localRebuildCommand,
  nodeRebuildArgv,
  planRollout,
  REBUILD_ACTIONS,
  type RebuildAction,
  type RebuildRequest,
} from '../actions/rebuild/plan.js';
import { previewLines, previewWaves } from '../actions/rebuild/preview.js';
import { parseDuration } from '../config/duration.js';
import type { Inventory, NodeSpec, Role } from '../config/types.js';
import { ROLES } from '../config/types.js';
import { kubeSource } from '../features/overview/sources.js';
import { safeJson, visible } from '../store/sanitise.js';
import { EXIT, formatTable, isSubcommand, type Out, parseSubcommand } from './common.js';
import { runJobPrinting } from './job-print.js';
import { openSession, SESSION_OPTIONS, sessionArgs } from './open.js';

export const REBUILD_EXIT = { ok: 0, failed: 1, usage: 2, unitsFailed: 4 } as const;

const OPTIONS = {
  ...SESSION_OPTIONS,
  role: { type: 'string' },
  action: { type: 'string' },
  parallel: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  rollback: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'gate-timeout': { type: 'string' },
  drain: { type: 'boolean' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const REBUILD_HELP = `Usage: k8ops rebuild [NODE…] [--role R] [--action switch|test|boot|dry-activate]
                     [--parallel N] [--drain] [--yes] [--rollback] [--dry-run] [--json]

Runs nixos-rebuild <action> --flake <rebuild.flake>#<node> for each node: here with
--target-host and NIX_SSHOPTS carrying the console's jump chain, known_hosts and identity
(rebuild.runOn: local), or on the node itself (runOn: node). Control-plane and etcd nodes
one at a time, then workers --parallel at once (default 1). Between nodes a health gate:
the node answers over SSH, and with a kube API it is Ready and schedulable, its Cilium
agent Ready, the API server answering after a control-plane node, and after an etcd
member the whole cluster's health: \`etcdctl endpoint health --cluster\` over mTLS run on
it (every member's client URL checked; an unhealthy member is named). The first failure stops the
roll-out: which node, which phase, the last 20 lines. dry-activate changes nothing and
lists the units each node would stop, restart, reload or start; asked on a terminal, a
switch or test first runs it and shows those units before the question.
  --role R          only the nodes with role R (control-plane, worker, etcd)
  --drain           cordon each worker and evict its pods (Eviction API, disruption
                    budgets honoured; DaemonSet and mirror pods stay) before its switch,
                    uncordon it after its gate; a failure leaves it cordoned (needs a kube API)
  --rollback        nixos-rebuild switch --rollback (the previous generation)
  --dry-run         print the waves and the exact command per node; run nothing
  --gate-timeout S  seconds a gate check may take to pass (default 300)
  --timeout DUR     one node's nixos-rebuild at most this long (default: rebuild.timeout,
                    else 1h); past it the run is killed and the roll-out stops
  --yes             do not ask (required when stdin is not a terminal)
Exit: 0 done; 1 a node failed (its run or its gate) or not confirmed; 2 usage or
configuration; 4 switched, but units failed (named).
`;

/** Whether argv's subcommand (first positional) is `rebuild`: cli.ts hands it here. */
export const isRebuildArgv = (argv: readonly string[]): boolean =>
  isSubcommand('rebuild', argv, OPTIONS);

export interface RebuildDepsCli {
  out: Out;
  err: Out;
  env: NodeJS.ProcessEnv;
  stdinIsTTY?: boolean;
}

export async function rebuildCommand(
  argv: readonly string[],
  deps: RebuildDepsCli,
): Promise<number> {
  const { out, err, env } = deps;
  const parsed = parseSubcommand('rebuild', argv, OPTIONS, err, REBUILD_EXIT.usage);
  if (!parsed.ok) return parsed.exit;
  const { usage, positionals } = parsed;
  const v = parsed.values;
  if (v.help) {
    out.write(REBUILD_HELP);
    return EXIT.ok;
  }
  if (v.demo && v.inventory) return usage('--demo and --inventory exclude each other');
  const action = (v.action ?? 'switch') as RebuildAction;
  if (!(REBUILD_ACTIONS as readonly string[]).includes(action))
    return usage(`--action must be one of ${REBUILD_ACTIONS.join(', ')}`);
  const role = v.role as Role | undefined;
  if (role !== undefined && !ROLES.includes(role))
    return usage(`--role must be one of ${ROLES.join(', ')}`);
  const parallel = v.parallel === undefined ? 1 : Number(v.parallel);
  const gateTimeout = v['gate-timeout'] === undefined ? 300 : Number(v['gate-timeout']);
  if (!Number.isInteger(gateTimeout) || gateTimeout < 1 || gateTimeout > 3600)
    return usage('--gate-timeout is a whole number of seconds from 1 to 3600');
  if (v.rollback && v.action !== undefined)
    return usage('--rollback goes back with switch; drop --action');
  let timeoutMs: number | undefined;
  if (v.timeout !== undefined) {
    const d = parseDuration(String(v.timeout));
    if (!d.ok || d.ms < 1000)
      return usage('--timeout is a duration of at least 1s, e.g. 45m or 2h');
    timeoutMs = d.ms;
  }
  if (v.drain && !v.rollback && action !== 'switch' && action !== 'test')
    return usage('--drain goes with switch or test (the actions that activate now)');
  const req: RebuildRequest = {
    nodes: positionals.slice(1),
    action,
    parallel,
    ...(role ? { role } : {}),
    ...(v.rollback ? { rollback: true } : {}),
  };
  const changes = req.rollback || action !== 'dry-activate';
  if (changes && v['read-only'] && !v['dry-run'])
    return usage(
      `--read-only: rebuild ${req.rollback ? '--rollback' : action} changes nodes; refused`,
    );

  const opened = await openSession(sessionArgs(v, 'rebuild'), err, env, [
    { sources: [kubeSource] },
  ]);
  if (!opened.ok) return EXIT.config;
  const session = opened.session;
  try {
    const inv = session.inventory;
    if (!inv.rebuild?.flake && !req.rollback)
      return usage('no flake: set rebuild.flake in the inventory');
    const plan = planRollout(inv, req);
    if (!plan.ok) return usage(plan.error);
    const sshConfig = v['ssh-config'] as string | undefined;
    const commandText = (n: NodeSpec) => rebuildCommandText(inv, n, action, req, sshConfig);
    let commands: Array<{ node: NodeSpec; text: string }>;
    try {
      commands = plan.waves.flat().map((n) => ({ node: n, text: commandText(n) }));
    } catch (e) {
      return usage((e as Error).message);
    }
    if (v['dry-run']) {
      for (const [i, wave] of plan.waves.entries()) {
        out.write(`wave ${i + 1}: ${wave.map((n) => n.name).join(', ')}\n`);
        for (const n of wave) {
          const drain = v.drain && drains(n);
          if (drain)
            out.write(
              `  kube: PATCH nodes/${n.name} {"spec":{"unschedulable":true}}; POST an Eviction (policy/v1) for each pod on ${n.name} but DaemonSet and mirror pods\n`,
            );
          out.write(`  ${commands.find((c) => c.node === n)!.text}\n`);
          if (drain)
            out.write(
              `  kube: PATCH nodes/${n.name} {"spec":{"unschedulable":false}} (after its gate)\n`,
            );
        }
      }
      return EXIT.ok;
    }
    const nodeOps = v.drain ? session.kubeNodeOps() : undefined;
    if (v.drain && !nodeOps)
      return usage('--drain needs a kube API (a kubeconfig context): none is configured');
    await session.start();
    const executor = (a: RebuildAction) =>
      rebuildExecutor({
        inventory: inv,
        action: a,
        request: req,
        agents: session.agents,
        ...(sshConfig ? { sshConfig } : {}),
        timeoutMs: rebuildTimeoutMs(inv, timeoutMs),
      });
    if (changes && !v.yes) {
      const interactive = (deps.stdinIsTTY ?? process.stdin.isTTY) === true;
      if (!interactive) {
        err.write('k8ops rebuild: not started (standard input is not a terminal; pass --yes)\n');
        return REBUILD_EXIT.failed;
      }
      // What the switch would restart and reload, before it is confirmed.
      if (!req.rollback && (action === 'switch' || action === 'test')) {
        try {
          const s = await runJobPrinting(
            rebuildJob({ ...req, action: 'dry-activate' }, previewWaves(plan.waves), {
              execute: executor('dry-activate'),
            }),
            err,
            { env },
          );
          for (const l of previewLines(s)) err.write(`${visible(l)}\n`);
        } catch (e) {
          err.write(
            `k8ops rebuild: dry-activate failed, nothing switched: ${visible((e as Error).message)}\n`,
          );
          return REBUILD_EXIT.failed;
        }
      }
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        const names = plan.waves.flat().map((n) => n.name);
        const a = await rl.question(
          `${req.rollback ? 'roll back' : action} ${names.join(', ')} in ${plan.waves.length} wave(s)${v.drain ? ', draining the workers' : ''}? type yes: `,
        );
        if (a.trim() !== 'yes') {
          err.write('k8ops rebuild: not confirmed\n');
          return REBUILD_EXIT.failed;
        }
      } finally {
        rl.close();
      }
    }
    const checks = defaultChecks(
      gateSources({
        inventory: inv,
        agents: session.agents,
        read: (scope, src) => session.store.get(scope, src),
        hasKube: session.hasKube,
      }),
    );
    const job = rebuildJob(req, plan.waves, {
      execute: executor(req.rollback ? 'switch' : action),
      gate: (n, signal, g) => runGate(n, checks, signal, { timeoutMs: gateTimeout * 1000 }, g),
      ...(nodeOps ? { drain: { ops: nodeOps } } : {}),
    });
    let summary: RebuildSummary;
    let code: number;
    try {
      summary = await runJobPrinting(job, err, { env });
      code = REBUILD_EXIT.ok;
    } catch (e) {
      if (!(e instanceof RebuildFailed)) {
        err.write(`k8ops rebuild: ${(e as Error).message}\n`);
        return REBUILD_EXIT.failed;
      }
      summary = e.summary;
      code = rebuildExitCode(summary);
      err.write(`k8ops rebuild: ${visible(e.message)}\n`);
      const s = summary.stopped!;
      if (changes && !req.rollback && (s.phase === 'activating' || s.phase === 'gating'))
        err.write(`k8ops rebuild: to go back on ${s.node}: k8ops rebuild ${s.node} --rollback\n`);
      if (s.cordoned)
        err.write(`k8ops rebuild: ${s.node} is still cordoned: kubectl uncordon ${s.node}\n`);
    }
    if (v.json) out.write(`${safeJson({ ...summary, exitCode: code }, 2)}\n`);
    else out.write(formatSummary(summary));
    return code;
  } finally {
    await session.close();
  }
}

/** The exact command that rebuilds `n` (what `--dry-run` prints; `addons sync --dry-run` too). */
export function rebuildCommandText(
  inv: Inventory,
  n: NodeSpec,
  action: RebuildAction,
  req: Pick<RebuildRequest, 'rollback'>,
  sshConfig?: string,
): string {
  if ((inv.rebuild?.runOn ?? 'local') === 'node')
    return `ssh ${n.name} -- ${nodeRebuildArgv(inv, n, action, req).join(' ')}`;
  const c = localRebuildCommand(inv, n, action, {
    ...(sshConfig ? { sshConfig } : {}),
    ...req,
  });
  return `NIX_SSHOPTS='${c.env.NIX_SSHOPTS}' ${c.argv.join(' ')}`;
}

export function formatSummary(s: RebuildSummary): string {
  const drained = (r: RebuildSummary['runs'][number]) =>
    r.drained
      ? `; drained (${r.drained.evicted.length} evicted)${r.drained.uncordoned ? ', uncordoned' : ''}`
      : '';
  const rows = s.runs.map((r) => [
    r.node,
    r.skipped ? '-' : r.phase,
    (r.skipped
      ? `not run (${r.skipped})`
      : r.outcome?.kind === 'ok'
        ? r.gate
          ? r.gate.ok
            ? 'ok, gate passed'
            : `gate failed: ${r.gate.checks.find((c) => !c.ok)?.name ?? ''}`
          : 'ok'
        : r.outcome?.kind === 'units-failed'
          ? `units failed: ${r.outcome.units.join(', ')}`
          : r.outcome?.kind === 'failed'
            ? `failed (exit ${r.outcome.signal ?? r.outcome.code})`
            : s.stopped?.node === r.node && s.stopped.phase === 'draining'
              ? 'drain failed'
              : 'not run') + drained(r),
    r.ms !== undefined ? `${(r.ms / 1000).toFixed(1)} s` : '',
  ]);
  return `${formatTable(['NODE', 'PHASE', 'RESULT', 'TIME'], rows).join('\n')}\n`;
}
