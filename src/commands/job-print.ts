/**
 * Run a JobSpec from a subcommand with its steps and log lines on stderr (sanitised), for
 * actions run headless. Replaced by the job runner's CLI mode where that is wired.
 */
import type { JobContext, JobSpec } from '../actions/types.js';
import { visible } from '../store/sanitise.js';
import type { Out } from './common.js';

export async function runJobPrinting<R>(
  spec: JobSpec<R>,
  err: Out,
  signal?: AbortSignal,
): Promise<R> {
  const ac = new AbortController();
  signal?.addEventListener('abort', () => ac.abort(signal.reason), { once: true });
  const say = (line: string) => err.write(`${visible(line)}\n`);
  const ctx: JobContext = {
    jobId: `cli-${process.pid}`,
    signal: ac.signal,
    async step(name, fn) {
      const t0 = performance.now();
      say(`▸ ${name}`);
      try {
        const v = await fn();
        say(`✓ ${name} (${Math.round(performance.now() - t0)} ms)`);
        return v;
      } catch (e) {
        say(`✗ ${name}: ${(e as Error).message}`);
        throw e;
      }
    },
    skip(name, why) {
      say(`- ${name}: ${why}`);
    },
    log: (line) => say(`  ${line}`),
  };
  return spec.run(ctx);
}
