/**
 * Flap counting over the console's lifetime: a session that was Established and is seen
 * not Established (or Established again with a later "up since": it went down and came
 * back between two reads) counts one flap. The tracker lives beside the agent it reads
 * through (one per session's agent), so the counts last as long as the console does and
 * the model stays pure: it gets the counts inside the snapshot.
 */
import type { SideSession } from './types.js';

interface Seen {
  established: boolean;
  upSince?: number;
  flaps: number;
}

/** Two "up since" values this far apart are the same session (clock granularity, jitter). */
const SAME_UP_MS = 5_000;

export class FlapTracker {
  readonly #seen = new Map<string, Seen>();
  readonly #local = new Set<string>();

  /** This side's own addresses seen on its sessions so far (a router's, while it cannot be read). */
  localAddresses(): string[] {
    return [...this.#local].sort();
  }

  /** Record this read of `sessions` (keyed by `key`), and set each one's `flaps`. */
  observe(sessions: SideSession[], key: (s: SideSession) => string = (s) => s.peerAddress): void {
    for (const s of sessions) {
      if (s.localAddress) this.#local.add(s.localAddress);
      const k = key(s);
      const prev = this.#seen.get(k);
      const established = s.state === 'established';
      let flaps = prev?.flaps ?? 0;
      if (prev?.established && !established) flaps++;
      else if (
        prev?.established &&
        established &&
        prev.upSince !== undefined &&
        s.upSince !== undefined &&
        s.upSince - prev.upSince > SAME_UP_MS
      )
        flaps++;
      const next: Seen = { established, flaps };
      if (s.upSince !== undefined) next.upSince = s.upSince;
      this.#seen.set(k, next);
      s.flaps = flaps;
    }
  }
}

const trackers = new WeakMap<object, FlapTracker>();

/** The tracker that belongs to `owner` (an agent: one per console session and node/router). */
export function trackerFor(owner: object): FlapTracker {
  let t = trackers.get(owner);
  if (!t) {
    t = new FlapTracker();
    trackers.set(owner, t);
  }
  return t;
}
