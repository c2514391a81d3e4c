/**
 * Run an action's JobSpec from a subcommand (`k8ops rotate NODE`, `rebuild`, `addons sync`)
 * through the job runner — recorded in the state dir's jobs (the console's Jobs pane shows
 * it) and in the audit log, like a job started from the console — with its steps and output
 * lines on stderr as they happen (sanitised by the runner). Resolves with what the action
 * returned, or rejects with what it threw (the commands read their typed errors).
 */
import { runJob } from '../actions/jobs/runner.js';
import { JobStore } from '../actions/jobs/store.js';
import type { JobSpec } from '../actions/types.js';
import { stateDir } from '../config/paths.js';
import { visible } from '../store/sanitise.js';
import type { Out } from './common.js';

export interface RecordedRunOptions {
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

const firstLine = (s: string) => s.split('\n')[0] ?? '';

export async function runJobPrinting<R>(
  spec: JobSpec<R>,
  err: Out,
  opts: RecordedRunOptions = {},
): Promise<R> {
  let value: R | undefined;
  let thrown: unknown;
  let returned = false;
  const wrapped: JobSpec<R> = {
    ...spec,
    run: async (ctx) => {
      try {
        value = await spec.run(ctx);
        returned = true;
        return value;
      } catch (e) {
        thrown = e;
        throw e;
      }
    },
  };
  const t0 = Date.now();
  const secs = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
  const store = new JobStore({ stateDir: stateDir(opts.env ?? process.env) });
  err.write(`k8ops: ${visible(spec.title)}\n`);
  const handle = runJob(wrapped as JobSpec, {
    store,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onEvent: (e) => {
      if (e.kind === 'line') err.write(`  ${e.line}\n`);
      else if (e.step.state === 'running') err.write(`▶ ${e.step.name}\n`);
      else if (e.step.state === 'ok')
        err.write(`✓ ${e.step.name}${e.step.startedAt ? ` (${secs(e.step.startedAt)})` : ''}\n`);
      else if (e.step.state === 'failed')
        err.write(`✗ ${e.step.name}: ${firstLine(e.step.note ?? '')}\n`);
      else if (e.step.state === 'skipped')
        err.write(`– ${e.step.name}: skipped (${e.step.note ?? ''})\n`);
    },
  });
  const rec = await handle.done;
  err.write(
    `k8ops: ${visible(spec.title)}: ${rec.state === 'ok' ? 'done' : rec.state} in ${secs(t0)} (job ${rec.id}; k8ops audit)\n`,
  );
  if (returned) return value as R;
  throw thrown ?? new Error(rec.error ?? `job ${rec.state}`);
}
