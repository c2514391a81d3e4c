/**
 * The Jobs pane's model, state and keys. The model is the session's job store (running and
 * past jobs, newest first, and the full log being shown), read through useExternalModel.
 * j/k move over the jobs; Enter opens the selected job's full log (j/k, PgUp/PgDn, g/G
 * scroll it; G follows the end while it grows), Esc closes it; x cancels a running job.
 */
import type { JobRecord } from '../../../src/actions/jobs/record.js';
import type { JobLog } from '../../../src/actions/jobs/store.js';
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
}

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
  /** Selected job id (the newest when unset or gone). */
  selected?: string;
  /** The full log view is open. */
  log: boolean;
  /** First line shown of the log; `end`: follow the end. */
  scroll: number | 'end';
}

export const initialJobsUi: JobsUi = { log: false, scroll: 'end' };

export interface JobsDerived {
  jobs: readonly JobRecord[];
  selected: JobRecord | undefined;
  index: number;
  log: JobLog | undefined;
  /** Lines of the log view's body (for paging). */
  logHeight: number;
}

export function deriveJobs(model: JobsModel, ui: JobsUi, env: PaneEnv): JobsDerived {
  const jobs = model.jobs;
  let index = ui.selected ? jobs.findIndex((j) => j.id === ui.selected) : 0;
  if (index < 0) index = 0;
  const selected = jobs[index];
  return {
    jobs,
    selected,
    index,
    log: model.log && selected && model.log.id === selected.id ? model.log : undefined,
    logHeight: Math.max(1, env.height - 1),
  };
}

type JobsBinding = Binding<JobsUi, PaneKeyCtx<JobsDerived>>;

const inList = (s: JobsUi) => !s.log;
const inLog = (s: JobsUi) => s.log;

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
    reduce: (s, { derived }) => {
      const j = derived?.selected;
      if (j?.state !== 'running') return [s];
      return [s, { kind: 'cancel-job', id: j.id }];
    },
  },
];
