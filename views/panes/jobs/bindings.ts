/**
 * The Jobs pane's model, state and keys. The model is the session's job store (running and
 * past jobs, newest first, and the full log being shown), read through useExternalModel,
 * with the addons feature's model for the pane's Addons view (`a` toggles it).
 * j/k move over the jobs; Enter opens the selected job's full log (j/k, PgUp/PgDn, g/G
 * scroll it; G follows the end while it grows), Esc closes it; x cancels a running job.
 * In the Addons view j/k select an addon and `S` syncs it (or all: the confirmation asks).
 */
import type { JobRecord } from '../../../src/actions/jobs/record.js';
import type { JobLog } from '../../../src/actions/jobs/store.js';
import type { AddonRow, AddonsModel } from '../../../src/features/addons/model.js';
import type { Session } from '../../../src/session/session.js';
import { MOVE_KEYS, moveIndex, movement } from '../../keys/movement.js';
import type { Binding } from '../../keys/types.js';
import type { ExternalModel, PaneEnv, PaneKeyCtx } from '../types.js';

export interface JobsModel {
  jobs: readonly JobRecord[];
  /** The full log loaded for the log view (undefined until Enter). */
  log: JobLog | undefined;
  /** Why the jobs directory cannot be read. */
  error: string | undefined;
  /** The addons feature's model (the Addons view); undefined until combined. */
  addons?: AddonsModel;
}

/** The Jobs pane's model: the session's jobs and the addons feature's model. */
export const combineJobs = (addons: unknown, jobs: unknown): JobsModel => ({
  ...(jobs as JobsModel),
  addons: addons as AddonsModel,
});

const cache = new WeakMap<Session, JobsModel>();

/** The session's jobs as one object per change (useSyncExternalStore needs a stable snapshot). */
export const jobsExternal: ExternalModel<JobsModel> = {
  subscribe: (session, l) => session.jobs.subscribe(l),
  get(session) {
    const jobs = session.jobs.list();
    const log = session.jobs.shownLog();
    const error = session.jobs.error();
    const c = cache.get(session);
    if (c && c.jobs === jobs && c.log === log && c.error === error) return c;
    const m = { jobs, log, error };
    cache.set(session, m);
    return m;
  },
};

export interface JobsUi {
  /** Which view: the jobs (default) or the addons. */
  view?: 'jobs' | 'addons';
  /** Selected addon by name (the first when unset or gone). */
  addon?: string;
  /** Selected job id (the newest when unset or gone). */
  selected?: string;
  /** The full log view is open. */
  log: boolean;
  /** First line shown of the log; `end`: follow the end. */
  scroll: number | 'end';
}

export const initialJobsUi: JobsUi = { log: false, scroll: 'end' };

/** What the last addon sync or verify said about an addon (its progress line). */
export interface AddonLastSync {
  job: string;
  state: JobRecord['state'];
  at: number;
  text: string;
  /** The URL's content no longer matches the pin at the same version. */
  mismatch: boolean;
}

export interface JobsDerived {
  view: 'jobs' | 'addons';
  addons: AddonsModel | undefined;
  addonRows: readonly AddonRow[];
  addonIndex: number;
  addonSelected: AddonRow | undefined;
  /** Per addon, the newest addon-sync job's line about it. */
  lastSync: ReadonlyMap<string, AddonLastSync>;
  jobs: readonly JobRecord[];
  selected: JobRecord | undefined;
  index: number;
  log: JobLog | undefined;
  /** Lines of the log view's body (for paging). */
  logHeight: number;
}

/** Per addon, the line of the newest addon-sync job that names it. */
export function lastSyncs(jobs: readonly JobRecord[]): Map<string, AddonLastSync> {
  const out = new Map<string, AddonLastSync>();
  // Newest first: the first line seen for an addon is its latest.
  for (const j of jobs) {
    if (j.action !== 'addon-sync') continue;
    for (const p of j.progress ?? [])
      if (!out.has(p.target))
        out.set(p.target, {
          job: j.id,
          state: j.state,
          at: j.endedAt ?? j.startedAt,
          text: p.text,
          mismatch: p.text.startsWith('pin mismatch'),
        });
  }
  return out;
}

export function deriveJobs(model: JobsModel, ui: JobsUi, env: PaneEnv): JobsDerived {
  const jobs = model.jobs;
  let index = ui.selected ? jobs.findIndex((j) => j.id === ui.selected) : 0;
  if (index < 0) index = 0;
  const selected = jobs[index];
  const addonRows = model.addons?.rows ?? [];
  let addonIndex = ui.addon ? addonRows.findIndex((r) => r.name === ui.addon) : 0;
  if (addonIndex < 0) addonIndex = 0;
  return {
    view: ui.view ?? 'jobs',
    addons: model.addons,
    addonRows,
    addonIndex,
    addonSelected: addonRows[addonIndex],
    lastSync: lastSyncs(jobs),
    jobs,
    selected,
    index,
    log: model.log && selected && model.log.id === selected.id ? model.log : undefined,
    logHeight: Math.max(1, env.height - 1),
  };
}

type JobsBinding = Binding<JobsUi, PaneKeyCtx<JobsDerived>>;

const inAddons = (s: JobsUi) => s.view === 'addons';
const inList = (s: JobsUi) => !s.log && !inAddons(s);
const inLog = (s: JobsUi) => s.log && !inAddons(s);

const moveAddon: JobsBinding['reduce'] = (s, { derived }, ev) => {
  const rows = derived?.addonRows ?? [];
  if (rows.length === 0) return [s];
  const to = moveIndex(movement(ev.input, ev.key), derived?.addonIndex ?? 0, rows.length);
  return [{ ...s, addon: rows[Math.max(0, Math.min(rows.length - 1, to))]!.name }];
};

const move: JobsBinding['reduce'] = (s, { derived }, ev) => {
  const jobs = derived?.jobs ?? [];
  if (jobs.length === 0) return [s];
  const to = moveIndex(movement(ev.input, ev.key), derived?.index ?? 0, jobs.length);
  return [{ ...s, selected: jobs[Math.max(0, Math.min(jobs.length - 1, to))]!.id }];
};

/** The log's first shown line for a scroll state (`end`: the last page). */
export const logTop = (scroll: number | 'end', lines: number, height: number): number => {
  const max = Math.max(0, lines - height);
  return scroll === 'end' ? max : Math.max(0, Math.min(max, scroll));
};

const scroll: JobsBinding['reduce'] = (s, { derived }, ev) => {
  const lines = derived?.log?.lines.length ?? 0;
  const h = derived?.logHeight ?? 10;
  const max = Math.max(0, lines - h);
  const m = movement(ev.input, ev.key);
  if (m === 'last') return [{ ...s, scroll: 'end' }];
  const cur = logTop(s.scroll, lines, h);
  const step = m === 'pagedown' ? cur + h : m === 'pageup' ? cur - h : moveIndex(m, cur, lines);
  const to = Math.max(0, Math.min(max, step));
  return [{ ...s, scroll: to >= max ? 'end' : to }];
};

export const jobsBindings: readonly JobsBinding[] = [
  {
    keys: ['a'],
    help: 'Addons view: each declared addon, its pin and what runs (a again: back to the jobs)',
    hint: (s) => (inAddons(s) ? 'jobs' : 'addons'),
    reduce: (s) => [
      inAddons(s) ? { ...s, view: 'jobs' } : { ...s, view: 'addons', log: false, scroll: 'end' },
      s.log ? { kind: 'job-log', id: undefined } : undefined,
    ],
  },
  {
    keys: ['escape'],
    help: 'Addons view: back to the jobs',
    when: inAddons,
    reduce: (s) => [{ ...s, view: 'jobs' }],
  },
  {
    keys: MOVE_KEYS.step,
    help: 'Addons view: select an addon',
    hint: 'addon',
    hintKeys: 'j/k',
    when: inAddons,
    reduce: moveAddon,
  },
  {
    keys: MOVE_KEYS.page,
    help: 'Addons view: move by 10 addons',
    when: inAddons,
    reduce: moveAddon,
  },
  {
    keys: MOVE_KEYS.ends,
    help: 'Addons view: first / last addon',
    when: inAddons,
    reduce: moveAddon,
  },
  {
    keys: ['S'],
    help: 'Addons view: sync the pins of the selected addon, or of all (the confirmation asks): download, hash as Nix does, write, the diff in the job log',
    hint: 'sync',
    when: inAddons,
    reduce: (s, { derived }) => {
      const a = derived?.addonSelected;
      return [
        s,
        {
          kind: 'action',
          request: { action: 'addon-sync', targets: a ? [a.name] : [] },
        },
      ];
    },
  },
  {
    keys: ['escape'],
    help: 'full log: back to the jobs',
    hint: 'back',
    when: inLog,
    reduce: (s) => [
      { ...s, log: false, scroll: 'end' },
      { kind: 'job-log', id: undefined },
    ],
  },
  {
    keys: MOVE_KEYS.step,
    help: 'full log: scroll',
    hint: 'scroll',
    hintKeys: 'j/k',
    when: inLog,
    reduce: scroll,
  },
  { keys: MOVE_KEYS.page, help: 'full log: scroll by a page', when: inLog, reduce: scroll },
  {
    keys: MOVE_KEYS.ends,
    help: 'full log: top / end (G follows a running job)',
    when: inLog,
    reduce: scroll,
  },
  {
    keys: MOVE_KEYS.step,
    help: 'select a job',
    hint: 'job',
    hintKeys: 'j/k',
    when: inList,
    reduce: move,
  },
  { keys: MOVE_KEYS.page, help: 'move by 10 jobs', when: inList, reduce: move },
  { keys: MOVE_KEYS.ends, help: 'newest / oldest job', when: inList, reduce: move },
  {
    keys: ['enter'],
    help: "the selected job's full log (scrollable)",
    hint: 'full log',
    when: inList,
    reduce: (s, { derived }) => {
      const j = derived?.selected;
      if (!j) return [s];
      return [
        { ...s, selected: j.id, log: true, scroll: 'end' },
        { kind: 'job-log', id: j.id },
      ];
    },
  },
  {
    keys: ['x'],
    help: 'cancel the selected job (if this console runs it)',
    hint: 'cancel job',
    when: (s) => !inAddons(s),
    reduce: (s, { derived }) => {
      const j = derived?.selected;
      if (j?.state !== 'running') return [s];
      return [s, { kind: 'cancel-job', id: j.id }];
    },
  },
];
