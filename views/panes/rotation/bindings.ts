/**
 * The Rotation pane's state and keys: a preview of the schedule under other settings.
 * `+`/`-` change the jitter spread, `[`/`]` the leaf renew window, `=` goes back to the
 * inventory's; the schedule is re-planned by the pure planner (src/features/rotation) from
 * the same certificates, so the timeline moves at once. `w` saves the preview into the
 * inventory file (the `rotation-settings` action: old → new, typed confirmation, the file's
 * comments and formatting kept). The node list's selection (j/k) picks the node whose plan
 * is shown in detail.
 */
import type { RotationModel } from '../../../src/features/rotation/model.js';
import {
  type PlanSettings,
  planSchedule,
  type Schedule,
} from '../../../src/features/rotation/plan.js';
import { LEAF_LIFETIME_MS } from '../../../src/pki/expiry.js';
import { defaultLayout } from '../../../src/pki/layout-data.js';
import type { Binding } from '../../keys/types.js';
import type { PaneEnv, PaneKeyCtx } from '../types.js';

const HOUR = 3_600_000;

export interface RotationUi {
  /**
   * A row that is not a node, selected with `c` (`ca:<fingerprint>` of an intermediate,
   * `sa:<id>` of the service-account keys): `R` rotates it. Undefined: the node list's.
   */
  row?: string;
  /** Preview spread (undefined: the inventory's). */
  spreadMs?: number;
  /** Preview renew window (undefined: the inventory's; `auto`: a third of each lifetime). */
  renewBeforeMs?: number | 'auto';
}

export const initialRotationUi: RotationUi = {};

/** Steps and bounds of the preview keys. */
export const SPREAD_STEP_MS = HOUR;
export const SPREAD_MAX_MS = 7 * 24 * HOUR;
export const RENEW_STEP_MS = 12 * HOUR;
export const RENEW_MIN_MS = RENEW_STEP_MS;
export const RENEW_MAX_MS = LEAF_LIFETIME_MS - RENEW_STEP_MS;

export interface RotationDerived {
  /** The schedule shown: the model's, or re-planned with the preview's settings. */
  schedule: Schedule;
  settings: PlanSettings;
  /** The preview differs from the inventory's settings. */
  changed: boolean;
  /** Nodes shown (the node list's filter), inventory order. */
  nodes: readonly string[];
  selected: string | undefined;
  /** The rows `c` selects (intermediates, the service-account keys) and what `R` rotates. */
  rows: readonly OtherRow[];
  /** The selected one of them (a row no longer shown is not selected). */
  row: OtherRow | undefined;
}

/** A timeline row that is not a node: an intermediate, or the service-account keys. */
export interface OtherRow {
  /** The timeline row key (`ca:<fingerprint>`, `sa:<id>`). */
  key: string;
  label: string;
  kind: 'ca' | 'sa-key';
  /** What the rotate action gets: the layout's CA id, or the key pair id. */
  target: string;
}

const rowsCache = new WeakMap<Schedule, OtherRow[]>();

/**
 * The rows `c` cycles through: the current intermediates, then the service-account keys
 * (the same array for the same schedule: the timeline redraws only when it changes).
 */
export function otherRows(schedule: Schedule, model: RotationModel): OtherRow[] {
  const hit = rowsCache.get(schedule);
  if (hit) return hit;
  const rows = computeRows(schedule, model);
  rowsCache.set(schedule, rows);
  return rows;
}

function computeRows(schedule: Schedule, model: RotationModel): OtherRow[] {
  const layout = defaultLayout();
  const rows: OtherRow[] = [];
  for (const c of schedule.intermediates) {
    if (c.superseded) continue;
    const ca = layout.cas.find((x) => x.parent !== null && x.cn === c.cn);
    if (ca) rows.push({ key: `ca:${c.fingerprint}`, label: c.cn, kind: 'ca', target: ca.id });
  }
  for (const kp of layout.keypairs)
    if (kp.enabled && model.input.nodes.some((n) => n.roles.some((r) => kp.roles.includes(r))))
      rows.push({ key: `sa:${kp.id}`, label: `${kp.id} keys`, kind: 'sa-key', target: kp.id });
  return rows;
}

/** The preview's settings over the model's (the inventory's). */
export function previewSettings(base: PlanSettings, ui: RotationUi): PlanSettings {
  const out: PlanSettings = { ...base };
  if (ui.spreadMs !== undefined) out.spreadMs = ui.spreadMs;
  if (ui.renewBeforeMs === 'auto') delete out.renewBeforeMs;
  else if (ui.renewBeforeMs !== undefined) out.renewBeforeMs = ui.renewBeforeMs;
  return out;
}

const sameSettings = (a: PlanSettings, b: PlanSettings): boolean =>
  a.spreadMs === b.spreadMs &&
  a.renewBeforeMs === b.renewBeforeMs &&
  a.cpGapMs === b.cpGapMs &&
  a.minRemainingMs === b.minRemainingMs &&
  a.bundleLeadMs === b.bundleLeadMs;

// The last preview planned (selection changes re-derive; the plan stays).
let last: { model: RotationModel; settings: PlanSettings; schedule: Schedule } | undefined;

export function deriveRotation(
  model: RotationModel,
  ui: RotationUi,
  env: PaneEnv,
): RotationDerived {
  const settings = previewSettings(model.settings, ui);
  const changed = !sameSettings(settings, model.settings);
  let schedule = model.schedule;
  if (changed) {
    if (last && last.model === model && sameSettings(last.settings, settings))
      schedule = last.schedule;
    else {
      schedule = planSchedule(model.input, settings, model.schedule.now);
      last = { model, settings, schedule };
    }
  }
  const nodes = env.nodeFilter ? env.visibleNodes : env.nodes;
  const selected =
    env.selectedNode !== undefined && nodes.includes(env.selectedNode)
      ? env.selectedNode
      : nodes[0];
  const rows = otherRows(schedule, model);
  const row = ui.row !== undefined ? rows.find((r) => r.key === ui.row) : undefined;
  return { schedule, settings, changed, nodes, selected, rows, row };
}

type RotationBinding = Binding<RotationUi, PaneKeyCtx<RotationDerived>>;

const spreadOf = (s: RotationUi, d: RotationDerived | undefined): number =>
  s.spreadMs ?? d?.settings.spreadMs ?? 24 * HOUR;

/** The renew window a step starts from: the preview's, else a third of a leaf lifetime. */
const renewOf = (s: RotationUi, d: RotationDerived | undefined): number => {
  const v = s.renewBeforeMs ?? d?.settings.renewBeforeMs;
  return typeof v === 'number' ? v : Math.round(LEAF_LIFETIME_MS / 3 / HOUR) * HOUR;
};

const clamp = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v));

/** What `w` saves: the settings the preview changed, as the `rotation-settings` action takes them. */
export function saveOptions(s: RotationUi, d: RotationDerived): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  if (s.spreadMs !== undefined) out.spreadMs = d.settings.spreadMs;
  if (s.renewBeforeMs !== undefined) out.renewBeforeMs = d.settings.renewBeforeMs ?? 'auto';
  return out;
}

export const rotationBindings: readonly RotationBinding[] = [
  {
    keys: ['+'],
    help: 'preview: widen the jitter spread by 1 h (node i of N rotates i × spread / N later)',
    hint: 'spread',
    hintKeys: '+/-',
    reduce: (s, { derived }) => [
      { ...s, spreadMs: clamp(spreadOf(s, derived) + SPREAD_STEP_MS, 0, SPREAD_MAX_MS) },
    ],
  },
  {
    keys: ['-'],
    help: 'preview: narrow the jitter spread by 1 h',
    reduce: (s, { derived }) => [
      { ...s, spreadMs: clamp(spreadOf(s, derived) - SPREAD_STEP_MS, 0, SPREAD_MAX_MS) },
    ],
  },
  {
    keys: [']'],
    help: 'preview: renew 12 h earlier (a longer renew-before window)',
    hint: 'renew-before',
    hintKeys: '[/]',
    reduce: (s, { derived }) => [
      {
        ...s,
        renewBeforeMs: clamp(renewOf(s, derived) + RENEW_STEP_MS, RENEW_MIN_MS, RENEW_MAX_MS),
      },
    ],
  },
  {
    keys: ['['],
    help: 'preview: renew 12 h later (a shorter renew-before window)',
    reduce: (s, { derived }) => [
      {
        ...s,
        renewBeforeMs: clamp(renewOf(s, derived) - RENEW_STEP_MS, RENEW_MIN_MS, RENEW_MAX_MS),
      },
    ],
  },
  {
    keys: ['w'],
    help: 'save the preview into the inventory file (shows old → new; type save to confirm)',
    hint: 'save',
    when: (s) => s.spreadMs !== undefined || s.renewBeforeMs !== undefined,
    reduce: (s, { derived }) => [
      s,
      derived
        ? {
            kind: 'action',
            request: { action: 'rotation-settings', targets: [], options: saveOptions(s, derived) },
          }
        : undefined,
    ],
  },
  {
    keys: ['c'],
    help: 'select the next intermediate or the service-account keys (R rotates it; Esc: back to the node)',
    hint: 'CA/keys',
    reduce: (s, { derived }) => {
      const rows = derived?.rows ?? [];
      const i = derived?.row ? rows.indexOf(derived.row) : -1;
      const next = rows[i + 1];
      const { row: _, ...rest } = s;
      return [next ? { ...rest, row: next.key } : rest];
    },
  },
  {
    keys: ['escape'],
    help: 'back to the selected node',
    when: (s) => s.row !== undefined,
    reduce: (s) => {
      const { row: _, ...rest } = s;
      return [rest];
    },
  },
  {
    keys: ['R'],
    help: "rotate the selected node's certificates, or the intermediate / service-account keys selected with c (the plan, then a typed confirmation)",
    hint: 'rotate',
    reduce: (s, { derived }) => {
      const row = derived?.row;
      if (row)
        return [
          s,
          {
            kind: 'action',
            request: { action: 'rotate', targets: [row.target], options: { kind: row.kind } },
          },
        ];
      return [
        s,
        derived?.selected
          ? { kind: 'action', request: { action: 'rotate', targets: [derived.selected] } }
          : undefined,
      ];
    },
  },
  {
    keys: ['='],
    help: "preview: back to the inventory's settings",
    hint: 'reset',
    when: (s) => s.spreadMs !== undefined || s.renewBeforeMs !== undefined,
    reduce: () => [{}],
  },
];
