/**
 * The session's jobs: actions looked up by name (src/actions/index.ts), prepared (their
 * plan, what the operator types to confirm), started through the job runner after the
 * confirmation, cancelled, and the job store the Jobs pane subscribes to. A read-only
 * session refuses every action here, before anything is prepared or run.
 */
import { randomBytes } from 'node:crypto';
import { actionByName } from '../actions/index.js';
import type { JobRecord } from '../actions/jobs/record.js';
import { type JobHandle, runJob } from '../actions/jobs/runner.js';
import { type JobLog, JobStore } from '../actions/jobs/store.js';
import type {
  ActionDeps,
  ActionRequest,
  ConfirmOption,
  JobSpec,
  PreparedAction,
  PreviewOutcome,
} from '../actions/types.js';
import { visible } from '../store/sanitise.js';

/** What the confirmation shows for one combination of the options. */
export interface PreparedVariant {
  title: string;
  confirm: string;
  planText: string[];
}

/** What the confirmation overlay shows, and the token that starts the prepared job. */
export interface PreparedJob extends PreparedVariant {
  token: string;
  /** The choices the operator may change (Tab), with the values prepared. */
  options: ConfirmOption[];
  /** Title, text to type and plan for every combination of the options (by variantKey). */
  variants: Record<string, PreparedVariant>;
}

/** At most this many combinations of options are prepared for one confirmation. */
export const MAX_VARIANTS = 16;

/** The key of a combination of option values (in option order). */
export const variantKey = (
  options: readonly Pick<ConfirmOption, 'id'>[],
  values: Readonly<Record<string, string>>,
): string => options.map((o) => `${o.id}=${values[o.id] ?? ''}`).join('\u0000');

/** Every combination of the options' values (the first is the prepared one's). */
function combinations(options: readonly ConfirmOption[]): Array<Record<string, string>> {
  let out: Array<Record<string, string>> = [{}];
  for (const o of options) out = out.flatMap((c) => o.choices.map((v) => ({ ...c, [o.id]: v })));
  return out;
}

export type Refusal = { ok: false; message: string };

export interface SessionJobs {
  /** The job store's change feed and snapshot (newest first) for useSyncExternalStore. */
  subscribe(listener: () => void): () => void;
  list(): readonly JobRecord[];
  /** Why the jobs directory cannot be read, if it cannot. */
  error(): string | undefined;
  /** The full log the Jobs pane shows (after `loadLog`). */
  shownLog(): JobLog | undefined;
  loadLog(id: string): void;
  closeLog(): void;
  /** Check a request and build its plan (refused in a read-only session). */
  prepare(request: ActionRequest): Promise<{ ok: true; job: PreparedJob } | Refusal>;
  /** Start a prepared job (after the operator confirmed it), with the options chosen. */
  start(
    token: string,
    values?: Readonly<Record<string, string>>,
  ): { ok: true; id: string; title: string } | Refusal;
  /**
   * For commands (`--yes`): prepare and start at once, without the typed confirmation
   * (the caller printed the plan, or was told `--yes`). Refused in a read-only session.
   */
  run(
    request: ActionRequest,
  ): Promise<{ ok: true; id: string; job: PreparedJob; done: Promise<JobRecord> } | Refusal>;
  /** Forget a prepared job (the operator cancelled the confirmation). */
  discard(token: string): void;
  /** Cancel a job this process runs. */
  cancel(id: string): { ok: boolean; message: string };
  /** The handle of a job this process runs (commands wait on `done`). */
  handle(id: string): JobHandle | undefined;
  /** Cancel every running job and wait for them (bounded); called by session.close. */
  shutdown(timeoutMs?: number): Promise<void>;
}

export interface SessionJobsOptions {
  /** Told when a job this session started has ended (e.g. to refresh what it changed). */
  onEnded?(spec: JobSpec, record: JobRecord): void;
  stateDir: string;
  readOnly: boolean;
  deps: ActionDeps;
  now?: () => number;
  user?: string;
}

export const readOnlyRefusal = (request: ActionRequest): string =>
  `read-only session (--read-only): ${[request.action, ...request.targets.map(visible)].join(' ')} refused; nothing was started`;

export function createSessionJobs(opts: SessionJobsOptions): SessionJobs {
  const store = new JobStore({ stateDir: opts.stateDir, ...(opts.now ? { now: opts.now } : {}) });
  const prepared = new Map<string, PreparedAction>();
  const running = new Map<string, JobHandle>();
  /** Every job started by this session (a finished one too: `run` returns its `done`). */
  const handles = new Map<string, JobHandle>();

  /** A preview job (changes nothing) through the runner; resolves at its end. */
  const preview = async <R>(spec: JobSpec<R>): Promise<PreviewOutcome<R>> => {
    const out: { value?: R; error?: unknown } = {};
    const handle = runJob(
      {
        ...spec,
        run: async (ctx) => {
          try {
            out.value = await spec.run(ctx);
            return out.value;
          } catch (e) {
            out.error = e;
            throw e;
          }
        },
      },
      {
        store,
        ...(opts.now ? { now: opts.now } : {}),
        ...(opts.user ? { user: opts.user } : {}),
      },
    );
    running.set(handle.id, handle);
    handles.set(handle.id, handle);
    const record = await handle.done;
    running.delete(handle.id);
    return { record, ...out };
  };

  const api: SessionJobs = {
    subscribe: (l) => store.subscribe(l),
    list: () => store.list(),
    error: () => store.error(),
    shownLog: () => store.shownLog(),
    loadLog: (id) => void store.loadLog(id),
    closeLog: () => store.closeLog(),
    async prepare(request) {
      if (opts.readOnly) return { ok: false, message: readOnlyRefusal(request) };
      const factory = actionByName(request.action);
      if (!factory)
        return { ok: false, message: `no action named "${visible(String(request.action))}"` };
      let r: Awaited<ReturnType<typeof factory.prepare>>;
      try {
        r = await factory.prepare(request, { ...opts.deps, preview });
      } catch (e) {
        r = { ok: false, message: e instanceof Error ? e.message : String(e) };
      }
      if (!r.ok) return { ok: false, message: visible(`${request.action}: ${r.message}`) };
      const p = r.prepared;
      const shown = (x: Omit<PreparedAction, 'options' | 'withOptions'>): PreparedVariant => ({
        title: visible(x.spec.title),
        confirm: visible(x.confirm),
        planText: x.planText.map(visible),
      });
      const options = (p.withOptions ? (p.options ?? []) : []).map((o) => ({
        id: o.id,
        label: visible(o.label),
        choices: o.choices.map(visible),
        value: visible(o.value),
      }));
      const variants: Record<string, PreparedVariant> = {};
      const prepared0 = Object.fromEntries(options.map((o) => [o.id, o.value]));
      variants[variantKey(options, prepared0)] = shown(p);
      if (options.length && p.withOptions) {
        const all = combinations(options);
        if (all.length > MAX_VARIANTS)
          return {
            ok: false,
            message: visible(`${request.action}: too many option combinations (${all.length})`),
          };
        for (const values of all) {
          const k = variantKey(options, values);
          if (!variants[k]) variants[k] = shown(p.withOptions(values));
        }
      }
      const token = randomBytes(8).toString('hex');
      prepared.set(token, p);
      return { ok: true, job: { token, ...shown(p), options, variants } };
    },
    start(token, values) {
      const prep = prepared.get(token);
      prepared.delete(token);
      if (!prep)
        return { ok: false, message: 'that confirmation has expired; nothing was started' };
      const chosen =
        values && prep.withOptions && prep.options?.length
          ? Object.fromEntries(prep.options.map((o) => [o.id, values[o.id] ?? o.value]))
          : undefined;
      if (
        chosen &&
        prep.options!.some((o) => !o.choices.map(visible).includes(visible(chosen[o.id]!)))
      )
        return {
          ok: false,
          message: 'an option has a value it does not offer; nothing was started',
        };
      const changed = chosen && prep.options!.some((o) => chosen[o.id] !== o.value);
      const p = changed ? prep.withOptions!(chosen) : prep;
      // Checked again: nothing starts in a read-only session, whatever asked.
      if (opts.readOnly)
        return {
          ok: false,
          message: readOnlyRefusal({ action: p.spec.action, targets: p.spec.targets }),
        };
      const handle = runJob(p.spec, {
        store,
        ...(opts.now ? { now: opts.now } : {}),
        ...(opts.user ? { user: opts.user } : {}),
      });
      running.set(handle.id, handle);
      handles.set(handle.id, handle);
      void handle.done.then((rec) => {
        running.delete(handle.id);
        try {
          opts.onEnded?.(p.spec, rec);
        } catch {
          // an observer never breaks the jobs
        }
      });
      return { ok: true, id: handle.id, title: visible(p.spec.title) };
    },
    async run(request) {
      const p = await api.prepare(request);
      if (!p.ok) return p;
      const s = api.start(p.job.token);
      if (!s.ok) return s;
      const h = running.get(s.id) ?? handles.get(s.id);
      if (!h) return { ok: false, message: `job ${s.id} vanished` };
      return { ok: true, id: s.id, job: p.job, done: h.done };
    },
    discard: (token) => void prepared.delete(token),
    cancel(id) {
      const h = running.get(id);
      if (!h) {
        const j = store.get(id);
        return {
          ok: false,
          message: j
            ? `${j.title} is ${j.state}${j.state === 'running' ? ` in another k8ops (pid ${j.pid} on ${j.host})` : ''}: not cancelled`
            : 'no such job',
        };
      }
      h.cancel('cancelled by the operator');
      return { ok: true, message: `cancelling ${id}` };
    },
    handle: (id) => handles.get(id),
    async shutdown(timeoutMs = 5000) {
      if (running.size === 0) return;
      const all = [...running.values()];
      for (const h of all) h.cancel('k8ops shut down');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(all.map((h) => h.done)),
        new Promise((r) => {
          timer = setTimeout(r, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    },
  };
  return api;
}
