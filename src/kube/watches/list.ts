/**
 * The common case: a section fed by one ListWatcher (LIST + WATCH of one collection, see
 * `../watch.ts`), made with the cluster source's transport, timing and bounds.
 */
import type { KubeErrorInfo, KubeSection } from '../types.js';
import {
  ListWatcher,
  type ListWatcherOptions,
  type ListWatchSpec,
  type ListWatchState,
} from '../watch.js';
import type { KubeWatch, WatchContext } from './kube-watch.js';
import { Memo } from './sections.js';

/** A ListWatcher on the context's transport, reporting changes and transport trouble to it. */
export function listWatcher<T>(
  ctx: WatchContext,
  spec: ListWatchSpec<T>,
  maxItems: number,
  extra: Pick<ListWatcherOptions<T>, 'stopOn'> = {},
): ListWatcher<T> {
  return new ListWatcher<T>({
    spec,
    http: ctx.http,
    timing: ctx.timing.watch,
    limits: { maxItems, maxEventBytes: ctx.limits.maxEventBytes },
    onChange: ctx.changed,
    onTransportError: ctx.transportTrouble,
    now: ctx.now,
    ...extra,
  });
}

export type BuildSection<T, V> = (
  st: ListWatchState<T>,
  noRoute: KubeErrorInfo | undefined,
) => KubeSection<V>;

/** One ListWatcher → one section, rebuilt when the watcher's state or `noRoute` changed. */
export class ListSection<T, V> implements KubeWatch<KubeSection<V>> {
  readonly watcher: ListWatcher<T>;
  readonly #build: BuildSection<T, V>;
  readonly #memo = new Memo<KubeSection<V>>();

  constructor(watcher: ListWatcher<T>, build: BuildSection<T, V>) {
    this.watcher = watcher;
    this.#build = build;
  }

  start(): void {
    this.watcher.start();
  }

  reconnect(): void {
    this.watcher.reconnect();
  }

  close(): Promise<void> {
    return this.watcher.close();
  }

  section(noRoute: KubeErrorInfo | undefined): KubeSection<V> {
    const st = this.watcher.state();
    return this.#memo.get([st, noRoute], () => this.#build(st, noRoute));
  }
}
