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
    try {
      const v = await fn();
      this.steps.push({ name, state: 'ok' });
      await this.afterStep?.(name);
      return v;
    } catch (e) {
      this.steps.push({ name, state: 'failed', note: (e as Error).message });
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
