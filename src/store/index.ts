export {
  type Backoff,
  formatMs,
  oneLine,
  type RefreshFilter,
  RefreshScheduler,
  type RefreshTask,
  type SchedulerOptions,
  type SchedulerStats,
  type TimerApi,
  toSourceError,
} from './scheduler.js';
export {
  EMPTY_SNAPSHOT,
  type Listener,
  Store,
  type StoreEntry,
  type StoreOptions,
} from './store.js';
export {
  CLUSTER_SCOPE,
  type Scope,
  type Snapshot,
  type SourceError,
  type SourceId,
  snapshotKey,
} from './types.js';
