/**
 * The model of a pane that reads the session outside the store (PaneDef.external, e.g. the
 * jobs): useSyncExternalStore over the session's own change feed. Without one, undefined.
 */
import { useCallback, useSyncExternalStore } from 'react';
import type { Session } from '../../src/session/session.js';
import type { ExternalModel } from '../panes/types.js';

const none = () => () => {};

export function useExternalModel<M>(
  session: Session,
  external: ExternalModel<M> | undefined,
): M | undefined {
  const subscribe = useCallback(
    (l: () => void) => (external ? external.subscribe(session, l) : none()),
    [session, external],
  );
  const get = useCallback(
    () => (external ? external.get(session) : undefined),
    [session, external],
  );
  return useSyncExternalStore(subscribe, get, get);
}
