/**
 * A JobContext for fault injection: it records steps and log lines, and with `cutAfter` it
 * aborts the job (as a killed k8ops or a cut connection would stop it) once that many steps
 * have ended: nothing runs on a host after the cut. `afterStep` runs after each step that
 * passed (to hold a job at a point, or look at the nodes there).
 */
import type { JobContext } from '../../src/actions/types.js';

export interface CutStep {
  name: string;
  state: 'ok' | 'failed' | 'skipped';
  note?: string;
  /** How long it ran (ms). */
  ms?: number;
}

export class CutContext implements JobContext {
  readonly jobId = 'test';
  readonly steps: CutStep[] = [];
  readonly lines: string[] = [];
  readonly #ac = new AbortController();
  constructor(
    readonly cutAfter = Number.POSITIVE_INFINITY,
    readonly afterStep?: (name: string) => Promise<void>,
  ) {}
  get signal() {
    return this.#ac.signal;
  }
  #ended() {
    if (this.steps.length >= this.cutAfter) this.#ac.abort(new Error('cut'));
  }
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      const v = await fn();
      this.steps.push({ name, state: 'ok', ms: Math.round(performance.now() - t0) });
      await this.afterStep?.(name);
      return v;
    } catch (e) {
      this.steps.push({
        name,
        state: 'failed',
        note: (e as Error).message,
        ms: Math.round(performance.now() - t0),
      });
      throw e;
    } finally {
      this.#ended();
    }
  }
  skip(name: string, why: string) {
    this.steps.push({ name, state: 'skipped', note: why });
    this.#ended();
  }
  log(line: string) {
    this.lines.push(line);
  }
  /** `state name` of every step, for comparing whole runs. */
  get trace(): string[] {
    return this.steps.map((s) => `${s.state} ${s.name}`);
  }
}

/**
 * The cut points 1..n-1 of a job of n steps: every one, or with K8OPS_CUT_STRIDE=N every Nth
 * and the last (.ci/run cuts after every step on the first runtime and strides on the
 * others: the steps are the same, the SSH transport is what differs). Says which on stderr.
 */
export function cutPoints(n: number, what: string): number[] {
  const stride = Math.max(1, Math.floor(Number(process.env.K8OPS_CUT_STRIDE ?? 1)) || 1);
  const ks: number[] = [];
  for (let k = 1; k < n; k += stride) ks.push(k);
  if (n > 1 && ks.at(-1) !== n - 1) ks.push(n - 1);
  process.stderr.write(`[${what}] cut after steps ${ks.join(' ')} of ${n} (stride ${stride})\n`);
  return ks;
}
