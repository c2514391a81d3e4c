/**
 * The trace hook (issue 13: where a whole process's time goes). With K8OPS_TRACE=FILE,
 * k8ops records what each node waits for — its handshake slot, each hop's handshake, each
 * shell and request, each source's run, the signature batches — as one JSON line per event
 * (`t`: milliseconds since the process started, performance.now()), written to FILE when
 * the process exits. Off (a no-op) otherwise. `test/bench/trace-summary.mjs FILE` turns a
 * trace into a table of phases.
 *
 * Only names the process already has go in (node and hop aliases, source ids, byte counts,
 * durations): never a command's text, its output or a key.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.K8OPS_TRACE;
const lines: string[] = [];
let hooked = false;

/** Whether tracing is on (to skip building fields when it is not). */
export const tracing = file !== undefined && file !== '';

/** Record one event (no-op unless K8OPS_TRACE is set). */
export function trace(ev: string, fields?: Record<string, string | number | boolean>): void {
  if (!tracing) return;
  if (!hooked) {
    hooked = true;
    process.on('exit', flushTrace);
  }
  const t = Math.round(performance.now() * 100) / 100;
  lines.push(JSON.stringify(fields ? { t, ev, ...fields } : { t, ev }));
}

/** Write what was recorded (at exit; callable earlier, e.g. by an in-process bench). */
export function flushTrace(): void {
  if (!tracing || lines.length === 0) return;
  try {
    writeFileSync(file!, `${lines.join('\n')}\n`, { flag: 'a' });
  } catch {
    // a trace that cannot be written must not change what the process does
  }
  lines.length = 0;
}
