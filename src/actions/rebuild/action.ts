/**
 * `B` in the console (and `:rebuild`, `:rollback` in the palette): the rebuild roll-out as an
 * action. `prepare` plans the waves, then — for a switch or a test — runs `dry-activate` on
 * every node first, as a job of its own (recorded, audited, visible in the Jobs pane), and
 * puts each node's parsed units (would stop, restart, reload, start) into the plan the
 * operator confirms. The confirmation offers the action (switch, test, boot) and, with a
 * kube API, cordon + drain of the workers around their switch. The roll-out then runs
 * through the Jobs runner: one log line per node and phase, the gate after each node, the
 * first failure stops it.
 */
import type { NodeSpec, Role } from '../../config/types.js';
import { ROLES } from '../../config/types.js';
import { visible } from '../../store/sanitise.js';
import type { ActionDeps, ActionFactory, ConfirmOption } from '../types.js';
import { rebuildExecutor } from './execute.js';
import { gateSources } from './gate-sources.js';
import { defaultChecks, runGate } from './gates.js';
import { drains, RebuildFailed, type RebuildSummary, rebuildJob } from './job.js';
import { planRollout, type RebuildAction, type RebuildRequest } from './plan.js';
import { previewLines, previewWaves } from './preview.js';

/** The actions the confirmation cycles through (dry-activate is the preview itself). */
export const CONSOLE_ACTIONS: readonly RebuildAction[] = ['switch', 'test', 'boot'];

/** Gate checks may take this long to pass (as `k8ops rebuild`'s default). */
const GATE_TIMEOUT_MS = 300_000;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The request from the key's targets and options (`role`, `action`, `rollback`, `drain`). */
export function consoleRequest(
  targets: readonly string[],
  options: Readonly<Record<string, unknown>> = {},
): { ok: true; req: RebuildRequest; drain: boolean } | { ok: false; message: string } {
  const action = (str(options.action) ?? 'switch') as RebuildAction;
  if (![...CONSOLE_ACTIONS, 'dry-activate'].includes(action))
    return { ok: false, message: `action must be one of switch, test, boot, dry-activate` };
  const role = str(options.role) as Role | undefined;
  if (role !== undefined && !ROLES.includes(role))
    return { ok: false, message: `no role "${visible(role)}" (roles: ${ROLES.join(', ')})` };
  if (targets.length === 0 && role === undefined)
    return { ok: false, message: 'no node selected (mark nodes with Space, or :rebuild @ROLE)' };
  const rollback = options.rollback === true;
  const req: RebuildRequest = {
    nodes: [...targets],
    action: rollback ? 'switch' : action,
    parallel: 1,
    ...(role ? { role } : {}),
    ...(rollback ? { rollback: true } : {}),
  };
  return { ok: true, req, drain: options.drain === true };
}

const GATE_TEXT = [
  'after each node a gate: SSH answers; with a kube API the node Ready and schedulable,',
  '  its Cilium agent Ready, the API server (control-plane); etcd cluster health, every member (etcd nodes)',
];

export const rebuildAction: ActionFactory = {
  action: 'rebuild',
  help: 'rebuild NODE… (or a role): nixos-rebuild rolled out node by node, dry-activate shown first, gated, optional drain of the workers',
  async prepare(request, deps) {
    const inv = deps.inventory;
    if (!inv.rebuild?.flake && request.options?.rollback !== true)
      return { ok: false, message: 'no flake: set rebuild.flake in the inventory' };
    const r = consoleRequest(request.targets, request.options ?? {});
    if (!r.ok) return r;
    const { req } = r;
    const plan = planRollout(inv, req);
    if (!plan.ok) return { ok: false, message: plan.error };
    const waves = plan.waves;
    const names = waves.flat().map((n) => n.name);

    // dry-activate first: what a switch would restart and reload, before it is confirmed.
    let preview: string[] = [];
    if (!req.rollback && (req.action === 'switch' || req.action === 'test') && deps.preview) {
      const previewReq: RebuildRequest = { ...req, action: 'dry-activate' };
      const out = await deps.preview(
        rebuildJob(previewReq, previewWaves(waves), {
          execute: rebuildExecutor(executorOptions(deps, 'dry-activate', previewReq)),
        }),
      );
      const summary: RebuildSummary | undefined =
        out.value ?? (out.error instanceof RebuildFailed ? out.error.summary : undefined);
      if (out.record.state !== 'ok') {
        const why =
          summary?.stopped !== undefined
            ? `${summary.stopped.node} failed while ${summary.stopped.phase}: ${summary.stopped.reason}`
            : (out.record.error ?? out.record.state);
        return {
          ok: false,
          message: `dry-activate did not pass, nothing was switched: ${why} (job ${out.record.id}, 8: Jobs)`,
        };
      }
      preview = [
        `dry-activate (job ${out.record.id}):`,
        ...previewLines(summary!).map((l) => `  ${l}`),
      ];
    }

    const workers = waves.flat().filter(drains);
    const ops = deps.nodeOps?.();
    const options: ConfirmOption[] = [];
    if (!req.rollback && req.action !== 'dry-activate')
      options.push({ id: 'action', label: 'action', choices: CONSOLE_ACTIONS, value: req.action });
    if (workers.length > 0 && ops)
      options.push({
        id: 'drain',
        label: `cordon + drain ${workers.length === 1 ? workers[0]!.name : `the ${workers.length} workers`} around the switch`,
        choices: ['no', 'yes'],
        value: r.drain ? 'yes' : 'no',
      });

    const build = (values: Readonly<Record<string, string>>) => {
      const action = (values.action ?? req.action) as RebuildAction;
      const drain = values.drain === 'yes' && ops !== undefined && action !== 'boot';
      const runReq: RebuildRequest = { ...req, action };
      const checks = defaultChecks(
        gateSources({
          inventory: inv,
          agents: deps.agents,
          ...(deps.read ? { read: deps.read } : {}),
          hasKube: deps.hasKube ?? false,
        }),
      );
      const spec = rebuildJob(runReq, waves, {
        execute: rebuildExecutor(executorOptions(deps, req.rollback ? 'switch' : action, runReq)),
        gate: (n, signal, g) => runGate(n, checks, signal, { timeoutMs: GATE_TIMEOUT_MS }, g),
        ...(drain ? { drain: { ops } } : {}),
      });
      const run = spec.run;
      const withHint = {
        ...spec,
        // A failed activation or gate offers the rollback of that node.
        run: async (ctx: Parameters<typeof run>[0]) => {
          try {
            return await run(ctx);
          } catch (e) {
            const s = e instanceof RebuildFailed ? e.summary.stopped : undefined;
            if (e instanceof RebuildFailed && s && !req.rollback && action !== 'dry-activate')
              if (s.phase === 'activating' || s.phase === 'gating')
                throw new RebuildFailed(
                  `${e.message}\nto go back on ${s.node}: :rollback ${s.node} (k8ops rebuild ${s.node} --rollback)`,
                  e.summary,
                );
            throw e;
          }
        },
      };
      const verb = req.rollback ? 'switch --rollback' : action;
      const where =
        (inv.rebuild?.runOn ?? 'local') === 'node'
          ? 'on each node'
          : 'here with --target-host (NIX_SSHOPTS: the console’s SSH settings)';
      const planText = [
        `nixos-rebuild ${verb} ${where}: ${names.join(', ')}`,
        ...waves.map(
          (w, i) =>
            `  wave ${i + 1}: ${w.map((n) => n.name).join(', ')}${w.length > 1 ? ' (together)' : ''}`,
        ),
        ...(action === 'boot'
          ? ['boot: the new generation becomes the boot default; nothing restarts until a reboot']
          : preview),
        ...GATE_TEXT,
        ...(drain
          ? [
              `drain: ${workers.map((n) => n.name).join(', ')}: cordoned, pods evicted before the switch,`,
              '  uncordoned after the gate (disruption budgets honoured; DaemonSet and mirror pods stay)',
            ]
          : []),
        'the first failure stops the roll-out (node, phase, last 20 lines)',
      ];
      return { spec: withHint, confirm: confirmText(waves.flat()), planText };
    };
    const values = Object.fromEntries(options.map((o) => [o.id, o.value]));
    const first = build(values);
    return {
      ok: true,
      prepared: { ...first, ...(options.length ? { options, withOptions: build } : {}) },
    };
  },
};

/** What the operator types: the node's name, or `N nodes`. */
const confirmText = (nodes: readonly NodeSpec[]): string =>
  nodes.length === 1 ? nodes[0]!.name : `${nodes.length} nodes`;

function executorOptions(deps: ActionDeps, action: RebuildAction, req: RebuildRequest) {
  return {
    inventory: deps.inventory,
    action,
    request: req,
    agents: deps.agents,
    ...(deps.sshConfig ? { sshConfig: deps.sshConfig } : {}),
  };
}
