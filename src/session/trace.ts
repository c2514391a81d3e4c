/**
 * Benchmark hook (npm run bench): with K8OPS_TRACE_FRAMES=FILE, the console appends one
 * line per drawn frame, plus the wall-clock time of the first frame and of the first
 * complete frame (every source answered). Off (undefined) otherwise.
 */
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Session } from './session.js';

export function frameTracer(session: Session, file: string | undefined): (() => void) | undefined {
  if (!file) return undefined;
  let first = false;
  let complete = false;
  return () => {
    const now = Date.now();
    let lines = `frame ${now}\n`;
    if (!first) {
      first = true;
      lines += `first-frame ${now}\n`;
    }
    if (!complete && session.settled()) {
      complete = true;
      lines += `complete-frame ${now}\n`;
    }
    appendFileSync(file, lines);
  };
}

/**
 * Benchmark hook (test/bench/flows.mjs): with K8OPS_TRACE_LOOP=FILE, the console measures
 * its own event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) and writes
 * one line a second: `loop <epoch ms> <p50> <p99> <max> <samples>` (ms since the last
 * reset), plus `frames <n>` drawn since then. SIGUSR2 resets both (the bench starts its
 * window once the load is steady). Off (undefined) otherwise.
 */
export function loopTracer(file: string | undefined): (() => void) | undefined {
  if (!file) return undefined;
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let frames = 0;
  process.on('SIGUSR2', () => {
    h.reset();
    frames = 0;
  });
  const ms = (ns: number) => (ns / 1e6).toFixed(2);
  const timer = setInterval(() => {
    appendFileSync(
      file,
      `loop ${Date.now()} ${ms(h.percentile(50))} ${ms(h.percentile(99))} ${ms(h.max)} ${h.count} frames ${frames}\n`,
    );
  }, 1000);
  timer.unref();
  return () => {
    frames++;
  };
}
