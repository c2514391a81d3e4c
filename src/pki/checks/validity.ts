/**
 * Validity, at every place a certificate lives: expired, not yet valid, inside its renew
 * window (the one rule of src/pki/expiry.ts), and, for leaves, whether the node's rotation
 * slot (due + i × spread / N) still leaves `minRemaining` before notAfter.
 */
import { DURATION, formatCountdownCoarse, renewWindowMs } from '../expiry.js';
import type { CheckGroup } from './context.js';
import { cnOf, iso } from './format.js';

/** Tolerated clock skew for notBefore (cfssl backdates 5 min). */
const SKEW_MS = 5 * DURATION.MINUTE;

export const validity: CheckGroup = {
  name: 'validity',
  run(ctx, add) {
    const s = ctx.settings;
    for (const { cert: c, role, where } of ctx.certs) {
      const fp = c.fingerprint;
      const remaining = c.notAfter - s.now;
      for (const w of where) {
        if (remaining < 0) {
          add(
            'expired',
            w.node,
            w.path,
            `${cnOf(c)} expired ${formatCountdownCoarse(-remaining)} ago (notAfter ${iso(c.notAfter)})`,
            fp,
          );
        } else if (c.notBefore - s.now > SKEW_MS) {
          add(
            'not-yet-valid',
            w.node,
            w.path,
            `${cnOf(c)} is not valid before ${iso(c.notBefore)} (in ${formatCountdownCoarse(c.notBefore - s.now)})`,
            fp,
          );
        } else if (role === 'leaf') {
          const renewBefore = renewWindowMs('leaf', c, s.renewBeforeMs);
          const due = c.notAfter - renewBefore;
          if (remaining <= renewBefore) {
            add(
              'renew-window',
              w.node,
              w.path,
              `${cnOf(c)} is inside its renew window: ${formatCountdownCoarse(remaining)} left (due since ${iso(due)})`,
              fp,
            );
          }
          const i = ctx.nodeIndex.get(w.node) ?? 0;
          const offset = s.nodeCount > 0 ? (i * s.spreadMs) / s.nodeCount : 0;
          const scheduled = due + offset;
          if (c.notAfter - scheduled < s.minRemainingMs) {
            add(
              'rotation-late',
              w.node,
              w.path,
              `scheduled rotation at ${iso(scheduled)} leaves ${formatCountdownCoarse(Math.max(0, c.notAfter - scheduled))} before expiry (minimum ${formatCountdownCoarse(s.minRemainingMs)})`,
              fp,
            );
          }
        } else if (remaining < renewWindowMs(role, c)) {
          add(
            'renew-window',
            w.node,
            w.path,
            role === 'intermediate'
              ? `intermediate ${cnOf(c)} is due: ${formatCountdownCoarse(remaining)} left, less than one leaf lifetime + 2 d; issue its successor and add it to the bundles`
              : `root ${cnOf(c)} is inside its renew window: ${formatCountdownCoarse(remaining)} left`,
            fp,
          );
        }
      }
    }
  },
};
