/** A JobContext that records steps and log lines in memory (tests of actions without the runner). */
import type { JobContext } from '../../src/actions/types.js';

export interface RecordingContext extends JobContext {
  steps: Array<{ name: string; state: 'ok' | 'failed' | 'skipped'; why?: string }>;
  lines: string[];
  abort(): void;
}

export function recordingContext(): RecordingContext {
  const ac = new AbortController();
  const ctx: RecordingContext = {
    jobId: 'test',
    signal: ac.signal,
    steps: [],
    lines: [],
    abort: () => ac.abort(),
    async step(name, fn) {
      try {
        const v = await fn();
        ctx.steps.push({ name, state: 'ok' });
        return v;
      } catch (e) {
        ctx.steps.push({ name, state: 'failed', why: (e as Error).message });
        throw e;
      }
    },
    skip(name, why) {
      ctx.steps.push({ name, state: 'skipped', why });
    },
    log(line) {
      ctx.lines.push(line);
    },
  };
  return ctx;
}
