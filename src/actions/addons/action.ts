/**
 * `S` in the Jobs pane's Addons view: the addon sync as an action. The confirmation lists
 * what will be downloaded (addon, version, URL, the pin it has) and offers the selected
 * addon or all of them; the job downloads, hashes as Nix does, refuses a pin mismatch,
 * writes the pins into the manifest (the file's formatting kept) and logs the diff of the
 * pins written. Then — offered in the confirmation, on by default when the inventory can
 * rebuild — it applies them: nixos-rebuild switch of the node(s) running the addon manager
 * through the rebuild roll-out (apply.ts), and a watch of the deployed versions.
 */
import { visible } from '../../store/sanitise.js';
import type { ActionFactory, ConfirmOption, PreparedAction } from '../types.js';
import { buildAddonApply } from './apply.js';
import { addonSyncJob, loadSyncPlan, type SyncRequest } from './sync.js';

const ALL = 'all addons';

const minutes = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;

export const addonSyncAction: ActionFactory = {
  action: 'addon-sync',
  help: 'sync the addon pins: download each release, hash it as Nix does, write the pins (the diff in the log), rebuild the addon-manager node(s) and watch the versions converge',
  async prepare(request, deps) {
    const manifestPath = deps.inventory.addons.manifest;
    if (!manifestPath)
      return { ok: false, message: 'no addon manifest: set addons.manifest in the inventory' };
    if (deps.mode === 'demo')
      return {
        ok: false,
        message:
          'the demo lab downloads nothing (its pins are hashes of labels): run k8ops addons sync --manifest FILE where the upstreams are reachable',
      };
    const selected = request.targets[0];
    const applyBuilt = buildAddonApply({
      inventory: deps.inventory,
      agents: deps.agents,
      ...(deps.read ? { read: deps.read } : {}),
      hasKube: deps.hasKube ?? false,
      ...(deps.sshConfig ? { sshConfig: deps.sshConfig } : {}),
    });
    const build = async (names: readonly string[], apply: boolean) => {
      const req: SyncRequest = { manifestPath, names };
      const plan = await loadSyncPlan(req);
      if (!plan.ok) return { ok: false as const, message: plan.error };
      const ap = apply && applyBuilt.ok ? applyBuilt.plan : undefined;
      const spec = addonSyncJob(req, plan, {
        ...(deps.fetchCa ? { fetchOptions: { ca: deps.fetchCa } } : {}),
        ...(ap ? { apply: ap } : {}),
      });
      const nodes = ap?.nodes.map((n) => n.name).join(', ');
      const planText = [
        `download ${plan.entries.length === 1 ? 'the release' : `${plan.entries.length} releases`} (https, streamed, at most 256 MiB each), hash as Nix does, write the pins into`,
        `  ${manifestPath} (only the pins change; the diff goes into the job's log)`,
        ...plan.entries.map(
          (e) =>
            `  ${e.name} ${e.toVersion}  ${e.url}  ${e.oldPin ? `pin ${e.oldPin.slice(0, 20)}…` : 'unpinned'}`,
        ),
        'nothing is written when a download fails or a pin no longer matches its URL (pin mismatch)',
        ...(ap
          ? [
              `then apply: nixos-rebuild switch of ${nodes} (running the addon manager), one at a time, gated;`,
              `  then watch the deployed versions converge (at most ${minutes(ap.timeoutMs)}${ap.workloads ? '' : '; no kube API: not watchable, the job says so'})`,
              '  a failed rebuild stops the job; the pins stay written (the file is the declared state)',
            ]
          : [
              applyBuilt.ok
                ? 'not applied: rebuild the node(s) running the addon manager (B) to apply the pins'
                : `not applied (${applyBuilt.error}): rebuild the addon-manager node(s) (B) to apply the pins`,
            ]),
      ];
      return {
        ok: true as const,
        prepared: { spec, confirm: names.length === 1 ? names[0]! : 'all', planText },
      };
    };
    const one = selected !== undefined && request.targets.length === 1;
    const scopes: Array<readonly string[]> = one ? [[selected], []] : [[]];
    const applies = applyBuilt.ok ? [true, false] : [false];
    const combos = new Map<string, Omit<PreparedAction, 'options' | 'withOptions'>>();
    for (const [i, names] of scopes.entries())
      for (const a of applies) {
        const r = await build(names, a);
        if (!r.ok) return r;
        combos.set(`${i}:${a}`, r.prepared);
      }
    const options: ConfirmOption[] = [];
    // The confirmation offers the selected addon or all of them (Tab), and the apply.
    if (one)
      options.push({
        id: 'scope',
        label: 'sync',
        choices: [visible(selected), ALL],
        value: visible(selected),
      });
    if (applyBuilt.ok)
      options.push({
        id: 'apply',
        label: `then rebuild ${applyBuilt.plan.nodes.map((n) => n.name).join(', ')} and watch the versions`,
        choices: ['yes', 'no'],
        value: 'yes',
      });
    const pick = (v: Readonly<Record<string, string>>) =>
      combos.get(`${one && v.scope === ALL ? 1 : 0}:${applyBuilt.ok && v.apply !== 'no'}`)!;
    const first = pick(Object.fromEntries(options.map((o) => [o.id, o.value])));
    const prepared: PreparedAction = {
      ...first,
      ...(options.length ? { options, withOptions: pick } : {}),
    };
    return { ok: true, prepared };
  },
};
