/**
 * Benchmark hook (npm run bench): with K8OPS_TRACE_FRAMES=FILE, the console appends one
 * line per drawn frame, plus the wall-clock time of the first frame and of the first
 * complete frame (every source answered). Off (undefined) otherwise.
 */
import { appendFileSync } from 'node:fs';
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
