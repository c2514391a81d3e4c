import { useCallback, useRef, useSyncExternalStore } from 'react';
import { buildPkiModel } from '../../src/model/pki.js';
import { defaultLayout } from '../../src/pki/layout-data.js';
import type { PkiReport } from '../../src/pki/report.js';
import type { Session } from '../../src/session/session.js';
import type { Snapshot } from '../../src/store/types.js';
import { useNow } from './useClock.js';

/** What the PKI pane shows, reduced to a string: a report with the same one changes nothing. */
function signature(r: PkiReport): string {
  const parts: string[] = [];
  const walk = (n: PkiReport['tree']['roots'][number]): void => {
    parts.push(n.key, n.worst ?? '-');
    if (n.kind === 'cert') parts.push(String(n.locations.length), n.chain);
    n.children.forEach(walk);
  };
  r.tree.roots.forEach(walk);
  for (const f of r.tree.files) parts.push(f.key, f.severity ?? '-');
  for (const p of r.tree.problems) parts.push(p.key, p.message);
  for (const c of r.checks) parts.push(c.id, c.node, c.path, c.message);
  parts.push(r.pending.join(','));
  return parts.join('\u0000');
}

/** What a hidden PKI pane holds: nothing is computed for it. */
const IDLE: PkiReport = Object.freeze({
  now: 0,
  tree: { roots: [], files: [], problems: [] },
  checks: [],
  counts: { critical: 0, warning: 0, info: 0 },
  certificates: 0,
  files: 0,
  unreachable: [],
  pending: [],
  exitCode: 0,
}) as PkiReport;

/**
 * The PKI report from the store. Rebuilt only when a node's `certs` or `pki-status`
 * snapshot changes, or once a minute (time-dependent checks); a rebuild that changes
 * nothing visible returns the previous object, so nothing re-renders. While `enabled` is
 * false (the pane is not shown) nothing is built at all.
 */
export function usePkiReport(session: Session, enabled = true): PkiReport {
  const minute = useNow(session.clock, 'minute');
  const cache = useRef<
    { snaps: Snapshot<unknown>[]; minute: number; sig: string; value: PkiReport } | undefined
  >(undefined);
  const subscribe = useCallback((l: () => void) => session.store.subscribe(l), [session]);
  const get = useCallback(() => {
    if (!enabled) return IDLE;
    const snaps = session.inventory.nodes.flatMap((n) => [
      session.store.get(n.name, 'certs'),
      session.store.get(n.name, 'pki-status'),
    ]);
    const c = cache.current;
    if (c && c.minute === minute && c.snaps.every((x, i) => x === snaps[i])) return c.value;
    const value = buildPkiModel(session.inventory, (s, src) => session.store.get(s, src), minute, {
      layout: defaultLayout(),
    });
    const sig = signature(value);
    if (c && c.sig === sig) {
      cache.current = { ...c, snaps, minute };
      return c.value;
    }
    cache.current = { snaps, minute, sig, value };
    return value;
  }, [session, minute, enabled]);
  return useSyncExternalStore(subscribe, get, get);
}
