/**
 * `rotation-settings`: save the Rotation pane's preview (spread, renew-before) into the
 * inventory file the console was started with. `prepare` checks the file (still as loaded,
 * writable, a regular file) and builds the edit — only the changed scalars, the rest of the
 * file byte for byte, validated by the loader — and the confirmation shows old → new; the
 * job writes it atomically (src/config/save.ts) and hands the new settings to the session,
 * so the console's schedule follows at once. Refused in the demo lab (its inventory is
 * built in) and, like every action, in a read-only session (src/session/jobs.ts).
 * The node timers run with their NixOS options: the plan says which to set.
 */
import { basename } from 'node:path';
import { formatDuration } from '../../config/duration.js';
import type { RotationEdit } from '../../config/edit.js';
import type { ActionFactory, JobSpec } from '../types.js';

/** Options of the request: the preview's values (ms), `auto` for a third of the lifetime. */
function editOf(options: Readonly<Record<string, unknown>> | undefined): RotationEdit | string {
  const o = options ?? {};
  const edit: RotationEdit = {};
  const ms = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (o.spreadMs !== undefined) {
    if (!ms(o.spreadMs)) return 'spreadMs must be a whole number of milliseconds ≥ 0';
    edit.spreadMs = o.spreadMs as number;
  }
  if (o.renewBeforeMs !== undefined) {
    if (o.renewBeforeMs !== 'auto' && !ms(o.renewBeforeMs))
      return 'renewBeforeMs must be "auto" or a whole number of milliseconds ≥ 0';
    edit.renewBeforeMs = o.renewBeforeMs as number | 'auto';
  }
  if (edit.spreadMs === undefined && edit.renewBeforeMs === undefined)
    return 'nothing to save: no setting given';
  return edit;
}

const show = (v: number | 'auto'): string => (v === 'auto' ? 'auto' : formatDuration(v));
const unquote = (t: string): string => t.replace(/^(["'])(.*)\1$/, '$2');

export const rotationSettingsAction: ActionFactory = {
  action: 'rotation-settings',
  help: "save the Rotation pane's preview (spread, renew-before) into the inventory file",
  async prepare(request, deps) {
    if (deps.mode === 'demo')
      return {
        ok: false,
        message:
          "the demo lab's inventory is built in: there is no k8ops.yaml to save to (start k8ops with --inventory FILE)",
      };
    const source = deps.inventory.source;
    if (source.startsWith('<'))
      return { ok: false, message: `the inventory ${source} is not a file: nothing to save to` };
    const edit = editOf(request.options);
    if (typeof edit === 'string') return { ok: false, message: edit };
    // Loaded when used: the YAML parser stays out of the CLI's start (test/e2e/bundle.test.ts).
    const { prepareRotationSave, writeRotationSave } = await import('../../config/save.js');
    const prepared = await prepareRotationSave(source, deps.inventory.sourceDigest, edit);
    if (!prepared.ok) return { ok: false, message: prepared.message };
    const plan = prepared.plan;
    const file = basename(source);
    const r = plan.rotation;
    const planText = [
      `write ${source}${plan.target !== source ? ` (→ ${plan.target})` : ''}:`,
      ...plan.changes.map(
        (c) =>
          `  rotation.${c.key}: ${c.fromText ?? `(not set: ${show(c.from)})`} → ${c.toText}${c.added ? ' (added)' : ''}`,
      ),
      'nothing else in the file changes (comments, order, quoting stay)',
      `atomic: a temporary file beside it (mode 0${plan.mode.toString(8)}), renamed over it,`,
      '  only if the file is still as k8ops loaded it',
      'the console follows at once; the node timers after a rebuild with',
      `  k8ops.nodeTools.rotation.spreadSeconds = ${Math.floor(r.spreadMs / 1000)};`,
      `  k8ops.nodeTools.rotation.renewBeforeSeconds = ${r.renewBeforeMs === undefined ? 'null' : Math.floor(r.renewBeforeMs / 1000)};`,
      ...plan.warnings.map((w) => `warning: ${w.path ? `${w.path}: ` : ''}${w.message}`),
    ];
    const changes = plan.changes.map((c) => ({
      key: `rotation.${c.key}`,
      from: c.fromText ?? null,
      to: c.toText,
    }));
    const spec: JobSpec = {
      action: 'rotation-settings',
      title: `save rotation settings to ${file} (${plan.changes.map((c) => `${c.key} ${unquote(c.toText)}`).join(', ')})`,
      targets: [source],
      plan: { file: source, changes },
      async run(ctx) {
        const result = await ctx.step(
          `write ${file} (checked, temporary file, rename)`,
          async () => {
            const w = await writeRotationSave(plan);
            if (!w.ok) throw new Error(w.message);
            return w;
          },
        );
        for (const c of changes) ctx.log(`${c.key}: ${c.from ?? '(not set)'} → ${c.to}`);
        deps.inventoryChanged?.({ rotation: plan.rotation, sourceDigest: result.digest });
        return { file: source, changes };
      },
    };
    return { ok: true, prepared: { spec, confirm: 'save', planText } };
  },
};
