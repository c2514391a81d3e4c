/**
 * `S` in the Jobs pane's Addons view: the addon sync as an action. The confirmation lists
 * what will be downloaded (addon, version, URL, the pin it has) and offers the selected
 * addon or all of them; the job downloads, hashes as Nix does, refuses a pin mismatch,
 * writes the pins into the manifest (the file's formatting kept) and logs the diff of the
 * pins written. Applying them is a rebuild of the node(s) running the addon manager.
 */
import { visible } from '../../store/sanitise.js';
import type { ActionFactory, ConfirmOption, PreparedAction } from '../types.js';
import { addonSyncJob, loadSyncPlan, type SyncRequest } from './sync.js';

const ALL = 'all addons';

export const addonSyncAction: ActionFactory = {
  action: 'addon-sync',
  help: 'sync the addon pins: download each release, hash it as Nix does, write the pins (the diff in the log)',
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
    const build = async (names: readonly string[]) => {
      const req: SyncRequest = { manifestPath, names };
      const plan = await loadSyncPlan(req);
      if (!plan.ok) return { ok: false as const, message: plan.error };
      const spec = addonSyncJob(req, plan, {
        ...(deps.fetchCa ? { fetchOptions: { ca: deps.fetchCa } } : {}),
      });
      const planText = [
        `download ${plan.entries.length === 1 ? 'the release' : `${plan.entries.length} releases`} (https, streamed, at most 256 MiB each), hash as Nix does, write the pins into`,
        `  ${manifestPath} (only the pins change; the diff goes into the job's log)`,
        ...plan.entries.map(
          (e) =>
            `  ${e.name} ${e.toVersion}  ${e.url}  ${e.oldPin ? `pin ${e.oldPin.slice(0, 20)}…` : 'unpinned'}`,
        ),
        'nothing is written when a download fails or a pin no longer matches its URL (pin mismatch)',
        'then apply the pins: rebuild the node(s) running the addon manager (B)',
      ];
      return {
        ok: true as const,
        prepared: { spec, confirm: names.length === 1 ? names[0]! : 'all', planText },
      };
    };
    const all = await build([]);
    if (!all.ok) return all;
    if (!selected || request.targets.length > 1) return { ok: true, prepared: all.prepared };
    const one = await build([selected]);
    if (!one.ok) return one;
    // The confirmation offers the selected addon or all of them (Tab).
    const options: ConfirmOption[] = [
      { id: 'scope', label: 'sync', choices: [visible(selected), ALL], value: visible(selected) },
    ];
    const prepared: PreparedAction = {
      ...one.prepared,
      options,
      withOptions: (v) => (v.scope === ALL ? all.prepared : one.prepared),
    };
    return { ok: true, prepared };
  },
};
