/**
 * A minimal JobContext for `k8ops rotate` while the job runner (src/actions/jobs/) is not on
 * main: it runs a JobSpec in this process and prints each step to stderr. Nothing is
 * persisted and no audit line is written. At merge, `runJobOnStderr` is replaced by the
 * runner (which records steps, the Jobs pane state and the audit log); the JobSpec stays.
 */
import { randomBytes } from 'node:crypto';
import type { JobContext, JobSpec } from '../actions/types.js';
import { visible } from '../store/sanitise.js';
import type { Out } from './common.js';

export async function runJobOnStderr<R>(
  spec: JobSpec<R>,
  err: Out,
  signal: AbortSignal,
): Promise<R> {
  const t0 = Date.now();
  const secs = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
  const ctx: JobContext = {
    jobId: randomBytes(6).toString('hex'),
    signal,
    async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const t = Date.now();
      err.write(`▶ ${visible(name)}\n`);
      try {
        const v = await fn();
        err.write(`✓ ${visible(name)} (${secs(t)})\n`);
        return v;
      } catch (e) {
        err.write(`✗ ${visible(name)} (${secs(t)}): ${visible(firstLine((e as Error).message))}\n`);
        throw e;
      }
    },
    skip(name: string, why: string) {
      err.write(`– ${visible(name)}: skipped (${visible(why)})\n`);
    },
    log(line: string) {
      err.write(`  ${visible(line)}\n`);
    },
  };
  err.write(`k8ops: ${visible(spec.title)}\n`);
  try {
    const r = await spec.run(ctx);
    err.write(`k8ops: ${visible(spec.title)}: done in ${secs(t0)}\n`);
    return r;
  } catch (e) {
    err.write(`k8ops: ${visible(spec.title)}: failed after ${secs(t0)}\n`);
    throw e;
  }
}

const firstLine = (s: string) => s.split('\n')[0] ?? '';
