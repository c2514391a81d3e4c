/**
 * Timeouts that do not count this process's own queue (issue 13, cause 3); used by the SSH
 * transport's deadlines and by the refresh scheduler's per-source timeouts. When k8ops is
 * busy (hundreds of nodes answering at once: deciphering, parsing), its event loop runs
 * late: a node's answer can sit unread in a socket while its timer, due now, fires first.
 * That time is k8ops' queue, not the node's. A lag-aware timeout measures the event-loop
 * lag while it is pending (a 50 ms heartbeat that notes how late it runs) and, when it comes
 * due, waits that much longer — at most `maxExtendMs` in all, so a process that never
 * catches up still times out.
 */

const TICK_MS = 50;
/** Lag below this per heartbeat is noise, not a queue. */
const NOISE_MS = 5;

let busy = 0;
let last = 0;
let heartbeat: NodeJS.Timeout | undefined;
let users = 0;

function account(): void {
  const now = performance.now();
  const over = now - last - TICK_MS;
  if (over > NOISE_MS) busy += over;
  last = now;
}

function acquire(): void {
  if (users++ > 0) return;
  last = performance.now();
  heartbeat = setInterval(account, TICK_MS);
  heartbeat.unref();
}

function release(): void {
  if (--users > 0) return;
  clearInterval(heartbeat);
  heartbeat = undefined;
}

/**
 * Keep the heartbeat running (busyMs measures the lag only while someone holds it): for a
 * caller with its own timers, like the refresh scheduler. Returns the release function
 * (idempotent).
 */
export function holdBusyClock(): () => void {
  acquire();
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    release();
  };
}

/** Milliseconds the event loop has run late since the clock started (monotonic). */
export function busyMs(): number {
  if (users === 0) return busy;
  const pending = performance.now() - last - TICK_MS;
  return busy + (pending > NOISE_MS ? pending : 0);
}

/**
 * Like setTimeout(fn, ms), extended by the event-loop lag observed while it is pending
 * (capped at `maxExtendMs`, default 3 × ms). Returns the cancel function.
 */
export function lagAwareTimeout(fn: () => void, ms: number, maxExtendMs = 3 * ms): () => void {
  acquire();
  const base = busyMs();
  let granted = 0;
  let done = false;
  let t: NodeJS.Timeout | undefined;
  const finish = () => {
    if (done) return;
    done = true;
    release();
  };
  const fire = () => {
    if (done) return;
    const owed = Math.min(maxExtendMs, busyMs() - base) - granted;
    if (owed > NOISE_MS) {
      granted += owed;
      t = setTimeout(fire, owed);
      return;
    }
    finish();
    fn();
  };
  t = setTimeout(fire, ms);
  return () => {
    if (t) clearTimeout(t);
    finish();
  };
}
