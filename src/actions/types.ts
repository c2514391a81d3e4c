/**
 * The contract between actions (rotate, rebuild, addon sync) and the job runner
 * (src/actions/jobs/): an action is a JobSpec whose `run` does its work through a
 * JobContext; the runner records steps, output, timing and result, persists them in the
 * XDG state dir (the Jobs pane and `k8ops audit` read them) and appends the audit log.
 * An action never writes to the terminal itself.
 */

export type JobAction = 'rotate' | 'rebuild' | 'addon-sync';

export type StepState = 'pending' | 'running' | 'ok' | 'failed' | 'skipped';
export type JobState = 'queued' | 'running' | 'ok' | 'failed' | 'cancelled' | 'interrupted';

export interface JobContext {
  readonly jobId: string;
  /** Aborted when the operator cancels the job or k8ops shuts down. */
  readonly signal: AbortSignal;
  /**
   * Run one named step (e.g. `cp-1: install`): its start, end and result are recorded;
   * a throw fails the step (and, unless the action catches it, the job).
   */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Mark a step skipped (already in the state it would leave), with why. */
  skip(name: string, why: string): void;
  /** One line of output for the job's log (sanitised by the runner: outside text is hostile). */
  log(line: string): void;
}

export interface JobSpec<R = unknown> {
  action: JobAction;
  /** One line for the Jobs pane, e.g. `rotate cp-1 (3 certificates)`. */
  title: string;
  /** Node names (or addon names) it acts on. */
  targets: readonly string[];
  /** The plan the operator confirmed, as JSON (recorded in the audit log). */
  plan: unknown;
  run(ctx: JobContext): Promise<R>;
}
